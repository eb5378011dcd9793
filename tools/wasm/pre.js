// Runs before main() in every wasm program of the project.
// Under node, pass MONO_ENV_OPTIONS from the real environment (emscripten 3.1.6 gives
// getenv() a fixed environment of its own, not node's).
Module['preRun'] = Module['preRun'] || [];
Module['preRun'].push(function () {
  if (typeof process === 'object' && process.env && typeof ENV === 'object') {
    for (const name of ['MONO_ENV_OPTIONS']) {
      if (process.env[name] !== undefined) ENV[name] = process.env[name];
    }
  }
});

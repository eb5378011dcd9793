// wasi-run.mjs: runs a WASI command module under node's node:wasi, as meson's exe_wrapper for
// the WASI build (cross/wasi.txt).
//
//   node --no-turbo-fast-api-calls tools/wasm/wasi-run.mjs PROGRAM.wasm [ARG]...
//
// The module gets PROGRAM.wasm and the ARGs as its argv, and of the environment only the
// variables in PASSED_ENV. It has stdin, stdout and stderr and no directories (no preopens).
// Exit status: the module's own (main's return value or exit()); 134 when it traps (abort(),
// a failed assert, an out-of-bounds access), as a native abort() would; 2 for a usage error;
// 1 when the module cannot be loaded or started.
// --no-turbo-fast-api-calls: node 20 often crashes at exit after a module grew its memory a
// lot (nodejs/node#51303); the flag avoids it.
import { readFileSync } from 'node:fs';

const PASSED_ENV = ['MONO_ENV_OPTIONS'];
const EXIT_TRAP = 134;

function fail(code, message) {
  process.stderr.write(`wasi-run: ${message}\n`);
  process.exit(code);
}

// node:wasi warns that it is experimental on every load: drop that one warning, keep others.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const text = String(warning && warning.message !== undefined ? warning.message : warning);
  if (/^WASI is an experimental feature/.test(text)) return;
  return emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

const [program, ...args] = process.argv.slice(2);
if (!program) fail(2, 'usage: node --no-turbo-fast-api-calls wasi-run.mjs PROGRAM.wasm [ARG]...');

const env = {};
for (const name of PASSED_ENV) {
  if (process.env[name] !== undefined) env[name] = process.env[name];
}

let instance;
let wasi;
try {
  const module = await WebAssembly.compile(readFileSync(program));
  wasi = new WASI({ version: 'preview1', args: [program, ...args], env, returnOnExit: true });
  instance = await WebAssembly.instantiate(module, wasi.getImportObject());
} catch (e) {
  fail(1, `cannot load ${program}: ${e.message}`);
}

let status;
try {
  status = wasi.start(instance);
} catch (e) {
  if (e instanceof WebAssembly.RuntimeError) {
    // Show where it trapped: the wasm frames of the stack.
    const frames = String(e.stack).split('\n').filter((l) => l.includes('wasm-function')).slice(0, 12);
    fail(EXIT_TRAP, `${program} trapped: ${e.message}\n${frames.join('\n')}`);
  }
  fail(1, `${program} failed: ${e && e.stack ? e.stack : e}`);
}
process.exitCode = status ?? 0;

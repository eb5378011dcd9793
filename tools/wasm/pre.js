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

// What the process holds of the linear memory (docs/benchmarks.md, "Resident memory"), under
// node only; null elsewhere or when it cannot be told. The reading of smaps is smaps.js's.
Module['residentLinearBytes'] = function () {
  if (typeof process !== 'object' || typeof require !== 'function' || typeof wasmMemory !== 'object') return null;
  try {
    return monoResidentBytes(require('fs').readFileSync('/proc/self/smaps', 'utf8'), wasmMemory.buffer.byteLength);
  } catch (e) {
    return null;
  }
};

// The process's peak resident set (bytes) and minor page faults, under node.
Module['processUsage'] = function () {
  if (typeof process !== 'object' || typeof process.resourceUsage !== 'function') return null;
  const u = process.resourceUsage();
  return { maxRss: u.maxRSS * 1024, minorFaults: u.minorPageFault };
};

// Faults made free (docs/performance.md, "Time at any fault cost"): under node with
// MWPM_PREFAULT_MIB=N, the linear memory is grown to N MiB before main() and every 4 KiB page of
// it read and written back with what it holds, so that no first write of the program takes a
// page fault. Only for measuring: the memory then starts at N MiB and is resident.
Module['preRun'].push(function () {
  if (typeof process !== 'object' || !process.env || !process.env.MWPM_PREFAULT_MIB || typeof wasmMemory !== 'object') return;
  const want = Number(process.env.MWPM_PREFAULT_MIB) * 1048576;
  const have = wasmMemory.buffer.byteLength;
  if (want > have) {
    // A memory64 memory takes its page count as a BigInt.
    const pages = (want - have) / 65536;
    try { wasmMemory.grow(pages); } catch (e) { wasmMemory.grow(BigInt(pages)); }
    if (typeof updateMemoryViews === 'function') updateMemoryViews();
    else updateGlobalBufferAndViews(wasmMemory.buffer);
  }
  const bytes = new Uint8Array(wasmMemory.buffer);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = bytes[i];
});

// runs.js: what tools/browser-test runs by default, one page each.
//
//   name     unique; also the screenshot's file name (build/browser/<name>.png)
//   build    a configuration of tools/lib/configs.py (build/<build>)
//   program  path of the program in the build folder, without .js
//   query    the program's options, as a URL query (name=value&flag)
//   timeout  seconds for the whole page, load to exit
//   expect   extra checks: finalJson (the program must print a final JSON object),
//            minStats { stat: n } (mwpm stats at exit, e.g. lock_contended >= 1 proves that
//            threads really overlapped), threadReports n (the final JSON's thread_reports has n
//            entries, each with ops_while_gc > 0: the threads worked while the GC ran),
//            mustFail [texts] (the run passes only when it fails
//            with a problem containing each text: proof that the checks can fail),
//            resident (the driver finds the page's wasm memory in the renderer's smaps and
//            reads its resident bytes: docs/browser.md, "Resident memory")
//
// Every run also must: exit with status 0, log no console error or uncaught exception, report
// its stats through the exported function, be cross-origin isolated, and (when it prints them)
// pass all its TAP cases and have verify_errors == 0 in its final JSON.
'use strict';

const MMAP_MODES = ['on', 'off', 'malloc'];

const RUNS = [
  // The model-based random test of mwpm (tests/mwpm-model.c): fewer operations than under node.
  { name: 'mwpm-model', build: 'wasm', program: 'tests/test-mwpm-model', query: 'ops=200000&seed=7', timeout: 240 },
  // Four threads allocate, write canaries, free parts and verify through mwpm at once.
  { name: 'mwpm-threads', build: 'wasm-threads', program: 'tests/test-mwpm-threads',
    query: 'threads=4&ops=40000&seed=7', timeout: 240, expect: { minStats: { lock_contended: 1 } } },
  // The GC stress program in both mmap modes, single-threaded and with 4 extra threads.
  ...MMAP_MODES.map((m) => ({
    name: `sgen-stress-mmap-${m}`, build: 'wasm', program: 'tests/sgen-stress',
    query: `mono-wasm-mmap=${m}&seed=7&sgen-verify&json`, timeout: 300, expect: { finalJson: true, resident: true },
  })),
  ...MMAP_MODES.map((m) => ({
    name: `sgen-stress-threads-mmap-${m}`, build: 'wasm-threads', program: 'tests/sgen-stress',
    query: `mono-wasm-mmap=${m}&seed=7&threads=4&workloads=churn,large,fdr&sgen-verify&json`, timeout: 300,
    expect: { finalJson: true, threadReports: 4, minStats: m === 'on' ? { lock_contended: 1 } : {}, resident: true },
  })),
  // wasm64 (emscripten 6.0.5, docs/wasm64.md): the same stress over a 64-bit linear memory.
  ...MMAP_MODES.map((m) => ({
    name: `sgen-stress-wasm64-mmap-${m}`, build: 'wasm64-6', program: 'tests/sgen-stress',
    query: `mono-wasm-mmap=${m}&seed=7&sgen-verify&json`, timeout: 300, expect: { finalJson: true, resident: true },
  })),
  ...MMAP_MODES.map((m) => ({
    name: `sgen-stress-wasm64-threads-mmap-${m}`, build: 'wasm64-threads-6', program: 'tests/sgen-stress',
    query: `mono-wasm-mmap=${m}&seed=7&threads=4&workloads=churn,large,fdr&sgen-verify&json`, timeout: 300,
    expect: { finalJson: true, threadReports: 4, minStats: m === 'on' ? { lock_contended: 1 } : {}, resident: true },
  })),
  // The checks can fail: a damaged object (a test-only switch) must fail the page.
  { name: 'sgen-stress-corrupt-fails', build: 'wasm', program: 'tests/sgen-stress',
    query: 'seed=7&workloads=large&corrupt-object&json', timeout: 120,
    expect: { mustFail: ['exit status 1', 'verify_errors = 1'] } },
];

module.exports = { RUNS };

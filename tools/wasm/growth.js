// growth.js (--js-library, every emscripten program of the project): counts the memory.grow
// calls that grew the linear memory (docs/benchmarks.md), in Module.memoryGrowCalls:
//  - emscripten_resize_heap: sbrk's growth (libc's mmap, malloc, every sbrk caller); counted
//    when the memory got larger;
//  - emscripten_notify_memory_growth: mwpm grows the memory itself (memory.grow from wasm) and
//    then tells the runtime to refresh its views; one call per growth.
// Each wrapper is installed right after the function it wraps is defined (__postset), before
// the wasm imports are bound. Counted per thread: the thread that grew.
mergeInto(LibraryManager.library, {
  emscripten_resize_heap__postset:
    '_emscripten_resize_heap = (function (resize) {' +
    '  return function (size) {' +
    '    var before = wasmMemory.buffer.byteLength;' +
    '    var ok = resize(size);' +
    '    if (wasmMemory.buffer.byteLength > before) Module["memoryGrowCalls"] = (Module["memoryGrowCalls"] | 0) + 1;' +
    '    return ok;' +
    '  };' +
    '})(_emscripten_resize_heap);',
  emscripten_notify_memory_growth__postset:
    '_emscripten_notify_memory_growth = (function (notify) {' +
    '  return function (index) {' +
    '    Module["memoryGrowCalls"] = (Module["memoryGrowCalls"] | 0) + 1;' +
    '    return notify(index);' +
    '  };' +
    '})(_emscripten_notify_memory_growth);',
});

// mwpm-pool.js (--js-library, linked with libmwpm-pool.a; docs/drop-in.md): the library is the
// program's malloc, so emscripten's own must not be linked too. This check runs when emcc
// reads its JS libraries, with the link's settings in scope: without -sMALLOC=none the link
// stops here, with this message, instead of producing a program with two allocators.
#if MALLOC != 'none' && (() => { throw new Error("libmwpm-pool: link with -sMALLOC=none (the library brings malloc, calloc, realloc, free and the rest; emscripten's own malloc would be a second allocator)"); })()
#endif
mergeInto(LibraryManager.library, {});

/*
 * peer-dlmalloc-config.h: the mmap-only dlmalloc that serves mimalloc's test-stress in the
 * peers suite (tools/lib/peers.py). emscripten's system/lib/dlmalloc.c (from the installed
 * package) is compiled with this header force-included and __EMSCRIPTEN__ undefined, as the
 * shared-pool build does (mono/utils/mwpm/pool/pool-dlmalloc-config.h), but with dlmalloc's
 * own mmap path: every segment and every large chunk is an anonymous mmap, freed segments go
 * back with munmap. So the test's whole heap comes from the mmap in the link (libc's or the
 * drop-in's), while the system malloc stays what libc's own mmap uses.
 * Threads: dlmalloc's own locks (USE_LOCKS, pthread mutexes with -pthread).
 */
#ifndef PEER_DLMALLOC_CONFIG_H
#define PEER_DLMALLOC_CONFIG_H

#define USE_DL_PREFIX 1
#define HAVE_MORECORE 0
#define HAVE_MMAP 1
#define HAVE_MREMAP 0
#define MMAP_CLEARS 1
#define NO_MALLOC_STATS 1
#ifdef _REENTRANT
#define USE_LOCKS 1
#endif

#endif

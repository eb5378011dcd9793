/*
 * pool-dlmalloc-config.h: how the shared-pool build compiles dlmalloc.
 *
 * The dlmalloc.c that emscripten ships (system/lib/dlmalloc.c in the installed package, never
 * copied into this repository) is compiled at build time with this header force-included and
 * __EMSCRIPTEN__ undefined, so that its emscripten block (which hard-defines HAVE_MMAP 0 and
 * MORECORE_CANNOT_TRIM, and makes malloc an alias) is skipped. What is left is plain dlmalloc
 * 2.8.6 configured below; mono/utils/pool/pool-malloc.c exports the C library's names.
 *
 * Invariants the configuration relies on:
 *  - no MORECORE: dlmalloc never calls sbrk, so in this build mwpm is the only sbrk caller and
 *    the break is monotonic (mwpm-platform-sbrk.c);
 *  - every segment and every large chunk comes from mwpm through MMAP / DIRECT_MMAP, and freed
 *    segments (whole, or the free tail of the top one) go back through MUNMAP: pages that
 *    malloc frees can serve the GC, and the reverse;
 *  - segment sizes are multiples of POOL_GRANULARITY, itself a multiple of the mwpm page size,
 *    so that a trimmed tail always starts on an mwpm page;
 *  - MALLOC_ALIGNMENT stays 8 (2 * sizeof (void *) on wasm32), emscripten's max_align_t.
 */
#ifndef POOL_DLMALLOC_CONFIG_H
#define POOL_DLMALLOC_CONFIG_H

#include "pool-pages.h"

#define USE_DL_PREFIX 1
#define HAVE_MORECORE 0
#define HAVE_MMAP 1
#define HAVE_MREMAP 0
/* Large chunks come straight from mwpm without zeroing: calloc clears them itself (MMAP_CLEARS
 * 0), malloc, the common case, pays nothing. With MMAP_CLEARS 1 every large malloc had mwpm zero
 * the dirty pages it reused: mimalloc's test-stress over libmwpm-pool.a took 4.6-5.0 s that way,
 * 4.1-4.2 s this way (emscripten's own malloc: 3.9-4.2 s). */
#define MMAP_CLEARS 0
#define MMAP(size) _mono_pool_pages_map (size)
#define DIRECT_MMAP(size) _mono_pool_pages_map (size)
#define MUNMAP(base, size) _mono_pool_pages_unmap ((base), (size))

#ifndef POOL_GRANULARITY
#error "POOL_GRANULARITY must be set by the build (max of 64 KiB and the mwpm page size)"
#endif
#define DEFAULT_GRANULARITY ((size_t)POOL_GRANULARITY)

/* As emscripten's own build of this file: no stdio inside malloc (malloc_stats would pull it
 * in), and the consistency checks' failure branch marked unreachable, so that the compiler drops
 * the checks from the fast paths. The pool malloc then runs the same code as the default malloc
 * on every path that does not reach for new memory (docs/pool.md, "Speed and overhead"). */
#define NO_MALLOC_STATS 1
#define ABORT __builtin_unreachable ()

/*
 * -pthread defines _REENTRANT: dlmalloc takes a lock around every call, ours (pool-lock.h):
 * recursive in the shared-pool build, because a call may re-enter on the same thread: malloc -> MMAP -> mwpm -> the grow
 * hook -> sgen gives blocks back -> malloc/free. dlmalloc calls MMAP only from sys_alloc and mmap_alloc,
 * before it reads the state it then changes (top, segments, footprint), and its caller holds no
 * chunk pointer that a nested call could take, so a nested call finds and leaves the state
 * consistent (tests/test-pool-hook.c runs such a hook). The lock also makes every block the
 * holder gets safe for its memsets in that thread (pool-lock.h). Single-threaded builds need
 * no lock for either.
 */
#ifdef _REENTRANT
#include "pool-lock.h"
#define USE_LOCKS 2
#define MLOCK_T PoolLock
#define INITIAL_LOCK(lk) pool_lock_init (lk)
#define DESTROY_LOCK(lk) (0)
#define ACQUIRE_LOCK(lk) pool_lock_acquire (lk)
#define RELEASE_LOCK(lk) pool_lock_release (lk)
#define TRY_LOCK(lk) pool_lock_try (lk)
static MLOCK_T malloc_global_mutex = POOL_LOCK_INIT;
#endif

#endif

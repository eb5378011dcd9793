/*
 * mwpm-platform.h: the one seam between mwpm and the memory it manages.
 *
 * The platform is a 32-bit linear memory that starts at `base` and grows at its top, with a
 * program break moved by sbrk. Implementations, one per file, chosen by meson.build:
 *   mwpm-platform-sbrk.c  wasm (emscripten, WASI): the real sbrk and memory.size;
 *   mwpm-platform-host.c  native: a simulated 4 GiB linear memory, for sanitizers and valgrind.
 * mwpm works in offsets from `base` (uint64_t, so that the end of the space, 2^32, fits), never
 * with raw pointers.
 *
 * Every function returns 0 or an errno value and states its precondition. None calls malloc.
 * What tests may see of the platform (its description, the break, the memory size, and the
 * knobs every implementation offers them) is in mwpm-test-hooks.h, which this seam builds on.
 */
#ifndef MWPM_PLATFORM_H
#define MWPM_PLATFORM_H

#include "mono-config.h"
#include "mwpm-test-hooks.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Moves the break up by `increment` bytes (0 < increment <= sbrk_max, a multiple of
 * sbrk_granule) and stores the old break's offset in *old_break. Returns 0, or ENOMEM when the
 * memory cannot grow (nothing changed). Atomic with respect to other sbrk callers. */
int mwpm_platform_sbrk (uint32_t increment, uint64_t *old_break);

/*
 * Makes offsets [0, end) of the linear memory safe for bulk memory operations (memory.fill,
 * memory.copy: memset, memcpy) in the calling thread. In pthreads builds a thread's engine
 * bounds those by the memory size it last saw and traps on memory another thread has just
 * grown, while plain loads and stores work (node 20 and Chromium 156 alike); memory.grow(0) in
 * the thread brings its view up to date (docs/mwpm.md, "Threads"). The common case costs one
 * compare with a per-thread copy of the size this thread has seen; the refresh itself (about
 * 270 ns) runs only when the range lies above it. Nothing to do without wasm threads.
 */
#if MONO_CONFIG_THREADS && MONO_CONFIG_EMSCRIPTEN
/* mwpm-platform-bulk.S: a per-thread wasm global, not C thread-local storage, which does not
 * exist yet when emscripten allocates a thread's TLS block through malloc (and so mwpm). */
uint32_t _mwpm_platform_bulk_seen_pages (void);
void _mwpm_platform_bulk_refresh (void);
static inline void
mwpm_platform_bulk_ready (uint64_t end)
{
	if (end > (uint64_t)_mwpm_platform_bulk_seen_pages () << 16)
		_mwpm_platform_bulk_refresh ();
}
#else
static inline void
mwpm_platform_bulk_ready (uint64_t end)
{
	(void)end;
}
#endif

#endif

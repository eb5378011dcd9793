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
 */
#ifndef MWPM_PLATFORM_H
#define MWPM_PLATFORM_H

#include "mono-config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MWPM_SPACE_BYTES ((uint64_t)1 << 32)

typedef struct {
	uintptr_t base;          /* address of linear-memory offset 0 */
	uint32_t sbrk_granule;   /* sbrk increments must be multiples of this (a power of two) */
	uint32_t sbrk_max;       /* largest increment one sbrk call accepts */
	uint64_t memory_max;     /* the linear memory can never grow beyond this many bytes */
	/* True when no component of this build lowers the program break, so memory sbrk hands out
	 * has never been handed out before and reads zero (docs/mwpm.md, "Zero trust"). */
	bool break_monotonic;
	bool threads;            /* other threads may call sbrk concurrently */
} MwpmPlatformInfo;

/* Fills *out. Cheap; the values never change while the process runs, except break_monotonic
 * on the host platform, which tests switch. */
void mwpm_platform_info (MwpmPlatformInfo *out);

/* Moves the break up by `increment` bytes (0 < increment <= sbrk_max, a multiple of
 * sbrk_granule) and stores the old break's offset in *old_break. Returns 0, or ENOMEM when the
 * memory cannot grow (nothing changed). Atomic with respect to other sbrk callers. */
int mwpm_platform_sbrk (uint32_t increment, uint64_t *old_break);

/* Stores the break's offset now. Another sbrk caller may move it at any time after: growth
 * uses it to compute what is missing, and copes with a result that starts elsewhere. 0, or an
 * errno value. */
int mwpm_platform_break (uint64_t *brk);

/* Current size of the linear memory in bytes (wasm: memory.size * 65536). */
uint64_t mwpm_platform_memory_bytes (void);

/*
 * Makes offsets [0, end) of the linear memory safe for bulk memory operations (memory.fill,
 * memory.copy: memset, memcpy) in the calling thread. In pthreads builds a thread's engine
 * bounds those by the memory size it last saw and traps on memory another thread has just
 * grown, while plain loads and stores work (node 20 and Chromium 156 alike); memory.grow(0) in
 * the thread brings its view up to date (docs/mwpm.md, "Threads"). The common case costs one
 * compare with a thread-local copy of the size this thread has seen; the refresh itself (about
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

/* ---- Test hooks, offered by every implementation ---- */

/* Acts as another sbrk caller: moves the break by `increment` (may be negative where the
 * platform lets the break go down: the host always, emscripten through the sbrk pointer, WASI
 * never: ENOTSUP) and stores the old break's offset. On wasm, `increment` must be a multiple of
 * sbrk_granule (EINVAL otherwise), as for any sbrk caller there. Returns 0 or an errno value. */
int mwpm_platform_foreign_sbrk (int64_t increment, uint64_t *old_break);

/* The end of the memory the calling thread's bulk operations are known to be safe in (as
 * mwpm_platform_bulk_ready keeps it); UINT64_MAX where nothing needs tracking. */
uint64_t mwpm_platform_bulk_seen (void);

/* Makes the next `count` calls of mwpm_platform_sbrk fail with ENOMEM. */
void mwpm_platform_fail_next_sbrk (unsigned count);

/* Host only (no-ops elsewhere): give the simulated memory a new maximum size and initial
 * static size (0: the defaults, 4 GiB - 64 KiB and 5 MiB + a bit) and start over (all memory
 * zero, break at the end of static data); declare what mwpm_platform_info reports as
 * break_monotonic and threads, to test each zero-trust level. */
void mwpm_platform_host_reset (uint64_t max_bytes, uint64_t static_bytes);
void mwpm_platform_host_declare (bool break_monotonic, bool threads);

#endif

/*
 * mono-bulk.h: bulk memory operations (memset, memcpy: memory.fill, memory.copy) on memory
 * another thread may have just grown.
 *
 * In pthreads builds a thread's engine bounds bulk operations by the memory size it last saw
 * and traps on memory another thread has just grown, while plain loads and stores work (node 20
 * and Chromium 156 alike); memory.grow(0) in the thread brings its view up to date
 * (docs/mwpm.md, "Threads"). Every bulk operation on memory that may be new (a range from mwpm,
 * a malloc block, a mapping the drop-in zeroes) is preceded by mono_bulk_ready for its end.
 * The common case costs one compare with a per-thread copy of the size this thread has seen;
 * the refresh itself (about 270 ns) runs only when the range lies above it. Nothing to do
 * without wasm threads.
 */
#ifndef MONO_UTILS_MONO_BULK_H
#define MONO_UTILS_MONO_BULK_H

#include "mono-config.h"

#include <stdint.h>

#if MONO_CONFIG_THREADS && MONO_CONFIG_EMSCRIPTEN
/* mono-bulk.S: a per-thread wasm global, not C thread-local storage, which does not exist yet
 * when emscripten allocates a thread's TLS block through malloc (and so mwpm). */
uint32_t _mono_bulk_seen_pages (void);
void _mono_bulk_set_seen_pages (uint32_t pages);

/* memory.grow by 0 pages brings this thread's view of the memory up to date and returns its size
 * in pages: that is what the thread has now seen. (In C: the assembler does not know whether the
 * memory is 32- or 64-bit; the compiler does.) */
static inline void
_mono_bulk_refresh (void)
{
	_mono_bulk_set_seen_pages ((uint32_t)__builtin_wasm_memory_grow (0, 0));
}

/* Makes addresses [0, end) safe for bulk memory operations in the calling thread. */
static inline void
mono_bulk_ready (uint64_t end)
{
	if (end > (uint64_t)_mono_bulk_seen_pages () << 16)
		_mono_bulk_refresh ();
}

/* For tests: the end of the memory this thread's bulk operations are known to reach. */
static inline uint64_t
mono_bulk_seen (void)
{
	return (uint64_t)_mono_bulk_seen_pages () << 16;
}
#else
static inline void
mono_bulk_ready (uint64_t end)
{
	(void)end;
}

/* Nothing is tracked: every address is reachable. */
static inline uint64_t
mono_bulk_seen (void)
{
	return UINT64_MAX;
}
#endif

#endif

/*
 * mono-break.h: whether the program break only goes up, the one definition that mwpm's
 * platform (mwpm-platform-sbrk.c) and the malloc backend (backend-malloc.c) trust.
 *
 * Memory the wasm engine adds with memory.grow reads zero, so memory at or above the break was
 * never written, unless someone lowered the break after writing below it. Nothing lowers it:
 *  - with emscripten up to 3.1.6: sbrk of a negative increment fails, its dlmalloc is built
 *    with MORECORE_CANNOT_TRIM, brk() aborts in pthreads builds. Later emscripten mallocs trim
 *    with a negative sbrk, so newer versions are not trusted;
 *  - in the shared-pool build, and in a program linked with libmwpm-pool.a (its objects are
 *    compiled with MONO_BREAK_OWN_MALLOC): malloc takes its pages from mwpm and never calls sbrk;
 *  - with WASI: the break is the memory size, and linear memory never shrinks (wasi-libc's
 *    sbrk traps on a negative increment rather than lowering it).
 * Natively there is no break that hands out memory: nothing is trusted.
 *
 * A declaration can still be wrong (a program may lower the break itself): whoever trusts it
 * also watches the break (MonoBreakWatch) and trusts nothing once it saw it go down.
 */
#ifndef MONO_UTILS_MONO_BREAK_H
#define MONO_UTILS_MONO_BREAK_H

#include "mono-config.h"

#include <stdbool.h>
#include <stdint.h>

#if MONO_CONFIG_EMSCRIPTEN
#if defined(__has_include) && __has_include(<emscripten/version.h>)
#include <emscripten/version.h>
#endif
#if MONO_CONFIG_SHARED_POOL || defined(MONO_BREAK_OWN_MALLOC) || __EMSCRIPTEN_major__ < 3 || \
	(__EMSCRIPTEN_major__ == 3 && __EMSCRIPTEN_minor__ < 1) || \
	(__EMSCRIPTEN_major__ == 3 && __EMSCRIPTEN_minor__ == 1 && __EMSCRIPTEN_tiny__ <= 6)
#define MONO_BREAK_MONOTONIC 1
#else
#define MONO_BREAK_MONOTONIC 0
#endif
#elif MONO_CONFIG_WASI
#define MONO_BREAK_MONOTONIC 1
#else
#define MONO_BREAK_MONOTONIC 0
#endif

/* The highest break seen, and whether it was ever seen lower than that. */
typedef struct {
	uint64_t high;
	bool lowered;
} MonoBreakWatch;

/* Records a reading of the break; false (for good) once the break went down. */
static inline bool
mono_break_watch (MonoBreakWatch *w, uint64_t brk)
{
	if (brk < w->high)
		w->lowered = true;
	else
		w->high = brk;
	return !w->lowered;
}

#endif

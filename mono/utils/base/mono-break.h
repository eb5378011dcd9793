/*
 * mono-break.h: whether the program break only goes up, the one definition that mwpm's
 * platform (mwpm-platform-sbrk.c) and the malloc backend (backend-malloc.c) trust.
 *
 * Memory the wasm engine adds with memory.grow reads zero, so memory at or above the break was
 * never written, unless someone lowered the break after writing below it. Whether anyone can,
 * read in emscripten's sources (system/lib/sbrk.c, later system/lib/libc/sbrk.c, and
 * system/lib/dlmalloc.c) for each version this project is built with:
 *  - 3.1.6: sbrk of a negative increment fails (its overflow check), dlmalloc is built with
 *    MORECORE_CANNOT_TRIM, brk() aborts in pthreads builds: the break only goes up;
 *  - 3.1.69 and 6.0.5 on wasm32: sbrk widens its increment as unsigned before the check, so a
 *    negative one asks for nearly 4 GiB and fails with ENOMEM (brk() to a lower address the
 *    same); dlmalloc, the default malloc, keeps MORECORE_CANNOT_TRIM. But emmalloc's trim
 *    (malloc_trim with -sMALLOC=emmalloc) calls _sbrk64, which takes a negative increment on
 *    wasm32 too (6.0.5's system/lib/emmalloc.c): the break only goes up unless emmalloc is in
 *    the program, which a weak reference to emmalloc_trim tells at run time (it is defined in
 *    the object that defines emmalloc's malloc). Versions between 3.1.7 and 3.1.68 were not
 *    read: not trusted;
 *  - 6.0.5 on wasm64: sbrk itself takes a negative increment and lowers the break, but nothing
 *    in the C library calls it so except emmalloc's trim: the same rule as on wasm32. Versions
 *    before 6.0.5 on wasm64 were not read: not trusted;
 *  - in the shared-pool build, and in a program linked with libmwpm-pool.a (its objects are
 *    compiled with MONO_BREAK_OWN_MALLOC): malloc takes its pages from mwpm and never calls sbrk,
 *    whatever the version or target;
 *  - with WASI: the break is the memory size, and linear memory never shrinks (wasi-libc's
 *    sbrk traps on a negative increment rather than lowering it).
 * Natively there is no break that hands out memory: nothing is trusted.
 *
 * A declaration can still be wrong (a program may lower the break itself, or in a version not
 * read): whoever trusts it also watches the break (MonoBreakWatch) and trusts nothing once it
 * saw it go down.
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
/* The version as one number, 3.1.6 = 30106; __EMSCRIPTEN_MAJOR__ and friends where they exist
 * (the lower-case names are deprecated there), else the older names. */
#if defined(__EMSCRIPTEN_MAJOR__)
#define MONO_EMSCRIPTEN_VERSION (__EMSCRIPTEN_MAJOR__ * 10000 + __EMSCRIPTEN_MINOR__ * 100 + __EMSCRIPTEN_TINY__)
#else
#define MONO_EMSCRIPTEN_VERSION (__EMSCRIPTEN_major__ * 10000 + __EMSCRIPTEN_minor__ * 100 + __EMSCRIPTEN_tiny__)
#endif
#if MONO_CONFIG_SHARED_POOL || defined(MONO_BREAK_OWN_MALLOC)
#define MONO_BREAK_MONOTONIC 1
#elif defined(__wasm64__) && MONO_EMSCRIPTEN_VERSION < 60005
#define MONO_BREAK_MONOTONIC 0
#elif MONO_EMSCRIPTEN_VERSION <= 30106
#define MONO_BREAK_MONOTONIC 1
#elif MONO_EMSCRIPTEN_VERSION >= 30169
#include <stddef.h>
/* Defined only when emmalloc is linked (see above). */
extern int emmalloc_trim (size_t pad) __attribute__ ((weak));
#define MONO_BREAK_MONOTONIC (&emmalloc_trim == NULL)
#else
#define MONO_BREAK_MONOTONIC 0
#endif
#elif MONO_CONFIG_WASI
#define MONO_BREAK_MONOTONIC 1
#else
#define MONO_BREAK_MONOTONIC 0
#endif

/* MONO_BREAK_MONOTONIC is an expression, evaluated at run time on some versions: never in a
 * static initializer or #if. */

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

/*
 * mwpm-platform-sbrk.c: the platform seam on wasm (emscripten and WASI): the real sbrk.
 *
 * Linear memory starts at address 0, so offsets are addresses. sbrk is atomic in emscripten's
 * pthreads builds (a compare-and-swap loop), so one call per request is race-free; mwpm never
 * asks sbrk(0) first.
 *
 * WASI (wasi-libc): sbrk(n) is memory.grow(n / 64 KiB) and returns the old end of memory, so the
 * break is always the memory size and every result is 64 KiB aligned. It aborts (a trap) on an
 * increment that is not a multiple of 64 KiB or is negative, hence the granule: mwpm's growth
 * rounds every request up to it (mono-wasm-pagemgr.c, grow()), and the test hook below refuses
 * other values with EINVAL instead of reaching sbrk. The memory may grow to 4 GiB: the WASI build
 * links with --max-memory=4294967296 (meson.build), and that is also wasm32's limit.
 *
 * Growth of the memory (emscripten): sbrk past the memory size calls emscripten_resize_heap,
 * which grows the memory to the larger of the new break and 20% more than its size, at most
 * 96 MiB past the break (MEMORY_GROWTH_GEOMETRIC_STEP and _CAP), up to the maximum. mwpm leaves
 * that rule alone (docs/mwpm.md, "Growth of the memory"): memory grown and not written is address
 * space, not resident memory, and each memory.grow costs V8 far more than its size suggests (a new
 * buffer and its views, and full collections of the JS heap), so few large steps beat many exact
 * ones. The headroom above the break is never written, and serves every sbrk caller.
 *
 * Whether the break is monotonic (docs/mwpm.md, "Zero trust"): MONO_BREAK_MONOTONIC, the one
 * definition of it (mono-break.h), which the malloc backend trusts too.
 */
#include "mono-config.h"
#include "mwpm-platform.h"
#include "mono-break.h"

#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#include <emscripten/heap.h>
#define SBRK_GRANULE 4u
#define MEMORY_MAX ((uint64_t)emscripten_get_heap_max ())
#else /* WASI */
#define SBRK_GRANULE 65536u
#define MEMORY_MAX ((uint64_t)1 << 32)
#endif

#ifdef _REENTRANT
#define HAVE_THREADS 1
#else
#define HAVE_THREADS 0
#endif

static atomic_uint fail_count;

void
mwpm_platform_info (MwpmPlatformInfo *out)
{
	out->base = 0;
	out->sbrk_granule = SBRK_GRANULE;
	/* sbrk takes an intptr_t: 2 GiB or more is negative. */
	out->sbrk_max = 0x80000000u - SBRK_GRANULE;
	out->memory_max = MEMORY_MAX;
	out->break_monotonic = MONO_BREAK_MONOTONIC;
	out->threads = HAVE_THREADS;
}

int
mwpm_platform_sbrk (uint32_t increment, uint64_t *old_break)
{
	unsigned f = atomic_load (&fail_count);
	while (f > 0) {
		if (atomic_compare_exchange_weak (&fail_count, &f, f - 1))
			return ENOMEM;
	}
	void *p = sbrk ((intptr_t)increment);
	if (p == (void *)-1)
		return ENOMEM;
	*old_break = (uint64_t)(uintptr_t)p;
	return 0;
}

int
mwpm_platform_break (uint64_t *brk)
{
	/* sbrk(0) only reads the break (WASI: the memory size, which is its break). */
	void *p = sbrk (0);
	if (p == (void *)-1)
		return ENOMEM;
	*brk = (uint64_t)(uintptr_t)p;
	return 0;
}

uint64_t
mwpm_platform_memory_bytes (void)
{
	return (uint64_t)__builtin_wasm_memory_size (0) * 65536u;
}

int
mwpm_platform_foreign_sbrk (int64_t increment, uint64_t *old_break)
{
	/* WASI's sbrk would trap on these; refuse them on every wasm target alike. */
	if (increment % SBRK_GRANULE != 0 || increment > (int64_t)(0x80000000u - SBRK_GRANULE))
		return EINVAL;
	if (increment >= 0) {
		void *p = sbrk ((intptr_t)increment);
		if (p == (void *)-1)
			return ENOMEM;
		*old_break = (uint64_t)(uintptr_t)p;
		return 0;
	}
#ifdef __EMSCRIPTEN__
	/* sbrk(negative) fails on 3.1.6: lower the break the way a trimming malloc would. */
	_Atomic uintptr_t *brk_ptr = (_Atomic uintptr_t *)emscripten_get_sbrk_ptr ();
	uintptr_t old = atomic_load (brk_ptr);
	for (;;) {
		if ((uint64_t)-increment > old)
			return EINVAL;
		if (atomic_compare_exchange_weak (brk_ptr, &old, old - (uintptr_t)-increment))
			break;
	}
	*old_break = old;
	return 0;
#else
	return ENOTSUP;
#endif
}

void
mwpm_platform_fail_next_sbrk (unsigned count)
{
	atomic_store (&fail_count, count);
}

void
mwpm_platform_host_reset (uint64_t max_bytes, uint64_t static_bytes)
{
	(void)max_bytes;
	(void)static_bytes;
}

void
mwpm_platform_host_declare (bool break_monotonic, bool threads)
{
	(void)break_monotonic;
	(void)threads;
}

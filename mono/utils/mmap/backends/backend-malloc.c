/*
 * backend-malloc.c: the backend dotnet ships on wasm in place of mwpm (since dotnet/runtime
 * PR 108512, which turned mwpm off because memory freed to it could never serve malloc):
 * mono_valloc is posix_memalign from malloc, mono_vfree is free.
 *
 * Zeroing, as dotnet does it: the break is read before the call, and a block at or above it is
 * fresh from sbrk (emscripten's memory reads zero), so it is not memset; a block below it is.
 * That needs the break to only go up: trusted where mono-break.h says so (the one definition
 * mwpm's platform uses too), and only while it is never seen lower than before (MonoBreakWatch:
 * the same rule as mwpm's break_high). Only in single-threaded emscripten builds: with threads
 * another thread may grow and write between the reading and the malloc, and WASI and native
 * mallocs may reuse trimmed memory, so there every zeroed mapping is memset. Bytes memset are
 * counted as the others' are.
 *
 * Bulk operations: every mapping is made ready for them (mono_bulk_ready) before its memset
 * and before the caller gets it: in pthreads builds malloc may return memory another thread
 * has just grown (mono-bulk.h).
 *
 * Sizes: a request the allocator in use cannot serve is refused with ENOMEM before malloc sees
 * it (a sanitizer's malloc aborts the program instead of returning NULL; see max_request).
 *
 * No partial free: a block goes back whole. Each mapping is an ordinary malloc block, so
 * callers take one piece per mapping (pieces_per_mapping 1, as dotnet's MS_BLOCK_ALLOC_NUM 1).
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"
#include "mono-break.h"
#include "mono-bulk.h"
#include "mono-sanitizers.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if MONO_CONFIG_EMSCRIPTEN
#include <emscripten/heap.h>
#endif
#if !MONO_CONFIG_WASM
#include <sys/sysinfo.h>
#endif

/* Can "fresh from sbrk" be asked at all (see above)? */
#define FRESH_CHECK (MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_THREADS)

static atomic_uint_fast64_t zeroed_bytes;
static atomic_uint_fast64_t mapped_bytes;

/* The break's trust: the toolchain's declaration (MONO_BREAK_MONOTONIC, unless a test declared
 * otherwise), and what was seen of the break. Single-threaded builds only read them. */
static struct {
	int declared_by_test; /* -1: none; else 0 or 1 */
	MonoBreakWatch watch;
} brk_trust = { .declared_by_test = -1 };

void
mono_mmap_malloc_declare_break_for_tests (bool monotonic)
{
	brk_trust.declared_by_test = monotonic;
	brk_trust.watch = (MonoBreakWatch){ 0 };
}

static bool
declared_monotonic (void)
{
	return brk_trust.declared_by_test >= 0 ? brk_trust.declared_by_test != 0 : (bool)(MONO_BREAK_MONOTONIC);
}

/* The lowest address of memory fresh from sbrk for the next malloc: the break, when it can be
 * trusted; UINTPTR_MAX (nothing is fresh) otherwise. */
static uintptr_t
fresh_from (void)
{
	if (!FRESH_CHECK || !declared_monotonic ())
		return UINTPTR_MAX;
	uintptr_t brk = (uintptr_t)sbrk (0);
	return mono_break_watch (&brk_trust.watch, brk) ? brk : UINTPTR_MAX;
}

/* The page size mono reports on wasm (64 KiB) and the OS's natively. */
static size_t
malloc_page_size (void)
{
	return MONO_CONFIG_WASM ? 65536u : (size_t)sysconf (_SC_PAGESIZE);
}

/*
 * The largest request handed to malloc. No malloc serves half the address space. Natively,
 * nothing larger than the machine's memory and swap can be had (the kernel refuses such a
 * mapping even with overcommit), and a sanitizer's allocator aborts on such a request rather
 * than return NULL (ASan and TSan: "requested allocation size exceeds maximum supported size",
 * or "out of memory" when its mmap fails); their own limit is 2^40 bytes on x86_64. On
 * emscripten nothing larger than the program's maximum memory can be had, and emscripten
 * 6.0.5's malloc on wasm64 must not see more: when the break would pass 2^53, its heap resize
 * reads the size as NaN (a BigInt above 2^53 has no exact Number), grows by nothing and reports
 * success, so sbrk hands out memory past the end and malloc traps (tests/test-mmap.c,
 * case_malloc_huge_refused; docs/wasm64.md).
 */
static size_t
max_request (void)
{
	size_t max = SIZE_MAX / 2;
#if MONO_CONFIG_EMSCRIPTEN
	size_t heap_max = emscripten_get_heap_max ();
	if (heap_max < max)
		max = heap_max;
#endif
#if !MONO_CONFIG_WASM
	struct sysinfo si;
	if (sysinfo (&si) == 0) {
		uint64_t machine = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
		if (machine < max)
			max = (size_t)machine;
	}
	if (MONO_HAVE_ASAN || MONO_HAVE_TSAN) {
		const size_t sanitizer_max = (size_t)1 << 40;
		if (sanitizer_max < max)
			max = sanitizer_max;
	}
#endif
	return max;
}

static int
malloc_map (size_t len, size_t align, bool zero, MonoMapping *out)
{
	size_t max = max_request ();
	if (len > max || align > max || len + align > max)
		return ENOMEM;
	uintptr_t fresh = zero ? fresh_from () : UINTPTR_MAX;
	void *p = NULL;
	if (posix_memalign (&p, align, len) != 0 || !p)
		return ENOMEM;
	/* The caller's bulk operations on it, as well as the memset here. */
	mono_bulk_ready ((uint64_t)(uintptr_t)p + len);
	uint64_t zeroed = 0;
	if (zero && (uintptr_t)p < fresh) {
		memset (p, 0, len);
		zeroed = len;
		atomic_fetch_add (&zeroed_bytes, len);
	}
	atomic_fetch_add (&mapped_bytes, len);
	*out = (MonoMapping){ .addr = (uintptr_t)p, .len = len, .orig = (uintptr_t)p, .orig_len = len, .zeroed = zeroed };
	return 0;
}

static int
malloc_unmap (uintptr_t addr, size_t len)
{
	free ((void *)addr); /* the layer hands back only whole mappings (partial_free false) */
	atomic_fetch_sub (&mapped_bytes, len);
	return 0;
}

static uint64_t
malloc_bytes_zeroed (void)
{
	return atomic_load (&zeroed_bytes);
}

static uint64_t
malloc_memory_bytes (void)
{
#if MONO_CONFIG_WASM
	return (uint64_t)__builtin_wasm_memory_size (0) * 65536u;
#else
	return atomic_load (&mapped_bytes);
#endif
}

static MonoMmapBackendOps malloc_ops = {
	.caps = { .backend = MONO_MMAP_BACKEND_MALLOC, .name = "malloc", .page_size = 0,
	          .partial_free = false, .fresh_zeroed = false, .always_zeroed = false,
	          .pieces_per_mapping = 1 },
	.map = malloc_map,
	.unmap = malloc_unmap,
	.bytes_zeroed = malloc_bytes_zeroed,
	.memory_bytes = malloc_memory_bytes,
};

static const MonoMmapBackendOps *
malloc_backend (void)
{
	malloc_ops.caps.page_size = malloc_page_size ();
	return &malloc_ops;
}

const MonoMmapBackendGetter mono_mmap_backend_malloc = malloc_backend;

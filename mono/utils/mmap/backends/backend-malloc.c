/*
 * backend-malloc.c: the backend dotnet ships on wasm in place of mwpm (since dotnet/runtime
 * PR 108512, which turned mwpm off because memory freed to it could never serve malloc):
 * mono_valloc is posix_memalign from malloc, mono_vfree is free.
 *
 * Zeroing, as dotnet does it: the break is read before the call, and a block at or above it is
 * fresh from sbrk (emscripten's memory reads zero, and its malloc never lowers the break), so it
 * is not memset; a block below it is. Only in single-threaded emscripten builds, where the
 * break is visible and only goes up: with threads another thread may grow and write between
 * the reading and the malloc, and WASI and native mallocs may reuse trimmed memory, so there
 * every zeroed mapping is memset. Bytes memset are counted as the others' are.
 *
 * No partial free: a block goes back whole. Each mapping is an ordinary malloc block, so
 * callers take one piece per mapping (pieces_per_mapping 1, as dotnet's MS_BLOCK_ALLOC_NUM 1).
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Can "fresh from sbrk" be trusted (see above)? */
#define FRESH_CHECK (MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_THREADS)

static atomic_uint_fast64_t zeroed_bytes;
static atomic_uint_fast64_t mapped_bytes;

/* The page size mono reports on wasm (64 KiB) and the OS's natively. */
static size_t
malloc_page_size (void)
{
	return MONO_CONFIG_WASM ? 65536u : (size_t)sysconf (_SC_PAGESIZE);
}

static int
malloc_map (size_t len, size_t align, bool zero, MonoMapping *out)
{
	/* No malloc can serve half the address space: refused here (sanitizer mallocs abort). */
	if (len > SIZE_MAX / 2 || align > SIZE_MAX / 2)
		return ENOMEM;
	uintptr_t brk = FRESH_CHECK ? (uintptr_t)sbrk (0) : 0;
	void *p = NULL;
	if (posix_memalign (&p, align, len) != 0 || !p)
		return ENOMEM;
	uint64_t zeroed = 0;
	if (zero && (!FRESH_CHECK || (uintptr_t)p < brk)) {
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

/*
 * mono-mmap-mwpm.c: the backend over mwpm, the wasm page manager.
 *
 * On wasm it manages the real linear memory; on native builds mwpm runs over its simulated
 * linear memory (mwpm-platform-host.c), so the GC can run on mwpm under the sanitizers.
 * Only zeroed requests pass MWPM_ZEROED: mwpm then zeroes the dirty pages among those handed
 * out and nothing else.
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"

#if MONO_CONFIG_WASM_MMAP

#include "mono-wasm-pagemgr.h"

#include <errno.h>

static int
map_with (size_t len, size_t align, int flags, MonoMapping *out)
{
	void *p = mwpm_alloc_aligned (len, align, flags);
	if (!p)
		return errno ? errno : ENOMEM;
	*out = (MonoMapping){ .addr = (uintptr_t)p, .len = len, .orig = (uintptr_t)p, .orig_len = len, .zeroed = 0 };
	return 0;
}

static int
mwpm_map (size_t len, size_t align, bool zero, MonoMapping *out)
{
	return map_with (len, align, zero ? MWPM_ZEROED : 0, out);
}

static int
mwpm_map_held (size_t len, size_t align, bool zero, MonoMapping *out)
{
	return map_with (len, align, MWPM_NO_GROW | (zero ? MWPM_ZEROED : 0), out);
}

static int
mwpm_unmap (uintptr_t addr, size_t len)
{
	return mwpm_free_range ((void *)addr, len) == 0 ? 0 : errno;
}

static uint64_t
mwpm_bytes_zeroed (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	return s.bytes_zeroed;
}

static int
mwpm_check (void)
{
	return mwpm_check_invariants ();
}

static bool
mwpm_owns_addr (uintptr_t addr)
{
	return mwpm_owns ((const void *)addr);
}

static int
mwpm_grow_hook (MonoMmapGrowHook hook, void *ctx)
{
	mwpm_set_grow_hook (hook, ctx);
	return 0;
}

static const MonoMmapBackendOps mwpm_ops = {
	.caps = { .backend = MONO_MMAP_BACKEND_MWPM, .name = "mwpm", .page_size = MWPM_PAGE_SIZE,
	          .partial_free = true, .fresh_zeroed = false, .always_zeroed = false,
	          .pieces_per_mapping = 32, .no_grow = true },
	.map = mwpm_map,
	.map_held = mwpm_map_held,
	.unmap = mwpm_unmap,
	.bytes_zeroed = mwpm_bytes_zeroed,
	.memory_bytes = mwpm_memory_bytes, /* mwpm's own: the simulated memory natively */
	.check = mwpm_check,
	.owns = mwpm_owns_addr,
	.set_grow_hook = mwpm_grow_hook,
};

static const MonoMmapBackendOps *
mwpm_backend (void)
{
	return &mwpm_ops;
}

const MonoMmapBackendGetter mono_mmap_backend_mwpm = mwpm_backend;

#else

const MonoMmapBackendGetter mono_mmap_backend_mwpm = NULL;

#endif

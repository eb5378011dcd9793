/*
 * mono-mmap-posix.c: the native backend, mmap/munmap of the operating system.
 *
 * Aligned mappings over-map by the alignment and unmap the excess on both sides, so what stays
 * mapped is exactly the requested range. Fresh anonymous pages read zero (the kernel zeroes
 * them), so zeroing costs the layer nothing.
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"

#if !MONO_CONFIG_WASM

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

static atomic_uint_fast64_t mapped_bytes;

static int
posix_map (size_t len, size_t align, bool zero, MonoMapping *out)
{
	(void)zero; /* anonymous pages are zero-filled by the kernel */
	size_t page = (size_t)sysconf (_SC_PAGESIZE);
	size_t extra = align > page ? align - page : 0;
	if (len + extra < len)
		return ENOMEM;
	void *p = mmap (NULL, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return ENOMEM;
	uintptr_t start = (uintptr_t)p;
	uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = aligned - start, tail = extra - head;
	if (head)
		munmap (p, head);
	if (tail)
		munmap ((void *)(aligned + len), tail);
	atomic_fetch_add (&mapped_bytes, len);
	*out = (MonoMapping){ .addr = aligned, .len = len, .orig = aligned, .orig_len = len, .zeroed = 0 };
	return 0;
}

static int
posix_unmap (uintptr_t addr, size_t len)
{
	if (munmap ((void *)addr, len) != 0)
		return errno;
	atomic_fetch_sub (&mapped_bytes, len);
	return 0;
}

static uint64_t
posix_memory_bytes (void)
{
	return atomic_load (&mapped_bytes);
}

static MonoMmapBackendOps posix_ops = {
	.caps = { .backend = MONO_MMAP_BACKEND_POSIX, .name = "posix", .page_size = 0,
	          .partial_free = true, .fresh_zeroed = true, .always_zeroed = true,
	          .pieces_per_mapping = 32 },
	.map = posix_map,
	.unmap = posix_unmap,
	.memory_bytes = posix_memory_bytes,
};

static const MonoMmapBackendOps *
posix_backend (void)
{
	posix_ops.caps.page_size = (size_t)sysconf (_SC_PAGESIZE);
	return &posix_ops;
}

const MonoMmapBackendGetter mono_mmap_backend_posix = posix_backend;

#else

const MonoMmapBackendGetter mono_mmap_backend_posix = NULL;

#endif

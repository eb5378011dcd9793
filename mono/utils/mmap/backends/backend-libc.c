/*
 * mono-mmap-libc.c: the backend over the C library's anonymous mmap, the baseline mwpm replaces.
 *
 * emscripten 3.1.6: mmap(MAP_ANONYMOUS) is memalign(64 KiB, len + header) followed by a memset
 * of len bytes; munmap needs the exact start and length of a mapping (part of one: EINVAL; a
 * wrong length returns with libc's lock still held). We call libc's own entry points,
 * emscripten_builtin_mmap/munmap (weak aliases of musl's __mmap/__munmap), so a program that
 * links a replacement mmap does not change this baseline.
 *
 * WASI (wasi-libc's emulated mman): malloc + memset, whole mappings only, and the result is only
 * 8-byte aligned (a 24-byte header follows a 16-byte aligned malloc block); its
 * munmap reads a header in front of the pointer, so it must only ever see pointers it returned.
 *
 * Both zero every byte they map, which this backend reports as bytes zeroed. Mappings are
 * page-aligned by over-allocating; the layer records the original pointer and length and hands
 * back exactly those.
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"
#include "mono-spin-lock.h"

#if MONO_CONFIG_WASM

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define LIBC_PAGE_SIZE 65536u

#ifdef __EMSCRIPTEN__
/* Alignment of what emscripten's anonymous mmap returns. */
#define LIBC_NATIVE_ALIGN 65536u
void *emscripten_builtin_mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off);
int emscripten_builtin_munmap (void *addr, size_t len);
#define LIBC_MMAP emscripten_builtin_mmap
#define LIBC_MUNMAP emscripten_builtin_munmap
#else
#define LIBC_NATIVE_ALIGN 8u
#define LIBC_MMAP mmap
#define LIBC_MUNMAP munmap
#endif

static atomic_uint_fast64_t zeroed_bytes;

/* emscripten 3.1.6's mmap/munmap crash inside dlfree when several threads map and unmap at once
 * (tests/test-dropin-mmap.c, libc variant): this backend never calls them concurrently. */
static MonoSpinLock libc_lock = MONO_SPIN_LOCK_INIT;

static int
libc_map (size_t len, size_t align, bool zero, MonoMapping *out)
{
	(void)zero; /* libc zeroes every mapping */
	size_t extra = align > LIBC_NATIVE_ALIGN ? align - LIBC_NATIVE_ALIGN : 0;
	size_t total = len + extra;
	if (total < len)
		return ENOMEM;
	mono_spin_lock (&libc_lock);
	void *p = LIBC_MMAP (NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mono_spin_unlock (&libc_lock);
	if (p == MAP_FAILED)
		return ENOMEM;
	uintptr_t start = (uintptr_t)p;
	uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	atomic_fetch_add (&zeroed_bytes, total);
	*out = (MonoMapping){ .addr = aligned, .len = len, .orig = start, .orig_len = total, .zeroed = total };
	return 0;
}

static int
libc_unmap (uintptr_t addr, size_t len)
{
	mono_spin_lock (&libc_lock);
	int rc = LIBC_MUNMAP ((void *)addr, len) == 0 ? 0 : errno;
	mono_spin_unlock (&libc_lock);
	return rc;
}

static uint64_t
libc_bytes_zeroed (void)
{
	return atomic_load (&zeroed_bytes);
}

static uint64_t
libc_memory_bytes (void)
{
	return (uint64_t)__builtin_wasm_memory_size (0) * 65536u;
}

static const MonoMmapBackendOps libc_ops = {
	.caps = { .backend = MONO_MMAP_BACKEND_LIBC, .name = "libc", .page_size = LIBC_PAGE_SIZE,
	          .partial_free = false, .fresh_zeroed = true, .always_zeroed = true,
	          .pieces_per_mapping = 32 },
	.map = libc_map,
	.unmap = libc_unmap,
	.bytes_zeroed = libc_bytes_zeroed,
	.memory_bytes = libc_memory_bytes,
};

static const MonoMmapBackendOps *
libc_backend (void)
{
	return &libc_ops;
}

const MonoMmapBackendGetter mono_mmap_backend_libc = libc_backend;

#else

const MonoMmapBackendGetter mono_mmap_backend_libc = NULL;

#endif

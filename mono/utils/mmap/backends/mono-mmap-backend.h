/*
 * mono-mmap-backend.h: the seam between the mmap layer (mono-mmap.c) and its backends.
 *
 * A backend maps and unmaps; the layer does everything else (argument checks, the registry of
 * live mappings, accounting, locking). A backend never sees a range the layer did not get from
 * it: the layer checks every free against its registry first.
 */
#ifndef MONO_UTILS_MONO_MMAP_BACKEND_H
#define MONO_UTILS_MONO_MMAP_BACKEND_H

#include "mono-mmap.h"

/* One mapping as the backend made it. addr/len: what the caller gets (aligned, page multiple).
 * orig/orig_len: what must be handed back to free all of it (differs only for backends that
 * align by over-mapping and cannot trim). */
typedef struct {
	uintptr_t addr;
	size_t len;
	uintptr_t orig;
	size_t orig_len;
	uint64_t zeroed;   /* bytes the backend memset for this mapping (as far as it is known) */
} MonoMapping;

typedef struct {
	MonoMmapCaps caps;
	/* Maps len bytes (a multiple of caps.page_size) aligned to align (a power of two, at least
	 * caps.page_size). zero: every byte must read zero. 0, or an errno value. */
	int (*map) (size_t len, size_t align, bool zero, MonoMapping *out);
	/* As map, from free memory the backend holds only: ENOMEM rather than growing. NULL when
	 * the backend cannot (caps.no_grow false). */
	int (*map_held) (size_t len, size_t align, bool zero, MonoMapping *out);
	/* Unmaps [addr, addr+len): a whole mapping (addr == orig, len == orig_len), or any
	 * page-aligned part of one when caps.partial_free. 0, or an errno value. */
	int (*unmap) (uintptr_t addr, size_t len);
	/* Bytes this backend has memset in total, when it counts them itself (else NULL). */
	uint64_t (*bytes_zeroed) (void);
	/* Linear memory or mapped span, see mono_mmap_linear_memory_bytes. */
	uint64_t (*memory_bytes) (void);
	/* Backend-internal consistency (mwpm's invariants); 0 when consistent. May be NULL. */
	int (*check) (void);
	/* Is addr in memory this backend handed out and holds? NULL when it cannot tell. */
	bool (*owns) (uintptr_t addr);
	/* Registers the hook the backend calls before it grows (mono_mmap_set_grow_hook); NULL
	 * when the backend never grows memory of its own. 0, or an errno value. */
	int (*set_grow_hook) (MonoMmapGrowHook hook, void *ctx);
} MonoMmapBackendOps;

/* Each returns the backend's operations; each is NULL when this build lacks the backend. */
typedef const MonoMmapBackendOps *(*MonoMmapBackendGetter) (void);
extern const MonoMmapBackendGetter mono_mmap_backend_posix;
extern const MonoMmapBackendGetter mono_mmap_backend_mwpm;
extern const MonoMmapBackendGetter mono_mmap_backend_libc;
extern const MonoMmapBackendGetter mono_mmap_backend_malloc;

#endif

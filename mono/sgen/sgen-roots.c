/*
 * sgen-roots.c: precise roots. Registered ranges of object pointers, and the handle table.
 *
 * Handle table: one array of entries; a handle is (index + 1), so 0 is never valid. Free
 * entries form a list threaded through `next_free`. A strong entry is a root; a weak entry is
 * updated when its object moves and cleared when it dies (after marking, before sweeping).
 */
#include "sgen-internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	void **start;
	size_t count;
	const char *name;
} RootRange;

typedef struct {
	SgenObject *obj;
	uint32_t next_free;  /* for free entries: the next free handle, 0 ends the list */
	uint8_t in_use;
	uint8_t weak;
} HandleEntry;

static struct {
	RootRange *ranges;
	size_t nranges, cap;
	HandleEntry *handles;
	uint32_t nhandles, hcap;
	uint32_t free_head;
} T;

int
sgen_register_root (void **start, size_t count, const char *name)
{
	if (!start || !count)
		return -1;
	for (size_t i = 0; i < T.nranges; i++) {
		if (T.ranges[i].start == start)
			return -1;
	}
	if (T.nranges == T.cap) {
		T.cap = T.cap ? 2 * T.cap : 16;
		T.ranges = _sgen_xrealloc (T.ranges, T.cap * sizeof (RootRange));
	}
	T.ranges[T.nranges++] = (RootRange) { start, count, name };
	return 0;
}

int
sgen_unregister_root (void **start)
{
	for (size_t i = 0; i < T.nranges; i++) {
		if (T.ranges[i].start == start) {
			T.ranges[i] = T.ranges[--T.nranges];
			return 0;
		}
	}
	return -1;
}

uint32_t
sgen_gchandle_new (SgenObject *obj, bool weak)
{
	uint32_t h = T.free_head;
	if (h) {
		T.free_head = T.handles[h - 1].next_free;
	} else {
		if (T.nhandles == T.hcap) {
			T.hcap = T.hcap ? 2 * T.hcap : 256;
			T.handles = _sgen_xrealloc (T.handles, T.hcap * sizeof (HandleEntry));
		}
		h = ++T.nhandles;
	}
	T.handles[h - 1] = (HandleEntry) { .obj = obj, .in_use = 1, .weak = weak };
	return h;
}

static HandleEntry *
entry (uint32_t handle)
{
	if (!handle || handle > T.nhandles || !T.handles[handle - 1].in_use)
		_sgen_fatal ("invalid GC handle %u", handle);
	return &T.handles[handle - 1];
}

SgenObject *
sgen_gchandle_get (uint32_t handle)
{
	return entry (handle)->obj;
}

void
sgen_gchandle_set (uint32_t handle, SgenObject *obj)
{
	entry (handle)->obj = obj;
}

void
sgen_gchandle_free (uint32_t handle)
{
	HandleEntry *e = entry (handle);
	*e = (HandleEntry) { .next_free = T.free_head };
	T.free_head = handle;
}

void
_sgen_roots_foreach_slot (void (*fn) (void **slot, void *ctx), void *ctx)
{
	for (size_t r = 0; r < T.nranges; r++) {
		for (size_t i = 0; i < T.ranges[r].count; i++) {
			if (T.ranges[r].start[i])
				fn (&T.ranges[r].start[i], ctx);
		}
	}
	for (uint32_t h = 0; h < T.nhandles; h++) {
		HandleEntry *e = &T.handles[h];
		if (e->in_use && !e->weak && e->obj)
			fn ((void **) &e->obj, ctx);
	}
}

void
_sgen_roots_update_weak (SgenObject *(*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	for (uint32_t h = 0; h < T.nhandles; h++) {
		HandleEntry *e = &T.handles[h];
		if (e->in_use && e->weak && e->obj)
			e->obj = fn (e->obj, ctx);
	}
}

void
_sgen_roots_shutdown (void)
{
	free (T.ranges);
	free (T.handles);
	memset (&T, 0, sizeof (T));
}

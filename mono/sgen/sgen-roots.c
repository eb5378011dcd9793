/*
 * sgen-roots.c: precise roots. Registered ranges of object pointers, and the handle table.
 *
 * Handle table: one array of entries; a handle is (index + 1), so 0 is never valid. Free
 * entries form a list threaded through `next_free`. A strong entry is a root; a weak entry is
 * updated when its object moves and cleared when it dies (after marking, before sweeping).
 */
#include "sgen-internal.h"

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
	uint32_t nhandles;
	size_t hcap;
	uint32_t free_head;
} roots;

int
sgen_register_root (void **start, size_t count, const char *name)
{
	if (!start || !count)
		return -1;
	for (size_t i = 0; i < roots.nranges; i++) {
		if (roots.ranges[i].start == start)
			return -1;
	}
	if (roots.nranges == roots.cap)
		roots.ranges = _sgen_internal_grow_array (roots.ranges, &roots.cap, sizeof (RootRange), 16);
	roots.ranges[roots.nranges++] = (RootRange) { start, count, name };
	return 0;
}

int
sgen_unregister_root (void **start)
{
	for (size_t i = 0; i < roots.nranges; i++) {
		if (roots.ranges[i].start == start) {
			roots.ranges[i] = roots.ranges[--roots.nranges];
			return 0;
		}
	}
	return -1;
}

uint32_t
sgen_gchandle_new (SgenObject *obj, bool weak)
{
	uint32_t h = roots.free_head;
	if (h) {
		roots.free_head = roots.handles[h - 1].next_free;
	} else {
		if (roots.nhandles == roots.hcap)
			roots.handles = _sgen_internal_grow_array (roots.handles, &roots.hcap, sizeof (HandleEntry), 256);
		h = ++roots.nhandles;
	}
	roots.handles[h - 1] = (HandleEntry) { .obj = obj, .in_use = 1, .weak = weak };
	return h;
}

static HandleEntry *
entry (uint32_t handle)
{
	if (!handle || handle > roots.nhandles || !roots.handles[handle - 1].in_use)
		_sgen_fatal ("invalid GC handle %u", handle);
	return &roots.handles[handle - 1];
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
	*e = (HandleEntry) { .next_free = roots.free_head };
	roots.free_head = handle;
}

void
_sgen_roots_foreach_slot (void (*fn) (void **slot, void *ctx), void *ctx)
{
	for (size_t r = 0; r < roots.nranges; r++) {
		for (size_t i = 0; i < roots.ranges[r].count; i++) {
			if (roots.ranges[r].start[i])
				fn (&roots.ranges[r].start[i], ctx);
		}
	}
	for (uint32_t h = 0; h < roots.nhandles; h++) {
		HandleEntry *e = &roots.handles[h];
		if (e->in_use && !e->weak && e->obj)
			fn ((void **) &e->obj, ctx);
	}
}

void
_sgen_roots_update_weak (SgenObject *(*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	for (uint32_t h = 0; h < roots.nhandles; h++) {
		HandleEntry *e = &roots.handles[h];
		if (e->in_use && e->weak && e->obj)
			e->obj = fn (e->obj, ctx);
	}
}

void
_sgen_roots_shutdown (void)
{
	_sgen_internal_free (roots.ranges, roots.cap * sizeof (RootRange));
	_sgen_internal_free (roots.handles, roots.hcap * sizeof (HandleEntry));
	memset (&roots, 0, sizeof (roots));
}

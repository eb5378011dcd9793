/*
 * sgen-los.c: the large object space. Every object above SGEN_MAX_SMALL_OBJ_SIZE gets its own
 * zeroed OS allocation, freed by the first major sweep that finds it unmarked.
 *
 *   mapping:  +-----------+----------------------------------+
 *             | LosHeader | object (header, then its data)   |
 *             +-----------+----------------------------------+
 *
 * Large objects are never moved: a minor collection treats them as old (their slots reach the
 * nursery only through the remembered set).
 * Invariant (_sgen_los_check): `objs` is sorted by address; each entry's header names its own
 * object and its mapping size; los_bytes is the sum of the object sizes.
 */
#include "sgen-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	size_t mapped;      /* bytes asked of the OS */
	size_t obj_size;
	void *obj;          /* the object that follows: a consistency check */
	uintptr_t pad;
} __attribute__ ((aligned (16))) LosHeader;

static struct {
	LosHeader **objs;   /* sorted by address */
	size_t count, cap;
	uint64_t bytes;
	uint64_t freed;
} L;

static SgenObject *
obj_of (LosHeader *h)
{
	return (SgenObject *) (h + 1);
}

/* Index of the first entry at or above p. */
static size_t
lower_bound (const void *p)
{
	size_t lo = 0, hi = L.count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((uintptr_t) L.objs[mid] < (uintptr_t) p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *
_sgen_los_alloc (size_t size)
{
	size_t mapped = sizeof (LosHeader) + size;
	LosHeader *h = sgen_alloc_os_memory (mapped, SGEN_ALLOC_HEAP, "large object", MONO_MEM_ACCOUNT_LOS);
	if (!h)
		return NULL;
	h->mapped = mapped;
	h->obj_size = size;
	h->obj = obj_of (h);
	if (L.count == L.cap) {
		L.cap = L.cap ? 2 * L.cap : 64;
		L.objs = _sgen_xrealloc (L.objs, L.cap * sizeof (LosHeader *));
	}
	size_t i = lower_bound (h);
	memmove (&L.objs[i + 1], &L.objs[i], (L.count - i) * sizeof (LosHeader *));
	L.objs[i] = h;
	L.count++;
	L.bytes += size;
	_sgen_memgov_old_allocated (size);
	return h->obj;
}

bool
_sgen_los_is_object (const void *p)
{
	const LosHeader *h = (const LosHeader *) p - 1;
	size_t i = lower_bound (h);
	return i < L.count && L.objs[i] == h;
}

uint64_t
_sgen_los_sweep (void)
{
	size_t kept = 0;
	for (size_t i = 0; i < L.count; i++) {
		LosHeader *h = L.objs[i];
		SgenObject *obj = obj_of (h);
		if (obj->vtword & SGEN_FLAG_MARKED) {
			obj->vtword &= ~(uintptr_t) SGEN_FLAG_MARKED;
			L.objs[kept++] = h;
		} else {
			L.bytes -= h->obj_size;
			L.freed++;
			sgen_free_os_memory (h, h->mapped, 0, MONO_MEM_ACCOUNT_LOS);
		}
	}
	L.count = kept;
	return L.bytes;
}

void
_sgen_los_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	for (size_t i = 0; i < L.count; i++)
		fn (obj_of (L.objs[i]), ctx);
}

void
_sgen_los_shutdown (void)
{
	for (size_t i = 0; i < L.count; i++)
		sgen_free_os_memory (L.objs[i], L.objs[i]->mapped, 0, MONO_MEM_ACCOUNT_LOS);
	free (L.objs);
	memset (&L, 0, sizeof (L));
}

void
_sgen_los_fill_stats (SgenStats *out)
{
	out->los_objects = L.count;
	out->los_bytes = L.bytes;
	out->los_objects_freed = L.freed;
}

int
_sgen_los_check (void)
{
	int errors = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < L.count; i++) {
		LosHeader *h = L.objs[i];
		if ((i && L.objs[i - 1] >= h) || h->obj != obj_of (h) || h->mapped != h->obj_size + sizeof (LosHeader) ||
		    h->obj_size <= SGEN_MAX_SMALL_OBJ_SIZE) {
			fprintf (stderr, "sgen-los: entry %zu (%p) is inconsistent\n", i, (void *) h);
			errors++;
		}
		bytes += h->obj_size;
	}
	if (bytes != L.bytes) {
		fprintf (stderr, "sgen-los: %llu object bytes counted, %llu recorded\n", (unsigned long long) bytes,
			 (unsigned long long) L.bytes);
		errors++;
	}
	return errors;
}

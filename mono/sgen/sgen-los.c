/*
 * sgen-los.c: the large object space. Every object above SGEN_MAX_SMALL_OBJ_SIZE gets its own
 * zeroed OS allocation, freed by the first major sweep that finds it unmarked.
 *
 *   mapping:  +-----------+----------------------------------+
 *             | LosHeader | object (header, then its data)   |
 *             +-----------+----------------------------------+
 *
 * Large objects are never moved: a minor collection treats them as old (their slots reach the
 * nursery only through the remembered set: the marked cards of their reference arrays).
 * Invariant (_sgen_los_check): `objs` is sorted by address; each entry's header names its own
 * object and its mapping size; los_bytes is the sum of the object sizes.
 */
#include "sgen-internal.h"

#include <stdio.h>
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
} los;

static SgenObject *
obj_of (LosHeader *h)
{
	return (SgenObject *) (h + 1);
}

/* Index of the first entry at or above p. */
static size_t
lower_bound (const void *p)
{
	size_t lo = 0, hi = los.count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((uintptr_t) los.objs[mid] < (uintptr_t) p)
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
	/* Its cards are written before any minor collection reads them (sgen-cardtable.c). */
	_sgen_cards_touch (h->obj, size);
	if (los.count == los.cap)
		los.objs = _sgen_internal_grow_array (los.objs, &los.cap, sizeof (LosHeader *), 64);
	size_t i = lower_bound (h);
	memmove (&los.objs[i + 1], &los.objs[i], (los.count - i) * sizeof (LosHeader *));
	los.objs[i] = h;
	los.count++;
	los.bytes += size;
	_sgen_memgov_old_allocated (size);
	return h->obj;
}

bool
_sgen_los_is_object (const void *p)
{
	const LosHeader *h = (const LosHeader *) p - 1;
	size_t i = lower_bound (h);
	return i < los.count && los.objs[i] == h;
}

uint64_t
_sgen_los_sweep (void)
{
	size_t kept = 0;
	for (size_t i = 0; i < los.count; i++) {
		LosHeader *h = los.objs[i];
		SgenObject *obj = obj_of (h);
		if (obj->vtword & SGEN_FLAG_MARKED) {
			obj->vtword &= ~(uintptr_t) SGEN_FLAG_MARKED;
			los.objs[kept++] = h;
		} else {
			los.bytes -= h->obj_size;
			los.freed++;
			sgen_free_os_memory (h, h->mapped, 0, MONO_MEM_ACCOUNT_LOS);
		}
	}
	los.count = kept;
	return los.bytes;
}

typedef struct {
	SgenObject *obj;
	void (*fn) (void **slot, void *ctx);
	void *ctx;
} CardScan;

/* The reference slots of a large array that lie in [from, to), one marked card. */
static void
scan_card_of_array (char *from, char *to, void *ctx)
{
	CardScan *cs = ctx;
	void **refs = sgen_array_refs (cs->obj), **end = refs + cs->obj->length;
	void **first = (void **) sgen_align_up ((uintptr_t) from, sizeof (void *));
	for (void **slot = first > refs ? first : refs; slot < end && (char *) slot < to; slot++)
		cs->fn (slot, cs->ctx);
}

void
_sgen_los_scan_cards (void (*fn) (void **slot, void *ctx), void *ctx)
{
	for (size_t i = 0; i < los.count; i++) {
		SgenObject *obj = obj_of (los.objs[i]);
		if (sgen_obj_vtable (obj)->kind != SGEN_KIND_REF_ARRAY)
			continue; /* byte arrays hold no references; objects are never this large */
		CardScan cs = { obj, fn, ctx };
		_sgen_cards_scan (obj, los.objs[i]->obj_size, scan_card_of_array, &cs);
	}
}

void
_sgen_los_clear_cards (void)
{
	for (size_t i = 0; i < los.count; i++)
		_sgen_cards_clear (obj_of (los.objs[i]), los.objs[i]->obj_size);
}

void
_sgen_los_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	for (size_t i = 0; i < los.count; i++)
		fn (obj_of (los.objs[i]), ctx);
}

void
_sgen_los_shutdown (void)
{
	for (size_t i = 0; i < los.count; i++)
		sgen_free_os_memory (los.objs[i], los.objs[i]->mapped, 0, MONO_MEM_ACCOUNT_LOS);
	_sgen_internal_free (los.objs, los.cap * sizeof (LosHeader *));
	memset (&los, 0, sizeof (los));
}

void
_sgen_los_fill_stats (SgenStats *out)
{
	out->los_objects = los.count;
	out->los_bytes = los.bytes;
	out->los_objects_freed = los.freed;
}

int
_sgen_los_check (void)
{
	int errors = 0;
	uint64_t bytes = 0;
	for (size_t i = 0; i < los.count; i++) {
		LosHeader *h = los.objs[i];
		if ((i && los.objs[i - 1] >= h) || h->obj != obj_of (h) || h->mapped != h->obj_size + sizeof (LosHeader) ||
		    h->obj_size <= SGEN_MAX_SMALL_OBJ_SIZE) {
			fprintf (stderr, "sgen-los: entry %zu (%p) is inconsistent\n", i, (void *) h);
			errors++;
		}
		bytes += h->obj_size;
	}
	if (bytes != los.bytes) {
		fprintf (stderr, "sgen-los: %llu object bytes counted, %llu recorded\n", (unsigned long long) bytes,
			 (unsigned long long) los.bytes);
		errors++;
	}
	return errors;
}

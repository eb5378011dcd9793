/*
 * sgen-verify.c: the heap verifier, and the walk over reachable objects.
 *
 * sgen_verify_heap checks, between collections:
 *   V1  every space's own bookkeeping (_sgen_major_check, _sgen_los_check);
 *   V2  every object in the heap (reachable or not) has a registered vtable and no GC flag set,
 *       and nursery objects parse one after the other up to the bump pointer;
 *   V3  every reference reachable from the roots and handles (weak ones too) is NULL or the
 *       start of a live object: an allocated major slot, a LOS object, or a nursery object
 *       below the bump pointer; anything else points into freed or foreign memory;
 *   V4  every reference from outside the nursery into it sits in a marked card (the remembered
 *       set, sgen-cardtable.c; otherwise the next minor collection would miss it);
 *   V5  (level 2, expensive) every free slot of an in-use major block reads zero, up to the
 *       block's high-water mark (above it nothing was written since the block was zeroed, and
 *       the verifier does not read memory that was never written).
 * It never reads through a pointer before V3 has placed it in a live object.
 */
#include "sgen-internal.h"

#include <stdio.h>
#include <string.h>

int _sgen_verify_level;

/* Verifications run and problems found, for sgen_get_stats. */
static struct {
	uint64_t runs, errors;
} verify_counts;

void
_sgen_verify_fill_stats (SgenStats *out)
{
	out->verify_runs = verify_counts.runs;
	out->verify_errors = verify_counts.errors;
}

void
_sgen_verify_reset (void)
{
	verify_counts.runs = verify_counts.errors = 0;
}

#define MAX_REPORTS 30

typedef struct {
	const char *when;
	int errors;
	uint8_t *nursery_starts;  /* one bit per SGEN_ALIGN bytes of the nursery */
	size_t nursery_starts_bytes;
	char *nursery;
	size_t nursery_used;
	bool check_cards;         /* V4 (the walk over reachable objects does not check it) */
	SgenObject **visited;
	size_t nvisited, cap;
} Verify;

static void
report (Verify *v, const char *fmt, const void *a, const void *b)
{
	v->errors++;
	if (v->errors <= MAX_REPORTS) {
		fprintf (stderr, "sgen-verify (%s): ", v->when);
		fprintf (stderr, fmt, a, b);
		fputc ('\n', stderr);
	}
}

static bool
nursery_object_start (Verify *v, const void *p)
{
	size_t off = (size_t) ((const char *) p - v->nursery);
	if (off >= v->nursery_used || off % SGEN_ALIGN)
		return false;
	size_t bit = off / SGEN_ALIGN;
	return (v->nursery_starts[bit / 8] >> (bit % 8)) & 1;
}

static bool
live_object (Verify *v, const void *p)
{
	if (_sgen_nursery_contains (p))
		return nursery_object_start (v, p);
	return _sgen_major_is_object (p) || _sgen_los_is_object (p);
}

static void
check_header (Verify *v, SgenObject *obj)
{
	if (!_sgen_vtable_is_known (sgen_obj_vtable (obj)))
		report (v, "object %p has no valid vtable (word %p)", obj, (void *) obj->vtword);
	else if (obj->vtword & SGEN_FLAG_MASK)
		report (v, "object %p has GC flags set outside a collection (word %p)", obj, (void *) obj->vtword);
}

static void
note_nursery_object (SgenObject *obj, void *ctx)
{
	Verify *v = ctx;
	size_t bit = (size_t) ((char *) obj - v->nursery) / SGEN_ALIGN;
	v->nursery_starts[bit / 8] |= (uint8_t) (1u << (bit % 8));
	check_header (v, obj);
}

static void
check_heap_object (SgenObject *obj, void *ctx)
{
	check_header (ctx, obj);
}

static void
visit (Verify *v, SgenObject *obj)
{
	obj->vtword |= SGEN_FLAG_VISITED;
	if (v->nvisited == v->cap)
		v->visited = _sgen_internal_grow_array (v->visited, &v->cap, sizeof (SgenObject *), 1024);
	v->visited[v->nvisited++] = obj;
}

/* Checks one reference; returns the object when it is live and not yet visited. */
static SgenObject *
check_ref (Verify *v, void *target, const void *from)
{
	if (!target)
		return NULL;
	if (!live_object (v, target)) {
		report (v, "reference to %p from %p: not a live object (freed or foreign memory)", target, from);
		return NULL;
	}
	SgenObject *obj = target;
	if (!_sgen_vtable_is_known (sgen_obj_vtable (obj)))
		return NULL; /* reported by the heap pass */
	return (obj->vtword & SGEN_FLAG_VISITED) ? NULL : obj;
}

static void
scan_from (Verify *v, SgenObject *first)
{
	if (!first)
		return;
	visit (v, first);
	size_t head = v->nvisited - 1; /* breadth-first: visited[head..] are still to scan */
	while (head < v->nvisited) {
		SgenObject *obj = v->visited[head++];
		bool old = !_sgen_nursery_contains (obj);
		SGEN_FOREACH_REF (obj, slot, {
			SgenObject *next = check_ref (v, *slot, obj);
			if (old && *slot && _sgen_nursery_contains (*slot) && v->check_cards && !_sgen_card_marked (slot))
				report (v, "old-to-young reference in slot %p to %p lies in a card that is not marked",
					(void *) slot, *slot);
			if (next)
				visit (v, next);
		});
	}
}

static void
root_slot (void **slot, void *ctx)
{
	Verify *v = ctx;
	scan_from (v, check_ref (v, *slot, slot));
}

static SgenObject *
weak_slot (SgenObject *obj, void *ctx)
{
	Verify *v = ctx;
	scan_from (v, check_ref (v, obj, NULL));
	return obj;
}

static void
begin (Verify *v, const char *when)
{
	memset (v, 0, sizeof (*v));
	v->when = when;
	v->nursery = _sgen_nursery_start ();
	v->nursery_used = _sgen_nursery_used ();
	v->nursery_starts_bytes = _sgen_nursery_size () / SGEN_ALIGN / 8 + 1;
	v->nursery_starts = _sgen_internal_alloc (v->nursery_starts_bytes);
	_sgen_nursery_foreach (note_nursery_object, v);
}

static void
end (Verify *v)
{
	for (size_t i = 0; i < v->nvisited; i++)
		v->visited[i]->vtword &= ~(uintptr_t) SGEN_FLAG_VISITED;
	_sgen_internal_free (v->visited, v->cap * sizeof (SgenObject *));
	_sgen_internal_free (v->nursery_starts, v->nursery_starts_bytes);
}

int
sgen_verify_heap (const char *when)
{
	Verify v;
	_sgen_busy++;
	begin (&v, when);
	v.errors += _sgen_major_check (_sgen_verify_level >= 2);
	v.errors += _sgen_los_check ();
	_sgen_major_foreach (check_heap_object, &v);
	_sgen_los_foreach (check_heap_object, &v);
	v.check_cards = true;
	_sgen_roots_foreach_slot (root_slot, &v);
	_sgen_roots_update_weak (weak_slot, &v);
	end (&v);
	if (v.errors > MAX_REPORTS)
		fprintf (stderr, "sgen-verify (%s): %d problems in all\n", when, v.errors);
	verify_counts.runs++;
	verify_counts.errors += (uint64_t) v.errors;
	_sgen_busy--;
	return v.errors;
}

void
sgen_walk_reachable (void (*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	Verify v;
	_sgen_busy++;
	begin (&v, "walk");
	_sgen_roots_foreach_slot (root_slot, &v);
	_sgen_roots_update_weak (weak_slot, &v);
	for (size_t i = 0; i < v.nvisited; i++)
		fn (v.visited[i], ctx);
	end (&v);
	_sgen_busy--;
}

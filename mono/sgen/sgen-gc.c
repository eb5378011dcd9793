/*
 * sgen-gc.c: the collector's entry points: options, start and stop, allocation, the minor
 * (copying) and major (mark-sweep) collections, statistics, and the hook that lets the mmap
 * layer's backend ask for a collection before it grows the memory it maps from.
 *
 * Minor collection: every nursery object reachable from the roots, the handles and the
 * remembered set is copied to the major heap (promotion on first survival; no aging), its old
 * header becomes a forwarding pointer, and the copies are scanned through the gray stack. Then
 * weak handles follow their objects or clear, the nursery is zeroed, the remembered set emptied.
 *
 * Major collection: a minor evacuation first (the nursery is then empty), then marking from the
 * roots and strong handles, weak handles cleared for unmarked objects, the major sweep (which
 * may return blocks to the OS) and the LOS sweep.
 *
 * Objects move or die only inside sgen_alloc_*, sgen_collect and sgen_shutdown (docs/sgen.md,
 * "Memory pressure"): never in a call that merely reaches the mmap backend (the grow hook).
 */
#include "sgen-internal.h"

#include "mono-config.h"
#include "mono-options.h"

#if MONO_CONFIG_THREADS
#include <pthread.h>
#endif

#include <stdio.h>
#include <string.h>

static int
check_power_of_two (const MonoOptionDef *def, MonoOptionValue value, char *err, size_t errlen)
{
	if (value.i & (value.i - 1)) {
		snprintf (err, errlen, "--%s must be a power of two, got %lld", def->name, (long long) value.i);
		return -1;
	}
	return 0;
}

static int
check_heap_limit (const MonoOptionDef *def, MonoOptionValue value, char *err, size_t errlen)
{
	if (value.i && value.i < (1 << 20)) {
		snprintf (err, errlen, "--%s must be 0 (no limit) or at least 1M, got %lld", def->name,
			  (long long) value.i);
		return -1;
	}
	return 0;
}

static const MonoOptionDef sgen_options[] = {
	{ .name = "sgen-nursery-size", .type = MONO_OPTION_SIZE, .default_value = "4M",
	  .help = "size of the nursery (a power of two)", .min = 64 * 1024, .max = 256 * 1024 * 1024,
	  .check = check_power_of_two },
	{ .name = "sgen-max-heap-size", .type = MONO_OPTION_SIZE, .default_value = "0",
	  .help = "heap limit in bytes (nursery + major + LOS); allocations past it fail after a full collection; 0: none",
	  .max = (int64_t) 1 << 40, .check = check_heap_limit },
	{ .name = "sgen-verify", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "verify the heap after every collection" },
	{ .name = "sgen-verify-expensive", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "with --sgen-verify: also check that every free slot of the major heap reads zero" },
	{ .name = "sgen-grow-hook", .type = MONO_OPTION_BOOL, .default_value = "on",
	  .help = "when the mmap backend must grow its memory: give back the empty blocks kept in reserve, and "
		  "run a major collection at the next allocation when that can free as much (never inside the request)" },
};

static bool running;
static SgenStats counts;

#if MONO_CONFIG_THREADS
static pthread_t mutator;
#endif

void
sgen_register_options (void)
{
	/* -1 means the rows are already registered (registration is all-or-nothing). */
	(void) mono_options_register (sgen_options, sizeof (sgen_options) / sizeof (sgen_options[0]));
}

static void
verify_after (const char *when)
{
	if (_sgen_verify_level)
		sgen_verify_heap (when);
}

/* ---- minor collection ---- */

static void
copy_slot (void **slot, void *ctx)
{
	(void) ctx;
	SgenObject *obj = *slot;
	if (!obj || !_sgen_nursery_contains (obj))
		return;
	if (obj->vtword & SGEN_FLAG_FORWARDED) {
		*slot = (void *) (obj->vtword & ~(uintptr_t) SGEN_FLAG_MASK);
		return;
	}
	size_t size = sgen_obj_size (obj);
	SgenObject *copy = _sgen_major_alloc (size);
	if (!copy)
		_sgen_fatal ("cannot promote a %zu-byte object during a collection: %s", size, sgen_last_error ());
	memcpy (copy, obj, size);
	counts.bytes_promoted += size;
	obj->vtword = (uintptr_t) copy | SGEN_FLAG_FORWARDED;
	_sgen_gray_push (copy);
	*slot = copy;
}

static SgenObject *
forward_weak (SgenObject *obj, void *ctx)
{
	(void) ctx;
	if (!_sgen_nursery_contains (obj))
		return obj;
	if (obj->vtword & SGEN_FLAG_FORWARDED)
		return (SgenObject *) (obj->vtword & ~(uintptr_t) SGEN_FLAG_MASK);
	return NULL;
}

static void
evacuate_nursery (void)
{
	_sgen_roots_foreach_slot (copy_slot, NULL);
	/* The remembered set: the slots in marked cards of old objects; the cards are cleared once
	 * all were read (a card may be shared by two regions: sgen-cardtable.c). */
	_sgen_major_scan_cards (copy_slot, NULL);
	_sgen_los_scan_cards (copy_slot, NULL);
	_sgen_major_clear_cards ();
	_sgen_los_clear_cards ();
	for (SgenObject *obj; (obj = _sgen_gray_pop ());)
		SGEN_FOREACH_REF (obj, slot, copy_slot (slot, NULL););
	_sgen_roots_update_weak (forward_weak, NULL);
	_sgen_nursery_clear ();
}

static void
collect_minor (void)
{
	_sgen_collecting = true;
	evacuate_nursery ();
	_sgen_collecting = false;
	counts.collections_minor++;
	verify_after ("after a minor collection");
}

/* ---- major collection ---- */

static void
mark_slot (void **slot, void *ctx)
{
	(void) ctx;
	SgenObject *obj = *slot;
	if (obj && !(obj->vtword & SGEN_FLAG_MARKED)) {
		obj->vtword |= SGEN_FLAG_MARKED;
		_sgen_gray_push (obj);
	}
}

static SgenObject *
clear_dead_weak (SgenObject *obj, void *ctx)
{
	(void) ctx;
	return (obj->vtword & SGEN_FLAG_MARKED) ? obj : NULL;
}

static void
collect_major (void)
{
	_sgen_collecting = true;
	evacuate_nursery ();
	_sgen_roots_foreach_slot (mark_slot, NULL);
	for (SgenObject *obj; (obj = _sgen_gray_pop ());)
		SGEN_FOREACH_REF (obj, slot, mark_slot (slot, NULL););
	_sgen_roots_update_weak (clear_dead_weak, NULL);
	uint64_t live = _sgen_major_sweep ();
	live += _sgen_los_sweep ();
	counts.live_bytes_after_major = live;
	_sgen_memgov_major_done (live, _sgen_os_heap_bytes ());
	_sgen_collecting = false;
	counts.collections_major++;
	verify_after ("after a major collection");
}

void
sgen_collect (SgenCollectKind kind)
{
	if (!running)
		_sgen_fatal ("sgen_collect before sgen_init");
	_sgen_busy++;
	if (kind == SGEN_COLLECT_MINOR)
		collect_minor ();
	else
		collect_major ();
	_sgen_busy--;
}

/* ---- allocation ---- */

/* At an allocation: the collection a grow request asked for, when it can answer it. */
static void
collect_for_pressure (void)
{
	if (!_sgen_memgov_pressure_major_needed ())
		return;
	collect_major ();
	counts.grow_hook_collections++;
}


static void
init_header (SgenObject *obj, const SgenVTable *vt, size_t length, size_t size)
{
	obj->vtword = (uintptr_t) vt;
	obj->length = (uint32_t) length;
	counts.objects_allocated++;
	counts.bytes_allocated += size;
}

/* A minor collection, and a major one when the governor asks. */
static void
collect_for_nursery (void)
{
	collect_minor ();
	if (_sgen_memgov_major_needed () || _sgen_memgov_over_limit (_sgen_os_heap_bytes (), 0))
		collect_major ();
}

static void *
alloc_large (size_t size)
{
	if (_sgen_memgov_major_needed ())
		collect_major ();
	void *p = _sgen_los_alloc (size);
	if (!p) {
		collect_major ();
		p = _sgen_los_alloc (size);
	}
	return p;
}

static void *
alloc_small (size_t size)
{
	void *p = _sgen_nursery_alloc (size);
	if (p)
		return p;
	collect_for_nursery ();
	if (_sgen_memgov_over_limit (_sgen_os_heap_bytes (), 0)) {
		_sgen_set_error ("out of memory: after a full collection the heap holds %llu bytes, over its "
				 "limit of %llu (--sgen-max-heap-size)",
				 (unsigned long long) _sgen_os_heap_bytes (),
				 (unsigned long long) _sgen_memgov_max_heap ());
		return NULL;
	}
	return _sgen_nursery_alloc (size);
}

static SgenObject *
alloc_object (const SgenVTable *vt, size_t length)
{
	if (!running)
		_sgen_fatal ("allocation before sgen_init");
	if (!_sgen_vtable_is_known (vt)) {
		_sgen_set_error ("allocation with a vtable sgen_vtable_init did not accept (%p)", (const void *) vt);
		return NULL;
	}
	size_t size = sgen_size_for (vt, length, SGEN_MAX_OBJECT_SIZE);
	if (!size || length > UINT32_MAX) {
		_sgen_set_error ("%s of %zu elements is larger than the %zu-byte object limit", vt->name, length,
				 SGEN_MAX_OBJECT_SIZE);
		return NULL;
	}
	_sgen_busy++;
	collect_for_pressure ();
	SgenObject *obj = size > SGEN_MAX_SMALL_OBJ_SIZE ? alloc_large (size) : alloc_small (size);
	_sgen_busy--;
	if (obj)
		init_header (obj, vt, length, size);
	else
		counts.oom_errors++; /* the reason is in sgen_last_error */
	return obj;
}

SgenObject *
sgen_alloc_obj (const SgenVTable *vt)
{
	if (vt->kind != SGEN_KIND_OBJECT) {
		_sgen_set_error ("sgen_alloc_obj with the array vtable %s", vt->name);
		return NULL;
	}
	return alloc_object (vt, 0);
}

SgenObject *
sgen_alloc_array (const SgenVTable *vt, size_t length)
{
	if (vt->kind == SGEN_KIND_OBJECT) {
		_sgen_set_error ("sgen_alloc_array with the object vtable %s", vt->name);
		return NULL;
	}
	return alloc_object (vt, length);
}

/* ---- the grow hook ---- */

/*
 * The mmap layer's backend is about to grow the memory it maps from by `bytes`. The request may
 * come from anywhere: in the shared-pool build every malloc and printf can reach it, with the
 * embedder holding object pointers in C locals that no root names. So the hook never moves or
 * frees an object (docs/sgen.md, "Memory pressure"): it gives back the empty major blocks kept
 * in reserve, memory no object uses, and tells the governor, so that the next allocation runs
 * the major collection that can give back as much (sgen_alloc_*: a point where objects may
 * move). Only on the mutator thread while the mutator is outside sgen (sgen's own requests were
 * decided by the governor already; another thread must not even read the collector's state).
 */
static int
grow_hook (size_t bytes, void *ctx)
{
	(void) ctx;
#if MONO_CONFIG_THREADS
	if (!pthread_equal (pthread_self (), mutator))
		return 0;
#endif
	if (!running || _sgen_busy || _sgen_collecting)
		return 0;
	counts.grow_hook_requests++;
	_sgen_memgov_pressure (bytes);
	_sgen_busy++;
	size_t released = _sgen_major_release_free_blocks ();
	_sgen_busy--;
	return released > 0;
}

/* ---- start, stop, stats ---- */

int
sgen_init (char *err, size_t errlen)
{
	if (running) {
		snprintf (err, errlen, "sgen is already running");
		return -1;
	}
	sgen_register_options ();
	memset (&counts, 0, sizeof (counts));
	_sgen_verify_reset ();
	_sgen_os_reset ();
	size_t nursery = (size_t) mono_option_int ("sgen-nursery-size");
	uint64_t limit = (uint64_t) mono_option_int ("sgen-max-heap-size");
	if (limit && limit < 2 * (uint64_t) nursery) {
		snprintf (err, errlen, "--sgen-max-heap-size (%llu) must be at least twice --sgen-nursery-size (%zu)",
			  (unsigned long long) limit, nursery);
		return -1;
	}
	_sgen_verify_level = mono_option_bool ("sgen-verify") ? (mono_option_bool ("sgen-verify-expensive") ? 2 : 1) : 0;
	_sgen_memgov_init (limit, nursery);
	/* Mono's order: the card table, then the nursery (4 MiB aligned to its size). */
	if (_sgen_cards_init (err, errlen) != 0)
		return -1;
	_sgen_major_init ();
	if (_sgen_nursery_init (nursery, err, errlen) != 0) {
		_sgen_cards_shutdown ();
		return -1;
	}
	running = true;
	_sgen_busy = 0;
#if MONO_CONFIG_THREADS
	mutator = pthread_self ();
#endif
	/* Backends that never grow memory of their own have no hook to run (ENOTSUP). */
	if (mono_option_bool ("sgen-grow-hook"))
		(void) mono_mmap_set_grow_hook (grow_hook, NULL);
	return 0;
}

void
sgen_shutdown (void)
{
	if (!running)
		return;
	(void) mono_mmap_set_grow_hook (NULL, NULL);
	running = false;
	_sgen_nursery_shutdown ();
	_sgen_major_shutdown ();
	_sgen_los_shutdown ();
	_sgen_roots_shutdown ();
	_sgen_gray_shutdown ();
	_sgen_cards_shutdown ();
	_sgen_barrier_enabled = true;
	_sgen_internal_shutdown ();
}

void
sgen_get_stats (SgenStats *out)
{
	*out = counts;
	_sgen_major_fill_stats (out);
	_sgen_los_fill_stats (out);
	_sgen_os_fill_stats (out);
	out->heap_limit = _sgen_memgov_max_heap ();
	out->card_bytes_scanned = _sgen_cards_bytes_scanned ();
	_sgen_verify_fill_stats (out);
}

bool
sgen_ptr_in_heap (const void *p)
{
	return _sgen_nursery_contains (p) || _sgen_major_contains (p) || _sgen_los_is_object (p);
}

bool
sgen_ptr_in_nursery (const void *p)
{
	return _sgen_nursery_contains (p);
}

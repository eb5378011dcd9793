/*
 * mono-mmap.c: the mmap layer's common part: backend choice, argument checks, the registry of
 * live mappings, per-type accounting.
 *
 * The registry (mono-mmap-ranges.c) is a sorted array of live ranges [start, start + len), each
 * with its account type and the backend's original mapping (orig, orig_len) for backends that
 * cannot free in part.
 * Invariants (mono_mmap_check):
 *   R1  ranges are sorted, page-aligned, non-empty and do not overlap;
 *   R2  live_bytes[t] == sum of the lengths of the ranges of type t;
 *   R3  backend_bytes_live == sum over ranges of their backend bytes (orig_len where the backend
 *       cannot free in part: the whole original mapping stays until its range is freed);
 *   R4  the backend's own check passes (mwpm: its invariants), and a backend that can tell
 *       (caps: owns) owns every range;
 *   R5  a range that must be freed whole lies inside its original mapping.
 * Everything is under one lock except the backend's map call (mwpm zeroes outside its lock
 * too); a range enters the registry only after it is mapped and leaves it before it is unmapped.
 * The backend is fixed by the first mapping made, not by a call that failed: a map call in
 * flight holds it (`mapping`), a registered mapping fixes it (`started`).
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"
#include "mono-mmap-ranges.h"
#include "mono-spin-lock.h"
#include "mono-bulk.h"
#include "mono-problem-log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The layer's state: one lock over all of it (backend choice, registry, accounts). */
typedef struct {
	MonoSpinLock lock;
	const MonoMmapBackendOps *ops;
	atomic_bool started;   /* a mapping was made: the backend is fixed from now on */
	unsigned mapping;      /* map calls in flight: the backend cannot change under them */
	MonoMmapRanges ranges;
	MonoMmapStats stats;
	bool track_touched;        /* tests: count resident pages of what is freed */
	uint64_t touched_freed;    /* memory pages resident in ranges when they were freed */
} MonoMmapLayer;

static MonoMmapLayer layer = { .lock = MONO_SPIN_LOCK_INIT };

static const char *const account_names[MONO_MEM_ACCOUNT_COUNT] = {
	"nursery", "major", "los", "internal", "other",
};

const char *
mono_mem_account_name (MonoMemAccountType type)
{
	return (unsigned)type < MONO_MEM_ACCOUNT_COUNT ? account_names[type] : "invalid";
}

static MonoMmapBackendGetter
getter_for (MonoMmapBackend b)
{
	switch (b) {
	case MONO_MMAP_BACKEND_POSIX: return mono_mmap_backend_posix;
	case MONO_MMAP_BACKEND_MWPM: return mono_mmap_backend_mwpm;
	case MONO_MMAP_BACKEND_LIBC: return mono_mmap_backend_libc;
	case MONO_MMAP_BACKEND_MALLOC: return mono_mmap_backend_malloc;
	case MONO_MMAP_BACKEND_COUNT: break;
	}
	return NULL;
}

static const char *
backend_name (MonoMmapBackend b)
{
	switch (b) {
	case MONO_MMAP_BACKEND_POSIX: return "posix";
	case MONO_MMAP_BACKEND_MWPM: return "mwpm";
	case MONO_MMAP_BACKEND_LIBC: return "libc";
	case MONO_MMAP_BACKEND_MALLOC: return "malloc";
	case MONO_MMAP_BACKEND_COUNT: break;
	}
	return "unknown";
}

MonoMmapBackend
mono_mmap_platform_backend (void)
{
	return MONO_CONFIG_WASM ? MONO_MMAP_BACKEND_LIBC : MONO_MMAP_BACKEND_POSIX;
}

static MonoMmapBackend
default_backend (void)
{
	return MONO_CONFIG_WASM && MONO_CONFIG_WASM_MMAP ? MONO_MMAP_BACKEND_MWPM : mono_mmap_platform_backend ();
}

/* The active backend; chooses the default on first use. Lock held. */
static const MonoMmapBackendOps *
ops_locked (void)
{
	MONO_ASSERT_LOCK_HELD (&layer.lock);
	if (!layer.ops)
		layer.ops = getter_for (default_backend ()) ();
	return layer.ops;
}

int
mono_mmap_select_backend (MonoMmapBackend backend, char *err, size_t errlen)
{
	MonoMmapBackendGetter get = getter_for (backend);
	if (!get) {
		if (backend == MONO_MMAP_BACKEND_MWPM)
			snprintf (err, errlen, "this build has no wasm mmap (mwpm): it was built with -Dwasm_mmap=disabled");
		else
			snprintf (err, errlen, "the '%s' memory backend does not exist in this build", backend_name (backend));
		return -1;
	}
	int rc = 0;
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *want = get ();
	if ((atomic_load (&layer.started) || layer.mapping) && layer.ops != want) {
		snprintf (err, errlen, "the memory backend cannot change to '%s' once memory has been allocated through '%s'",
		          want->caps.name, layer.ops->caps.name);
		rc = -1;
	} else {
		layer.ops = want;
	}
	mono_spin_unlock (&layer.lock);
	return rc;
}

const MonoMmapCaps *
mono_mmap_caps (void)
{
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	mono_spin_unlock (&layer.lock);
	return &ops->caps;
}

bool
mono_mmap_started (void)
{
	return atomic_load (&layer.started);
}

size_t
mono_pagesize (void)
{
	return mono_mmap_caps ()->page_size;
}

/* Takes the lock with room for one more range in the registry. The array is grown with the
 * lock released: malloc may reach mwpm and its grow hook, which may collect and free memory
 * through this layer (the shared-pool build), and the lock is not recursive. Returns with the
 * lock held either way; false when no memory could be had for the array. */
static bool
lock_with_room (void)
{
	for (;;) {
		mono_spin_lock (&layer.lock);
		if (layer.ranges.count < layer.ranges.capacity)
			return true;
		size_t cap = layer.ranges.capacity;
		mono_spin_unlock (&layer.lock);
		size_t want = cap ? cap * 2 : 64;
		MonoMmapRange *fresh = malloc (want * sizeof (MonoMmapRange));
		mono_spin_lock (&layer.lock);
		if (!fresh)
			return false;
		MonoMmapRange *old = NULL;
		if (layer.ranges.capacity == cap) {
			/* Nobody grew it meanwhile: move the ranges over. */
			if (layer.ranges.count) {
				/* A fresh malloc block may lie in memory another thread has just grown. */
				mono_bulk_ready ((uint64_t)(uintptr_t)fresh + want * sizeof (MonoMmapRange));
				memcpy (fresh, layer.ranges.items, layer.ranges.count * sizeof (MonoMmapRange));
			}
			old = layer.ranges.items;
			layer.ranges.items = fresh;
			layer.ranges.capacity = want;
			fresh = NULL;
		}
		mono_spin_unlock (&layer.lock);
		free (old);
		free (fresh);
	}
}

static void *
refuse (int err)
{
	mono_spin_lock (&layer.lock);
	layer.stats.rejected_calls++;
	mono_spin_unlock (&layer.lock);
	errno = err;
	return NULL;
}

static bool
valloc_args_ok (size_t size, size_t alignment, int flags, MonoMemAccountType type)
{
	return size != 0 && !(flags & ~MONO_MMAP_ALL_FLAGS) && (unsigned)type < MONO_MEM_ACCOUNT_COUNT &&
	       (alignment & (alignment - 1)) == 0;
}

/* The backend for a map call, held fixed until end_map: select_backend refuses meanwhile. */
static const MonoMmapBackendOps *
begin_map (void)
{
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	layer.mapping++;
	mono_spin_unlock (&layer.lock);
	return ops;
}

/* Maps size bytes rounded up to the backend's pages, aligned to at least a page. */
static int
map_pages (const MonoMmapBackendOps *ops, size_t size, size_t alignment, int flags, MonoMapping *m)
{
	size_t page = ops->caps.page_size;
	if (size > SIZE_MAX - (page - 1))
		return ENOMEM;
	size_t len = (size + page - 1) & ~(page - 1);
	bool zero = !(flags & MONO_MMAP_NOZERO);
	if (flags & MONO_MMAP_NO_GROW)
		return ops->map_held ? ops->map_held (len, alignment < page ? page : alignment, zero, m) : ENOTSUP;
	return ops->map (len, alignment < page ? page : alignment, zero, m);
}

/* Enters a new mapping in the registry and the accounts. Lock held, with room. */
static void
register_locked (const MonoMapping *m, MonoMemAccountType type, bool whole_only)
{
	MONO_ASSERT_LOCK_HELD (&layer.lock);
	MonoMmapRange r = { .start = m->addr, .len = m->len, .orig = m->orig, .orig_len = m->orig_len,
	                    .type = (uint8_t)type, .whole_only = whole_only };
	mono_mmap_ranges_insert (&layer.ranges, r);
	layer.stats.live_bytes[type] += m->len;
	layer.stats.live_total += m->len;
	if (layer.stats.live_total > layer.stats.peak_total)
		layer.stats.peak_total = layer.stats.live_total;
	layer.stats.bytes_allocated += m->len;
	layer.stats.backend_bytes_live += m->orig_len;
	layer.stats.allocs++;
	atomic_store (&layer.started, true);
}

/* A failed call changes nothing: the backend stays open to a change of choice. */
static void *
valloc_common (size_t size, size_t alignment, int flags, MonoMemAccountType type)
{
	if (!valloc_args_ok (size, alignment, flags, type))
		return refuse (EINVAL);
	const MonoMmapBackendOps *ops = begin_map ();
	MonoMapping m;
	int err = map_pages (ops, size, alignment, flags, &m);
	if (!err && !lock_with_room ()) {
		err = ENOMEM;
		ops->unmap (m.orig, m.orig_len);
	} else if (err) {
		mono_spin_lock (&layer.lock);
	}
	layer.mapping--;
	if (err) {
		layer.stats.failed_allocs++;
		mono_spin_unlock (&layer.lock);
		errno = err;
		return NULL;
	}
	register_locked (&m, type, !ops->caps.partial_free);
	mono_spin_unlock (&layer.lock);
	return (void *)m.addr;
}

void *
mono_valloc (void *addr, size_t size, int flags, MonoMemAccountType type)
{
	(void)addr; /* a hint; anonymous memory goes where the backend puts it */
	return valloc_common (size, 0, flags, type);
}

void *
mono_valloc_aligned (size_t size, size_t alignment, int flags, MonoMemAccountType type)
{
	if (alignment == 0)
		return refuse (EINVAL);
	return valloc_common (size, alignment, flags, type);
}

/*
 * Which range a free of [a, a + size) cuts, and how much: 0 with *index and *len, or EINVAL
 * (unaligned, size 0, not inside one live range of this type, part of a whole-only range) or
 * ENOMEM (a middle that would split a range, with no room for the second half). Lock held.
 */
static int
find_freeable_locked (const MonoMmapBackendOps *ops, uintptr_t a, size_t size, MonoMemAccountType type, bool room,
		      size_t *index, size_t *len)
{
	MONO_ASSERT_LOCK_HELD (&layer.lock);
	size_t page = ops->caps.page_size;
	if (size == 0 || (a & (page - 1)) || (unsigned)type >= MONO_MEM_ACCOUNT_COUNT || size > SIZE_MAX - (page - 1))
		return EINVAL;
	*len = (size + page - 1) & ~(page - 1);
	*index = mono_mmap_ranges_find (&layer.ranges, a);
	if (*index == layer.ranges.count)
		return EINVAL;
	const MonoMmapRange *r = &layer.ranges.items[*index];
	if (!mono_mmap_range_holds (r, a, *len) || r->type != type)
		return EINVAL;
	bool whole = r->start == a && r->len == *len;
	if (!whole && r->whole_only)
		return EINVAL;
	if (!room && mono_mmap_ranges_cut_splits (&layer.ranges, *index, a, *len))
		return ENOMEM;
	return 0;
}

#if !MONO_CONFIG_WASM
#include <sys/mman.h>
#include <unistd.h>

/* Memory pages of [addr, addr + len) the kernel has resident (touched, read or written). */
static uint64_t
resident_pages (uintptr_t addr, size_t len)
{
	size_t page = (size_t)sysconf (_SC_PAGESIZE);
	uint64_t n = 0;
	unsigned char vec[256];
	for (size_t off = 0; off < len; off += sizeof vec * page) {
		size_t chunk = len - off < sizeof vec * page ? len - off : sizeof vec * page;
		size_t pages = (chunk + page - 1) / page;
		if (mincore ((void *)(addr + off), chunk, vec) != 0)
			return 0;
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
	}
	return n;
}
#endif

int
mono_mmap_track_touched_for_tests (void)
{
#if !MONO_CONFIG_WASM
	mono_spin_lock (&layer.lock);
	bool posix = ops_locked ()->caps.backend == MONO_MMAP_BACKEND_POSIX;
	layer.track_touched = posix;
	layer.touched_freed = 0;
	mono_spin_unlock (&layer.lock);
	return posix ? 0 : -1;
#else
	return -1;
#endif
}

uint64_t
mono_mmap_touched_pages_for_tests (void)
{
#if !MONO_CONFIG_WASM
	mono_spin_lock (&layer.lock);
	uint64_t n = layer.track_touched ? layer.touched_freed : UINT64_MAX;
	for (size_t i = 0; layer.track_touched && i < layer.ranges.count; i++)
		n += resident_pages (layer.ranges.items[i].start, layer.ranges.items[i].len);
	mono_spin_unlock (&layer.lock);
	return n;
#else
	return UINT64_MAX;
#endif
}

int
mono_vfree (void *addr, size_t size, MonoMemAccountType type)
{
	uintptr_t a = (uintptr_t)addr;
	/* Room for one more range first: freeing the middle of a range splits it in two. */
	bool room = lock_with_room ();
	const MonoMmapBackendOps *ops = ops_locked ();
	size_t i, len;
	int err = find_freeable_locked (ops, a, size, type, room, &i, &len);
	MonoMmapRange r = err ? (MonoMmapRange){ 0 } : layer.ranges.items[i];
#if !MONO_CONFIG_WASM
	if (!err && layer.track_touched)
		layer.touched_freed += resident_pages (a, len);
#endif
	/* A whole-only range goes back as the backend made it. */
	bool as_made = !err && r.whole_only;
	if (!err)
		err = as_made ? ops->unmap (r.orig, r.orig_len) : ops->unmap (a, len);
	if (err) {
		layer.stats.rejected_calls++;
		mono_spin_unlock (&layer.lock);
		errno = err;
		return -1;
	}
	mono_mmap_ranges_cut (&layer.ranges, i, a, len);
	layer.stats.live_bytes[type] -= len;
	layer.stats.live_total -= len;
	layer.stats.bytes_freed += len;
	layer.stats.backend_bytes_live -= as_made ? r.orig_len : len;
	layer.stats.frees++;
	mono_spin_unlock (&layer.lock);
	return 0;
}

int
mono_mmap_set_grow_hook (MonoMmapGrowHook hook, void *ctx)
{
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	mono_spin_unlock (&layer.lock);
	int err = ops->set_grow_hook ? ops->set_grow_hook (hook, ctx) : ENOTSUP;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

void
mono_mmap_get_stats (MonoMmapStats *out)
{
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	*out = layer.stats;
	mono_spin_unlock (&layer.lock);
	out->bytes_zeroed = ops->bytes_zeroed ? ops->bytes_zeroed () : 0;
}

uint64_t
mono_mmap_linear_memory_bytes (void)
{
#if MONO_CONFIG_WASM
	return (uint64_t)__builtin_wasm_memory_size (0) * 65536u;
#else
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	mono_spin_unlock (&layer.lock);
	return ops->memory_bytes ? ops->memory_bytes () : 0;
#endif
}

/* R1 and R5 for every range, R4's ownership; sums for R2 and R3. Lock held. */
static void
check_ranges_locked (const MonoMmapBackendOps *ops, MonoProblemLog *log, uint64_t *by_type, uint64_t *backend)
{
	MONO_ASSERT_LOCK_HELD (&layer.lock);
	size_t bad = 0;
	int problems = mono_mmap_ranges_check (&layer.ranges, ops->caps.page_size, &bad);
	if (problems) {
		const MonoMmapRange *r = &layer.ranges.items[bad];
		mono_problem (log, "mono-mmap: R1: %d bad range(s), the first %zu [%#lx, +%zu)\n", problems, bad,
		              (unsigned long)r->start, r->len);
	}
	for (size_t i = 0; i < layer.ranges.count; i++) {
		const MonoMmapRange *r = &layer.ranges.items[i];
		if (r->type >= MONO_MEM_ACCOUNT_COUNT) {
			mono_problem (log, "mono-mmap: R1: range %zu has account type %u\n", i, r->type);
			continue;
		}
		if (r->whole_only && !(r->orig <= r->start && r->start - r->orig <= r->orig_len &&
		                       r->len <= r->orig_len - (r->start - r->orig))) {
			mono_problem (log, "mono-mmap: R5: range [%#lx, +%zu) outside its mapping [%#lx, +%zu)\n",
			              (unsigned long)r->start, r->len, (unsigned long)r->orig, r->orig_len);
		}
		by_type[r->type] += r->len;
		*backend += r->whole_only ? r->orig_len : r->len;
		if (ops->owns && (!ops->owns (r->start) || !ops->owns (r->start + (r->len - 1)))) {
			mono_problem (log, "mono-mmap: R4: the backend does not own range [%#lx, +%zu)\n",
			              (unsigned long)r->start, r->len);
		}
	}
}

int
mono_mmap_check (void)
{
	/* Messages are gathered and printed after the lock is released (printing may allocate). */
	MonoProblemLog log = { 0 };
	uint64_t by_type[MONO_MEM_ACCOUNT_COUNT] = { 0 };
	uint64_t backend = 0;
	mono_spin_lock (&layer.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	check_ranges_locked (ops, &log, by_type, &backend);
	uint64_t total = 0;
	for (int t = 0; t < MONO_MEM_ACCOUNT_COUNT; t++) {
		total += by_type[t];
		if (by_type[t] != layer.stats.live_bytes[t]) {
			mono_problem (&log, "mono-mmap: R2: %s: ranges hold %llu bytes, accounted %llu\n", account_names[t],
			         (unsigned long long)by_type[t], (unsigned long long)layer.stats.live_bytes[t]);
		}
	}
	if (total != layer.stats.live_total || backend != layer.stats.backend_bytes_live) {
		mono_problem (&log, "mono-mmap: R2/R3: totals %llu/%llu, backend %llu/%llu\n", (unsigned long long)total,
		         (unsigned long long)layer.stats.live_total, (unsigned long long)backend,
		         (unsigned long long)layer.stats.backend_bytes_live);
	}
	mono_spin_unlock (&layer.lock);
	int problems = mono_problem_log_print (&log, "mono_mmap_check");
	if (ops->check)
		problems += ops->check ();
	return problems;
}

void
mono_mmap_reset_for_tests (void)
{
	mono_spin_lock (&layer.lock);
	if (layer.ops) {
		for (size_t i = 0; i < layer.ranges.count; i++) {
			const MonoMmapRange *r = &layer.ranges.items[i];
			if (r->whole_only)
				layer.ops->unmap (r->orig, r->orig_len);
			else
				layer.ops->unmap (r->start, r->len);
		}
	}
	free (layer.ranges.items);
	layer.ranges = (MonoMmapRanges){ 0 };
	layer.track_touched = false;
	layer.mapping = 0;
	memset (&layer.stats, 0, sizeof (layer.stats));
	layer.ops = NULL;
	atomic_store (&layer.started, false);
	mono_spin_unlock (&layer.lock);
}

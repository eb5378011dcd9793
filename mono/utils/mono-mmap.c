/*
 * mono-mmap.c: the mmap layer's common part: backend choice, argument checks, the registry of
 * live mappings, per-type accounting.
 *
 * The registry is a sorted array of live ranges [start, end), each with its account type and
 * the backend's original mapping (orig, orig_len) for backends that cannot free in part.
 * Invariants (mono_mmap_check):
 *   R1  ranges are sorted, page-aligned, non-empty and do not overlap;
 *   R2  live_bytes[t] == sum of the lengths of the ranges of type t;
 *   R3  backend_bytes_live == sum over ranges of their backend bytes (orig_len where the backend
 *       cannot free in part: the whole original mapping stays until its range is freed);
 *   R4  the backend's own check passes (mwpm: its invariants), and mwpm owns every range;
 *   R5  a range that must be freed whole lies inside its original mapping
 *       (orig <= start and end <= orig + orig_len).
 * Everything is under one lock except the backend's map call (mwpm zeroes outside its lock
 * too); a range enters the registry only after it is mapped and leaves it before it is unmapped.
 */
#include "mono-config.h"
#include "mono-mmap-backend.h"
#include "mwpm-lock.h"
#include "mono-problem-log.h"

#ifdef ENABLE_WASM_MMAP
#include "mono-wasm-pagemgr.h"
#endif

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	uintptr_t start, end;
	uintptr_t orig;
	size_t orig_len;
	uint8_t type;
	bool whole_only;  /* the backend cannot free part of it */
} Range;

static struct {
	MwpmLock lock;
	const MonoMmapBackendOps *ops;
	atomic_bool started;
	Range *ranges;
	size_t count, capacity;
	MonoMmapStats stats;
} L = { .lock = MWPM_LOCK_INIT };

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
	}
	return "unknown";
}

MonoMmapBackend
mono_mmap_backend_for_option (bool wasm_mmap_on)
{
	if (wasm_mmap_on)
		return MONO_MMAP_BACKEND_MWPM;
	return MONO_CONFIG_WASM ? MONO_MMAP_BACKEND_LIBC : MONO_MMAP_BACKEND_POSIX;
}

static MonoMmapBackend
default_backend (void)
{
#if MONO_CONFIG_WASM && defined(ENABLE_WASM_MMAP)
	return MONO_MMAP_BACKEND_MWPM;
#else
	return mono_mmap_backend_for_option (false);
#endif
}

/* The active backend; chooses the default on first use. Lock held. */
static const MonoMmapBackendOps *
ops_locked (void)
{
	if (!L.ops)
		L.ops = getter_for (default_backend ()) ();
	return L.ops;
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
	mwpm_lock (&L.lock);
	const MonoMmapBackendOps *want = get ();
	if (atomic_load (&L.started) && L.ops != want) {
		snprintf (err, errlen, "the memory backend cannot change to '%s' once memory has been allocated through '%s'",
		          want->caps.name, L.ops->caps.name);
		rc = -1;
	} else {
		L.ops = want;
	}
	mwpm_unlock (&L.lock);
	return rc;
}

const MonoMmapCaps *
mono_mmap_caps (void)
{
	mwpm_lock (&L.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	mwpm_unlock (&L.lock);
	return &ops->caps;
}

bool
mono_mmap_started (void)
{
	return atomic_load (&L.started);
}

size_t
mono_pagesize (void)
{
	return mono_mmap_caps ()->page_size;
}

/* Index of the first range whose end is above addr. Lock held. */
static size_t
find_locked (uintptr_t addr)
{
	size_t lo = 0, hi = L.count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (L.ranges[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Takes the lock with room for one more range in the array. The array is grown with the lock
 * released: malloc may reach mwpm and its grow hook, which may collect and free memory through
 * this layer (the shared-pool build), and the lock is not recursive. Returns with the lock held
 * either way; false when no memory could be had for the array. */
static bool
lock_with_room (void)
{
	for (;;) {
		mwpm_lock (&L.lock);
		if (L.count < L.capacity)
			return true;
		size_t cap = L.capacity;
		mwpm_unlock (&L.lock);
		size_t want = cap ? cap * 2 : 64;
		Range *fresh = malloc (want * sizeof (Range));
		mwpm_lock (&L.lock);
		if (!fresh)
			return false;
		Range *old = NULL;
		if (L.capacity == cap) {
			/* Nobody grew it meanwhile: move the ranges over. */
			if (L.count)
				memcpy (fresh, L.ranges, L.count * sizeof (Range));
			old = L.ranges;
			L.ranges = fresh;
			L.capacity = want;
			fresh = NULL;
		}
		mwpm_unlock (&L.lock);
		free (old);
		free (fresh);
	}
}

static void
insert_at_locked (size_t i, Range r)
{
	memmove (&L.ranges[i + 1], &L.ranges[i], (L.count - i) * sizeof (Range));
	L.ranges[i] = r;
	L.count++;
}

static void
remove_at_locked (size_t i)
{
	memmove (&L.ranges[i], &L.ranges[i + 1], (L.count - i - 1) * sizeof (Range));
	L.count--;
}

static void *
valloc_common (size_t size, size_t alignment, int flags, MonoMemAccountType type)
{
	if (size == 0 || (flags & ~MONO_MMAP_ALL_FLAGS) || (unsigned)type >= MONO_MEM_ACCOUNT_COUNT ||
	    (alignment & (alignment - 1)) != 0) {
		mwpm_lock (&L.lock);
		L.stats.rejected_calls++;
		mwpm_unlock (&L.lock);
		errno = EINVAL;
		return NULL;
	}
	mwpm_lock (&L.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	atomic_store (&L.started, true);
	mwpm_unlock (&L.lock);

	size_t page = ops->caps.page_size;
	if (alignment < page)
		alignment = page;
	MonoMapping m;
	int err = size > SIZE_MAX - (page - 1) ? ENOMEM : 0;
	size_t len = (size + page - 1) & ~(page - 1);
	if (!err)
		err = ops->map (len, alignment, !(flags & MONO_MMAP_NOZERO), &m);
	if (!err && !lock_with_room ()) {
		err = ENOMEM;
		ops->unmap (m.orig, m.orig_len);
	} else if (err) {
		mwpm_lock (&L.lock);
	}
	if (err) {
		L.stats.failed_allocs++;
		mwpm_unlock (&L.lock);
		errno = err;
		return NULL;
	}
	Range r = { .start = m.addr, .end = m.addr + len, .orig = m.orig, .orig_len = m.orig_len,
	            .type = (uint8_t)type, .whole_only = !ops->caps.partial_free };
	insert_at_locked (find_locked (m.addr), r);
	L.stats.live_bytes[type] += len;
	L.stats.live_total += len;
	if (L.stats.live_total > L.stats.peak_total)
		L.stats.peak_total = L.stats.live_total;
	L.stats.bytes_allocated += len;
	L.stats.backend_bytes_live += m.orig_len;
	L.stats.allocs++;
	mwpm_unlock (&L.lock);
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
	if (alignment == 0) {
		errno = EINVAL;
		mwpm_lock (&L.lock);
		L.stats.rejected_calls++;
		mwpm_unlock (&L.lock);
		return NULL;
	}
	return valloc_common (size, alignment, flags, type);
}

int
mono_vfree (void *addr, size_t size, MonoMemAccountType type)
{
	uintptr_t a = (uintptr_t)addr;
	/* Room for one more range first: freeing the middle of a range splits it in two. */
	bool room = lock_with_room ();
	int err = 0;
	const MonoMmapBackendOps *ops = ops_locked ();
	size_t page = ops->caps.page_size;
	size_t i = 0;
	uintptr_t b = 0;
	if (size == 0 || (a & (page - 1)) || (unsigned)type >= MONO_MEM_ACCOUNT_COUNT || size > SIZE_MAX - (page - 1))
		err = EINVAL;
	if (!err) {
		b = a + ((size + page - 1) & ~(page - 1));
		i = find_locked (a);
		if (b < a || i == L.count || L.ranges[i].start > a || L.ranges[i].end < b || L.ranges[i].type != type)
			err = EINVAL;
	}
	Range r = err ? (Range){ 0 } : L.ranges[i];
	bool whole = !err && r.start == a && r.end == b;
	if (!err && !whole && r.whole_only)
		err = EINVAL;
	if (!err && !whole && a != r.start && b != r.end && !room)
		err = ENOMEM;
	if (!err)
		err = whole && r.whole_only ? ops->unmap (r.orig, r.orig_len) : ops->unmap (a, b - a);
	if (err) {
		L.stats.rejected_calls++;
		mwpm_unlock (&L.lock);
		errno = err;
		return -1;
	}
	if (whole) {
		remove_at_locked (i);
	} else if (a == r.start) {
		L.ranges[i].start = b;
	} else if (b == r.end) {
		L.ranges[i].end = a;
	} else {
		L.ranges[i].end = a;
		Range tail = r;
		tail.start = b;
		insert_at_locked (i + 1, tail);
	}
	L.stats.live_bytes[type] -= b - a;
	L.stats.live_total -= b - a;
	L.stats.bytes_freed += b - a;
	L.stats.backend_bytes_live -= whole && r.whole_only ? r.orig_len : b - a;
	L.stats.frees++;
	mwpm_unlock (&L.lock);
	return 0;
}

void
mono_mmap_get_stats (MonoMmapStats *out)
{
	mwpm_lock (&L.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	*out = L.stats;
	mwpm_unlock (&L.lock);
	out->bytes_zeroed = ops->bytes_zeroed ? ops->bytes_zeroed () : 0;
}

uint64_t
mono_mmap_linear_memory_bytes (void)
{
#if MONO_CONFIG_WASM
	return (uint64_t)__builtin_wasm_memory_size (0) * 65536u;
#else
	mwpm_lock (&L.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	mwpm_unlock (&L.lock);
	return ops->memory_bytes ? ops->memory_bytes () : 0;
#endif
}

int
mono_mmap_check (void)
{
	/* Messages are gathered and printed after the lock is released (printing may allocate). */
	MonoProblemLog log = { 0 };
	uint64_t by_type[MONO_MEM_ACCOUNT_COUNT] = { 0 };
	uint64_t backend = 0;
	mwpm_lock (&L.lock);
	const MonoMmapBackendOps *ops = ops_locked ();
	size_t page = ops->caps.page_size;
	for (size_t i = 0; i < L.count; i++) {
		const Range *r = &L.ranges[i];
		if (r->start >= r->end || (r->start & (page - 1)) || (r->end & (page - 1)) ||
		    (i > 0 && L.ranges[i - 1].end > r->start) || r->type >= MONO_MEM_ACCOUNT_COUNT) {
			mono_problem (&log, "mono-mmap: R1: bad range %zu [%#lx, %#lx)\n", i, (unsigned long)r->start, (unsigned long)r->end);
			continue;
		}
		if (r->whole_only && (r->orig > r->start || r->end - r->orig > r->orig_len)) {
			mono_problem (&log, "mono-mmap: R5: range [%#lx, %#lx) outside its mapping [%#lx, +%zu)\n", (unsigned long)r->start,
			         (unsigned long)r->end, (unsigned long)r->orig, r->orig_len);
		}
		by_type[r->type] += r->end - r->start;
		backend += r->whole_only ? r->orig_len : r->end - r->start;
#ifdef ENABLE_WASM_MMAP
		if (ops->caps.backend == MONO_MMAP_BACKEND_MWPM &&
		    (!mwpm_owns ((void *)r->start) || !mwpm_owns ((void *)(r->end - 1)))) {
			mono_problem (&log, "mono-mmap: R4: mwpm does not own range [%#lx, %#lx)\n", (unsigned long)r->start, (unsigned long)r->end);
		}
#endif
	}
	uint64_t total = 0;
	for (int t = 0; t < MONO_MEM_ACCOUNT_COUNT; t++) {
		total += by_type[t];
		if (by_type[t] != L.stats.live_bytes[t]) {
			mono_problem (&log, "mono-mmap: R2: %s: ranges hold %llu bytes, accounted %llu\n", account_names[t],
			         (unsigned long long)by_type[t], (unsigned long long)L.stats.live_bytes[t]);
		}
	}
	if (total != L.stats.live_total || backend != L.stats.backend_bytes_live) {
		mono_problem (&log, "mono-mmap: R2/R3: totals %llu/%llu, backend %llu/%llu\n", (unsigned long long)total,
		         (unsigned long long)L.stats.live_total, (unsigned long long)backend,
		         (unsigned long long)L.stats.backend_bytes_live);
	}
	mwpm_unlock (&L.lock);
	int problems = mono_problem_log_print (&log, "mono_mmap_check");
	if (ops->check)
		problems += ops->check ();
	return problems;
}

void
mono_mmap_reset_for_tests (void)
{
	mwpm_lock (&L.lock);
	if (L.ops) {
		for (size_t i = 0; i < L.count; i++) {
			const Range *r = &L.ranges[i];
			if (r->whole_only)
				L.ops->unmap (r->orig, r->orig_len);
			else
				L.ops->unmap (r->start, r->end - r->start);
		}
	}
	free (L.ranges);
	L.ranges = NULL;
	L.count = L.capacity = 0;
	memset (&L.stats, 0, sizeof (L.stats));
	L.ops = NULL;
	atomic_store (&L.started, false);
	mwpm_unlock (&L.lock);
}

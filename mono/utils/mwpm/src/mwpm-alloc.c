/*
 * mwpm-alloc.c: allocation, freeing, ownership and the grow hook: the entry points that hand
 * pages out and take them back (mono-wasm-pagemgr.h states their contracts).
 *
 * An allocation, in steps (alloc_pages):
 *   1. check the arguments (EINVAL changes nothing but the failure count);
 *   2. under the lock, find a fit (find_or_grow): first fit; else (unless MWPM_NO_GROW) the grow
 *      hook, run without the lock, then first fit again; else growth (mwpm-grow.c), then first fit;
 *   3. make the range safe for bulk operations in this thread (docs/mwpm.md, "Threads");
 *   4. note the dirty pages to zero, as up to ZERO_RUNS runs (those beyond are zeroed now);
 *   5. mark the pages IN_USE, release the lock, zero the noted runs, return.
 * An allocation at a given address (mwpm_alloc_at) differs in step 2 only: the pages asked for
 * must all be free, or lie at the span's top, which grows into them (no grow hook: a collection
 * cannot make a given page free on purpose).
 */
#include "mwpm-internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

typedef struct {
	uint32_t first, count;
} PageRun;

/* Dirty runs of one allocation that are zeroed after the lock is released. Sixteen runs fit in
 * 128 bytes of stack; a range split into more runs than that is rare (freed pages interleaved
 * with fresh ones, page by page) and has the rest zeroed under the lock. */
#define ZERO_RUNS 16

static bool
alloc_args_ok (size_t size, size_t alignment, int flags)
{
	return size != 0 && !(flags & ~(MWPM_ZEROED | MWPM_NO_GROW)) && alignment != 0 && !(alignment & (alignment - 1));
}

static void *
refuse_alloc (void)
{
	_mwpm_enter ();
	_mwpm.stats.alloc_failures++;
	_mwpm_leave ();
	errno = EINVAL;
	return NULL;
}

/* Runs the grow hook without the lock (it may collect and free into mwpm), then searches again
 * whatever it says: other threads may have freed or grown meanwhile. Lock held on entry and
 * return. */
static uint32_t
find_after_hook (uint32_t n, uint32_t align, uint64_t n64)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	MwpmGrowHook hook = _mwpm.grow_hook;
	void *ctx = _mwpm.grow_hook_ctx;
	_mwpm_leave ();
	/* n64 pages may be 4 GiB, which a 32-bit size_t cannot hold. */
	hook (n64 > (SIZE_MAX >> MWPM_PAGE_SHIFT) ? SIZE_MAX : (size_t)n64 << MWPM_PAGE_SHIFT, ctx);
	_mwpm_enter ();
	return _mwpm_find_fit_locked (n, align);
}

/* Step 2: the first page of a free run for the request, or MWPM_INDEX_NONE; only from the
 * free runs held when `grow` is false. Lock held. */
static uint32_t
find_or_grow (uint64_t n64, uint64_t align64, bool grow)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (n64 > MWPM_TABLE_PAGES || align64 > MWPM_TABLE_PAGES)
		return MWPM_INDEX_NONE;
	uint32_t n = (uint32_t)n64, align = (uint32_t)align64;
	uint32_t p = _mwpm_find_fit_locked (n, align);
	if (!grow)
		return p;
	if (p == MWPM_INDEX_NONE && _mwpm.grow_hook)
		p = find_after_hook (n, align, n64);
	if (p == MWPM_INDEX_NONE && _mwpm_grow_locked (n, align) == 0)
		p = _mwpm_find_fit_locked (n, align);
	return p;
}

/*
 * Zeroing dirty memory, writing only what is not zero already. A page marked dirty may never
 * have been written (mwpm cannot tell: a freed range is dirty as a whole), and a memset of it
 * would make the kernel back it: each 4 KiB unit, the kernel's unit of resident memory, is read
 * first and written only if some byte of it is not zero. A written unit usually shows a non-zero
 * word in its first cache line, so the read costs little there; a unit never written reads the
 * kernel's shared zero page and stays out of the resident set.
 */
#define ZERO_UNIT 4096u

static bool
unit_reads_zero (const uint64_t *w)
{
	for (unsigned i = 0; i < ZERO_UNIT / 8; i += 8) {
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	}
	return true;
}

/* Makes [p, p + bytes) read zero (bytes a multiple of ZERO_UNIT); memsets runs of units that do
 * not, counts the others in bytes_found_zero. Without the lock, or with it for the overflow runs. */
static void
zero_dirty (char *p, size_t bytes)
{
	uint64_t found = 0;
	char *run = NULL; /* start of the current run of units to write */
	for (char *u = p, *end = p + bytes; u < end; u += ZERO_UNIT) {
		if (unit_reads_zero ((const uint64_t *)u)) {
			found += ZERO_UNIT;
			if (run) {
				memset (run, 0, (size_t)(u - run));
				run = NULL;
			}
		} else if (!run) {
			run = u;
		}
	}
	if (run)
		memset (run, 0, (size_t)(p + bytes - run));
	if (found)
		atomic_fetch_add_explicit (&_mwpm.found_zero, found, memory_order_relaxed);
}

/* Step 4: counts the dirty pages of [p, p + n) as zeroed and records them as runs in zero[];
 * those beyond ZERO_RUNS runs are zeroed here. Exactly the dirty pages are zeroed (zero_dirty), and counted:
 * free-dirty ones, and pages in use, which a claim reaches only when their holder takes them
 * over (mwpm_remap_at). Returns the runs recorded. Lock held. */
static unsigned
note_dirty_runs (uint32_t p, uint32_t n, PageRun *zero)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	unsigned nzero = 0;
	for (uint32_t q = p; q < p + n; q++) {
		if (_mwpm_state[q] != MWPM_PAGE_FREE_DIRTY && _mwpm_state[q] != MWPM_PAGE_IN_USE)
			continue;
		_mwpm.stats.bytes_zeroed += MWPM_PAGE_SIZE;
		if (nzero && zero[nzero - 1].first + zero[nzero - 1].count == q) {
			zero[nzero - 1].count++;
		} else if (nzero < ZERO_RUNS) {
			zero[nzero++] = (PageRun){ q, 1 };
		} else {
			MONO_UNPOISON (_mwpm_page_addr (q), MWPM_PAGE_SIZE);
			zero_dirty (_mwpm_page_addr (q), MWPM_PAGE_SIZE);
		}
	}
	return nzero;
}

/* Step 5, under the lock: the pages become the caller's. Pages already in use are the caller's
 * (a claim took them over): they stay as they are. Lock held. */
static void
take_pages (uint32_t p, uint32_t n)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	unsigned free_states = MWPM_ST (MWPM_PAGE_FREE_ZEROED) | MWPM_ST (MWPM_PAGE_FREE_DIRTY);
	_mwpm_set_pages (p, n, free_states | MWPM_ST (MWPM_PAGE_IN_USE), MWPM_PAGE_IN_USE, true);
	_mwpm.stats.alloc_calls++;
	if (_mwpm.count[MWPM_PAGE_IN_USE] > _mwpm.stats.pages_in_use_peak)
		_mwpm.stats.pages_in_use_peak = _mwpm.count[MWPM_PAGE_IN_USE];
}

/* Steps 3 to 5 under the lock, for the found pages [p, p + n): returns the dirty runs noted in
 * zero[], which the caller clears after releasing the lock (finish_alloc). Lock held. */
static unsigned
hand_out (uint32_t p, uint32_t n, int flags, PageRun *zero)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	mono_bulk_ready ((uint64_t)(p + n) << MWPM_PAGE_SHIFT);
	unsigned nzero = flags & MWPM_ZEROED ? note_dirty_runs (p, n, zero) : 0;
	take_pages (p, n);
	return nzero;
}

/* The end of an allocation, without the lock: NULL with errno `err`, or the noted runs zeroed
 * and the start of page p. */
static void *
finish_alloc (int err, uint32_t p, const PageRun *zero, unsigned nzero)
{
	if (err) {
		errno = err;
		return NULL;
	}
	for (unsigned i = 0; i < nzero; i++)
		zero_dirty (_mwpm_page_addr (zero[i].first), (size_t)zero[i].count << MWPM_PAGE_SHIFT);
	return _mwpm_page_addr (p);
}

static uint64_t
pages_for (size_t size)
{
	return ((uint64_t)size >> MWPM_PAGE_SHIFT) + ((size & (MWPM_PAGE_SIZE - 1)) != 0);
}

static void *
alloc_pages (size_t size, size_t alignment, int flags)
{
	if (!alloc_args_ok (size, alignment, flags))
		return refuse_alloc ();
	uint64_t n64 = pages_for (size);
	uint64_t align64 = alignment > MWPM_PAGE_SIZE ? alignment >> MWPM_PAGE_SHIFT : 1;
	PageRun zero[ZERO_RUNS];
	unsigned nzero = 0;

	_mwpm_enter ();
	uint64_t visits0 = _mwpm.index.visits;
	uint32_t p = find_or_grow (n64, align64, !(flags & MWPM_NO_GROW));
	if (p != MWPM_INDEX_NONE)
		nzero = hand_out (p, (uint32_t)n64, flags, zero);
	else
		_mwpm.stats.alloc_failures++;
	_mwpm.last_op_visits = _mwpm.index.visits - visits0;
	_mwpm_leave ();
	return finish_alloc (p == MWPM_INDEX_NONE ? ENOMEM : 0, p, zero, nzero);
}

void *
mwpm_alloc_range (size_t size, int flags)
{
	return alloc_pages (size, MWPM_PAGE_SIZE, flags);
}

void *
mwpm_alloc_aligned (size_t size, size_t alignment, int flags)
{
	return alloc_pages (size, alignment, flags);
}

/* Who may be at a page mwpm_alloc_at / mwpm_remap_at claims: a free page, or with `held`, a page
 * in use that the caller says it holds. */
typedef struct {
	MwpmHeldFn held;
	void *ctx;
} Claim;

/* True when every page of [first, end) can be claimed: free, or in use and held by the caller.
 * Lock held. */
static bool
all_claimable (uint64_t first, uint64_t end, const Claim *c)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	for (uint64_t q = first; q < end; q++) {
		unsigned s = _mwpm_state[q];
		if (_mwpm_state_is_free (s))
			continue;
		if (s != MWPM_PAGE_IN_USE || !c->held || !c->held (_mwpm_page_addr ((uint32_t)q), c->ctx))
			return false;
	}
	return true;
}

/* True when [p, end) reaches memory above the span that another sbrk caller holds: from where
 * mwpm's own memory ends (chunk_end; before any growth, from 0) up to the break. Lock held. */
static bool
reaches_foreign_top (uint64_t p, uint64_t end)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint64_t brk;
	if (mwpm_platform_break (&brk) != 0)
		return false;
	uint64_t from = _mwpm.chunk_end, lo = p << MWPM_PAGE_SHIFT, hi = end << MWPM_PAGE_SHIFT;
	return brk > from && lo < brk && hi > from;
}

/* Step 2 at a given place: 0 when the pages [p, p + n) can be claimed (free, or held by the
 * caller), after growing the span's top into them when they reach above it and `grow` allows;
 * else EEXIST (a page of the range is in use, foreign, below the span, or memory above the span
 * that another sbrk caller holds) or ENOMEM (the range starts above the span, or would need
 * growth that is not allowed or failed). Lock held. */
static int
claim_at (uint64_t p, uint64_t n, bool grow, const Claim *c)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint64_t end = p + n;
	if (p < _mwpm.span_first)
		return EEXIST;
	if (end > _mwpm.span_end && reaches_foreign_top (p > _mwpm.span_end ? p : _mwpm.span_end, end))
		return EEXIST;
	if (p > _mwpm.span_end)
		return ENOMEM;
	uint64_t held_end = end < _mwpm.span_end ? end : _mwpm.span_end;
	if (!all_claimable (p, held_end, c))
		return EEXIST;
	if (end == held_end)
		return 0;
	if (!grow)
		return ENOMEM;
	int err = _mwpm_grow_to_locked ((uint32_t)end);
	if (err)
		return reaches_foreign_top (_mwpm.span_end, end) ? EEXIST : err;
	/* Growth welds onto the top when nobody moved the break in between; else it stopped. */
	return all_claimable (held_end, end, c) ? 0 : EEXIST;
}

static void *
alloc_at_claim (void *addr, size_t size, int flags, const Claim *c)
{
	PageRun zero[ZERO_RUNS];
	unsigned nzero = 0;
	_mwpm_enter ();
	/* The base is known once mwpm is initialised (the host's memory does not start at 0). */
	uintptr_t a = (uintptr_t)addr, base = _mwpm.platform.base;
	uint64_t off = a >= base ? (uint64_t)(a - base) : MWPM_SPACE_BYTES;
	bool args_ok = alloc_args_ok (size, MWPM_PAGE_SIZE, flags) && off < MWPM_SPACE_BYTES && off % MWPM_PAGE_SIZE == 0 &&
		       (uint64_t)size <= MWPM_SPACE_BYTES - off;
	uint64_t p = off >> MWPM_PAGE_SHIFT, n = pages_for (size);
	uint64_t visits0 = _mwpm.index.visits;
	int err = args_ok ? claim_at (p, n, !(flags & MWPM_NO_GROW), c) : EINVAL;
	if (!err) {
		nzero = hand_out ((uint32_t)p, (uint32_t)n, flags, zero);
	} else if (err == EINVAL) {
		_mwpm.stats.alloc_failures++;
	} else {
		_mwpm.stats.at_refused++;
	}
	_mwpm.last_op_visits = _mwpm.index.visits - visits0;
	_mwpm_leave ();
	return finish_alloc (err, (uint32_t)p, zero, nzero);
}

void *
mwpm_alloc_at (void *addr, size_t size, int flags)
{
	Claim c = { NULL, NULL };
	return alloc_at_claim (addr, size, flags, &c);
}

void *
mwpm_remap_at (void *addr, size_t size, int flags, MwpmHeldFn held, void *ctx)
{
	Claim c = { held, ctx };
	if (!held) {
		_mwpm_enter ();
		_mwpm.stats.alloc_failures++;
		_mwpm_leave ();
		errno = EINVAL;
		return NULL;
	}
	return alloc_at_claim (addr, size, flags, &c);
}

/* The pages [*first, *last) of the 32-bit memory that [addr, addr + size) touches, clipped to
 * it; false when it touches none. A range that starts below the memory's base (only possible
 * on the host, where the base is not 0) still reaches the pages above it. No sum can wrap. */
static bool
pages_touched (uintptr_t addr, size_t size, uint64_t *first, uint64_t *last)
{
	uintptr_t base = _mwpm.platform.base;
	uint64_t lo, hi;
	if (addr < base) {
		if (size <= base - addr)
			return false;
		lo = 0;
		hi = size - (base - addr);
	} else {
		if ((uint64_t)(addr - base) >= MWPM_SPACE_BYTES)
			return false;
		lo = addr - base;
		hi = size > MWPM_SPACE_BYTES - lo ? MWPM_SPACE_BYTES : lo + size;
	}
	if (hi > MWPM_SPACE_BYTES)
		hi = MWPM_SPACE_BYTES;
	*first = lo >> MWPM_PAGE_SHIFT;
	*last = _mwpm_round_up (hi, MWPM_PAGE_SIZE) >> MWPM_PAGE_SHIFT;
	return true;
}

/* Frees the in-use pages among [first, last) (only the span can hold any). Lock held. */
static uint64_t
free_in_span (uint64_t first, uint64_t last)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint64_t lo = first > _mwpm.span_first ? first : _mwpm.span_first;
	uint64_t hi = last < _mwpm.span_end ? last : _mwpm.span_end;
	if (lo >= hi)
		return 0;
	return _mwpm_set_pages ((uint32_t)lo, (uint32_t)(hi - lo), MWPM_ST (MWPM_PAGE_IN_USE), MWPM_PAGE_FREE_DIRTY, false);
}

int
mwpm_free_range (void *base, size_t size)
{
	_mwpm_enter ();
	uintptr_t addr = (uintptr_t)base;
	if (size == 0 || (addr & (MWPM_PAGE_SIZE - 1))) {
		_mwpm.stats.free_rejected++;
		_mwpm_leave ();
		errno = EINVAL;
		return -1;
	}
	uint64_t visits0 = _mwpm.index.visits;
	uint64_t touched = ((uint64_t)size >> MWPM_PAGE_SHIFT) + ((size & (MWPM_PAGE_SIZE - 1)) != 0);
	uint64_t changed = 0, first, last;
	if (pages_touched (addr, size, &first, &last))
		changed = free_in_span (first, last);
	_mwpm.stats.free_calls++;
	_mwpm.stats.free_pages_ignored += touched - changed;
	if (!changed)
		_mwpm.stats.free_noop_calls++;
	_mwpm.last_op_visits = _mwpm.index.visits - visits0;
	_mwpm_leave ();
	return 0;
}

int
mwpm_owns (const void *addr)
{
	_mwpm_enter ();
	uint64_t first, last;
	int owned = 0;
	if (pages_touched ((uintptr_t)addr, 1, &first, &last)) {
		unsigned s = _mwpm_state[first];
		owned = _mwpm_state_is_free (s) || s == MWPM_PAGE_IN_USE;
	}
	_mwpm_leave ();
	return owned;
}

void
mwpm_set_grow_hook (MwpmGrowHook hook, void *ctx)
{
	_mwpm_enter ();
	_mwpm.grow_hook = hook;
	_mwpm.grow_hook_ctx = ctx;
	_mwpm_leave ();
}

uint64_t
mwpm_last_op_index_visits (void)
{
	_mwpm_enter ();
	uint64_t v = _mwpm.last_op_visits;
	_mwpm_leave ();
	return v;
}

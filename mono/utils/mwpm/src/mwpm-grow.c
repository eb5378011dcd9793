/*
 * mwpm-grow.c: growth. mwpm takes memory from sbrk in chunks and adds the whole pages of each
 * result to its span (docs/mwpm.md, "Growth").
 *
 * Memory layout of the span, as sbrk hands it out (| = page boundary):
 *
 *   |  ..b[ours ][ours ][ours ][ou|rs)e..foreign..|..b'[ours][ours ][ou|rs)e'
 *      ^head fragment                 ^ gap page(s): FOREIGN     ^ pending page: joins the
 *       (unusable, or welded                                       span when the next result
 *        when b == previous e)                                     starts at e' (a weld)
 *
 * What to ask for: the break is read first, and exactly what a fitting run lacks from there is
 * asked for, crediting the free pages at the top of the span only when the new memory will
 * join them (the break is where mwpm's last result ended). Another thread may move the break
 * between the reading and the sbrk call; the run is then still missing and the next round asks
 * again from the new break.
 *
 * Zero trust: sbrk memory is marked FREE_ZEROED only when nothing can have written it: always
 * when the break is monotonic; above the memory size seen before the call when it is not and no
 * other thread can run; never otherwise. A result below a break mwpm has already seen proves
 * someone lowered it: the monotonic belief is dropped for good.
 */
#include "mwpm-internal.h"

#include <errno.h>

/* Each sbrk call asks for at most this much, so that no request reaches sbrk's 2 GiB limit
 * (it takes an intptr_t); larger allocations are built from several adjacent results (welded). */
#define MWPM_MAX_SBRK_BYTES (1u << 30)

/* Rounds of reading the break and asking sbrk for what is missing. A second round is needed
 * only when another thread moved the break in between, and every round takes memory, so races
 * cannot go on for long; four is plenty and bounds the time under the lock. */
#define GROW_ROUNDS 4

#define PAGE ((uint64_t)MWPM_PAGE_SIZE)

int
_mwpm_trust_level_locked (void)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (_mwpm.platform.break_monotonic && !_mwpm.trust_lost)
		return MWPM_TRUST_MONOTONIC;
	return _mwpm.platform.threads ? MWPM_TRUST_NONE : MWPM_TRUST_WITNESS;
}

/* Where memory that reads zero starts in the sbrk result [b, e): e when none does. `witness` is
 * the memory size read before the call: no byte at or above it existed then. Lock held. */
static uint64_t
trusted_start (uint64_t b, uint64_t e, uint64_t witness)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (b < _mwpm.break_high) {
		/* Someone lowered the break below what mwpm saw: the monotonic belief was wrong. */
		_mwpm.stats.break_lowered_seen++;
		_mwpm.trust_lost = true;
	}
	uint64_t from;
	switch (_mwpm_trust_level_locked ()) {
	case MWPM_TRUST_MONOTONIC:
		from = b;
		break;
	case MWPM_TRUST_WITNESS:
		from = witness > b ? witness : b;
		break;
	default:
		from = e;
		break;
	}
	/* Memory below a break already seen may have been written, whatever the level. */
	if (from < _mwpm.break_high)
		from = _mwpm.break_high < e ? _mwpm.break_high : e;
	return from;
}

/* The first chunk: the span starts at its first whole page. Returns that page. Lock held. */
static uint32_t
start_span (uint64_t b)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint32_t first_full = (uint32_t)(_mwpm_round_up (b, PAGE) / PAGE);
	_mwpm.stats.bytes_unusable += _mwpm_round_up (b, PAGE) - b;
	_mwpm.span_first = _mwpm.span_end = first_full;
	return first_full;
}

/* A result adjacent to mwpm's previous one: weld. The pending page is whole now (growth always
 * asks for more than a page). b < chunk_end means the break went below mwpm's own memory: only
 * [chunk_end, e) is new. Returns the first whole page of the new memory. Lock held. */
static uint32_t
weld (uint64_t b, uint64_t trusted_from)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (b < _mwpm.chunk_end)
		b = _mwpm.chunk_end;
	_mwpm.stats.welds++;
	if (b % PAGE) {
		uint32_t pending = (uint32_t)(b / PAGE);
		bool zero = _mwpm.pending_trusted && b >= trusted_from;
		mwpm_index_cover (&_mwpm.index, pending + 1);
		_mwpm_set_pages (pending, 1, MWPM_ST (MWPM_PAGE_NOT_OURS), zero ? MWPM_PAGE_FREE_ZEROED : MWPM_PAGE_FREE_DIRTY,
				 true);
		_mwpm.span_end = pending + 1;
	}
	return (uint32_t)(_mwpm_round_up (b, PAGE) / PAGE);
}

/* Another caller took [chunk_end, b): the pages there, and the partial pages at both ends, are
 * foreign. Returns the first whole page of the new memory. Lock held. */
static uint32_t
mark_gap (uint64_t b)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint32_t gap_first = (uint32_t)(_mwpm.chunk_end / PAGE);
	uint32_t first_full = (uint32_t)(_mwpm_round_up (b, PAGE) / PAGE);
	_mwpm.stats.bytes_unusable += _mwpm.chunk_end % PAGE + (_mwpm_round_up (b, PAGE) - b);
	mwpm_index_cover (&_mwpm.index, first_full);
	_mwpm_set_pages (gap_first, first_full - gap_first, MWPM_ST (MWPM_PAGE_NOT_OURS), MWPM_PAGE_FOREIGN, true);
	_mwpm.span_end = first_full;
	return first_full;
}

/* The whole pages [first_full, e / PAGE) join the span: dirty below trusted_from, zero above.
 * Lock held. */
static void
add_whole_pages (uint32_t first_full, uint64_t e, uint64_t trusted_from)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint32_t end_full = (uint32_t)(e / PAGE);
	if (end_full > first_full) {
		uint32_t zero_first = (uint32_t)(_mwpm_round_up (trusted_from, PAGE) / PAGE);
		if (zero_first < first_full)
			zero_first = first_full;
		if (zero_first > end_full)
			zero_first = end_full;
		mwpm_index_cover (&_mwpm.index, end_full);
		_mwpm_set_pages (first_full, zero_first - first_full, MWPM_ST (MWPM_PAGE_NOT_OURS), MWPM_PAGE_FREE_DIRTY, true);
		_mwpm_set_pages (zero_first, end_full - zero_first, MWPM_ST (MWPM_PAGE_NOT_OURS), MWPM_PAGE_FREE_ZEROED, true);
		_mwpm.span_end = end_full;
	}
	if (e % PAGE) /* our part of the pending page: [end_full * PAGE, e) */
		_mwpm.pending_trusted = (uint64_t)end_full * PAGE >= trusted_from;
}

/* Adds the sbrk result [b, e) to the span. Lock held. */
static void
add_chunk (uint64_t b, uint64_t e, uint64_t witness)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	_mwpm.stats.sbrk_calls++;
	_mwpm.stats.bytes_from_sbrk += e - b;
	uint64_t trusted_from = trusted_start (b, e, witness);
	_mwpm.stats.bytes_from_sbrk_untrusted += (trusted_from < e ? trusted_from : e) - b;
	if (e > _mwpm.break_high)
		_mwpm.break_high = e;
	/* A break lowered so far into mwpm's own memory that the whole result lies in it: nothing is
	 * new, and chunk_end must not go down (the pending page and the weld rule depend on it). */
	if (_mwpm.chunk_end && e <= _mwpm.chunk_end)
		return;
	uint32_t first_full = !_mwpm.chunk_end ? start_span (b)
			      : b <= _mwpm.chunk_end ? weld (b, trusted_from)
			      : mark_gap (b);
	add_whole_pages (first_full, e, trusted_from);
	_mwpm.chunk_end = e;
}

/* Calls sbrk for `bytes` (a multiple of the granule, <= MWPM_MAX_SBRK_BYTES). Lock held. */
static int
grow_once (uint64_t bytes)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint64_t witness = mwpm_platform_memory_bytes ();
	uint64_t b;
	int err = mwpm_platform_sbrk ((uint32_t)bytes, &b);
	if (err) {
		_mwpm.stats.sbrk_failures++;
		return err;
	}
	add_chunk (b, b + bytes, witness);
	return 0;
}

/* The first page of a run that sbrk memory starting at `brk` would give: the free pages at the
 * top of the span when the new memory joins them (brk at or below where mwpm's last result
 * ended: add_chunk welds it), else the first whole page at or above brk. Lock held. */
static uint64_t
run_start_for_break (uint64_t brk)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (_mwpm.chunk_end && brk <= _mwpm.chunk_end)
		return _mwpm.span_end - mwpm_index_run_ending_at (&_mwpm.index, _mwpm.span_end);
	return _mwpm_round_up (brk, PAGE) >> MWPM_PAGE_SHIFT;
}

/* Bytes sbrk must add to a break at `brk` for a run of n pages aligned to `align` pages to
 * exist. Only called when no such run exists, so the run ends above the span. Lock held. */
static uint64_t
bytes_missing (uint64_t brk, uint32_t n, uint32_t align)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint64_t start = _mwpm_round_up (run_start_for_break (brk), align);
	uint64_t end = (start + n) << MWPM_PAGE_SHIFT;
	return _mwpm_round_up (end - brk, _mwpm.platform.sbrk_granule);
}

/* Asks sbrk for `chunk` bytes (at least `want`, what the request needs), in pieces of at most
 * MWPM_MAX_SBRK_BYTES that weld when nobody moves the break in between. A piece that fails
 * while more than `want` is still asked for is asked again as just what is needed. Lock held. */
static int
grow_pieces (uint64_t chunk, uint64_t want)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	while (want > 0) {
		uint64_t ask = chunk < MWPM_MAX_SBRK_BYTES ? chunk : MWPM_MAX_SBRK_BYTES;
		int err = grow_once (ask);
		if (err && ask > want)
			err = grow_once (ask = want);
		if (err)
			return err;
		want = want > ask ? want - ask : 0;
		chunk = chunk > ask ? chunk - ask : 0;
	}
	return 0;
}

/* Re-reads what may change (the host platform lets tests change break_monotonic and the
 * maximum). The base never changes and is read without the lock: it is not written here. */
static void
refresh_platform (void)
{
	MwpmPlatformInfo now;
	mwpm_platform_info (&now);
	_mwpm.platform.break_monotonic = now.break_monotonic;
	_mwpm.platform.memory_max = now.memory_max;
	_mwpm.platform.threads = now.threads;
}

int
_mwpm_grow_locked (uint32_t n, uint32_t align)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	refresh_platform ();
	uint64_t limit = _mwpm.platform.memory_max < MWPM_SPACE_BYTES ? _mwpm.platform.memory_max : MWPM_SPACE_BYTES;
	uint64_t min_chunk = _mwpm_round_up (MWPM_MIN_CHUNK_BYTES, _mwpm.platform.sbrk_granule);
	for (int round = 0; round < GROW_ROUNDS; round++) {
		uint64_t brk;
		int err = mwpm_platform_break (&brk);
		if (err)
			return err;
		uint64_t want = bytes_missing (brk, n, align);
		if (brk > limit || want > limit - brk)
			return ENOMEM;
		/* A minimum chunk when it fits, else just what is needed. */
		uint64_t chunk = want < min_chunk && min_chunk <= limit - brk ? min_chunk : want;
		if ((err = grow_pieces (chunk, want)) != 0)
			return err;
		if (_mwpm_find_fit_locked (n, align) != MWPM_INDEX_NONE)
			return 0;
	}
	return ENOMEM;
}

int
_mwpm_grow_to_locked (uint32_t end)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	refresh_platform ();
	uint64_t limit = _mwpm.platform.memory_max < MWPM_SPACE_BYTES ? _mwpm.platform.memory_max : MWPM_SPACE_BYTES;
	uint64_t min_chunk = _mwpm_round_up (MWPM_MIN_CHUNK_BYTES, _mwpm.platform.sbrk_granule);
	uint64_t end_bytes = (uint64_t)end << MWPM_PAGE_SHIFT;
	for (int round = 0; round < GROW_ROUNDS && _mwpm.span_end < end; round++) {
		uint64_t brk;
		int err = mwpm_platform_break (&brk);
		if (err)
			return err;
		/* Only memory that joins the span's top can reach `end`: after another caller's, the
		 * pages in between would be foreign. */
		if (!_mwpm.chunk_end || brk > _mwpm.chunk_end || brk >= end_bytes)
			return ENOMEM;
		uint64_t want = _mwpm_round_up (end_bytes - brk, _mwpm.platform.sbrk_granule);
		if (brk > limit || want > limit - brk)
			return ENOMEM;
		uint64_t chunk = want < min_chunk && min_chunk <= limit - brk ? min_chunk : want;
		if ((err = grow_pieces (chunk, want)) != 0)
			return err;
	}
	return _mwpm.span_end >= end ? 0 : ENOMEM;
}

/*
 * mwpm-inspect.c: what mwpm tells about itself: stats, invariant checks, the page table as
 * runs, and stats as JSON. Nothing here changes a page.
 *
 * Invariants checked by mwpm_check_invariants() (each against an independent recount):
 *   C1 the per-state counts equal a count of the table;
 *   C2 no page outside [span_first, span_end) is FOREIGN, free or in use; none inside is NOT_OURS;
 *   C3 bit p of the index bitmap is set exactly when page p is free;
 *   C4 the summary tree agrees with the bitmap (mwpm_index_check) and covers the span, and its
 *      longest run equals the longest run found by a linear scan of the table;
 *   C5 FREE_ZEROED pages read zero (first, middle and last word of each);
 *   C6 pages_in_use_peak >= pages_in_use; the span lies in the table; chunk_end >= span end.
 */
#include "mwpm-internal.h"
#include "mono-problem-log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
_mwpm_stats_locked (MwpmStats *out)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	*out = _mwpm.stats;
	out->page_size = MWPM_PAGE_SIZE;
	out->pages_in_use = _mwpm.count[MWPM_PAGE_IN_USE];
	out->pages_free_zeroed = _mwpm.count[MWPM_PAGE_FREE_ZEROED];
	out->pages_free_dirty = _mwpm.count[MWPM_PAGE_FREE_DIRTY];
	out->pages_external = _mwpm.count[MWPM_PAGE_FOREIGN];
	out->largest_free_run = mwpm_index_largest_run (&_mwpm.index);
	out->span_first_page = _mwpm.span_first;
	out->span_end_page = _mwpm.span_end;
	out->index_nodes_visited = _mwpm.index.visits;
	out->zero_trust = _mwpm_trust_level_locked ();
	out->bytes_found_zero = atomic_load_explicit (&_mwpm.found_zero, memory_order_relaxed);
}

uint64_t
mwpm_memory_bytes (void)
{
	return mwpm_platform_memory_bytes ();
}

uintptr_t
mwpm_memory_base (void)
{
	_mwpm_enter ();
	uintptr_t base = _mwpm.platform.base;
	_mwpm_leave ();
	return base;
}

void
mwpm_get_stats (MwpmStats *out)
{
	_mwpm_enter ();
	_mwpm_stats_locked (out);
	_mwpm_leave ();
}

void
mwpm_test_break_lock_contract (void)
{
	MwpmStats s;
	_mwpm_stats_locked (&s); /* without _mwpm_enter: the check must stop the program */
}

/* Reads a word of a free page, which ASan has poisoned. */
static MONO_NO_ASAN uint64_t
peek (const void *addr)
{
	return *(const volatile uint64_t *)addr;
}

/* C2 and C3 outside the span: the pages next to it are not managed, and no bitmap bit below
 * or above it is set (pages further out are covered by C1's counts). Lock held. */
static void
check_outside_span (MonoProblemLog *log, uint32_t first, uint32_t end)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (first > 0 && _mwpm_state[first - 1] != MWPM_PAGE_NOT_OURS)
		mono_problem (log, "C2: page %u, below the span, is %s\n", first - 1, mwpm_page_state_name (_mwpm_state[first - 1]));
	if (end < MWPM_TABLE_PAGES && _mwpm_state[end] != MWPM_PAGE_NOT_OURS)
		mono_problem (log, "C2: page %u, above the span, is %s\n", end, mwpm_page_state_name (_mwpm_state[end]));
	for (uint32_t w = 0; w < first / 64; w++) {
		if (_mwpm.index.bits[w])
			mono_problem (log, "C3: bitmap word %u, below the span, has free bits\n", w);
	}
	for (uint32_t p = first / 64 * 64; p < first; p++) {
		if (_mwpm.index.bits[p / 64] >> (p % 64) & 1)
			mono_problem (log, "C3: page %u, below the span, has its bitmap bit set\n", p);
	}
	for (uint32_t p = end; p < _mwpm.index.top_pages; p++) {
		if (p % 64 == 0 && !_mwpm.index.bits[p / 64]) {
			p += 63;
			continue;
		}
		if (_mwpm.index.bits[p / 64] >> (p % 64) & 1)
			mono_problem (log, "C3: page %u, above the span, has its bitmap bit set\n", p);
	}
}

/* C1 (recount), C2 and C3 inside the span, C5 (zero pages read zero); returns the longest free
 * run found by the scan, for C4. Lock held. */
static uint32_t
check_span (MonoProblemLog *log, uint32_t first, uint32_t end, size_t *count)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	uint32_t run = 0, longest = 0;
	for (uint32_t p = first; p < end; p++) {
		unsigned s = _mwpm_state[p];
		if (s >= MWPM_PAGE_STATE_COUNT) {
			mono_problem (log, "C1: page %u has state %u\n", p, s);
			continue;
		}
		count[s]++;
		if (s == MWPM_PAGE_NOT_OURS)
			mono_problem (log, "C2: page %u is not-ours, inside the span [%u, %u)\n", p, first, end);
		bool is_free = _mwpm_state_is_free (s);
		if (is_free != (bool)(_mwpm.index.bits[p / 64] >> (p % 64) & 1))
			mono_problem (log, "C3: page %u is %s but its bitmap bit is %d\n", p, mwpm_page_state_name (s), !is_free);
		run = is_free ? run + 1 : 0;
		longest = run > longest ? run : longest;
		if (s == MWPM_PAGE_FREE_ZEROED) {
			const char *a = _mwpm_page_addr (p);
			if (peek (a) | peek (a + MWPM_PAGE_SIZE / 2) | peek (a + MWPM_PAGE_SIZE - 8))
				mono_problem (log, "C5: page %u is FREE_ZEROED but does not read zero\n", p);
		}
	}
	return longest;
}

/* C1's counts, C4 (the tree) and C6 (peaks and the last chunk). Lock held. */
static void
check_summaries (MonoProblemLog *log, uint32_t end, const size_t *count, uint32_t longest)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	for (unsigned s = 0; s < MWPM_PAGE_STATE_COUNT; s++) {
		if (s != MWPM_PAGE_NOT_OURS && count[s] != _mwpm.count[s])
			mono_problem (log, "C1: %zu pages are %s, the count says %zu\n", count[s], mwpm_page_state_name (s), _mwpm.count[s]);
	}
	if (end > _mwpm.index.top_pages)
		mono_problem (log, "C4: the tree covers %u pages, the span ends at %u\n", _mwpm.index.top_pages, end);
	if (mwpm_index_largest_run (&_mwpm.index) != longest)
		mono_problem (log, "C4: the tree's longest free run is %u, the table's %u\n", mwpm_index_largest_run (&_mwpm.index), longest);
	if (log->used < sizeof log->text) {
		log->count += mwpm_index_check (&_mwpm.index, log->text + log->used, sizeof log->text - log->used);
		log->used += strnlen (log->text + log->used, sizeof log->text - log->used);
	}
	if (_mwpm.stats.pages_in_use_peak < _mwpm.count[MWPM_PAGE_IN_USE])
		mono_problem (log, "C6: in-use peak %zu is below in use %zu\n", _mwpm.stats.pages_in_use_peak, _mwpm.count[MWPM_PAGE_IN_USE]);
	if (_mwpm.chunk_end && _mwpm.chunk_end < ((uint64_t)end << MWPM_PAGE_SHIFT))
		mono_problem (log, "C6: the last sbrk result ends at %" PRIu64 ", below the span's end\n", _mwpm.chunk_end);
}

int
mwpm_check_invariants (void)
{
	MonoProblemLog log = { 0 };
	size_t count[MWPM_PAGE_STATE_COUNT] = { 0 };
	_mwpm_enter ();
	const uint32_t first = _mwpm.span_first, end = _mwpm.span_end;
	if (end > MWPM_TABLE_PAGES || first > end) {
		mono_problem (&log, "C6: span [%u, %u) is not inside the table\n", first, end);
	} else {
		check_outside_span (&log, first, end);
		check_summaries (&log, end, count, check_span (&log, first, end, count));
	}
	_mwpm_leave ();
	return mono_problem_log_print (&log, "mwpm_check_invariants");
}

size_t
mwpm_walk_runs (size_t first_page, size_t end_page, void (*fn) (const MwpmRun *run, void *ctx), void *ctx)
{
	uint8_t piece[4096];
	MwpmRun run = { MWPM_PAGE_NOT_OURS, first_page, 0 };
	size_t runs = 0;
	if (end_page > MWPM_TABLE_PAGES)
		end_page = MWPM_TABLE_PAGES;
	for (size_t p = first_page; p < end_page; p += sizeof piece) {
		size_t n = end_page - p < sizeof piece ? end_page - p : sizeof piece;
		_mwpm_enter ();
		memcpy (piece, _mwpm_state + p, n);
		_mwpm_leave ();
		for (size_t i = 0; i < n; i++) {
			if (run.page_count && piece[i] == run.state) {
				run.page_count++;
				continue;
			}
			if (run.page_count) {
				fn (&run, ctx);
				runs++;
			}
			run.state = (MwpmPageState)piece[i];
			run.first_page = p + i;
			run.page_count = 1;
		}
	}
	if (run.page_count) {
		fn (&run, ctx);
		runs++;
	}
	return runs;
}

int
mwpm_stats_to_json (const MwpmStats *s, char *buf, size_t len)
{
	return snprintf (buf, len,
		"{\"page_size\":%zu,\"pages_in_use\":%zu,\"pages_free_zeroed\":%zu,\"pages_free_dirty\":%zu,"
		"\"pages_external\":%zu,\"largest_free_run\":%zu,\"bytes_zeroed\":%" PRIu64 ",\"bytes_found_zero\":%" PRIu64 ",\"bytes_from_sbrk\":%" PRIu64 ","
		"\"pages_in_use_peak\":%zu,\"span_first_page\":%zu,\"span_end_page\":%zu,"
		"\"alloc_calls\":%" PRIu64 ",\"alloc_failures\":%" PRIu64 ",\"at_refused\":%" PRIu64 ",\"free_calls\":%" PRIu64 ",\"free_rejected\":%" PRIu64 ","
		"\"free_noop_calls\":%" PRIu64 ",\"free_pages_ignored\":%" PRIu64 ",\"sbrk_calls\":%" PRIu64 ",\"sbrk_failures\":%" PRIu64 ","
		"\"welds\":%" PRIu64 ",\"bytes_unusable\":%" PRIu64 ",\"bytes_from_sbrk_untrusted\":%" PRIu64 ",\"break_lowered_seen\":%" PRIu64 ","
		"\"index_nodes_visited\":%" PRIu64 ",\"lock_contended\":%" PRIu64 ",\"zero_trust\":%d}",
		s->page_size, s->pages_in_use, s->pages_free_zeroed, s->pages_free_dirty, s->pages_external,
		s->largest_free_run, s->bytes_zeroed, s->bytes_found_zero, s->bytes_from_sbrk, s->pages_in_use_peak, s->span_first_page,
		s->span_end_page, s->alloc_calls, s->alloc_failures, s->at_refused, s->free_calls, s->free_rejected, s->free_noop_calls,
		s->free_pages_ignored, s->sbrk_calls, s->sbrk_failures, s->welds, s->bytes_unusable,
		s->bytes_from_sbrk_untrusted, s->break_lowered_seen, s->index_nodes_visited, s->lock_contended, s->zero_trust);
}

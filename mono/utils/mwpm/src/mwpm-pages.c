/*
 * mwpm-pages.c: the page table, the one place where page states change, and mwpm's lock.
 *
 * Page states (one byte per page of the space, MWPM_SPACE_BYTES, _mwpm_state[]), and every legal change:
 *
 *                 grow: trusted zero            alloc
 *   NOT_OURS ---------------------------> FREE_ZEROED --------+
 *      |   |                                                   v
 *      |   |   grow: not trusted            alloc           IN_USE
 *      |   +---------------------------> FREE_DIRTY -------->  |
 *      |                                     ^                 |
 *      | gap: another sbrk caller's memory   +-----------------+
 *      v                                           free
 *   FOREIGN
 *
 * NOT_OURS is the zero state (a fresh table); only mwpm_reset_for_tests() takes pages back to
 * it. Every change goes through _mwpm_set_pages(), which checks the from-state against this
 * table. FREE_ZEROED and FREE_DIRTY pages have their bit set in the index bitmap; no other page
 * has. Under ASan free pages are poisoned, so a touch of freed memory is reported.
 *
 * Locking: every entry point of mwpm takes _mwpm.lock (_mwpm_enter); printing happens outside
 * it, and so does memset, except for the dirty runs of one request beyond those it can record
 * (mwpm-alloc.c).
 */
#include "mwpm-internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

Mwpm _mwpm = { .lock = MONO_SPIN_LOCK_INIT };
uint8_t _mwpm_state[MWPM_TABLE_PAGES];
static uint64_t index_bits[MWPM_LEAVES];
static MwpmSum index_sums[2 * MWPM_LEAVES];

static const uint8_t legal_to[MWPM_PAGE_STATE_COUNT] = {
	[MWPM_PAGE_NOT_OURS] = MWPM_ST (MWPM_PAGE_FREE_ZEROED) | MWPM_ST (MWPM_PAGE_FREE_DIRTY) | MWPM_ST (MWPM_PAGE_FOREIGN),
	[MWPM_PAGE_FOREIGN] = 0,
	[MWPM_PAGE_FREE_ZEROED] = MWPM_ST (MWPM_PAGE_IN_USE),
	[MWPM_PAGE_FREE_DIRTY] = MWPM_ST (MWPM_PAGE_IN_USE),
	[MWPM_PAGE_IN_USE] = MWPM_ST (MWPM_PAGE_FREE_DIRTY),
};

void
_mwpm_init_locked (void)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	mwpm_platform_info (&_mwpm.platform);
	mwpm_index_init (&_mwpm.index, index_bits, index_sums, MWPM_LEAVES);
	_mwpm.stats.page_size = MWPM_PAGE_SIZE;
	_mwpm.initialized = true;
}

/* Appends the names of the states in `mask` to buf, separated by '|'. */
static void
state_names (char *buf, size_t len, unsigned mask)
{
	size_t used = 0;
	buf[0] = 0;
	for (unsigned s = 0; s < MWPM_PAGE_STATE_COUNT && used < len; s++) {
		if (mask & MWPM_ST (s)) {
			int k = snprintf (buf + used, len - used, "%s%s", used ? "|" : "", mwpm_page_state_name ((MwpmPageState)s));
			used += k > 0 ? (size_t)k : 0;
		}
	}
}

/* An internal inconsistency at a page: mwpm cannot continue safely. Says which page, what its
 * state is and what was expected (as Go's page allocator prints the bad summary before it
 * throws), with no stdio stream: the lock is held. */
static _Noreturn void
fatal_page (const char *what, uint32_t page, unsigned state, unsigned expected_mask, unsigned to)
{
	char expected[96], msg[320];
	state_names (expected, sizeof expected, expected_mask);
	int n = snprintf (msg, sizeof msg, "mwpm: fatal: %s: page %u (offset %#llx) is %s; expected %s, on the way to %s\n",
			  what, page, (unsigned long long)page << MWPM_PAGE_SHIFT, mwpm_page_state_name ((MwpmPageState)state),
			  expected[0] ? expected : "(none)", mwpm_page_state_name ((MwpmPageState)to));
	if (n > 0 && write (2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0)
		__builtin_trap ();
	__builtin_trap ();
}

/* Flips page p's bit in the index and its poisoning; the summaries are updated by the caller. */
static void
mark_free (uint32_t p, bool to_free)
{
	if (to_free) {
		_mwpm.index.bits[p / 64] |= (uint64_t)1 << (p % 64);
		MONO_POISON (_mwpm_page_addr (p), MWPM_PAGE_SIZE);
	} else {
		_mwpm.index.bits[p / 64] &= ~((uint64_t)1 << (p % 64));
		MONO_UNPOISON (_mwpm_page_addr (p), MWPM_PAGE_SIZE);
	}
}

uint32_t
_mwpm_set_pages (uint32_t first, uint32_t count, unsigned from_mask, unsigned to, bool strict)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	if (!count)
		return 0;
	bool to_free = _mwpm_state_is_free (to);
	uint32_t changed = 0, lo_word = UINT32_MAX, hi_word = 0;
	for (uint32_t p = first; p < first + count; p++) {
		unsigned from = _mwpm_state[p];
		if (!(from_mask & MWPM_ST (from))) {
			if (strict)
				fatal_page ("page in an unexpected state", p, from, from_mask, to);
			continue;
		}
		if (from == to)
			continue; /* asked for (in from_mask) and already there: nothing changes */
		if (!(legal_to[from] & MWPM_ST (to)))
			fatal_page ("illegal page state transition", p, from, legal_to[from], to);
		_mwpm_state[p] = (uint8_t)to;
		_mwpm.count[from]--;
		_mwpm.count[to]++;
		changed++;
		if (_mwpm_state_is_free (from) != to_free) {
			mark_free (p, to_free);
			lo_word = p / 64 < lo_word ? p / 64 : lo_word;
			hi_word = p / 64 > hi_word ? p / 64 : hi_word;
		}
	}
	if (lo_word != UINT32_MAX)
		mwpm_index_update_words (&_mwpm.index, lo_word, hi_word);
	return changed;
}

void
mwpm_reset_for_tests (void)
{
	_mwpm_enter ();
	if (_mwpm.span_end > _mwpm.span_first)
		MONO_UNPOISON (_mwpm_page_addr (_mwpm.span_first), (size_t)(_mwpm.span_end - _mwpm.span_first) << MWPM_PAGE_SHIFT);
	memset (_mwpm_state, 0, sizeof _mwpm_state);
	memset (index_bits, 0, sizeof index_bits);
	memset (index_sums, 0, sizeof index_sums);
	MonoSpinLock lock = _mwpm.lock;
	memset (&_mwpm, 0, sizeof _mwpm);
	_mwpm.lock = lock;
	_mwpm_init_locked ();
	_mwpm_leave ();
}

size_t
mwpm_table_pages (void)
{
	return MWPM_TABLE_PAGES;
}

size_t
mwpm_page_of (const void *addr)
{
	_mwpm_enter ();
	uintptr_t base = _mwpm.platform.base;
	_mwpm_leave ();
	return (size_t)(((uintptr_t)addr - base) >> MWPM_PAGE_SHIFT);
}

uint32_t
_mwpm_find_fit_locked (uint32_t n, uint32_t align)
{
	MONO_ASSERT_LOCK_HELD (&_mwpm.lock);
	return mwpm_index_find_aligned (&_mwpm.index, n, align);
}

const char *
mwpm_page_state_name (MwpmPageState state)
{
	static const char *const names[MWPM_PAGE_STATE_COUNT] = {
		[MWPM_PAGE_NOT_OURS] = "not-ours",
		[MWPM_PAGE_FOREIGN] = "foreign",
		[MWPM_PAGE_FREE_ZEROED] = "free-zeroed",
		[MWPM_PAGE_FREE_DIRTY] = "free-dirty",
		[MWPM_PAGE_IN_USE] = "in-use",
	};
	return (unsigned)state < MWPM_PAGE_STATE_COUNT ? names[state] : "invalid";
}

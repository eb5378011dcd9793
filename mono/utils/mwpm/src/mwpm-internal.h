/*
 * mwpm-internal.h: what the files of mwpm share. Reachable only from inside the module: its
 * folder is on no other library's include path (mono/utils/mwpm/meson.build).
 *
 *   mwpm-pages.c    the page table, its states (and their names) and their one place of
 *                   change; the lock; the first-fit question to the index
 *   mwpm-grow.c     growth: sbrk chunks, welding, foreign pages, zero trust
 *   mwpm-alloc.c    allocation, freeing, ownership, the grow hook
 *   mwpm-index.c    the free-page bitmap and its summary tree (mwpm-index.h)
 *   mwpm-inspect.c  stats, invariant checks, the walk over runs, stats as JSON
 *   mwpm-dump.c     page-table snapshots as JSON lines
 *
 * Calls go one way: alloc -> grow -> pages -> index; inspect and dump -> pages -> index.
 *
 * Functions named _locked, and every function here that says "Lock held.", check it
 * (MONO_ASSERT_LOCK_HELD) at check level 1 and above.
 */
#ifndef MWPM_INTERNAL_H
#define MWPM_INTERNAL_H

#include "mono-wasm-pagemgr.h"
#include "mono-sanitizers.h"
#include "mono-spin-lock.h"
#include "mwpm-index.h"
#include "mwpm-platform.h"

#include <stdatomic.h>

#define MWPM_PAGE_SHIFT ((unsigned)__builtin_ctz (MWPM_PAGE_SIZE))
#define MWPM_TABLE_PAGES ((uint32_t)(MWPM_SPACE_BYTES >> MWPM_PAGE_SHIFT))
#define MWPM_LEAVES (MWPM_TABLE_PAGES / 64)

_Static_assert ((MWPM_PAGE_SIZE & (MWPM_PAGE_SIZE - 1)) == 0, "page size must be a power of two");
_Static_assert (MWPM_PAGE_SIZE >= 4096 && MWPM_PAGE_SIZE <= (1 << 20), "page size must be 4 KiB .. 1 MiB");

/* The one instance of mwpm's state. */
typedef struct {
	MonoSpinLock lock;
	bool initialized;
	MwpmPlatformInfo platform;

	/* Span: pages [span_first, span_end) are mwpm's or foreign; none outside is either. */
	uint32_t span_first, span_end;
	/* Where mwpm's last sbrk result ended (an offset), 0 before the first. When it is not page
	 * aligned, the page holding it is the "pending" page: partly ours, not yet in the span. */
	uint64_t chunk_end;
	bool pending_trusted;    /* our part of the pending page is trusted zero */
	uint64_t break_high;     /* highest break mwpm has seen */
	bool trust_lost;         /* a lowered break was seen: monotonic no longer believed */

	size_t count[MWPM_PAGE_STATE_COUNT];
	MwpmStats stats;
	/* stats.bytes_found_zero: added outside the lock, by whoever zeroes a request's pages. */
	_Atomic uint64_t found_zero;
	uint64_t last_op_visits;

	MwpmGrowHook grow_hook;
	void *grow_hook_ctx;

	MwpmIndex index;
} Mwpm;

extern Mwpm _mwpm;
extern uint8_t _mwpm_state[MWPM_TABLE_PAGES];

/* A bit per page state, for sets of states. */
#define MWPM_ST(s) (1u << (s))

static inline bool
_mwpm_state_is_free (unsigned s)
{
	return s == MWPM_PAGE_FREE_ZEROED || s == MWPM_PAGE_FREE_DIRTY;
}

static inline void *
_mwpm_page_addr (uint32_t page)
{
	return (void *)(_mwpm.platform.base + ((uintptr_t)page << MWPM_PAGE_SHIFT));
}

static inline uint64_t
_mwpm_round_up (uint64_t x, uint64_t to)
{
	return (x + to - 1) & ~(to - 1);
}

/* ---- mwpm-pages.c ---- */

/* First use: reads the platform, sets up the index. Lock held. */
void _mwpm_init_locked (void);

/* Takes the lock (initialising mwpm on first use); counts contention. Inline: every entry
 * point of mwpm pays it. */
static inline void
_mwpm_enter (void)
{
	bool contended = mono_spin_lock (&_mwpm.lock);
	if (__builtin_expect (!_mwpm.initialized, 0))
		_mwpm_init_locked ();
	if (contended)
		_mwpm.stats.lock_contended++;
}

static inline void
_mwpm_leave (void)
{
	mono_spin_unlock (&_mwpm.lock);
}

/* The one place where page states change (the table is drawn in mwpm-pages.c). Pages of
 * [first, first + count) whose state is in from_mask become `to` (those already in `to` stay);
 * with `strict` every page must be in from_mask, or mwpm stops with the page and its state
 * named. Returns the pages changed. Lock held. */
uint32_t _mwpm_set_pages (uint32_t first, uint32_t count, unsigned from_mask, unsigned to, bool strict);

/* First fit for n pages aligned to `align` pages (a power of two), or MWPM_INDEX_NONE: a question
 * to the index, asked by allocation and by growth alike. Lock held. */
uint32_t _mwpm_find_fit_locked (uint32_t n, uint32_t align);

/* ---- mwpm-grow.c ---- */

/* The MWPM_TRUST_* level in force for the next sbrk result. Lock held. */
int _mwpm_trust_level_locked (void);

/* Grows the span until a run of n pages aligned to `align` pages is free: 0, or ENOMEM (nothing
 * changed when the run cannot fit below the maximum from the current break). Lock held. */
int _mwpm_grow_locked (uint32_t n, uint32_t align);

/* Grows the top of the span until it ends at or above page `end`: 0, or ENOMEM when sbrk fails,
 * the maximum is in the way, or the break is not where mwpm's own memory ends (another caller's
 * memory would lie in between). The new pages are free; the caller checks the range. Lock held. */
int _mwpm_grow_to_locked (uint32_t end);

/* ---- mwpm-inspect.c ---- */

/* Fills the derived fields of a stats snapshot. Lock held. */
void _mwpm_stats_locked (MwpmStats *out);

#endif

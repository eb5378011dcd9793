/*
 * mwpm-internal.h: state shared by the files of mwpm (mono-wasm-pagemgr.c: allocation and
 * growth; mwpm-inspect.c: invariants, walk, stats output). Not for other code.
 */
#ifndef MWPM_INTERNAL_H
#define MWPM_INTERNAL_H

#include "mono-wasm-pagemgr.h"
#include "mwpm-index.h"
#include "mwpm-lock.h"
#include "mwpm-platform.h"

#define MWPM_PAGE_SHIFT ((unsigned)__builtin_ctz (MWPM_PAGE_SIZE))
#define MWPM_TABLE_PAGES ((uint32_t)(MWPM_SPACE_BYTES >> MWPM_PAGE_SHIFT))
#define MWPM_LEAVES (MWPM_TABLE_PAGES / 64)

_Static_assert ((MWPM_PAGE_SIZE & (MWPM_PAGE_SIZE - 1)) == 0, "page size must be a power of two");
_Static_assert (MWPM_PAGE_SIZE >= 4096 && MWPM_PAGE_SIZE <= (1 << 20), "page size must be 4 KiB .. 1 MiB");

typedef struct {
	MwpmLock lock;
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
	uint64_t last_op_visits;

	MwpmGrowHook grow_hook;
	void *grow_hook_ctx;

	MwpmIndex index;
} Mwpm;

extern Mwpm _mwpm;
extern uint8_t _mwpm_state[MWPM_TABLE_PAGES];

/* Takes the lock (initialising mwpm on first use); counts contention. */
void _mwpm_enter (void);
void _mwpm_leave (void);

/* The MWPM_TRUST_* level in force for the next sbrk result. Lock held. */
int _mwpm_trust_level_locked (void);

/* Fills the derived fields of a stats snapshot. Lock held. */
void _mwpm_stats_locked (MwpmStats *out);

#endif

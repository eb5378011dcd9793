/*
 * sgen-memgov.c: the memory governor decides when to collect and enforces the heap limit.
 *
 * Minor collections run when the nursery is full.
 * A major collection runs when the old generation (major heap + LOS) has grown by its allowance
 * since the last major collection:
 *
 *   allowance = max (SGEN_MIN_ALLOWANCE_NURSERIES * nursery size, live_old_after_major / 2)
 *
 * clipped so that live + allowance stays under the heap limit when one is set. Half the live
 * size means the heap may grow by 50% of what survived between major collections: the
 * usual space/time trade of mark-sweep collectors (mono's sgen uses a third of the heap);
 * the nursery-sized floor keeps small heaps from collecting after every minor.
 *
 * The heap limit counts OS bytes of the heap accounts (nursery, major, LOS). An allocation that
 * would pass it first runs a major collection (sgen-gc.c), then fails with a clear error.
 *
 * Memory pressure: when the mmap backend announces that it must grow by N bytes (the grow hook,
 * sgen-gc.c) from outside sgen, no collection may run there; the governor remembers N, and the
 * next allocation runs a major collection if the old generation grew by at least N since the
 * last one (a collection that can give that much back).
 */
#include "sgen-internal.h"

#define SGEN_MIN_ALLOWANCE_NURSERIES 4

bool _sgen_collecting;

static struct {
	uint64_t max_heap;
	uint64_t min_allowance;
	uint64_t allowance;
	uint64_t old_since_major;
	uint64_t pressure;   /* the largest growth the backend announced since the last major */
} gov;

void
_sgen_memgov_init (uint64_t max_heap, size_t nursery_size)
{
	gov.max_heap = max_heap;
	gov.min_allowance = (uint64_t) SGEN_MIN_ALLOWANCE_NURSERIES * nursery_size;
	gov.allowance = gov.min_allowance;
	gov.old_since_major = 0;
	gov.pressure = 0;
	_sgen_collecting = false;
}

uint64_t
_sgen_memgov_max_heap (void)
{
	return gov.max_heap;
}

bool
_sgen_memgov_over_limit (uint64_t heap_bytes, size_t size)
{
	return gov.max_heap && heap_bytes + size > gov.max_heap;
}

void
_sgen_memgov_old_allocated (size_t bytes)
{
	gov.old_since_major += bytes;
}

uint64_t
_sgen_memgov_old_since_major (void)
{
	return gov.old_since_major;
}

bool
_sgen_memgov_major_needed (void)
{
	return gov.old_since_major >= gov.allowance;
}

void
_sgen_memgov_major_done (uint64_t live_old_bytes, uint64_t heap_bytes)
{
	uint64_t a = live_old_bytes / 2;
	if (a < gov.min_allowance)
		a = gov.min_allowance;
	if (gov.max_heap) {
		uint64_t room = gov.max_heap > heap_bytes ? gov.max_heap - heap_bytes : 0;
		/* Collect before the limit is reached, but not after every allocation. */
		if (a > room)
			a = room > SGEN_MIN_BLOCK_SIZE ? room : SGEN_MIN_BLOCK_SIZE;
	}
	gov.allowance = a;
	gov.old_since_major = 0;
	gov.pressure = 0;
}

void
_sgen_memgov_pressure (uint64_t bytes)
{
	if (bytes > gov.pressure)
		gov.pressure = bytes;
}

bool
_sgen_memgov_pressure_major_needed (void)
{
	return gov.pressure && gov.old_since_major >= gov.pressure;
}

/*
 * sgen-records.c: fixed-size records for the collector's own metadata (the major heap's batch
 * records), carved from OS memory (account INTERNAL) in slabs, never from malloc.
 *
 * Why not malloc: on wasm, a malloc that grows its heap between two of the page layer's sbrk
 * calls splits its memory, and the leftover pages of each chunk are stranded below the foreign ones
 * (measured on wasm with sgen-stress --workloads=startup: 150 MB of linear memory with a malloc
 * per batch, 105 MB without, the same as the libc-mmap mode).
 * Free records are chained through their first word; slabs go back to the OS at shutdown.
 */
#include "sgen-internal.h"

#include <string.h>

typedef struct Slab {
	struct Slab *next;
	size_t bytes;
} __attribute__ ((aligned (16))) Slab;

#define SLAB_MIN_BYTES (64u * 1024u)

static struct {
	Slab *slabs;
	void *free;
	size_t record;
} P;

void
_sgen_records_init (size_t record_size)
{
	P.record = sgen_align_up (record_size, 16);
}

void *
_sgen_records_alloc (void)
{
	if (!P.free) {
		size_t bytes = sizeof (Slab) + 8 * P.record;
		if (bytes < SLAB_MIN_BYTES)
			bytes = SLAB_MIN_BYTES;
		Slab *slab = sgen_alloc_os_memory (bytes, 0, "GC metadata records", MONO_MEM_ACCOUNT_INTERNAL);
		if (!slab)
			return NULL;
		slab->next = P.slabs;
		slab->bytes = bytes;
		P.slabs = slab;
		for (char *r = (char *) (slab + 1); r + P.record <= (char *) slab + bytes; r += P.record) {
			*(void **) r = P.free;
			P.free = r;
		}
	}
	void *r = P.free;
	P.free = *(void **) r;
	memset (r, 0, P.record);
	return r;
}

void
_sgen_records_free (void *record)
{
	*(void **) record = P.free;
	P.free = record;
}

void
_sgen_records_shutdown (void)
{
	while (P.slabs) {
		Slab *next = P.slabs->next;
		sgen_free_os_memory (P.slabs, P.slabs->bytes, 0, MONO_MEM_ACCOUNT_INTERNAL);
		P.slabs = next;
	}
	P.free = NULL;
}

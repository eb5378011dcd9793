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
} records;

void
_sgen_records_init (size_t record_size)
{
	records.record = sgen_align_up (record_size, 16);
}

void *
_sgen_records_alloc (void)
{
	if (!records.free) {
		size_t bytes = sizeof (Slab) + 8 * records.record;
		if (bytes < SLAB_MIN_BYTES)
			bytes = SLAB_MIN_BYTES;
		/* Whole backend pages: the layer maps them anyway, and the accounts then agree. */
		bytes = sgen_align_up (bytes, mono_pagesize ());
		Slab *slab = sgen_alloc_os_memory (bytes, 0, "GC metadata records", MONO_MEM_ACCOUNT_INTERNAL);
		if (!slab)
			return NULL;
		slab->next = records.slabs;
		slab->bytes = bytes;
		records.slabs = slab;
		for (char *r = (char *) (slab + 1); r + records.record <= (char *) slab + bytes; r += records.record) {
			*(void **) r = records.free;
			records.free = r;
		}
	}
	void *r = records.free;
	records.free = *(void **) r;
	memset (r, 0, records.record);
	return r;
}

void
_sgen_records_free (void *record)
{
	*(void **) record = records.free;
	records.free = record;
}

void
_sgen_records_shutdown (void)
{
	while (records.slabs) {
		Slab *next = records.slabs->next;
		sgen_free_os_memory (records.slabs, records.slabs->bytes, 0, MONO_MEM_ACCOUNT_INTERNAL);
		records.slabs = next;
	}
	records.free = NULL;
}

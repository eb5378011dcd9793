/*
 * sgen-block-map.c: the major heap's blocks by address. An open-addressing hash (linear
 * probing, at most half full) from the base of every block that is not RELEASED to its record.
 *
 * Batches cannot be searched by range instead: once part of a batch went back to the OS, the
 * OS may place a new batch or a large object in the hole, so batch extents overlap.
 * Invariant: every key is a multiple of SGEN_BLOCK_SIZE and appears once; each entry sits in
 * the probe run that starts at its home slot (removal shifts later entries back to keep it so).
 */
#include "sgen-internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	uintptr_t key;   /* 0: empty */
	void *value;
} Entry;

static struct {
	Entry *slots;
	size_t cap, count;
	unsigned log2cap;
} H;

static size_t
home (uintptr_t key)
{
	return (size_t) (((uint64_t) (key / SGEN_BLOCK_SIZE) * 0x9e3779b97f4a7c15ull) >> (64 - H.log2cap));
}

static void
put (uintptr_t key, void *value)
{
	size_t i = home (key);
	while (H.slots[i].key)
		i = (i + 1) & (H.cap - 1);
	H.slots[i] = (Entry) { key, value };
	H.count++;
}

static void
grow (void)
{
	Entry *old = H.slots;
	size_t oldcap = H.cap;
	H.log2cap = H.log2cap ? H.log2cap + 1 : 10;
	H.cap = (size_t) 1 << H.log2cap;
	H.slots = _sgen_xrealloc (NULL, H.cap * sizeof (Entry));
	memset (H.slots, 0, H.cap * sizeof (Entry));
	H.count = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key)
			put (old[i].key, old[i].value);
	}
	free (old);
}

void
_sgen_block_map_insert (uintptr_t base, void *value)
{
	if (2 * (H.count + 1) > H.cap)
		grow ();
	put (base, value);
}

static size_t
find (uintptr_t key)
{
	if (!H.cap)
		return SIZE_MAX;
	for (size_t i = home (key);; i = (i + 1) & (H.cap - 1)) {
		if (!H.slots[i].key)
			return SIZE_MAX;
		if (H.slots[i].key == key)
			return i;
	}
}

void *
_sgen_block_map_find (uintptr_t base)
{
	size_t i = find (base);
	return i == SIZE_MAX ? NULL : H.slots[i].value;
}

void
_sgen_block_map_remove (uintptr_t base)
{
	size_t i = find (base);
	if (i == SIZE_MAX)
		_sgen_fatal ("block %p missing from the block map", (void *) base);
	H.slots[i].key = 0;
	H.count--;
	for (size_t j = (i + 1) & (H.cap - 1); H.slots[j].key; j = (j + 1) & (H.cap - 1)) {
		size_t h = home (H.slots[j].key);
		/* The entry at j may move to the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!stays) {
			H.slots[i] = H.slots[j];
			H.slots[j].key = 0;
			i = j;
		}
	}
}

size_t
_sgen_block_map_count (void)
{
	return H.count;
}

void
_sgen_block_map_clear (void)
{
	free (H.slots);
	memset (&H, 0, sizeof (H));
}

/*
 * sgen-block-map.c: the major heap's blocks by address. An open-addressing hash (linear
 * probing, at most half full) from the base of every block that is not RELEASED to its record.
 *
 * Batches cannot be searched by range instead: once part of a batch went back to the OS, the
 * OS may place a new batch or a large object in the hole, so batch extents overlap.
 * Invariant: every key is a multiple of the block size (so of SGEN_MIN_BLOCK_SIZE) and appears once; each entry sits in
 * the probe run that starts at its home slot (removal shifts later entries back to keep it so).
 */
#include "sgen-internal.h"

#include <string.h>

typedef struct {
	uintptr_t key;   /* 0: empty */
	void *value;
} Entry;

static struct {
	Entry *slots;
	size_t cap, count;
	unsigned log2cap;
} block_map;

static size_t
home (uintptr_t key)
{
	return (size_t) (((uint64_t) (key / SGEN_MIN_BLOCK_SIZE) * 0x9e3779b97f4a7c15ull) >> (64 - block_map.log2cap));
}

static void
put (uintptr_t key, void *value)
{
	size_t i = home (key);
	while (block_map.slots[i].key)
		i = (i + 1) & (block_map.cap - 1);
	block_map.slots[i] = (Entry) { key, value };
	block_map.count++;
}

static void
grow (void)
{
	Entry *old = block_map.slots;
	size_t oldcap = block_map.cap;
	block_map.log2cap = block_map.log2cap ? block_map.log2cap + 1 : 10;
	block_map.cap = (size_t) 1 << block_map.log2cap;
	block_map.slots = _sgen_internal_alloc (block_map.cap * sizeof (Entry));
	block_map.count = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key)
			put (old[i].key, old[i].value);
	}
	_sgen_internal_free (old, oldcap * sizeof (Entry));
}

void
_sgen_block_map_insert (uintptr_t base, void *value)
{
	if (2 * (block_map.count + 1) > block_map.cap)
		grow ();
	put (base, value);
}

static size_t
find (uintptr_t key)
{
	if (!block_map.cap)
		return SIZE_MAX;
	for (size_t i = home (key);; i = (i + 1) & (block_map.cap - 1)) {
		if (!block_map.slots[i].key)
			return SIZE_MAX;
		if (block_map.slots[i].key == key)
			return i;
	}
}

void *
_sgen_block_map_find (uintptr_t base)
{
	size_t i = find (base);
	return i == SIZE_MAX ? NULL : block_map.slots[i].value;
}

void
_sgen_block_map_remove (uintptr_t base)
{
	size_t i = find (base);
	if (i == SIZE_MAX)
		_sgen_fatal ("block %p missing from the block map", (void *) base);
	block_map.slots[i].key = 0;
	block_map.count--;
	for (size_t j = (i + 1) & (block_map.cap - 1); block_map.slots[j].key; j = (j + 1) & (block_map.cap - 1)) {
		size_t h = home (block_map.slots[j].key);
		/* The entry at j may move to the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!stays) {
			block_map.slots[i] = block_map.slots[j];
			block_map.slots[j].key = 0;
			i = j;
		}
	}
}

size_t
_sgen_block_map_count (void)
{
	return block_map.count;
}

void
_sgen_block_map_clear (void)
{
	_sgen_internal_free (block_map.slots, block_map.cap * sizeof (Entry));
	memset (&block_map, 0, sizeof (block_map));
}

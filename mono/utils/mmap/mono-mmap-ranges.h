/*
 * mono-mmap-ranges.h: the mmap layer's registry of live mappings, a sorted array of ranges.
 *
 * A range is a start and a length, never an end: [start, start + len) may reach the top of the
 * address space (on wasm32 a mapping can end at 4 GiB, where start + len is 0 in uintptr_t), so
 * every test below is written with differences, which cannot wrap.
 *
 * Invariant (mono_mmap_ranges_check): ranges are non-empty, sorted by start, and each one ends
 * at or before the next one starts. Not thread-safe: the layer's lock protects it.
 */
#ifndef MONO_UTILS_MONO_MMAP_RANGES_H
#define MONO_UTILS_MONO_MMAP_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uintptr_t start;
	size_t len;
	uintptr_t orig;     /* the backend's whole mapping, for backends that free only whole ones */
	size_t orig_len;
	uint8_t type;       /* MonoMemAccountType */
	bool whole_only;    /* the backend cannot free part of it */
} MonoMmapRange;

typedef struct {
	MonoMmapRange *items;
	size_t count, capacity;
} MonoMmapRanges;

/* True when [addr, addr + len) lies inside r (len may reach the top of the address space). */
static inline bool
mono_mmap_range_holds (const MonoMmapRange *r, uintptr_t addr, size_t len)
{
	return addr >= r->start && addr - r->start <= r->len && len <= r->len - (addr - r->start);
}

/* Index of the first range that ends above addr (count when none does). */
size_t mono_mmap_ranges_find (const MonoMmapRanges *rs, uintptr_t addr);

/* Inserts r in order; needs count < capacity. */
void mono_mmap_ranges_insert (MonoMmapRanges *rs, MonoMmapRange r);

/* Takes [addr, addr + len) out of range i, which holds it: the whole range goes, or its head or
 * tail shrinks, or a middle splits it in two (which needs count < capacity). */
void mono_mmap_ranges_cut (MonoMmapRanges *rs, size_t i, uintptr_t addr, size_t len);

/* True when cutting [addr, addr + len) out of range i would split it (needs one more slot). */
bool mono_mmap_ranges_cut_splits (const MonoMmapRanges *rs, size_t i, uintptr_t addr, size_t len);

/* Counts ranges that break the invariant (empty, unsorted, overlapping, not page-aligned);
 * stores the first bad index in *bad. */
int mono_mmap_ranges_check (const MonoMmapRanges *rs, size_t page, size_t *bad);

#endif

/*
 * mono-mmap-ranges.c: the registry of live mappings (see mono-mmap-ranges.h).
 */
#include "mono-mmap-ranges.h"

#include <string.h>

/* Does range r end above addr? Written without r->start + r->len, which may wrap to 0. */
static bool
ends_above (const MonoMmapRange *r, uintptr_t addr)
{
	return r->start > addr || addr - r->start < r->len;
}

size_t
mono_mmap_ranges_find (const MonoMmapRanges *rs, uintptr_t addr)
{
	size_t lo = 0, hi = rs->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ends_above (&rs->items[mid], addr))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
insert_at (MonoMmapRanges *rs, size_t i, MonoMmapRange r)
{
	memmove (&rs->items[i + 1], &rs->items[i], (rs->count - i) * sizeof (MonoMmapRange));
	rs->items[i] = r;
	rs->count++;
}

void
mono_mmap_ranges_insert (MonoMmapRanges *rs, MonoMmapRange r)
{
	insert_at (rs, mono_mmap_ranges_find (rs, r.start), r);
}

bool
mono_mmap_ranges_cut_splits (const MonoMmapRanges *rs, size_t i, uintptr_t addr, size_t len)
{
	const MonoMmapRange *r = &rs->items[i];
	size_t head = addr - r->start;
	return head > 0 && len < r->len - head;
}

void
mono_mmap_ranges_cut (MonoMmapRanges *rs, size_t i, uintptr_t addr, size_t len)
{
	MonoMmapRange *r = &rs->items[i];
	size_t head = addr - r->start, tail = r->len - head - len;
	if (!head && !tail) {
		memmove (&rs->items[i], &rs->items[i + 1], (rs->count - i - 1) * sizeof (MonoMmapRange));
		rs->count--;
	} else if (!head) {
		r->start = addr + len; /* tail > 0: the sum is below the range's end, no wrap */
		r->len = tail;
	} else if (!tail) {
		r->len = head;
	} else {
		MonoMmapRange rest = *r;
		rest.start = addr + len;
		rest.len = tail;
		r->len = head;
		insert_at (rs, i + 1, rest);
	}
}

int
mono_mmap_ranges_check (const MonoMmapRanges *rs, size_t page, size_t *bad)
{
	int problems = 0;
	for (size_t i = 0; i < rs->count; i++) {
		const MonoMmapRange *r = &rs->items[i];
		bool ok = r->len > 0 && (r->start & (page - 1)) == 0 && (r->len & (page - 1)) == 0;
		if (i > 0) {
			const MonoMmapRange *prev = &rs->items[i - 1];
			ok = ok && prev->start < r->start && prev->len <= r->start - prev->start;
		}
		if (!ok && problems++ == 0)
			*bad = i;
	}
	return problems;
}

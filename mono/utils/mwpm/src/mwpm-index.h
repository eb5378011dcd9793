/*
 * mwpm-index.h: the free-page index of mwpm: a bitmap of free pages and a binary tree of
 * free-run summaries over it, in the manner of Go's page allocator (mpagealloc.go).
 *
 * Leaves are the 64-bit words of the bitmap (bit i of word w is page 64w + i, 1 = free). Each
 * node summarises the pages below it as three run lengths:
 *
 *     start: free pages at its low end      max: longest free run      end: free pages at its high end
 *
 *     merge(l, r), each child of h pages:
 *        start = l.start == h ? h + r.start : l.start
 *        end   = r.end   == h ? h + l.end   : r.end
 *        max   = max(l.max, r.max, l.end + r.start)
 *
 * so the first run of n free pages is found by one descent (O(log n) nodes): go left while the
 * left child holds a run of n; else the run may cross the middle (l.end + r.start >= n, and it
 * then starts at the middle minus l.end); else go right.
 *
 * The tree is stored as an implicit heap (node k has children 2k and 2k+1; leaves are nodes
 * LEAVES .. 2*LEAVES-1). Searches and updates start from `top`, the smallest subtree holding
 * every managed page: managed pages form a prefix [0, span_end) of the space, since pages below
 * the span are never free. The cost of an operation therefore grows with log(managed pages),
 * not with log(2^32 / page size).
 *
 * Invariants (mwpm_index_check):
 *   I1 leaf k summarises word k - LEAVES;   I2 every node under top is merge(children);
 *   I3 no bit is set at or beyond top_pages;  I4 nodes outside top's subtree are never read.
 * Not thread-safe: mwpm's lock protects it.
 */
#ifndef MWPM_INDEX_H
#define MWPM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t start, max, end;
} MwpmSum;

typedef struct {
	uint64_t *bits;      /* leaves words */
	MwpmSum *sum;        /* 2 * leaves nodes; sum[0] unused */
	uint32_t leaves;     /* a power of two */
	uint32_t top;        /* root of the searched subtree */
	uint32_t top_pages;  /* pages under top: [0, top_pages) */
	uint64_t visits;     /* nodes read or written, in total */
} MwpmIndex;

#define MWPM_INDEX_NONE UINT32_MAX

/* Storage must be zeroed. */
void mwpm_index_init (MwpmIndex *ix, uint64_t *bits, MwpmSum *sum, uint32_t leaves);

/* Grows `top` until it covers pages [0, end_page). */
void mwpm_index_cover (MwpmIndex *ix, uint32_t end_page);

/* Sets (free) or clears the bits of [first, first + count), then updates the summaries.
 * The pages must lie under top. */
void mwpm_index_set_range (MwpmIndex *ix, uint32_t first, uint32_t count, bool free);

/* Marks bits changed in place by the caller in words [first_word, last_word]: updates the
 * summaries above them. */
void mwpm_index_update_words (MwpmIndex *ix, uint32_t first_word, uint32_t last_word);

/* First page of the lowest run of n >= 1 free pages, or MWPM_INDEX_NONE. */
uint32_t mwpm_index_find (MwpmIndex *ix, uint32_t n);

/* The lowest page q, a multiple of align (a power of two), with [q, q + n) free, or
 * MWPM_INDEX_NONE. Exact: it finds every aligned fit, including those in runs shorter than
 * n + align - 1. */
uint32_t mwpm_index_find_aligned (MwpmIndex *ix, uint32_t n, uint32_t align);

/* Length of the free run that ends just below `end_page`. */
uint32_t mwpm_index_run_ending_at (MwpmIndex *ix, uint32_t end_page);

/* Longest free run under top. */
uint32_t mwpm_index_largest_run (MwpmIndex *ix);

/* Checks I1-I3; writes up to `len` bytes of findings into buf; returns the number of problems. */
int mwpm_index_check (const MwpmIndex *ix, char *buf, size_t len);

#endif

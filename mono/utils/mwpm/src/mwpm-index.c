/*
 * mwpm-index.c: the free-run summary tree (see mwpm-index.h for the picture and invariants).
 *
 * Bit conventions: bit i of leaf word w is page 64w + i, 1 = free, so "low" bits are low
 * addresses. A run's start is counted with ctz (trailing zeros: from bit 0 up) and its end with
 * clz (leading zeros: from bit 63 down). Summaries hold exact lengths, never hints.
 */
#include "mwpm-index.h"

#include <stdio.h>
#include <string.h>

static inline uint32_t
max3 (uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t m = a > b ? a : b;
	return m > c ? m : c;
}

/* Longest run of set bits in w. Strategy: skip the zeros below the lowest run (shift them
 * out with ctz), measure the run (ctz of the complement counts its ones), shift the run out,
 * repeat: one step per run, at most 32 steps for a word of alternating bits. */
static uint32_t
word_max_run (uint64_t w)
{
	uint32_t best = 0;
	while (w) {
		w >>= __builtin_ctzll (w);
		uint32_t ones = ~w == 0 ? 64 : (uint32_t)__builtin_ctzll (~w);
		if (ones > best)
			best = ones;
		if (ones == 64)
			break;
		w >>= ones;
	}
	return best;
}

/* A leaf's summary: start = ones at the low end (ctz of the complement), end = ones at the high
 * end (clz of the complement), max = the longest run. A full word is the one case where the
 * complement is 0, for which ctz and clz are undefined. */
static MwpmSum
word_summary (uint64_t w)
{
	MwpmSum s;
	if (w == ~(uint64_t)0) {
		s.start = s.max = s.end = 64;
	} else {
		s.start = (uint32_t)__builtin_ctzll (~w);
		s.end = (uint32_t)__builtin_clzll (~w);
		s.max = word_max_run (w);
	}
	return s;
}

/*
 * Lowest bit p such that bits p .. p+n-1 of w are all set (1 <= n <= 64), or -1.
 * Strategy: shrink every run of ones by n - 1 from the top. After m &= m >> s, bit p of m is set
 * only if bits p .. p+s of the old m were all set, so a mask meaning "a run of `have` ones
 * starts here" becomes one meaning "a run of have + s ones starts here". Doubling `have` (and
 * taking only what is still missing in the last step) reaches n in log2(n) steps; the lowest
 * bit left is the lowest start of a run of n (ctz). Ones shifted in from above are zeros, so no
 * run is claimed past bit 63.
 */
static int
word_find (uint64_t w, uint32_t n)
{
	uint64_t m = w;
	uint32_t have = 1;
	while (have < n && m) {
		uint32_t step = have < n - have ? have : n - have;
		m &= m >> step;
		have += step;
	}
	return m ? __builtin_ctzll (m) : -1;
}

static inline MwpmSum
merge (MwpmSum l, MwpmSum r, uint32_t half)
{
	MwpmSum s;
	s.start = l.start == half ? half + r.start : l.start;
	s.end = r.end == half ? half + l.end : r.end;
	s.max = max3 (l.max, r.max, l.end + r.start);
	return s;
}

void
mwpm_index_init (MwpmIndex *ix, uint64_t *bits, MwpmSum *sum, uint32_t leaves)
{
	ix->bits = bits;
	ix->sum = sum;
	ix->leaves = leaves;
	ix->top = leaves;   /* the first leaf */
	ix->top_pages = 64;
	ix->visits = 0;
}

void
mwpm_index_cover (MwpmIndex *ix, uint32_t end_page)
{
	/* Each step doubles the searched subtree: its parent becomes top. The sibling joining at
	 * each step holds no free page (I3), so its stored summaries (all zero) are valid without a
	 * visit, and the parent's summary is one merge. */
	while (ix->top_pages < end_page && ix->top > 1) {
		uint32_t half = ix->top_pages;
		ix->top >>= 1;
		ix->top_pages <<= 1;
		ix->sum[ix->top] = merge (ix->sum[2 * ix->top], ix->sum[2 * ix->top + 1], half);
		ix->visits++;
	}
}

void
mwpm_index_update_words (MwpmIndex *ix, uint32_t first_word, uint32_t last_word)
{
	uint32_t lo = ix->leaves + first_word, hi = ix->leaves + last_word;
	for (uint32_t k = lo; k <= hi; k++)
		ix->sum[k] = word_summary (ix->bits[k - ix->leaves]);
	ix->visits += hi - lo + 1;
	uint32_t half = 64;
	while (lo > ix->top) {
		lo >>= 1;
		hi >>= 1;
		for (uint32_t k = lo; k <= hi; k++)
			ix->sum[k] = merge (ix->sum[2 * k], ix->sum[2 * k + 1], half);
		ix->visits += hi - lo + 1;
		half <<= 1;
	}
}

void
mwpm_index_set_range (MwpmIndex *ix, uint32_t first, uint32_t count, bool free)
{
	if (!count)
		return;
	uint32_t end = first + count;
	for (uint32_t w = first / 64; w <= (end - 1) / 64; w++) {
		uint32_t lo = w * 64 > first ? 0 : first % 64;
		uint32_t hi = (w + 1) * 64 <= end ? 64 : end % 64; /* exclusive */
		uint64_t mask = (hi == 64 ? ~(uint64_t)0 : (((uint64_t)1 << hi) - 1)) & ~(((uint64_t)1 << lo) - 1);
		if (free)
			ix->bits[w] |= mask;
		else
			ix->bits[w] &= ~mask;
	}
	mwpm_index_update_words (ix, first / 64, (end - 1) / 64);
}

uint32_t
mwpm_index_find (MwpmIndex *ix, uint32_t n)
{
	uint32_t node = ix->top;
	ix->visits++;
	if (n == 0 || ix->sum[node].max < n)
		return MWPM_INDEX_NONE;
	uint32_t pos = 0, pages = ix->top_pages;
	while (node < ix->leaves) {
		uint32_t l = 2 * node, r = l + 1, half = pages / 2;
		ix->visits += 2;
		if (ix->sum[l].max >= n) {
			node = l;
		} else if (ix->sum[l].end + ix->sum[r].start >= n) {
			return pos + half - ix->sum[l].end;
		} else {
			node = r;
			pos += half;
		}
		pages = half;
	}
	int bit = word_find (ix->bits[node - ix->leaves], n);
	return bit < 0 ? MWPM_INDEX_NONE : pos + (uint32_t)bit;
}

/* In a leaf word (pages pos .. pos + 63): the lowest bit b, a multiple of align (< 64), whose
 * run of set bits, continued by `after` free pages past the word's top, is at least n. Shifting
 * w right by b puts bit b at bit 0; the ones from there up are ctz of the complement (the
 * vacated top bits are zeros, so the complement has a set bit there and ctz is defined unless
 * b is 0 and the word is full). A run that reaches bit 63 continues into `after`. */
static uint32_t
word_find_aligned (uint64_t w, uint32_t pos, uint32_t n, uint32_t align, uint64_t after)
{
	for (uint32_t b = 0; b < 64; b += align) {
		uint64_t rest = w >> b;
		/* The top b bits of rest are zero, so ~rest has a set bit unless b == 0 and w is full. */
		uint64_t ones = ~rest == 0 ? 64 : (uint64_t)__builtin_ctzll (~rest);
		if (b + ones == 64)
			ones += after;
		if (ones >= n)
			return pos + b;
	}
	return MWPM_INDEX_NONE;
}

/*
 * The lowest q in the subtree of `node` (pages [pos, pos + pages)) with q % align == 0 whose
 * free run, continued by the `after` free pages that follow the subtree, holds n pages.
 * Strategy: a subtree can hold such a q only if it holds a run of n (max) or its top run
 * reaches on into what follows (end + after); subtrees no larger than align hold one aligned
 * page at most, their first, whose run is `start` (or the whole subtree and what follows).
 * Left before right, so the first answer is the lowest.
 */
static uint32_t
find_aligned_in (MwpmIndex *ix, uint32_t node, uint32_t pos, uint32_t pages, uint32_t n, uint32_t align, uint64_t after)
{
	MwpmSum s = ix->sum[node];
	ix->visits++;
	if (s.max < n && s.end + after < n)
		return MWPM_INDEX_NONE;
	if (pages <= align) {
		if (pos % align)
			return MWPM_INDEX_NONE;
		uint64_t run = s.start == pages ? pages + after : s.start;
		return run >= n ? pos : MWPM_INDEX_NONE;
	}
	if (node >= ix->leaves)
		return word_find_aligned (ix->bits[node - ix->leaves], pos, n, align, after);
	uint32_t half = pages / 2, l = 2 * node, r = l + 1;
	uint64_t after_left = ix->sum[r].start == half ? half + after : ix->sum[r].start;
	uint32_t q = find_aligned_in (ix, l, pos, half, n, align, after_left);
	return q != MWPM_INDEX_NONE ? q : find_aligned_in (ix, r, pos + half, half, n, align, after);
}

uint32_t
mwpm_index_find_aligned (MwpmIndex *ix, uint32_t n, uint32_t align)
{
	if (align <= 1)
		return mwpm_index_find (ix, n);
	if (n == 0)
		return MWPM_INDEX_NONE;
	return find_aligned_in (ix, ix->top, 0, ix->top_pages, n, align, 0);
}

/* The free run ending just below end_page, walking down word by word. Strategy: shift the
 * `used` bits below end_page to the top of the word and fill the vacated low bits with ones, so
 * that clz of the complement counts the ones from the top: the run inside this word. A run that
 * fills all `used` bits goes on into the word below. */
uint32_t
mwpm_index_run_ending_at (MwpmIndex *ix, uint32_t end_page)
{
	uint32_t run = 0, p = end_page;
	while (p > 0) {
		uint32_t w = (p - 1) / 64, used = (p - 1) % 64 + 1; /* bits below p in word w */
		uint64_t word = ix->bits[w];
		if (used < 64)
			word = (word << (64 - used)) | (((uint64_t)1 << (64 - used)) - 1);
		/* the top `used` bits now hold pages 64w .. p-1 */
		uint32_t ones = ~word == 0 ? 64 : (uint32_t)__builtin_clzll (~word);
		if (ones > used)
			ones = used;
		run += ones;
		if (ones < used)
			break;
		p -= used;
	}
	return run;
}

uint32_t
mwpm_index_largest_run (MwpmIndex *ix)
{
	return ix->sum[ix->top].max;
}

static int
same (MwpmSum a, MwpmSum b)
{
	return a.start == b.start && a.max == b.max && a.end == b.end;
}

int
mwpm_index_check (const MwpmIndex *ix, char *buf, size_t len)
{
	int problems = 0;
	size_t used = 0;
#define REPORT(...) do { problems++; if (used < len) { int k_ = snprintf (buf + used, len - used, __VA_ARGS__); if (k_ > 0) used += (size_t)k_; } } while (0)
	uint32_t top_words = ix->top_pages / 64;
	for (uint32_t w = top_words; w < ix->leaves; w++) {
		if (ix->bits[w])
			REPORT ("index: word %u beyond top has free bits\n", w);
	}
	/* Leaves under top, then each level up to top. */
	uint32_t lo = ix->leaves, count = top_words, half = 64;
	for (uint32_t k = lo; k < lo + count; k++) {
		if (!same (ix->sum[k], word_summary (ix->bits[k - ix->leaves])))
			REPORT ("index: leaf %u does not summarise its word\n", k - ix->leaves);
	}
	while (lo > ix->top) {
		lo >>= 1;
		count = count > 1 ? count / 2 : 1;
		for (uint32_t k = lo; k < lo + count; k++) {
			MwpmSum want = merge (ix->sum[2 * k], ix->sum[2 * k + 1], half);
			if (!same (ix->sum[k], want))
				REPORT ("index: node %u is {%u,%u,%u}, children give {%u,%u,%u}\n", k,
					ix->sum[k].start, ix->sum[k].max, ix->sum[k].end, want.start, want.max, want.end);
		}
		half <<= 1;
	}
#undef REPORT
	return problems;
}

/*
 * mwpm-model.c: the model-based random test (see mwpm-model.h).
 *
 * Model state, per page of the table (independent of mwpm's own encoding):
 *   M_HELD     the test holds it (owner = allocation id; canaries at both ends)
 *   M_RELEASED the test freed it: mwpm must report it free-dirty until handed out again
 *   M_FOREIGN  a foreign sbrk caller (the test, acting as one) owns bytes of it
 * Pages the model never saw are unknown: mwpm may hold them free-zeroed.
 */
#include "mwpm-model.h"

#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "test-rng.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PAGE MWPM_PAGE_SIZE
#define MAX_PAGES (MWPM_SPACE_BYTES / PAGE)
#define MAX_LIVE 512
#define MAX_FOREIGN 64

enum { M_UNKNOWN = 0, M_HELD, M_RELEASED, M_FOREIGN };

typedef struct {
	uint32_t first, count, id;
} Live;

typedef struct {
	uint64_t offset, size;
	uint8_t fill;
} Foreign;

static uint8_t m_page[MAX_PAGES];
static uint32_t m_top;   /* every page the model ever marked is below it */
static uint32_t m_owner[MAX_PAGES];
static Live live[MAX_LIVE];
static unsigned nlive;
static Foreign foreign[MAX_FOREIGN];
static unsigned nforeign;
static uint64_t m_held, m_released, m_bytes_zeroed, op;
#define RECENT 64
static uint32_t recent_release[RECENT], recent_next; /* first pages of recent frees */
static uint32_t next_id;
static uintptr_t base;
static uint32_t sbrk_granule; /* foreign increments are multiples of it, as any sbrk caller's */
static uint64_t limit;        /* the memory's maximum, at most the 32-bit space */
static bool capped;           /* a small maximum: near-cap requests are cheap to make */
static uint64_t hold_limit;   /* pages the model holds before it frees more often */
static const ModelConfig *conf;

static uint64_t
rng_next (ModelSource *s, uint64_t bound)
{
	return test_splitmix64 (&s->state) % bound;
}

static uint64_t
bytes_next (ModelSource *s, uint64_t bound)
{
	uint64_t v = 0;
	for (int i = 0; i < 4; i++) {
		if (s->state >= s->size) {
			s->exhausted = true;
			break;
		}
		v = v << 8 | s->data[s->state++];
		if ((v >> 8) >= bound)
			break;
	}
	return v % bound;
}

void
model_source_rng (ModelSource *src, uint64_t seed)
{
	memset (src, 0, sizeof *src);
	src->next = rng_next;
	src->state = seed;
}

void
model_source_bytes (ModelSource *src, const uint8_t *data, uint64_t size)
{
	memset (src, 0, sizeof *src);
	src->next = bytes_next;
	src->data = data;
	src->size = size;
}

#define FAIL(...)                                                                               \
	do {                                                                                    \
		printf ("# model failure: seed %" PRIu64 ", operation %" PRIu64 ": ", conf->seed, op); \
		printf (__VA_ARGS__);                                                           \
		printf ("\n");                                                                  \
		fflush (stdout);                                                                \
		return 1;                                                                       \
	} while (0)

static inline uint32_t
page_index (const void *p)
{
	return (uint32_t)(((uintptr_t)p - base) / PAGE);
}

static inline uint64_t *
page_word (uint32_t page, size_t byte)
{
	return (uint64_t *)(base + (uintptr_t)page * PAGE + byte);
}

static inline uint64_t
canary (uint32_t id, uint32_t page)
{
	uint64_t z = ((uint64_t)id << 32 | page) * 0x9e3779b97f4a7c15ull;
	return z ^ (z >> 29) ^ 0x5bd1e995u;
}

static int
check_canaries (uint32_t first, uint32_t count)
{
	for (uint32_t p = first; p < first + count; p++) {
		uint64_t c = canary (m_owner[p], p);
		if (*page_word (p, 0) != c || *page_word (p, PAGE - 8) != ~c)
			FAIL ("canary of page %u (allocation %u) overwritten", p, m_owner[p]);
	}
	return 0;
}

static int
check_stats (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	if (s.pages_in_use != m_held)
		FAIL ("pages_in_use %zu, model %" PRIu64, s.pages_in_use, m_held);
	if (s.pages_free_dirty != m_released)
		FAIL ("pages_free_dirty %zu, model %" PRIu64, s.pages_free_dirty, m_released);
	if (s.bytes_zeroed != m_bytes_zeroed)
		FAIL ("bytes_zeroed %" PRIu64 ", model %" PRIu64, s.bytes_zeroed, m_bytes_zeroed);
	if (s.largest_free_run > s.pages_free_zeroed + s.pages_free_dirty)
		FAIL ("largest free run %zu exceeds the free pages", s.largest_free_run);
	if ((uint64_t)(s.span_end_page - s.span_first_page) !=
	    (uint64_t)s.pages_in_use + s.pages_free_zeroed + s.pages_free_dirty + s.pages_external)
		FAIL ("span of %zu pages, states add up to %zu", s.span_end_page - s.span_first_page,
		      s.pages_in_use + s.pages_free_zeroed + s.pages_free_dirty + s.pages_external);
	return 0;
}

/* A word of every page, and now and then a whole page, must read zero. */
static int
check_zero (ModelSource *src, uint32_t first, uint32_t count, ModelCounts *k)
{
	for (uint32_t p = first; p < first + count; p++) {
		size_t w = (size_t)src->next (src, PAGE / 8) * 8;
		if (*page_word (p, 0) || *page_word (p, PAGE - 8) || *page_word (p, w))
			FAIL ("zeroed allocation: page %u does not read zero", p);
		if (src->next (src, 64) == 0) {
			for (size_t b = 0; b < PAGE; b += 8) {
				if (*page_word (p, b))
					FAIL ("zeroed allocation: page %u byte %zu not zero", p, b);
			}
		}
		k->zero_checks++;
	}
	return 0;
}

/* First fit: no run of n pages the model knows to be free lies below the result. */
static int
check_first_fit (uint32_t got, uint32_t n)
{
	uint32_t run = 0;
	for (uint32_t p = 0; p < got; p++) {
		run = m_page[p] == M_RELEASED ? run + 1 : 0;
		if (run >= n)
			FAIL ("first fit: %u released pages end at page %u, below the result %u", n, p, got);
	}
	return 0;
}

/* Does the model know of n free pages aligned to align_pages (pages it freed and nobody took
 * since)? Then a request served only from held pages (MWPM_NO_GROW) must not fail. */
static bool
model_knows_fit (uint64_t n, uint64_t align_pages)
{
	uint64_t run = 0;
	for (uint32_t p = 0; p < m_top; p++) {
		if (m_page[p] != M_RELEASED) {
			run = 0;
			continue;
		}
		if (run == 0 && p % align_pages)
			continue;
		if (++run >= n)
			return true;
	}
	return false;
}

static uint64_t
round_to (uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

/* Could n pages aligned to align_pages fit below the maximum from the break now, in memory
 * sbrk has yet to hand out? When they could, mwpm must not fail with ENOMEM. */
static bool
fits_from_break (uint64_t n, uint64_t align_pages)
{
	uint64_t brk;
	if (mwpm_platform_break (&brk) != 0 || brk > limit)
		return false;
	uint64_t start = round_to (round_to (brk, PAGE) / PAGE, align_pages);
	uint64_t end = (start + n) * PAGE;
	return end <= limit && round_to (end - brk, sbrk_granule) <= limit - brk;
}

/* The most one allocation may take from sbrk: its pages, the alignment slack, one page for an
 * unaligned break and the granule, or one minimum chunk. */
static uint64_t
growth_bound (uint64_t n, uint64_t align_pages)
{
	uint64_t need = (n + align_pages - 1) * PAGE + PAGE + sbrk_granule;
	uint64_t chunk = round_to (MWPM_MIN_CHUNK_BYTES, sbrk_granule);
	return need > chunk ? need : chunk;
}

/* Allocates and checks the result against the model: placement, zeroing, growth, errors. */
static int
alloc_checked (ModelSource *src, ModelCounts *k, size_t size, size_t align, int flags, bool inject)
{
	if (nlive == MAX_LIVE)
		return 0;
	size_t eff_align = align > PAGE ? align : PAGE;
	uint64_t n = (size + PAGE - 1) / PAGE, align_pages = eff_align / PAGE;
	bool held_only = flags & MWPM_NO_GROW;
	bool fits = held_only ? model_knows_fit (n, align_pages) : fits_from_break (n, align_pages);
	MwpmStats before;
	mwpm_get_stats (&before);
	if (inject) {
		mwpm_platform_fail_next_sbrk (1);
		k->injected_failures++;
	}
	errno = 0;
	char *a = align ? mwpm_alloc_aligned (size, align, flags) : mwpm_alloc_range (size, flags);
	int err = errno;
	if (inject)
		mwpm_platform_fail_next_sbrk (0);
	MwpmStats after;
	mwpm_get_stats (&after);
	uint64_t grown = after.bytes_from_sbrk - before.bytes_from_sbrk;
	if (held_only && grown)
		FAIL ("an alloc of %zu bytes from held pages only (MWPM_NO_GROW) took %" PRIu64 " bytes from sbrk", size, grown);
	if (grown > growth_bound (n, align_pages))
		FAIL ("alloc of %zu bytes aligned to %zu grew the memory by %" PRIu64 " bytes (at most %" PRIu64 ")", size,
		      eff_align, grown, growth_bound (n, align_pages));
	if (!a) {
		if (err != ENOMEM)
			FAIL ("alloc of %zu bytes failed with errno %d", size, err);
		if (fits && !inject)
			FAIL ("ENOMEM for %" PRIu64 " pages aligned to %" PRIu64 ", which fit %s", n, align_pages,
			      held_only ? "in pages the model freed (MWPM_NO_GROW)" : "below the maximum from the break");
		k->held_only_misses += held_only;
		if (!inject && grown)
			FAIL ("a failed alloc took %" PRIu64 " bytes from sbrk", grown);
		if (after.pages_in_use != before.pages_in_use || after.bytes_zeroed != before.bytes_zeroed)
			FAIL ("a failed alloc changed the pages in use or zeroed bytes");
		k->alloc_enomem++;
		return 0;
	}
	if (((uintptr_t)a - base) % eff_align)
		FAIL ("result %p not aligned to %zu", (void *)a, eff_align);
	uint32_t first = page_index (a);
	uint32_t dirty = 0;
	for (uint32_t p = first; p < first + n; p++) {
		if (m_page[p] == M_HELD || m_page[p] == M_FOREIGN)
			FAIL ("page %u handed out while %s", p, m_page[p] == M_HELD ? "held" : "foreign");
		dirty += m_page[p] == M_RELEASED;
	}
	if (eff_align == PAGE && src->next (src, 16) == 0 && check_first_fit (first, (uint32_t)n))
		return 1;
	if (flags & MWPM_ZEROED) {
		m_bytes_zeroed += (uint64_t)dirty * PAGE;
		k->bytes_zeroed += (uint64_t)dirty * PAGE;
		if (check_zero (src, first, (uint32_t)n, k))
			return 1;
	}
	uint32_t id = ++next_id;
	for (uint32_t p = first; p < first + n; p++) {
		m_page[p] = M_HELD;
		m_top = p >= m_top ? p + 1 : m_top;
		m_owner[p] = id;
		*page_word (p, 0) = canary (id, p);
		*page_word (p, PAGE - 8) = ~canary (id, p);
	}
	m_released -= dirty;
	m_held += n;
	live[nlive++] = (Live){ first, (uint32_t)n, id };
	k->allocs++;
	return 0;
}

/* Page p + i of an mwpm_alloc_at range, as the model sees it: M_HELD and M_FOREIGN pages must
 * make it fail, a range of M_RELEASED pages must succeed, and pages the model never saw (free
 * zeroed pages of mwpm, or memory above the span, which mwpm may or may not reach) allow either. */
static int
alloc_at_checked (ModelSource *src, ModelCounts *k, uint64_t p, uint64_t n, int flags)
{
	if (nlive == MAX_LIVE || p >= MAX_PAGES || n > MAX_PAGES - p)
		return 0;
	bool taken = false, all_released = true;
	uint32_t dirty = 0;
	for (uint64_t q = p; q < p + n; q++) {
		taken |= m_page[q] == M_HELD || m_page[q] == M_FOREIGN;
		all_released &= m_page[q] == M_RELEASED;
		dirty += m_page[q] == M_RELEASED;
	}
	k->at_calls++;
	MwpmStats before, after;
	mwpm_get_stats (&before);
	errno = 0;
	char *a = mwpm_alloc_at ((void *)(base + (uintptr_t)p * PAGE), (size_t)(n - 1) * PAGE + 1 + (size_t)src->next (src, PAGE), flags);
	int err = errno;
	mwpm_get_stats (&after);
	uint64_t grown = after.bytes_from_sbrk - before.bytes_from_sbrk;
	if (grown > growth_bound (n, 1))
		FAIL ("alloc_at of %" PRIu64 " pages grew the memory by %" PRIu64 " bytes (at most %" PRIu64 ")", n, grown,
		      growth_bound (n, 1));
	if ((flags & MWPM_NO_GROW) && grown)
		FAIL ("alloc_at with MWPM_NO_GROW took %" PRIu64 " bytes from sbrk", grown);
	if (!a) {
		if (all_released)
			FAIL ("alloc_at of %" PRIu64 " released pages at page %" PRIu64 " failed with errno %d", n, p, err);
		if (err != EEXIST && err != ENOMEM)
			FAIL ("alloc_at failed with errno %d", err);
		/* Held or foreign pages are something there: EEXIST, never "out of reach". */
		if (taken && err != EEXIST)
			FAIL ("alloc_at over held or foreign pages [%" PRIu64 ", +%" PRIu64 ") failed with errno %d, not EEXIST", p, n, err);
		if (grown || after.pages_in_use != before.pages_in_use || after.bytes_zeroed != before.bytes_zeroed)
			FAIL ("a failed alloc_at changed the pages in use, zeroed bytes or the memory");
		k->at_refused++;
		return 0;
	}
	if (taken)
		FAIL ("alloc_at handed out page range [%" PRIu64 ", +%" PRIu64 "), which holds held or foreign pages", p, n);
	if (a != (char *)(base + (uintptr_t)p * PAGE))
		FAIL ("alloc_at returned %p, not the address asked for", (void *)a);
	if (flags & MWPM_ZEROED) {
		m_bytes_zeroed += (uint64_t)dirty * PAGE;
		k->bytes_zeroed += (uint64_t)dirty * PAGE;
		if (check_zero (src, (uint32_t)p, (uint32_t)n, k))
			return 1;
	}
	uint32_t id = ++next_id;
	for (uint32_t q = (uint32_t)p; q < p + n; q++) {
		m_page[q] = M_HELD;
		m_top = q >= m_top ? q + 1 : m_top;
		m_owner[q] = id;
		*page_word (q, 0) = canary (id, q);
		*page_word (q, PAGE - 8) = ~canary (id, q);
	}
	m_released -= dirty;
	m_held += n;
	live[nlive++] = (Live){ (uint32_t)p, (uint32_t)n, id };
	k->at_ok++;
	return 0;
}

/* An allocation at a chosen place: where the test freed pages lately, over pages it holds, or
 * at the top of mwpm's span (extending the top mapping in place). */
static int
do_alloc_at (ModelSource *src, ModelCounts *k)
{
	uint64_t n = 1 + src->next (src, 8), p;
	MwpmStats s;
	if (nforeign && src->next (src, 8) == 0) {
		/* Into memory another sbrk caller took: inside the span, or above it. */
		Foreign *f = &foreign[src->next (src, nforeign)];
		p = (f->offset + src->next (src, f->size)) / PAGE;
		return alloc_at_checked (src, k, p, n, src->next (src, 2) ? MWPM_ZEROED : 0);
	}
	switch (src->next (src, 4)) {
	case 0:
	case 1:
		p = recent_release[src->next (src, RECENT)] + src->next (src, 2);
		break;
	case 2:
		if (!nlive)
			return 0;
		p = live[src->next (src, nlive)].first + src->next (src, 2);
		break;
	default: /* the end of the highest allocation, or now and then the span's end */
		p = 0;
		for (unsigned i = 0; i < nlive; i++)
			p = live[i].first + live[i].count > p ? live[i].first + live[i].count : p;
		if (src->next (src, 8) == 0) {
			mwpm_get_stats (&s);
			p = s.span_end_page;
		}
		break;
	}
	return alloc_at_checked (src, k, p, n, (src->next (src, 2) ? MWPM_ZEROED : 0) | (src->next (src, 8) ? 0 : MWPM_NO_GROW));
}

/* mwpm_remap_at over one of the test's allocations, from a page of it on for 1-12 pages: its
 * own pages are taken over (mwpm asks; the model answers from the allocation's record), the rest of the
 * range must be free. Pages held by another allocation or foreign make it fail with EEXIST; a
 * range of its own pages and released ones must succeed; pages the model never saw allow either.
 * The range becomes an allocation of its own, cut out of the old one. */
static int
remap_held (const void *page, void *ctx)
{
	const Live *l = ctx;
	uint32_t q = page_index (page);
	return q >= l->first && q - l->first < l->count;
}

static int
do_remap_at (ModelSource *src, ModelCounts *k)
{
	if (!nlive || nlive + 2 > MAX_LIVE)
		return 0;
	unsigned i = (unsigned)src->next (src, nlive);
	Live l = live[i];
	uint64_t p = l.first + src->next (src, l.count), n = 1 + src->next (src, 12);
	if (n > MAX_PAGES - p)
		return 0;
	bool others = false, mine_or_released = true;
	uint32_t dirty = 0;
	for (uint64_t q = p; q < p + n; q++) {
		bool mine = q >= l.first && q - l.first < l.count; /* this piece (an id may have several) */
		others |= (m_page[q] == M_HELD && !mine) || m_page[q] == M_FOREIGN;
		mine_or_released &= mine || m_page[q] == M_RELEASED;
		dirty += mine || m_page[q] == M_RELEASED;
	}
	int flags = src->next (src, 4) ? MWPM_ZEROED : 0;
	k->remap_calls++;
	MwpmStats before, after;
	mwpm_get_stats (&before);
	errno = 0;
	char *a = mwpm_remap_at ((void *)(base + (uintptr_t)p * PAGE), (size_t)n * PAGE - (size_t)src->next (src, PAGE), flags,
				 remap_held, &l);
	int err = errno;
	mwpm_get_stats (&after);
	if (!a) {
		if (mine_or_released)
			FAIL ("remap_at over own and released pages [%" PRIu64 ", +%" PRIu64 ") failed with errno %d", p, n, err);
		if (others && err != EEXIST)
			FAIL ("remap_at over others' pages failed with errno %d, not EEXIST", err);
		if (err != EEXIST && err != ENOMEM)
			FAIL ("remap_at failed with errno %d", err);
		if (after.pages_in_use != before.pages_in_use || after.bytes_zeroed != before.bytes_zeroed ||
		    after.bytes_from_sbrk != before.bytes_from_sbrk)
			FAIL ("a failed remap_at changed the pages in use, zeroed bytes or the memory");
		return check_canaries (l.first, l.count);
	}
	if (others)
		FAIL ("remap_at took over [%" PRIu64 ", +%" PRIu64 "), which holds others' pages", p, n);
	if (a != (char *)(base + (uintptr_t)p * PAGE))
		FAIL ("remap_at returned %p, not the address asked for", (void *)a);
	if (flags & MWPM_ZEROED) {
		m_bytes_zeroed += (uint64_t)dirty * PAGE;
		if (check_zero (src, (uint32_t)p, (uint32_t)n, k))
			return 1;
	}
	/* The old allocation keeps what lies outside the range: a head and maybe a tail. */
	live[i] = live[--nlive];
	uint64_t l_end = (uint64_t)l.first + l.count;
	if (p > l.first)
		live[nlive++] = (Live){ l.first, (uint32_t)(p - l.first), l.id };
	if (p + n < l_end)
		live[nlive++] = (Live){ (uint32_t)(p + n), (uint32_t)(l_end - p - n), l.id };
	uint32_t id = ++next_id;
	for (uint32_t q = (uint32_t)p; q < p + n; q++) {
		if (m_page[q] != M_HELD) {
			m_released -= m_page[q] == M_RELEASED;
			m_held++;
		}
		m_page[q] = M_HELD;
		m_top = q >= m_top ? q + 1 : m_top;
		m_owner[q] = id;
		*page_word (q, 0) = canary (id, q);
		*page_word (q, PAGE - 8) = ~canary (id, q);
	}
	live[nlive++] = (Live){ (uint32_t)p, (uint32_t)n, id };
	k->remap_ok++;
	return 0;
}

/* A random alignment: mostly none, sometimes a power of two up to 64 pages, sometimes a
 * small byte alignment (which means the page). */
static size_t
pick_align (ModelSource *src)
{
	if (src->next (src, 8) == 0)
		return (size_t)PAGE << src->next (src, 7);
	return src->next (src, 2) ? 0 : (size_t)1 << src->next (src, 16);
}

static int
do_alloc (ModelSource *src, ModelCounts *k)
{
	/* Sizes: mostly 1-4 pages, sometimes up to 32, rarely up to 256; any byte count. */
	uint64_t r = src->next (src, 100);
	uint64_t pages = r < 75 ? 1 + src->next (src, 4) : r < 98 ? 1 + src->next (src, 32) : 1 + src->next (src, 256);
	size_t size = (size_t)((pages - 1) * PAGE + 1 + src->next (src, PAGE));
	size_t align = pick_align (src);
	int flags = src->next (src, 2) ? MWPM_ZEROED : 0;
	/* Now and then only from the pages mwpm holds: a fit the model knows of must be found. */
	if (src->next (src, 16) == 0) {
		flags |= MWPM_NO_GROW;
		k->held_only++;
	}
	bool inject = src->next (src, 50) == 0;
	return alloc_checked (src, k, size, align, flags, inject);
}

/* A large request: in a capped memory, about all the room left below the maximum from the
 * break (sometimes one page more than fits); otherwise 32 to 512 pages, as far as the
 * model's hold limit allows. Zeroed only now and then in a capped memory: what is tested here
 * is growth, and memsetting dirty runs this long would be most of the run's time. */
static int
do_large (ModelSource *src, ModelCounts *k)
{
	uint64_t pages;
	uint64_t brk;
	if (mwpm_platform_break (&brk) != 0)
		return 0;
	if (capped) {
		uint64_t room = brk < limit ? (limit - round_to (brk, PAGE)) / PAGE : 0;
		uint64_t less = src->next (src, 4);
		pages = src->next (src, 4) == 0 ? room + 1 : room > less ? room - less : 1;
	} else {
		pages = 32 + src->next (src, 481);
		if (m_held + pages > 2 * hold_limit)
			return 0;
	}
	if (pages == 0 || pages > MAX_PAGES / 2)
		return 0;
	k->large++;
	size_t size = (size_t)((pages - 1) * PAGE + 1 + src->next (src, PAGE));
	return alloc_checked (src, k, size, src->next (src, 4) ? 0 : pick_align (src), (capped && src->next (src, 8) == 0) ? MWPM_ZEROED : 0,
			      false);
}

static int
release_pages (uint32_t first, uint32_t count)
{
	if (check_canaries (first, count))
		return 1;
	if (mwpm_free_range ((void *)(base + (uintptr_t)first * PAGE), (size_t)count * PAGE) != 0)
		FAIL ("free of pages [%u, +%u) failed", first, count);
	for (uint32_t p = first; p < first + count; p++)
		m_page[p] = M_RELEASED;
	recent_release[recent_next++ % RECENT] = first;
	m_held -= count;
	m_released += count;
	return 0;
}

static int
do_free (ModelSource *src, ModelCounts *k)
{
	if (!nlive)
		return 0;
	unsigned i = (unsigned)src->next (src, nlive);
	Live *l = &live[i];
	if (l->count == 1 || src->next (src, 3)) {
		if (release_pages (l->first, l->count))
			return 1;
		live[i] = live[--nlive];
		k->frees++;
		return 0;
	}
	/* Part of it, [off, off + len): a head, a tail or a middle, never all of it. */
	uint32_t off = (uint32_t)src->next (src, l->count);
	uint32_t len = 1 + (uint32_t)src->next (src, l->count - off);
	if (off == 0 && len == l->count)
		len--;
	if (release_pages (l->first + off, len))
		return 1;
	Live head = { l->first, off, l->id };
	Live tail = { l->first + off + len, l->count - off - len, l->id };
	*l = head.count ? head : tail;
	if (head.count && tail.count) {
		if (nlive < MAX_LIVE)
			live[nlive++] = tail;
		else if (release_pages (tail.first, tail.count)) /* no room to track it */
			return 1;
	}
	k->partial_frees++;
	return 0;
}

static int
do_foreign (ModelSource *src, ModelCounts *k)
{
	if (nforeign == MAX_FOREIGN)
		return 0;
	uint64_t size = 4 + src->next (src, 3 * PAGE) / 4 * 4;
	size = (size + sbrk_granule - 1) / sbrk_granule * sbrk_granule; /* WASI: 64 KiB multiples */
	uint64_t off;
	if (mwpm_platform_foreign_sbrk ((int64_t)size, &off) != 0)
		return 0;
	uint8_t fill = (uint8_t)(1 + src->next (src, 255));
	memset ((void *)(base + (uintptr_t)off), fill, (size_t)size);
	foreign[nforeign++] = (Foreign){ off, size, fill };
	for (uint64_t p = off / PAGE; p <= (off + size - 1) / PAGE; p++) {
		if (m_page[p] == M_HELD || m_page[p] == M_RELEASED)
			FAIL ("foreign sbrk returned page %" PRIu64 ", which mwpm handed out", p);
		m_page[p] = M_FOREIGN;
		m_top = p >= m_top ? p + 1 : m_top;
	}
	k->foreign++;
	/* Growth right after another caller moved the break is where the tail credit matters. */
	return src->next (src, 4) ? do_alloc (src, k) : do_large (src, k);
}

static int
check_foreign (void)
{
	for (unsigned i = 0; i < nforeign; i++) {
		const uint8_t *b = (const uint8_t *)(base + (uintptr_t)foreign[i].offset);
		if (b[0] != foreign[i].fill || b[foreign[i].size - 1] != foreign[i].fill)
			FAIL ("foreign memory at offset %" PRIu64 " was overwritten", foreign[i].offset);
		if (mwpm_owns (b) || mwpm_owns (b + foreign[i].size - 1))
			FAIL ("mwpm claims foreign memory at offset %" PRIu64, foreign[i].offset);
	}
	return 0;
}

/* Calls that must fail or do nothing. */
static int
do_bad_call (ModelSource *src, ModelCounts *k)
{
	MwpmStats before, after;
	mwpm_get_stats (&before);
	unsigned which = (unsigned)src->next (src, 9);
	switch (which) {
	case 0:
		errno = 0;
		if (mwpm_alloc_range (0, 0) || errno != EINVAL)
			FAIL ("size 0 accepted");
		break;
	case 1:
		errno = 0;
		/* Flags above MWPM_ZEROED | MWPM_NO_GROW. */
		if (mwpm_alloc_range (PAGE, 4 << src->next (src, 29)) || errno != EINVAL)
			FAIL ("unknown flag accepted");
		break;
	case 2:
		errno = 0;
		if (mwpm_alloc_aligned (PAGE, 3 * PAGE, 0) || errno != EINVAL)
			FAIL ("alignment 3 pages accepted");
		break;
	case 3:
		errno = 0;
		if (mwpm_free_range ((void *)(base + 64 * PAGE + 1 + src->next (src, PAGE - 1)), PAGE) != -1 || errno != EINVAL)
			FAIL ("unaligned free accepted");
		break;
	case 4: { /* a page the test released earlier: a double free */
		uint32_t p = recent_release[src->next (src, RECENT)];
		if (m_page[p] == M_RELEASED && mwpm_free_range ((void *)(base + (uintptr_t)p * PAGE), PAGE) != 0)
			FAIL ("double free did not return 0");
		k->stray_frees++;
		break;
	}
	case 5: /* foreign memory */
		if (nforeign) {
			Foreign *f = &foreign[src->next (src, nforeign)];
			uint64_t pg = f->offset / PAGE * PAGE; /* the page holding its first byte */
			if (mwpm_free_range ((void *)(base + (uintptr_t)pg), PAGE) != 0)
				FAIL ("free of foreign memory did not return 0");
		}
		k->stray_frees++;
		break;
	case 6:
		errno = 0;
		if (mwpm_alloc_at ((void *)(base + 64 * PAGE + 1 + src->next (src, PAGE - 1)), PAGE, 0) || errno != EINVAL)
			FAIL ("unaligned alloc_at accepted");
		break;
	case 7:
		errno = 0;
		/* Size 0, an unknown flag, a range past the 32-bit space, or a size that wraps. */
		switch (src->next (src, 4)) {
		case 0:
			if (mwpm_alloc_at ((void *)(base + 64 * PAGE), 0, 0) || errno != EINVAL)
				FAIL ("alloc_at of size 0 accepted");
			break;
		case 1:
			if (mwpm_alloc_at ((void *)(base + 64 * PAGE), PAGE, 4 << src->next (src, 29)) || errno != EINVAL)
				FAIL ("alloc_at with an unknown flag accepted");
			break;
		case 2:
			if (mwpm_alloc_at ((void *)(base + (uintptr_t)(MAX_PAGES - 1) * PAGE), 2 * PAGE, 0) || errno != EINVAL)
				FAIL ("alloc_at past the space accepted");
			break;
		default: {
			/* From offset 0: past the space (EINVAL) unless it just fits, as on wasm32, where
			 * page 0 (static data, below the span) is taken (EEXIST). */
			uint64_t at = 0;
			size_t size = SIZE_MAX - (size_t)src->next (src, 2 * PAGE);
			int want = at + size > MWPM_SPACE_BYTES ? EINVAL : EEXIST;
			if (mwpm_alloc_at ((void *)(base + (uintptr_t)at), size, 0) || errno != want)
				FAIL ("alloc_at of %zu bytes at offset %" PRIu64 ": errno %d, expected %d", size, at, errno, want);
			break;
		}
		}
		break;
	default: /* never mapped: the top of the space (unless the memory has grown that far) */
		if (m_page[MAX_PAGES - 2] == M_HELD)
			break;
		if (mwpm_free_range ((void *)(base + (uintptr_t)(MAX_PAGES - 2) * PAGE), PAGE) != 0)
			FAIL ("free of never-mapped memory did not return 0");
		k->stray_frees++;
		break;
	}
	mwpm_get_stats (&after);
	if (after.pages_in_use != before.pages_in_use || after.pages_free_dirty != before.pages_free_dirty ||
	    after.pages_external != before.pages_external)
		FAIL ("a rejected or stray call (%u) changed pages: in use %zu -> %zu, dirty %zu -> %zu, external %zu -> %zu", which,
		      before.pages_in_use, after.pages_in_use, before.pages_free_dirty, after.pages_free_dirty, before.pages_external,
		      after.pages_external);
	k->bad_calls++;
	return 0;
}

int
model_run (ModelSource *src, const ModelConfig *cfg, ModelCounts *k)
{
	conf = cfg;
	memset (k, 0, sizeof *k);
	memset (m_page, 0, sizeof m_page);
	m_top = 0;
	nlive = nforeign = 0;
	memset (recent_release, 0, sizeof recent_release);
	m_held = m_released = m_bytes_zeroed = 0;
	next_id = 0;
	mwpm_platform_host_reset (cfg->memory_max, 0);
	mwpm_reset_for_tests ();
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	base = info.base;
	sbrk_granule = info.sbrk_granule;
	limit = info.memory_max < MWPM_SPACE_BYTES ? info.memory_max : MWPM_SPACE_BYTES;
	capped = limit <= ((uint64_t)1 << 30);
	/* Keep live memory bounded: free more often when much is held. */
	hold_limit = (capped ? limit : (768ull << 20)) / PAGE / 2;

	for (op = 0; op < cfg->ops && !src->exhausted; op++) {
		uint64_t r = src->next (src, 100);
		int err;
		if (r < 2)
			err = do_foreign (src, k);
		else if (r < 3)
			err = do_large (src, k);
		else if (r < 6)
			err = do_bad_call (src, k);
		else if (r < 8)
			err = do_alloc_at (src, k);
		else if (r < 9)
			err = do_remap_at (src, k);
		else if (r < (uint64_t)(52 + (m_held > hold_limit ? -30 : 0) + (nlive < 8 ? 20 : 0)))
			err = do_alloc (src, k);
		else
			err = do_free (src, k);
		if (err || check_stats ())
			return 1;
		if (cfg->check_every && op % cfg->check_every == 0) {
			k->invariant_checks++;
			if (mwpm_check_invariants () != 0)
				FAIL ("mwpm_check_invariants failed");
			if (nlive) {
				Live *l = &live[src->next (src, nlive)];
				if (check_canaries (l->first, l->count))
					return 1;
			}
		}
	}
	/* The end: everything still held is intact; give it back; all foreign memory intact. */
	while (nlive) {
		if (release_pages (live[nlive - 1].first, live[nlive - 1].count))
			return 1;
		nlive--;
	}
	if (check_stats () || check_foreign ())
		return 1;
	k->invariant_checks++;
	if (mwpm_check_invariants () != 0)
		FAIL ("mwpm_check_invariants failed at the end");
	return 0;
}

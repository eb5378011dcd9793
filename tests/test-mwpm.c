/*
 * test-mwpm.c: unit tests of mwpm, one case per rule and per error of its interface.
 * Runs natively (simulated linear memory, ASan/UBSan) and as wasm (the real sbrk). Cases that
 * need the host platform's knobs (memory limit, trust declarations) are skipped on wasm.
 */
#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "mono-sanitizers.h"
#include "tap.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#if !MONO_CONFIG_WASM
#include <sys/wait.h>
#include <unistd.h>
#endif

#define PAGE MWPM_PAGE_SIZE

/* Cases that need the simulated memory's knobs report a TAP skip on wasm. */
#if MONO_CONFIG_WASM
#define HOST_ONLY " # SKIP needs the host platform's knobs"
#else
#define HOST_ONLY ""
#endif

static MwpmStats st;

/* Address of a linear-memory offset (the platform's sbrk reports offsets). */
static char *
at (uint64_t offset)
{
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	return (char *)(info.base + (uintptr_t)offset);
}

static void
fresh (void)
{
	mwpm_platform_host_reset (0, 0);
	mwpm_reset_for_tests ();
}

static MwpmStats
stats (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	return s;
}

/* Counts pages per state in [first, end) through the public walk. */
typedef struct {
	size_t pages[MWPM_PAGE_STATE_COUNT];
} StateCount;

static void
count_run (const MwpmRun *run, void *ctx)
{
	((StateCount *)ctx)->pages[run->state] += run->page_count;
}

static StateCount
count_states (const void *addr, size_t pages)
{
	StateCount c = { { 0 } };
	size_t first = mwpm_page_of (addr);
	mwpm_walk_runs (first, first + pages, count_run, &c);
	return c;
}

static MwpmPageState
state_of (const void *addr)
{
	StateCount c = count_states (addr, 1);
	for (int s = 0; s < MWPM_PAGE_STATE_COUNT; s++) {
		if (c.pages[s])
			return (MwpmPageState)s;
	}
	return MWPM_PAGE_NOT_OURS;
}

static int
all_zero (const void *p, size_t n)
{
	const uint64_t *w = p;
	for (size_t i = 0; i < n / 8; i++) {
		if (w[i])
			return 0;
	}
	return 1;
}

/* Same as the last stats, apart from the failure/rejection counters? */
static int
same_pages (const MwpmStats *a, const MwpmStats *b)
{
	return a->pages_in_use == b->pages_in_use && a->pages_free_zeroed == b->pages_free_zeroed &&
	       a->pages_free_dirty == b->pages_free_dirty && a->pages_external == b->pages_external &&
	       a->bytes_from_sbrk == b->bytes_from_sbrk && a->span_end_page == b->span_end_page &&
	       a->bytes_zeroed == b->bytes_zeroed;
}

/* The pages as they were at `then`? */
static int
unchanged_since (const MwpmStats *then)
{
	MwpmStats now = stats ();
	return same_pages (then, &now);
}

static int
case_basic (void)
{
	fresh ();
	char *p = mwpm_alloc_range (1, 0);
	T_CHECK (p != NULL, "alloc of 1 byte");
	T_CHECK ((uintptr_t)p % PAGE == 0, "page aligned: %p", (void *)p);
	T_CHECK (mwpm_owns (p) && mwpm_owns (p + PAGE - 1), "owned");
	st = stats ();
	T_CHECK (st.pages_in_use == 1, "one page in use, got %zu", st.pages_in_use);
	T_CHECK (st.page_size == PAGE, "page size");
	T_CHECK (state_of (p) == MWPM_PAGE_IN_USE, "state in use");
	p[0] = 1;
	p[PAGE - 1] = 2;
	T_CHECK (mwpm_free_range (p, 1) == 0, "free");
	T_CHECK (state_of (p) == MWPM_PAGE_FREE_DIRTY, "freed page is dirty");
	T_CHECK (mwpm_owns (p), "free pages are still controlled");
	T_CHECK (stats ().pages_in_use == 0, "nothing in use");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_einval (void)
{
	fresh ();
	void *keep = mwpm_alloc_range (PAGE, 0);
	MwpmStats before = stats ();
	struct {
		size_t size, align;
		int flags;
	} bad[] = {
		{ 0, PAGE, 0 }, { 0, PAGE, MWPM_ZEROED }, { PAGE, PAGE, 8 }, { PAGE, PAGE, 0x80000000 }, { PAGE, PAGE, MWPM_ZEROED | 4 },
		{ PAGE, 3, 0 }, { PAGE, 3 * PAGE, 0 }, { PAGE, PAGE + 1, 0 }, { PAGE, (size_t)-1, 0 }, { PAGE, 0, 0 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		void *r = mwpm_alloc_aligned (bad[i].size, bad[i].align, bad[i].flags);
		T_CHECK (r == NULL && errno == EINVAL, "case %zu: size %zu align %zu flags %#x gave %p errno %d", i,
			 bad[i].size, bad[i].align, bad[i].flags, r, errno);
	}
	errno = 0;
	T_CHECK (mwpm_alloc_range (0, 0) == NULL && errno == EINVAL, "alloc_range size 0");
	errno = 0;
	T_CHECK (mwpm_alloc_range (PAGE, 8) == NULL && errno == EINVAL, "alloc_range unknown flag");
	MwpmStats after = stats ();
	T_CHECK (same_pages (&before, &after), "no page changed");
	T_CHECK (after.alloc_failures == before.alloc_failures + 12, "failures counted: %llu",
		 (unsigned long long)(after.alloc_failures - before.alloc_failures));
	/* free: unaligned base or size 0 */
	errno = 0;
	T_CHECK (mwpm_free_range ((char *)keep + 1, PAGE) == -1 && errno == EINVAL, "unaligned free");
	errno = 0;
	T_CHECK (mwpm_free_range ((char *)keep + PAGE / 2, PAGE) == -1 && errno == EINVAL, "half-page free");
	errno = 0;
	T_CHECK (mwpm_free_range (keep, 0) == -1 && errno == EINVAL, "size 0 free");
	after = stats ();
	T_CHECK (after.pages_in_use == 1 && state_of (keep) == MWPM_PAGE_IN_USE, "nothing freed");
	T_CHECK (after.free_rejected == 3, "rejections counted");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_enomem (void)
{
	fresh ();
	T_CHECK (mwpm_alloc_range (PAGE, 0), "a first page");
	MwpmStats before = stats ();
	/* Larger than the space less the static data below the heap: cannot be met. */
	size_t huge[] = { (size_t)-1, (size_t)-1 - PAGE + 2, (size_t)-PAGE, (size_t)-(16 * PAGE) };
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		errno = 0;
		T_CHECK (mwpm_alloc_range (huge[i], 0) == NULL && errno == ENOMEM, "size %zu: errno %d", huge[i], errno);
		errno = 0;
		T_CHECK (mwpm_alloc_aligned (huge[i], PAGE * 4, MWPM_ZEROED) == NULL && errno == ENOMEM, "aligned size %zu", huge[i]);
	}
	/* An alignment larger than the space cannot be met. */
	if (sizeof (size_t) > 4) {
		errno = 0;
		T_CHECK (mwpm_alloc_aligned (PAGE, (size_t)1 << 40, 0) == NULL && errno == ENOMEM, "alignment 2^40");
	}
	MwpmStats after = stats ();
	T_CHECK (same_pages (&before, &after), "no page changed, no sbrk");
	T_CHECK (after.sbrk_calls == before.sbrk_calls, "sbrk not called for impossible sizes");

	/* sbrk failing: injected. Nothing is handed out, nothing changes; the next call works. */
	size_t need = (before.largest_free_run + 4) * PAGE;
	mwpm_platform_fail_next_sbrk (2);
	errno = 0;
	T_CHECK (mwpm_alloc_range (need, MWPM_ZEROED) == NULL && errno == ENOMEM, "injected sbrk failure");
	after = stats ();
	T_CHECK (same_pages (&before, &after), "failed growth changed nothing");
	T_CHECK (after.sbrk_failures >= 1, "sbrk failure counted");
	mwpm_platform_fail_next_sbrk (0);
	void *ok = mwpm_alloc_range (need, MWPM_ZEROED);
	T_CHECK (ok != NULL, "allocation works again");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
#if !MONO_CONFIG_WASM
	/* The simulated memory's maximum reached: ENOMEM, state kept. */
	mwpm_platform_host_reset (64u << 20, 0);
	mwpm_reset_for_tests ();
	size_t got = 0;
	while (mwpm_alloc_range (PAGE, 0))
		got++;
	T_CHECK (errno == ENOMEM, "exhaustion gives ENOMEM, errno %d", errno);
	T_CHECK (got > 0 && got < (64u << 20) / PAGE, "got %zu pages below a 64 MiB memory", got);
	before = stats ();
	T_CHECK (mwpm_alloc_range (PAGE, 0) == NULL, "still full");
	after = stats ();
	T_CHECK (same_pages (&before, &after), "nothing changed");
	T_CHECK (mwpm_check_invariants () == 0, "invariants when full");
#endif
	return 0;
}

static int
case_fresh_not_zeroed_again (void)
{
	fresh ();
	size_t n = 40;
	char *p = mwpm_alloc_range (n * PAGE, MWPM_ZEROED);
	T_CHECK (p, "alloc");
	T_CHECK (all_zero (p, n * PAGE), "fresh sbrk memory reads zero");
	st = stats ();
	T_CHECK (st.bytes_zeroed == 0, "fresh memory was not memset: %llu bytes", (unsigned long long)st.bytes_zeroed);
	T_CHECK (st.zero_trust == MWPM_TRUST_MONOTONIC, "monotonic trust, got %d", st.zero_trust);
	T_CHECK (st.bytes_from_sbrk >= n * PAGE, "sbrk bytes counted");
	return 0;
}

static int
case_dirty_reuse (void)
{
	fresh ();
	size_t n = 6;
	char *a = mwpm_alloc_range (n * PAGE, 0);
	memset (a, 0xab, n * PAGE);
	T_CHECK (mwpm_free_range (a, n * PAGE) == 0, "free");
	T_CHECK (stats ().pages_free_dirty == n, "dirty pages counted");
	uint64_t z0 = stats ().bytes_zeroed;
	/* Non-zeroed request on dirty pages: no memset. */
	char *b = mwpm_alloc_range (n * PAGE, 0);
	T_CHECK (b == a, "first fit reuses the freed pages (%p, %p)", (void *)a, (void *)b);
	T_CHECK (stats ().bytes_zeroed == z0, "non-zeroed request memsets nothing");
	T_CHECK ((unsigned char)b[7] == 0xab, "contents left as they were");
	mwpm_free_range (b, n * PAGE);
	/* Zeroed request: exactly the dirty bytes are memset. */
	char *c = mwpm_alloc_range (n * PAGE, MWPM_ZEROED);
	T_CHECK (c == a, "reused again");
	T_CHECK (all_zero (c, n * PAGE), "zeroed request reads zero");
	T_CHECK (stats ().bytes_zeroed == z0 + n * PAGE, "memset exactly the dirty pages: %llu",
		 (unsigned long long)(stats ().bytes_zeroed - z0));
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_mixed_dirty_zeroed (void)
{
	fresh ();
	/* [d][d][z][z]...: two dirty pages followed by fresh ones. */
	char *a = mwpm_alloc_range (2 * PAGE, 0);
	memset (a, 0x5a, 2 * PAGE);
	mwpm_free_range (a, 2 * PAGE);
	uint64_t z0 = stats ().bytes_zeroed;
	char *b = mwpm_alloc_range (5 * PAGE, MWPM_ZEROED);
	T_CHECK (b == a, "run starts at the dirty pages");
	T_CHECK (all_zero (b, 5 * PAGE), "all zero");
	T_CHECK (stats ().bytes_zeroed - z0 == 2 * PAGE, "only the 2 dirty pages memset: %llu",
		 (unsigned long long)(stats ().bytes_zeroed - z0));
	/* Dirty pages in the middle of a run: free alternating pages, then take them back. */
	for (int i = 0; i < 5; i += 2)
		mwpm_free_range (b + i * PAGE, PAGE);
	mwpm_free_range (b + PAGE, PAGE);
	mwpm_free_range (b + 3 * PAGE, PAGE);
	z0 = stats ().bytes_zeroed;
	char *c = mwpm_alloc_range (5 * PAGE, MWPM_ZEROED);
	T_CHECK (c == b && all_zero (c, 5 * PAGE), "reused and zero");
	T_CHECK (stats ().bytes_zeroed - z0 == 5 * PAGE, "five dirty pages memset");
	return 0;
}

static int
case_partial_free (void)
{
	fresh ();
	char *a = mwpm_alloc_range (10 * PAGE, 0);
	T_CHECK (mwpm_free_range (a, PAGE) == 0, "head");
	T_CHECK (mwpm_free_range (a + 4 * PAGE, 2 * PAGE) == 0, "middle");
	T_CHECK (mwpm_free_range (a + 9 * PAGE, PAGE) == 0, "tail");
	StateCount c = count_states (a, 10);
	T_CHECK (c.pages[MWPM_PAGE_IN_USE] == 6 && c.pages[MWPM_PAGE_FREE_DIRTY] == 4, "6 in use, 4 dirty: %zu %zu",
		 c.pages[MWPM_PAGE_IN_USE], c.pages[MWPM_PAGE_FREE_DIRTY]);
	T_CHECK (state_of (a) == MWPM_PAGE_FREE_DIRTY && state_of (a + PAGE) == MWPM_PAGE_IN_USE &&
		 state_of (a + 4 * PAGE) == MWPM_PAGE_FREE_DIRTY && state_of (a + 8 * PAGE) == MWPM_PAGE_IN_USE, "which pages");
	/* A partial last page frees the whole page it touches. */
	T_CHECK (mwpm_free_range (a + 1 * PAGE, 1) == 0, "1 byte frees a page");
	T_CHECK (state_of (a + PAGE) == MWPM_PAGE_FREE_DIRTY, "page freed");
	MwpmStats before = stats ();
	T_CHECK (mwpm_free_range (a, 10 * PAGE) == 0, "free all, over freed holes");
	MwpmStats after = stats ();
	T_CHECK (after.free_pages_ignored - before.free_pages_ignored == 5, "5 already-free pages ignored: %llu",
		 (unsigned long long)(after.free_pages_ignored - before.free_pages_ignored));
	T_CHECK (after.pages_in_use == 0, "all free");
	/* double free: POSIX success, nothing changes, counted */
	T_CHECK (mwpm_free_range (a, 10 * PAGE) == 0, "double free returns 0");
	MwpmStats again = stats ();
	T_CHECK (same_pages (&after, &again), "double free changed nothing");
	T_CHECK (again.free_noop_calls == after.free_noop_calls + 1, "counted as a no-op free");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_free_not_ours (void)
{
	fresh ();
	char *a = mwpm_alloc_range (3 * PAGE, 0);
	MwpmStats before = stats ();
	/* beyond the span, below it, outside the space, NULL, and a huge size from inside */
	T_CHECK (mwpm_free_range (a + 1000 * PAGE, 4 * PAGE) == 0, "never-mapped range above");
	char *below = (char *)((uintptr_t)a - ((uintptr_t)mwpm_page_of (a) - 1) * PAGE);
	T_CHECK (mwpm_free_range (below, PAGE) == 0, "page below the span");
	T_CHECK (mwpm_free_range (NULL, PAGE) == 0, "NULL");
	MwpmStats after = stats ();
	T_CHECK (same_pages (&before, &after), "nothing changed");
	T_CHECK (after.free_noop_calls == before.free_noop_calls + 3, "three no-op frees");
	T_CHECK (!mwpm_owns (a + 1000 * PAGE) && !mwpm_owns (below) && !mwpm_owns (NULL), "not owned");
	/* A huge size frees the in-use pages it covers and nothing else. */
	T_CHECK (mwpm_free_range (a + PAGE, (size_t)-1 & ~(size_t)(PAGE - 1)) == 0, "huge size");
	T_CHECK (state_of (a) == MWPM_PAGE_IN_USE && state_of (a + PAGE) == MWPM_PAGE_FREE_DIRTY &&
		 state_of (a + 2 * PAGE) == MWPM_PAGE_FREE_DIRTY, "pages 1 and 2 freed, page 0 kept");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

/* Host only (the simulated memory's base is not 0): a free that starts below the base frees
 * the in-use pages its range reaches above it. */
static int
case_free_from_below_base (void)
{
	fresh ();
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	char *a = mwpm_alloc_range (3 * PAGE, 0);
	T_CHECK (a != NULL && info.base >= 2 * PAGE, "setup");
	uintptr_t below = info.base - 2 * PAGE;
	size_t reach = (size_t)((uintptr_t)a - below) + 2 * PAGE; /* up to and including page 1 of a */
	T_CHECK (mwpm_free_range ((void *)below, reach) == 0, "free from below the base");
	T_CHECK (state_of (a) == MWPM_PAGE_FREE_DIRTY && state_of (a + PAGE) == MWPM_PAGE_FREE_DIRTY &&
		 state_of (a + 2 * PAGE) == MWPM_PAGE_IN_USE, "pages 0 and 1 freed, page 2 kept");
	/* Entirely below the base: nothing. */
	MwpmStats before = stats ();
	T_CHECK (mwpm_free_range ((void *)below, 2 * PAGE) == 0, "free below the base only");
	MwpmStats after = stats ();
	T_CHECK (same_pages (&before, &after), "nothing changed");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_aligned (void)
{
	fresh ();
	for (size_t align = 1; align <= (4u << 20); align <<= 1) {
		size_t sizes[] = { 1, PAGE, 3 * PAGE + 5, align, align + PAGE };
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			size_t n = (sizes[i] + PAGE - 1) / PAGE;
			size_t used0 = stats ().pages_in_use;
			char *p = mwpm_alloc_aligned (sizes[i], align, MWPM_ZEROED);
			T_CHECK (p, "align %zu size %zu", align, sizes[i]);
			T_CHECK ((uintptr_t)p % (align > PAGE ? align : PAGE) == 0, "aligned %zu: %p", align, (void *)p);
			T_CHECK (stats ().pages_in_use - used0 == n, "only %zu pages taken, got %zu", n,
				 stats ().pages_in_use - used0);
			T_CHECK (all_zero (p, n * PAGE), "zero");
			memset (p, 0x11, n * PAGE);
			if (i % 2)
				mwpm_free_range (p, sizes[i]);
		}
	}
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_aligned_reuses_holes (void)
{
	fresh ();
	size_t a_pages = (size_t)(1u << 20) / PAGE > 1 ? (size_t)(1u << 20) / PAGE : 2;
	size_t align = a_pages * PAGE;
	/* Fill 8 aligned blocks, free the 4th: an aligned request must land in the hole. */
	char *blocks[8];
	for (int i = 0; i < 8; i++)
		blocks[i] = mwpm_alloc_aligned (align, align, 0);
	mwpm_free_range (blocks[3], align);
	uint64_t calls = stats ().sbrk_calls;
	char *p = mwpm_alloc_aligned (align, align, 0);
	T_CHECK (p == blocks[3], "aligned hole reused (%p, %p)", (void *)p, (void *)blocks[3]);
	T_CHECK (stats ().sbrk_calls == calls, "no growth");
	return 0;
}

/* The lowest aligned fit, even in a free run shorter than n + align - 1 that lies after a first
 * run of n with no aligned start. */
static int
case_aligned_exact_first_fit (void)
{
	fresh ();
	const size_t align = 8 * PAGE;
	char *q = mwpm_alloc_aligned (32 * PAGE, align, 0);
	T_CHECK (q != NULL, "32 aligned pages");
	T_CHECK (mwpm_free_range (q + PAGE, 2 * PAGE) == 0, "free pages 1-2: a run of 2 with no aligned start");
	T_CHECK (mwpm_free_range (q + 16 * PAGE, 2 * PAGE) == 0, "free pages 16-17: an aligned run of exactly 2");
	uint64_t calls = stats ().sbrk_calls;
	char *p = mwpm_alloc_aligned (2 * PAGE, align, 0);
	T_CHECK (p == q + 16 * PAGE, "lowest aligned fit: got page %+ld of the block", (long)((p - q) / (long)PAGE));
	T_CHECK (stats ().sbrk_calls == calls, "no growth");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_owns (void)
{
	fresh ();
	char *a = mwpm_alloc_range (2 * PAGE, 0);
	T_CHECK (mwpm_owns (a) && mwpm_owns (a + 2 * PAGE - 1), "in use");
	mwpm_free_range (a, PAGE);
	T_CHECK (mwpm_owns (a), "free dirty");
	static char data[16];
	T_CHECK (!mwpm_owns (data), "static data is not mwpm's");
	T_CHECK (!mwpm_owns (&data[8]), "static data");
	int local = 0;
	T_CHECK (!mwpm_owns (&local), "the stack is not mwpm's");
	return 0;
}

static int
case_foreign (void)
{
	fresh ();
	char *a = mwpm_alloc_range (PAGE, 0);
	MwpmStats s0 = stats ();
	/* Use up mwpm's current chunk so the next allocation must grow, then put foreign memory in
	 * between. */
	size_t fill = s0.pages_free_zeroed + s0.pages_free_dirty;
	char *f = fill ? mwpm_alloc_range (fill * PAGE, 0) : NULL;
	/* A multiple of the sbrk granule, as any sbrk caller's (WASI: 64 KiB). */
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	uint64_t fsize = (3 * PAGE + 100 + info.sbrk_granule - 1) / info.sbrk_granule * info.sbrk_granule;
	uint64_t fb;
	T_CHECK (mwpm_platform_foreign_sbrk ((int64_t)fsize, &fb) == 0, "foreign sbrk");
	char *fa = at (fb);
	memset (fa, 0xee, fsize); /* the foreign caller's memory */
	char *b = mwpm_alloc_range (PAGE, MWPM_ZEROED);
	T_CHECK (b, "alloc after foreign");
	MwpmStats s1 = stats ();
	T_CHECK (s1.pages_external >= 3, "foreign pages counted: %zu", s1.pages_external);
	T_CHECK (!mwpm_owns (fa + PAGE), "foreign page not owned");
	T_CHECK (state_of (fa + PAGE) == MWPM_PAGE_FOREIGN, "marked foreign");
	if (info.sbrk_granule % PAGE == 0) /* every sbrk result is whole pages: nothing is lost */
		T_CHECK (s1.bytes_unusable == s0.bytes_unusable, "no partial pages with page-aligned sbrk results");
	else
		T_CHECK (s1.bytes_unusable > s0.bytes_unusable, "partial pages next to foreign memory counted");
	/* Never handed out, freed or zeroed. */
	T_CHECK (mwpm_free_range (at ((fb + PAGE - 1) & ~(uint64_t)(PAGE - 1)), 4 * PAGE) == 0, "free over foreign");
	T_CHECK (stats ().pages_external == s1.pages_external, "still foreign");
	for (int i = 0; i < 64; i++) {
		char *q = mwpm_alloc_range (PAGE, MWPM_ZEROED);
		T_CHECK (q && (q + PAGE <= fa || q >= fa + fsize), "handed out foreign memory");
	}
	T_CHECK ((unsigned char)fa[fsize - 1] == 0xee, "foreign bytes untouched");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	(void)a;
	(void)f;
	return 0;
}

static int
case_weld (void)
{
	fresh ();
	char *a = mwpm_alloc_range (PAGE, 0);
	MwpmStats s0 = stats ();
	size_t free_pages = s0.pages_free_zeroed;
	/* Ask for more than the free tail: the next sbrk result is adjacent and extends the run. */
	char *b = mwpm_alloc_range ((free_pages + 8) * PAGE, MWPM_ZEROED);
	T_CHECK (b == a + PAGE, "contiguous across two sbrk results (%p after %p)", (void *)b, (void *)a);
	MwpmStats s1 = stats ();
	T_CHECK (s1.welds == s0.welds + 1, "weld counted");
	T_CHECK (s1.bytes_unusable == s0.bytes_unusable, "no bytes lost at the weld");
	T_CHECK (s1.bytes_zeroed == 0, "welded fresh memory not memset");
	T_CHECK (s1.bytes_unusable < PAGE, "only the first head fragment is lost: %llu", (unsigned long long)s1.bytes_unusable);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_zero_trust_witness (void)
{
#if MONO_CONFIG_WASM
	return 0;
#else
	/* A trimming malloc: a foreign caller grows, writes and gives memory back. */
	fresh ();
	mwpm_platform_host_declare (false, false); /* not monotonic, single-threaded: witness */
	uint64_t fb, dummy;
	mwpm_platform_foreign_sbrk (2u << 20, &fb);
	memset (at (fb), 0x77, 2u << 20);
	mwpm_platform_foreign_sbrk (-(int64_t)(2u << 20), &dummy);
	uint64_t witness = mwpm_platform_memory_bytes ();
	char *p = mwpm_alloc_range (40u << 20, MWPM_ZEROED); /* grows memory past the witness */
	T_CHECK (p, "alloc");
	T_CHECK (all_zero (p, 40u << 20), "reads zero");
	MwpmStats s = stats ();
	T_CHECK (s.zero_trust == MWPM_TRUST_WITNESS, "witness level");
	T_CHECK (s.bytes_zeroed > 0 && s.bytes_zeroed <= witness - fb + PAGE, "zeroed the memory below the witness: %llu",
		 (unsigned long long)s.bytes_zeroed);
	T_CHECK (s.bytes_from_sbrk_untrusted > 0, "untrusted bytes counted");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
#endif
}

static int
case_zero_trust_none (void)
{
#if MONO_CONFIG_WASM
	return 0;
#else
	fresh ();
	mwpm_platform_host_declare (false, true); /* not monotonic, threads: trust nothing */
	char *p = mwpm_alloc_range (4 * PAGE, MWPM_ZEROED);
	MwpmStats s = stats ();
	T_CHECK (s.zero_trust == MWPM_TRUST_NONE, "no trust");
	T_CHECK (s.pages_free_zeroed == 0, "no page trusted zero");
	T_CHECK (s.bytes_zeroed == 4 * PAGE && all_zero (p, 4 * PAGE), "zeroed what it handed out");
	return 0;
#endif
}

static int
case_nothing (void)
{
	return 0;
}

static int
case_zero_trust_lowered_break (void)
{
	/* Someone lowers the break below memory mwpm has seen: mwpm notices and stops trusting. */
	fresh ();
	char *a = mwpm_alloc_range (PAGE, 0);
	MwpmStats s0 = stats ();
	char *all = mwpm_alloc_range ((s0.pages_free_zeroed) * PAGE, 0);
	memset (all, 0x33, s0.pages_free_zeroed * PAGE);
	mwpm_free_range (all, s0.pages_free_zeroed * PAGE);
	uint64_t old;
	int err = mwpm_platform_foreign_sbrk (-(int64_t)(s0.pages_free_zeroed * PAGE), &old);
	T_CHECK (err == 0, "lowering the break: error %d", err);
	char *b = mwpm_alloc_range ((s0.pages_free_zeroed + 2) * PAGE, MWPM_ZEROED);
	T_CHECK (b, "alloc");
	MwpmStats s1 = stats ();
	T_CHECK (s1.break_lowered_seen == 1, "lowering seen");
	T_CHECK (s1.zero_trust != MWPM_TRUST_MONOTONIC, "trust dropped");
	T_CHECK (all_zero (b, (s0.pages_free_zeroed + 2) * PAGE), "zero");
	(void)a;
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_break_lowered_deep (void)
{
#if MONO_CONFIG_WASM
	return 0;
#else
	/* The break goes down by more than mwpm's next sbrk asks for: that whole result lies in
	 * mwpm's own memory. mwpm must stay consistent (no trap), and grow again past it later. */
	fresh ();
	char *a = mwpm_alloc_range (4u << 20, 0);
	MwpmStats s0 = stats ();
	if (s0.pages_free_zeroed)
		T_CHECK (mwpm_alloc_range (s0.pages_free_zeroed * PAGE, 0), "fill");
	uint64_t old;
	T_CHECK (mwpm_platform_foreign_sbrk (-(int64_t)(3u << 20), &old) == 0, "lower the break by 3 MiB");
	void *b = mwpm_alloc_range (PAGE, 0);
	T_CHECK (b == NULL || (char *)b >= a + (4u << 20), "nothing handed out twice (%p)", b);
	T_CHECK (mwpm_check_invariants () == 0, "invariants after growing inside its own memory");
	void *c = mwpm_alloc_range (64 * PAGE, 0);
	T_CHECK (c != NULL && (char *)c >= a + (4u << 20), "growth past the old end works: %p", c);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
#endif
}

static void *hook_victim;
static size_t hook_victim_size;

static int
grow_hook (size_t bytes, void *ctx)
{
	(void)bytes;
	int *calls = ctx;
	(*calls)++;
	if (!hook_victim)
		return 0;
	mwpm_free_range (hook_victim, hook_victim_size);
	hook_victim = NULL;
	return 1;
}

static int
case_grow_hook (void)
{
	fresh ();
	int calls = 0;
	MwpmStats s0;
	void *a = mwpm_alloc_range (PAGE, 0);
	s0 = stats ();
	hook_victim_size = (s0.pages_free_zeroed + 1) * PAGE;
	hook_victim = mwpm_alloc_range (hook_victim_size, 0);
	s0 = stats ();
	if (s0.pages_free_zeroed + s0.pages_free_dirty)
		T_CHECK (mwpm_alloc_range ((s0.pages_free_zeroed + s0.pages_free_dirty) * PAGE, 0), "fill");
	s0 = stats ();
	T_CHECK (s0.largest_free_run == 0, "no free page left");
	mwpm_set_grow_hook (grow_hook, &calls);
	/* No free page left: the hook runs before growing, frees the victim, no sbrk. */
	void *b = mwpm_alloc_range (hook_victim_size, 0);
	MwpmStats s1 = stats ();
	mwpm_set_grow_hook (NULL, NULL);
	T_CHECK (calls == 1, "hook called once: %d", calls);
	T_CHECK (b && s1.sbrk_calls == s0.sbrk_calls, "served without growing");
	(void)a;
	return 0;
}

/* MWPM_NO_GROW: served from the free pages mwpm holds, first fit, dirty ones zeroed when asked;
 * ENOMEM when none fits, without the hook or sbrk, and nothing changes. */
static int
case_no_grow (void)
{
	fresh ();
	int calls = 0;
	uint8_t *a = mwpm_alloc_range (8 * PAGE, 0);
	uint8_t *fence = mwpm_alloc_range (PAGE, 0);
	T_CHECK (a && fence, "alloc");
	memset (a, 0x5a, 8 * PAGE);
	/* Take every other free page, so that the 8 pages freed next are the only free ones. */
	MwpmStats s0 = stats ();
	if (s0.pages_free_zeroed + s0.pages_free_dirty)
		T_CHECK (mwpm_alloc_range ((s0.pages_free_zeroed + s0.pages_free_dirty) * PAGE, 0), "fill");
	T_CHECK (mwpm_free_range (a, 8 * PAGE) == 0, "free");
	T_CHECK (stats ().largest_free_run == 8, "one free run of 8 pages: %zu", stats ().largest_free_run);
	mwpm_set_grow_hook (grow_hook, &calls);
	s0 = stats ();
	uint8_t *b = mwpm_alloc_range (8 * PAGE, MWPM_NO_GROW | MWPM_ZEROED);
	MwpmStats s1 = stats ();
	T_CHECK (b == a, "served from the freed run: %p, expected %p", (void *)b, (void *)a);
	T_CHECK (b[0] == 0 && b[8 * PAGE - 1] == 0, "the dirty pages were zeroed");
	T_CHECK (s1.sbrk_calls == s0.sbrk_calls && calls == 0, "no growth, no hook");
	errno = 0;
	void *c = mwpm_alloc_range (PAGE, MWPM_NO_GROW);
	MwpmStats s2 = stats ();
	T_CHECK (c == NULL && errno == ENOMEM, "nothing held fits: ENOMEM (%p, errno %d)", c, errno);
	T_CHECK (s2.sbrk_calls == s1.sbrk_calls && calls == 0 && same_pages (&s1, &s2), "no growth, no hook, nothing changed");
	void *d = mwpm_alloc_range (PAGE, 0);
	T_CHECK (d && calls == 1, "without the flag the hook runs and mwpm grows");
	mwpm_set_grow_hook (NULL, NULL);
	return 0;
}

/* mwpm_alloc_at: free pages at the address (dirty ones zeroed), the span's top grown into;
 * EEXIST over pages in use or foreign, ENOMEM above the span's reach, with MWPM_NO_GROW at the
 * top, after another sbrk caller took the top, or when sbrk fails; EINVAL for bad arguments.
 * Refusals change nothing. */
static int
case_alloc_at (void)
{
	fresh ();
	uint8_t *a = mwpm_alloc_range (8 * PAGE, 0);
	T_CHECK (a, "alloc");
	memset (a, 0x5a, 8 * PAGE);
	T_CHECK (mwpm_free_range (a + 2 * PAGE, 3 * PAGE) == 0, "free the middle");
	MwpmStats s0 = stats ();
	uint8_t *b = mwpm_alloc_at (a + 2 * PAGE, 3 * PAGE - 7, MWPM_ZEROED);
	MwpmStats s1 = stats ();
	T_CHECK (b == a + 2 * PAGE, "placed at the freed pages: %p, expected %p", (void *)b, (void *)(a + 2 * PAGE));
	T_CHECK (all_zero (b, 3 * PAGE), "the dirty pages read zero");
	T_CHECK (s1.bytes_zeroed - s0.bytes_zeroed == 3 * PAGE, "exactly the dirty pages memset: %llu bytes",
		 (unsigned long long)(s1.bytes_zeroed - s0.bytes_zeroed));
	T_CHECK (s1.pages_in_use == 8 && s1.sbrk_calls == s0.sbrk_calls, "in use again, no growth");
	T_CHECK (a[PAGE] == 0x5a && a[5 * PAGE] == 0x5a, "the neighbours kept their contents");

	/* Over pages in use, whole or in part: EEXIST, nothing changes. */
	uint8_t *over[] = { a, a + 7 * PAGE, a + PAGE };
	for (int i = 0; i < 3; i++) {
		errno = 0;
		T_CHECK (mwpm_alloc_at (over[i], 2 * PAGE, MWPM_ZEROED) == NULL && errno == EEXIST, "over pages in use (%d): errno %d", i, errno);
	}
	MwpmStats s2 = stats ();
	T_CHECK (same_pages (&s1, &s2) && s2.at_refused == s1.at_refused + 3 && s2.alloc_failures == s1.alloc_failures,
		 "refusals changed nothing, counted as places refused, not as failed allocations");

	/* The top: take the free pages, grow once so that mwpm's memory ends at the break, then
	 * extend the top range in place. */
	if (s2.pages_free_zeroed + s2.pages_free_dirty)
		T_CHECK (mwpm_alloc_range ((s2.pages_free_zeroed + s2.pages_free_dirty) * PAGE, 0), "fill");
	uint8_t *top = mwpm_alloc_range (PAGE, 0);
	T_CHECK (top, "a page at the top");
	MwpmStats s3 = stats ();
	uint8_t *end = (uint8_t *)at ((uint64_t)s3.span_end_page * PAGE);
	errno = 0;
	T_CHECK (mwpm_alloc_at (end, 4 * PAGE, MWPM_NO_GROW) == NULL && errno == ENOMEM, "MWPM_NO_GROW at the top: errno %d", errno);
	errno = 0;
	T_CHECK (mwpm_alloc_at (end + PAGE, PAGE, 0) == NULL && errno == ENOMEM, "above the span's end: errno %d", errno);
	T_CHECK (unchanged_since (&s3), "nothing changed");
	mwpm_platform_fail_next_sbrk (2); /* the chunk, then exactly what is needed */
	errno = 0;
	T_CHECK (mwpm_alloc_at (end, 4 * PAGE, 0) == NULL && errno == ENOMEM, "sbrk failing: errno %d", errno);
	mwpm_platform_fail_next_sbrk (0);
	T_CHECK (unchanged_since (&s3), "a failed growth changed nothing");
	uint8_t *c = mwpm_alloc_at (end, 4 * PAGE, MWPM_ZEROED);
	MwpmStats s4 = stats ();
	T_CHECK (c == end, "grown in place at the top: %p, expected %p", (void *)c, (void *)end);
	T_CHECK (s4.span_end_page >= s3.span_end_page + 4 && s4.bytes_zeroed == s3.bytes_zeroed, "the span grew; fresh pages not memset");
	T_CHECK (all_zero (c, 4 * PAGE), "fresh pages read zero");
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	uint64_t grown = s4.bytes_from_sbrk - s3.bytes_from_sbrk, chunk = MWPM_MIN_CHUNK_BYTES;
	T_CHECK (grown <= (chunk > 5 * PAGE + info.sbrk_granule ? chunk : 5 * PAGE + info.sbrk_granule),
		 "grew by %llu bytes for 4 pages", (unsigned long long)grown);
	memset (c, 0x11, 4 * PAGE);

	/* Another sbrk caller takes the memory above: the top can no longer be extended, and its
	 * pages are foreign. */
	MwpmStats s5 = stats ();
	if (s5.pages_free_zeroed + s5.pages_free_dirty)
		T_CHECK (mwpm_alloc_range ((s5.pages_free_zeroed + s5.pages_free_dirty) * PAGE, 0), "fill");
	s5 = stats ();
	uint64_t fsize = (2 * PAGE + info.sbrk_granule - 1) / info.sbrk_granule * info.sbrk_granule, fb;
	T_CHECK (mwpm_platform_foreign_sbrk ((int64_t)fsize, &fb) == 0, "foreign sbrk");
	errno = 0;
	uint8_t *e = (uint8_t *)at ((uint64_t)s5.span_end_page * PAGE);
	T_CHECK (mwpm_alloc_at (e, PAGE, 0) == NULL && errno == EEXIST, "the top after another caller's sbrk: errno %d", errno);
	/* Wholly above the span, in the other caller's memory: EEXIST too (something is there). */
	uint64_t inside = (fb + PAGE - 1) / PAGE * PAGE;
	if (inside + PAGE <= fb + fsize && inside > (uint64_t)s5.span_end_page * PAGE) {
		errno = 0;
		T_CHECK (mwpm_alloc_at (at (inside), PAGE, 0) == NULL && errno == EEXIST, "above the span, in another caller's memory: errno %d", errno);
	}
	/* Above the break nothing is there: out of reach, ENOMEM. */
	uint64_t beyond = (fb + fsize + 2 * PAGE) / PAGE * PAGE;
	errno = 0;
	T_CHECK (mwpm_alloc_at (at (beyond), PAGE, 0) == NULL && errno == ENOMEM, "above the break: errno %d", errno);
	T_CHECK (unchanged_since (&s5), "nothing changed");
	T_CHECK (mwpm_alloc_range (PAGE, 0), "grow past the foreign memory");
	uint64_t fpage = (fb + PAGE - 1) / PAGE * PAGE;
	if (fpage + PAGE <= fb + fsize && state_of (at (fpage)) == MWPM_PAGE_FOREIGN) {
		errno = 0;
		T_CHECK (mwpm_alloc_at (at (fpage), PAGE, 0) == NULL && errno == EEXIST, "over foreign pages: errno %d", errno);
	}

	/* Bad arguments: EINVAL, nothing changes. */
	MwpmStats s6 = stats ();
	errno = 0;
	T_CHECK (mwpm_alloc_at (a + 2 * PAGE + 1, PAGE, 0) == NULL && errno == EINVAL, "unaligned address");
	errno = 0;
	T_CHECK (mwpm_alloc_at (a, 0, 0) == NULL && errno == EINVAL, "size 0");
	errno = 0;
	T_CHECK (mwpm_alloc_at (a, PAGE, 8) == NULL && errno == EINVAL, "unknown flag");
	errno = 0;
	T_CHECK (mwpm_alloc_at (at (MWPM_SPACE_BYTES - PAGE), 2 * PAGE, 0) == NULL && errno == EINVAL, "past the space");
	errno = 0;
	T_CHECK (mwpm_alloc_at (a, (size_t)-1, 0) == NULL && errno == EINVAL, "huge size");
	MwpmStats s7 = stats ();
	T_CHECK (same_pages (&s6, &s7) && s7.alloc_failures == s6.alloc_failures + 5, "nothing changed, failures counted");
	T_CHECK (c[0] == 0x11 && c[4 * PAGE - 1] == 0x11, "the range grown in place kept its contents");
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

/* mwpm_remap_at: over a mix of the caller's pages in use and free pages, all read zero after
 * (exactly the dirty and held pages memset), in one step; pages in use that the caller does not
 * hold, foreign pages or memory below the span make it refuse with EEXIST and change nothing. */
static uint8_t *remap_mine_lo, *remap_mine_hi;

static int
held_in_window (const void *page, void *ctx)
{
	(*(int *)ctx)++;
	return (const uint8_t *)page >= remap_mine_lo && (const uint8_t *)page < remap_mine_hi;
}

static int
case_remap_at (void)
{
	fresh ();
	uint8_t *a = mwpm_alloc_range (12 * PAGE, 0);
	T_CHECK (a, "alloc");
	memset (a, 0x5a, 12 * PAGE);
	/* Pages 0-3 and 6-7 are "mine" (held), 4-5 freed (dirty), 8-11 another user's. */
	T_CHECK (mwpm_free_range (a + 4 * PAGE, 2 * PAGE) == 0, "free 4-5");
	remap_mine_lo = a;
	remap_mine_hi = a + 8 * PAGE;
	MwpmStats s0 = stats ();
	int calls = 0;
	uint8_t *r = mwpm_remap_at (a + PAGE, 7 * PAGE, MWPM_ZEROED, held_in_window, &calls);
	MwpmStats s1 = stats ();
	T_CHECK (r == a + PAGE, "remapped over held and free pages: %p, expected %p (errno %d)", (void *)r, (void *)(a + PAGE), errno);
	T_CHECK (all_zero (a + PAGE, 7 * PAGE), "every page of the range reads zero");
	T_CHECK (a[0] == 0x5a && a[8 * PAGE] == 0x5a, "the neighbours kept their contents");
	T_CHECK (s1.bytes_zeroed - s0.bytes_zeroed == 7 * PAGE, "held and dirty pages memset: %llu bytes",
		 (unsigned long long)(s1.bytes_zeroed - s0.bytes_zeroed));
	T_CHECK (s1.pages_in_use == 12 && s1.pages_free_dirty == 0 && calls == 5, "the free pages taken, held ones kept (%d questions)", calls);
	/* Over a page in use that is not held: EEXIST, nothing changes (not even the held pages). */
	memset (a, 0x77, 12 * PAGE);
	MwpmStats s2 = stats ();
	errno = 0;
	T_CHECK (mwpm_remap_at (a + 6 * PAGE, 4 * PAGE, MWPM_ZEROED, held_in_window, &calls) == NULL && errno == EEXIST,
		 "over another user's pages: errno %d", errno);
	T_CHECK (unchanged_since (&s2) && a[6 * PAGE] == 0x77 && a[9 * PAGE] == 0x77, "a refusal changed nothing");
	T_CHECK (stats ().at_refused == s2.at_refused + 1, "counted as a place refused");
	/* Without a judge of held pages: EINVAL. */
	errno = 0;
	T_CHECK (mwpm_remap_at (a, PAGE, 0, NULL, NULL) == NULL && errno == EINVAL, "NULL held: errno %d", errno);
	/* Held pages plus the top: grows into it. */
	MwpmStats s3 = stats ();
	if (s3.pages_free_zeroed + s3.pages_free_dirty)
		T_CHECK (mwpm_alloc_range ((s3.pages_free_zeroed + s3.pages_free_dirty) * PAGE, 0), "fill");
	uint8_t *top = mwpm_alloc_range (2 * PAGE, 0);
	T_CHECK (top, "alloc at the top");
	memset (top, 0x31, 2 * PAGE);
	remap_mine_lo = top;
	remap_mine_hi = top + 2 * PAGE;
	r = mwpm_remap_at (top + PAGE, 5 * PAGE, MWPM_ZEROED, held_in_window, &calls);
	T_CHECK (r == top + PAGE && all_zero (top + PAGE, 5 * PAGE) && top[0] == 0x31, "held page and the top grown into: %p", (void *)r);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

/* A hook that does not free but lets the pool grow meanwhile (as another thread would while
 * the lock is released): the search after the hook must use that memory, and the growth
 * arithmetic must not count on a free tail shorter than the request. */
static int hook_grew_calls;

static int
grow_hook_grows (size_t bytes, void *ctx)
{
	(void)ctx;
	hook_grew_calls++;
	mwpm_set_grow_hook (NULL, NULL);
	void *q = mwpm_alloc_range (bytes + 8 * PAGE, 0);
	if (q)
		mwpm_free_range (q, bytes + 8 * PAGE);
	return 0;
}

static int
case_grow_hook_others_grow (void)
{
	fresh ();
	MwpmStats s0 = stats ();
	if (s0.pages_free_zeroed + s0.pages_free_dirty)
		T_CHECK (mwpm_alloc_range ((s0.pages_free_zeroed + s0.pages_free_dirty) * PAGE, 0), "fill");
	void *first = mwpm_alloc_range (PAGE, 0);
	T_CHECK (first != NULL, "first");
	s0 = stats ();
	size_t free0 = s0.pages_free_zeroed + s0.pages_free_dirty;
	hook_grew_calls = 0;
	mwpm_set_grow_hook (grow_hook_grows, NULL);
	size_t n = free0 + 2;
	void *b = mwpm_alloc_range (n * PAGE, 0);
	mwpm_set_grow_hook (NULL, NULL);
	MwpmStats s1 = stats ();
	T_CHECK (hook_grew_calls == 1, "hook called once: %d", hook_grew_calls);
	T_CHECK (b != NULL, "served");
	/* Everything came from the hook's growth (at most its request plus a minimum chunk). */
	T_CHECK (s1.bytes_from_sbrk - s0.bytes_from_sbrk <= (n + 8 + 1) * PAGE + (4u << 20),
	         "grew %llu bytes for a %zu-page request", (unsigned long long)(s1.bytes_from_sbrk - s0.bytes_from_sbrk), n);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

static int
case_walk (void)
{
	fresh ();
	char *a = mwpm_alloc_range (5 * PAGE, 0);
	mwpm_free_range (a + PAGE, PAGE);
	st = stats ();
	StateCount c = { { 0 } };
	mwpm_walk_runs (0, mwpm_table_pages (), count_run, &c);
	T_CHECK (c.pages[MWPM_PAGE_IN_USE] == st.pages_in_use, "in use");
	T_CHECK (c.pages[MWPM_PAGE_FREE_DIRTY] == st.pages_free_dirty, "dirty");
	T_CHECK (c.pages[MWPM_PAGE_FREE_ZEROED] == st.pages_free_zeroed, "zeroed");
	T_CHECK (c.pages[MWPM_PAGE_FOREIGN] == st.pages_external, "foreign");
	size_t total = 0;
	for (int s = 0; s < MWPM_PAGE_STATE_COUNT; s++)
		total += c.pages[s];
	T_CHECK (total == mwpm_table_pages (), "runs cover the table");
	return 0;
}

static int
case_invariants_catch (void)
{
	/* The checker must find a planted inconsistency (it reads mwpm's own table). */
	extern uint8_t _mwpm_state[];
	fresh ();
	char *a = mwpm_alloc_range (2 * PAGE, 0);
	size_t page = mwpm_page_of (a);
	uint8_t saved = _mwpm_state[page];
	_mwpm_state[page] = MWPM_PAGE_FREE_ZEROED;
	int problems = mwpm_check_invariants ();
	_mwpm_state[page] = saved;
	T_CHECK (problems > 0, "corruption found");
	T_CHECK (mwpm_check_invariants () == 0, "clean again");
	return 0;
}

/* Summary-tree nodes visited per alloc/free at a fragmentation of 50% (every other page in use),
 * for several numbers of managed pages: must stay within a logarithmic bound. */
static double
visits_at (size_t managed, TestRng *rng)
{
	fresh ();
	char *first = mwpm_alloc_range (PAGE, 0), *p = first;
	while (p && (size_t)(mwpm_page_of (p) - mwpm_page_of (first)) + 1 < managed)
		p = mwpm_alloc_range (PAGE, 0);
	for (size_t i = 0; i < managed; i += 2)
		mwpm_free_range (first + i * PAGE, PAGE);
	uint64_t total = 0;
	int ops = 2000;
	for (int i = 0; i < ops; i++) {
		size_t k = 1 + test_rng_below (rng, 3);
		void *q = mwpm_alloc_range (k * PAGE, 0);
		total += mwpm_last_op_index_visits ();
		mwpm_free_range (q, k * PAGE);
		total += mwpm_last_op_index_visits ();
	}
	return (double)total / ops;
}

static int
case_index_logarithmic (void)
{
	TestRng rng = { 42 };
	size_t sizes[] = { 1024, 4096, 16384, 60000 };
	double v[4];
	for (int i = 0; i < 4; i++) {
		if (sizes[i] > mwpm_table_pages () * 15 / 16)
			sizes[i] = mwpm_table_pages () * 15 / 16;
#if MONO_CONFIG_WASM
		if (sizes[i] * PAGE > (512u << 20))
			sizes[i] = (512u << 20) / PAGE; /* node: keep the wasm memory moderate */
#endif
		v[i] = visits_at (sizes[i], &rng);
		tap_diag ("index nodes visited per alloc+free at %zu managed pages: %.1f", sizes[i], v[i]);
		double bound = 6.0 * log2 ((double)sizes[i]) + 16;
		T_CHECK (v[i] <= bound, "%.1f visits at %zu pages exceeds %.1f", v[i], sizes[i], bound);
	}
	/* From 1k to 60k pages (x58): logarithmic growth adds a few levels, linear would be x58. */
	T_CHECK (v[3] <= v[0] * 2.0, "visits grew from %.1f to %.1f", v[0], v[3]);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

/* ASan and fork: native builds with the sanitizer. */
#define HAVE_ASAN (!MONO_CONFIG_WASM && MONO_HAVE_ASAN)

static int
case_asan_catches_freed_page (void)
{
#if HAVE_ASAN
	int fds[2];
	T_CHECK (pipe (fds) == 0, "pipe");
	fflush (stdout);
	pid_t pid = fork ();
	if (pid == 0) {
		dup2 (fds[1], 2);
		fresh ();
		volatile char *p = mwpm_alloc_range (PAGE, 0);
		p[10] = 1;
		mwpm_free_range ((void *)p, PAGE);
		p[10] = 2; /* must be reported */
		_exit (0);
	}
	close (fds[1]);
	char buf[8192];
	size_t got = 0;
	ssize_t r;
	while ((r = read (fds[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = 0;
	close (fds[0]);
	int status;
	waitpid (pid, &status, 0);
	T_CHECK (!(WIFEXITED (status) && WEXITSTATUS (status) == 0), "the child survived touching a freed page");
	T_CHECK (strstr (buf, "use-after-poison") != NULL, "ASan reported use-after-poison: %.200s", buf);
#endif
	return 0;
}

/* The dump's runs add up to the stats, in address order, without gaps. */
static int
case_dump (void)
{
	fresh ();
	char *a = mwpm_alloc_range (5 * PAGE, MWPM_ZEROED);
	char *b = mwpm_alloc_range (3 * PAGE, 0);
	T_CHECK (a && b, "allocations");
	memset (b, 1, PAGE);
	T_CHECK (mwpm_free_range (b, 3 * PAGE) == 0 && mwpm_free_range (a + PAGE, PAGE) == 0, "frees");
	/* A memory stream, not tmpfile(): WASI has no temporary files. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream (&text, &len);
	T_CHECK (f != NULL, "open_memstream");
	T_CHECK (mwpm_dump (f, "after \"frees\"") == 0, "dump");
	T_CHECK (fclose (f) == 0 && text != NULL, "read back");
	T_CHECK (strstr (text, "\"label\":\"after \\\"frees\\\"\"") != NULL, "label escaped: %.80s", text);
	free (text);
	/* Bytes that are not printable ASCII are escaped: the line stays valid UTF-8 JSON. */
	f = open_memstream (&text, &len);
	T_CHECK (f != NULL && mwpm_dump (f, "bytes \xff\x01\x7f\xc3") == 0 && fclose (f) == 0 && text, "dump");
	T_CHECK (strstr (text, "\"label\":\"bytes \\u00ff\\u0001\\u007f\\u00c3\"") != NULL, "bytes escaped: %.60s", text);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		T_CHECK (*c < 0x80 && (*c >= 0x20 || *c == '\n'), "byte 0x%02x in the line", *c);
	mwpm_get_stats (&st);
	size_t by_state[MWPM_PAGE_STATE_COUNT] = { 0 };
	size_t expect_next = 0;
	char *r = strstr (text, "\"runs\":[");
	T_CHECK (r != NULL, "runs present");
	r += 8;
	while (*r == '[' || *r == ',') {
		if (*r == ',')
			r++;
		size_t first, count;
		int state, used;
		T_CHECK (sscanf (r, "[%zu,%zu,%d]%n", &first, &count, &state, &used) == 3, "run syntax at %.20s", r);
		T_CHECK (first == expect_next && count > 0 && state >= 0 && state < MWPM_PAGE_STATE_COUNT, "runs contiguous");
		by_state[state] += count;
		expect_next = first + count;
		r += used;
	}
	free (text);
	T_CHECK (by_state[MWPM_PAGE_IN_USE] == st.pages_in_use, "in use %zu vs %zu", by_state[MWPM_PAGE_IN_USE], st.pages_in_use);
	T_CHECK (by_state[MWPM_PAGE_FREE_ZEROED] == st.pages_free_zeroed, "free zeroed");
	T_CHECK (by_state[MWPM_PAGE_FREE_DIRTY] == st.pages_free_dirty && st.pages_free_dirty >= 1, "free dirty");
	T_CHECK (expect_next >= st.span_end_page, "covers the span");
	T_CHECK (mwpm_free_range (a, 5 * PAGE) == 0, "free");
	return 0;
}

int
main (void)
{
	/* First: on wasm the memory used by earlier cases is never given back, and the index covers
	 * pages from 0 to the span's end. */
	tap_case ("index visits grow logarithmically with managed pages", case_index_logarithmic);
	tap_case ("basic alloc/free", case_basic);
	tap_case ("MWPM_NO_GROW: only from held pages, ENOMEM without growth or hook", case_no_grow);
	tap_case ("alloc_at: free pages in place, the top grown into; EEXIST, ENOMEM, EINVAL change nothing", case_alloc_at);
	tap_case ("remap_at: held pages taken over and zeroed with free ones in one step; EEXIST over others'", case_remap_at);
	tap_case ("EINVAL: size 0, unknown flags, bad alignment, bad free", case_einval);
	tap_case ("ENOMEM: huge and overflowing sizes, sbrk failure, exhaustion", case_enomem);
	tap_case ("fresh sbrk memory is never memset", case_fresh_not_zeroed_again);
	tap_case ("dirty reuse: zeroed requests memset only dirty pages", case_dirty_reuse);
	tap_case ("mixed dirty and zeroed pages in one run", case_mixed_dirty_zeroed);
	tap_case ("partial frees: head, middle, tail; double free", case_partial_free);
	tap_case ("frees of memory not ours are harmless no-ops", case_free_not_ours);
	tap_case ("a free from below the memory's base frees what it reaches" HOST_ONLY, MONO_CONFIG_WASM ? NULL : case_free_from_below_base);
	tap_case ("aligned allocations keep only the needed pages", case_aligned);
	tap_case ("aligned allocations reuse aligned holes", case_aligned_reuses_holes);
	tap_case ("aligned requests take the lowest aligned fit", case_aligned_exact_first_fit);
	tap_case ("owns", case_owns);
	tap_case ("foreign sbrk memory is never used", case_foreign);
	tap_case ("adjacent sbrk results are welded", case_weld);
	tap_case ("zero trust: witness rule after a trimming malloc" HOST_ONLY, case_zero_trust_witness);
	tap_case ("zero trust: none when the break may move under threads" HOST_ONLY, case_zero_trust_none);
	/* WASI's break never goes down. */
	tap_case (MONO_CONFIG_WASI ? "zero trust: a lowered break is detected # SKIP WASI's break cannot go down"
	                           : "zero trust: a lowered break is detected",
	          MONO_CONFIG_WASI ? case_nothing : case_zero_trust_lowered_break);
	tap_case ("a break lowered deep into mwpm's memory is survived" HOST_ONLY, case_break_lowered_deep);
	tap_case ("grow hook runs before growth", case_grow_hook);
	tap_case ("growth while the hook runs is used, not doubled", case_grow_hook_others_grow);
	tap_case ("walk over runs matches the stats", case_walk);
	tap_case ("invariant checker finds a planted error", case_invariants_catch);
	tap_case ("page-table dump adds up to the stats", case_dump);
#if HAVE_ASAN
	tap_case ("ASan catches a touch of a freed page", case_asan_catches_freed_page);
#else
	tap_case ("ASan catches a touch of a freed page # SKIP not an ASan build", case_asan_catches_freed_page);
#endif
	return tap_done ();
}

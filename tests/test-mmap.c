/*
 * test-mmap.c: the mmap layer (mono/utils/mono-mmap.h) on every backend this build has:
 * routing, aligned allocations of every power of two up to 4 MiB, partial frees where the
 * capability record allows them, zeroing of reused dirty pages, exact accounting after random
 * sequences (against a model of live requests), and bad input changing nothing.
 */
#include "mono-config.h"
#include "mono-mmap.h"
#include "mono-mmap-ranges.h"
#include "mono-options.h"
#include "tap.h"

#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "mono-break.h"
#include "mono-bulk.h"

#include <errno.h>
#include <unistd.h>

static MonoMmapBackend backends[4];
static int nbackends;
static MonoMmapBackend current;
static char err[256];

static int
use (MonoMmapBackend b)
{
	mono_mmap_reset_for_tests ();
	if (b == MONO_MMAP_BACKEND_MWPM)
		mwpm_reset_for_tests ();
	current = b;
	return mono_mmap_select_backend (b, err, sizeof (err));
}

static bool
all_zero (const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i += 8)
		if (*(const uint64_t *)(c + i))
			return false;
	return true;
}

static bool
owned_by_mwpm (const void *p)
{
	return mwpm_owns (p);
}

/* Every backend: routing follows the option. */
static int
case_routing (void)
{
	for (int on = 0; on <= 1; on++) {
		mono_options_reset_for_tests ();
		mono_mmap_reset_for_tests ();
		if (on && !MONO_CONFIG_WASM_MMAP)
			continue;
		mwpm_reset_for_tests ();
		T_CHECK (mono_options_parse_string (on ? "--mono-wasm-mmap=on" : "--mono-wasm-mmap=off", NULL, err, sizeof (err)) == 0, "%s", err);
		T_CHECK (mono_options_apply (err, sizeof (err)) == 0, "%s", err);
		void *p = mono_valloc (NULL, 100000, 0, MONO_MEM_ACCOUNT_OTHER);
		void *q = mono_valloc_aligned (1 << 20, 1 << 20, MONO_MMAP_NOZERO, MONO_MEM_ACCOUNT_MAJOR);
		T_CHECK (p && q, "allocations");
		/* In the shared-pool build libc's mmap takes its memory from malloc, i.e. from mwpm. */
		bool want = on || MONO_CONFIG_SHARED_POOL;
		T_CHECK (owned_by_mwpm (p) == want && owned_by_mwpm (q) == want, "mwpm owns the memory iff the option is on");
		T_CHECK (strcmp (mono_mmap_caps ()->name, on ? "mwpm" : (MONO_CONFIG_WASM ? "libc" : "posix")) == 0,
		         "backend %s", mono_mmap_caps ()->name);
		T_CHECK (mono_vfree (p, 100000, MONO_MEM_ACCOUNT_OTHER) == 0 && mono_vfree (q, 1 << 20, MONO_MEM_ACCOUNT_MAJOR) == 0, "frees");
		T_CHECK (mono_mmap_check () == 0, "consistent");
	}
	mono_options_reset_for_tests ();
	return 0;
}

static int
case_aligned (void)
{
	for (int bi = 0; bi < nbackends; bi++) {
		T_CHECK (use (backends[bi]) == 0, "%s", err);
		const MonoMmapCaps *caps = mono_mmap_caps ();
		size_t page = caps->page_size;
		for (size_t align = page; align <= (4u << 20); align <<= 1) {
			size_t sizes[] = { 1, page, 3 * page, align, align + page };
			for (size_t si = 0; si < 5; si++) {
				size_t size = sizes[si];
				uint8_t *p = mono_valloc_aligned (size, align, 0, MONO_MEM_ACCOUNT_MAJOR);
				T_CHECK (p != NULL, "%s: size %zu align %zu: errno %d", caps->name, size, align, errno);
				T_CHECK (((uintptr_t)p & (align - 1)) == 0, "%s: %p not aligned to %zu", caps->name, (void *)p, align);
				size_t len = (size + page - 1) / page * page;
				T_CHECK (all_zero (p, len), "%s: fresh memory reads zero", caps->name);
				memset (p, 0xa5, len);
				MonoMmapStats st;
				mono_mmap_get_stats (&st);
				T_CHECK (st.live_bytes[MONO_MEM_ACCOUNT_MAJOR] == len, "%s: accounted %llu, requested %zu", caps->name,
				         (unsigned long long)st.live_bytes[MONO_MEM_ACCOUNT_MAJOR], len);
				if (caps->partial_free && len >= 3 * page) {
					/* Middle, then head, then the rest. */
					T_CHECK (mono_vfree (p + page, page, MONO_MEM_ACCOUNT_MAJOR) == 0, "%s: free middle", caps->name);
					T_CHECK (p[0] == 0xa5 && p[2 * page] == 0xa5, "%s: neighbours intact", caps->name);
					T_CHECK (mono_vfree (p, page, MONO_MEM_ACCOUNT_MAJOR) == 0, "%s: free head", caps->name);
					T_CHECK (mono_vfree (p + 2 * page, len - 2 * page, MONO_MEM_ACCOUNT_MAJOR) == 0, "%s: free tail", caps->name);
				} else {
					if (!caps->partial_free && len >= 2 * page) {
						errno = 0;
						T_CHECK (mono_vfree (p + page, page, MONO_MEM_ACCOUNT_MAJOR) == -1 && errno == EINVAL,
						         "%s: a part cannot be freed", caps->name);
					}
					T_CHECK (mono_vfree (p, size, MONO_MEM_ACCOUNT_MAJOR) == 0, "%s: free whole", caps->name);
				}
				mono_mmap_get_stats (&st);
				T_CHECK (st.live_total == 0 && st.backend_bytes_live == 0, "%s: nothing left", caps->name);
				T_CHECK (mono_mmap_check () == 0, "%s: consistent", caps->name);
			}
		}
	}
	return 0;
}

/* A missing zeroing shows only on reused dirty pages: dirty them, free, take them again. */
static int
case_dirty_reuse (void)
{
	for (int bi = 0; bi < nbackends; bi++) {
		T_CHECK (use (backends[bi]) == 0, "%s", err);
		const MonoMmapCaps *caps = mono_mmap_caps ();
		size_t len = 16 * caps->page_size;
		for (int round = 0; round < 4; round++) {
			uint8_t *p = mono_valloc (NULL, len, round == 3 ? MONO_MMAP_NOZERO : 0, MONO_MEM_ACCOUNT_NURSERY);
			T_CHECK (p != NULL, "alloc");
			if (round < 3)
				T_CHECK (all_zero (p, len), "%s: round %d: reused memory reads zero", caps->name, round);
			memset (p, 0x5a + round, len);
			T_CHECK (mono_vfree (p, len, MONO_MEM_ACCOUNT_NURSERY) == 0, "free");
		}
		MonoMmapStats st;
		mono_mmap_get_stats (&st);
		if (caps->backend == MONO_MMAP_BACKEND_MWPM) {
			/* Rounds 1 and 2 reused dirty pages and zeroed them; round 3 asked for no zeroing. */
			T_CHECK (st.bytes_zeroed == 2 * len, "mwpm zeroed %llu bytes, expected %zu", (unsigned long long)st.bytes_zeroed, 2 * len);
		} else if (caps->backend == MONO_MMAP_BACKEND_LIBC) {
			T_CHECK (st.bytes_zeroed >= 4 * len, "libc zeroes every byte it maps: %llu", (unsigned long long)st.bytes_zeroed);
		}
	}
	return 0;
}

static uint64_t
bytes_zeroed_now (void)
{
	MonoMmapStats st;
	mono_mmap_get_stats (&st);
	return st.bytes_zeroed;
}

/*
 * The malloc backend zeroes a mapping only when it is not fresh from sbrk: in single-threaded
 * emscripten builds a block at or above the break read before the call is fresh and not
 * memset, a reused one is; everywhere else every zeroed mapping is memset.
 */
static int
case_malloc_zeroes_only_reused (void)
{
	T_CHECK (use (MONO_MMAP_BACKEND_MALLOC) == 0, "%s", err);
	const size_t len = 4u << 20;
	const bool fresh_check = MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_THREADS;
	/* Keep taking 4 MiB aligned to 4 MiB until one lands above the break it started from: the
	 * heap's top is carved first, fresh memory after (a few rounds at most). */
	uint8_t *kept[16];
	int nkept = 0;
	uint8_t *fresh = NULL;
	uint64_t z0 = 0;
	for (; nkept < 16 && !fresh; nkept++) {
		uintptr_t brk = (uintptr_t)sbrk (0);
		z0 = bytes_zeroed_now ();
		kept[nkept] = mono_valloc_aligned (len, len, 0, MONO_MEM_ACCOUNT_NURSERY);
		T_CHECK (kept[nkept] != NULL, "4 MiB from malloc");
		if ((uintptr_t)kept[nkept] >= brk)
			fresh = kept[nkept];
	}
	T_CHECK (fresh != NULL, "no block fresh from sbrk in 16 tries");
	uint64_t z_fresh = bytes_zeroed_now () - z0;
	T_CHECK (all_zero (fresh, len), "fresh block reads zero");
	T_CHECK (z_fresh == (fresh_check ? 0 : len), "a fresh block was memset %llu bytes (expected %zu)",
		 (unsigned long long)z_fresh, fresh_check ? (size_t)0 : len);
	memset (fresh, 0x6b, len);
	T_CHECK (mono_vfree (fresh, len, MONO_MEM_ACCOUNT_NURSERY) == 0, "free");
	nkept--;
	uint64_t z1 = bytes_zeroed_now ();
	uintptr_t brk_again = (uintptr_t)sbrk (0);
	uint8_t *again = mono_valloc_aligned (len, len, 0, MONO_MEM_ACCOUNT_NURSERY);
	T_CHECK (again != NULL, "again");
	/* The block just freed (or any other below the break) is reused memory: memset, always
	 * (and where fresh blocks are not told apart, every block is memset). */
	T_CHECK (!fresh_check || (uintptr_t)again + len <= brk_again, "the block at %p was not reused (break %#lx)",
		 (void *)again, (unsigned long)brk_again);
	T_CHECK (all_zero (again, len), "a reused block reads zero");
	T_CHECK (bytes_zeroed_now () - z1 == len, "the reused block was memset %llu bytes, expected %zu",
		 (unsigned long long)(bytes_zeroed_now () - z1), len);
	T_CHECK (mono_vfree (again, len, MONO_MEM_ACCOUNT_NURSERY) == 0, "free");
	for (int i = 0; i < nkept; i++)
		T_CHECK (mono_vfree (kept[i], len, MONO_MEM_ACCOUNT_NURSERY) == 0, "free kept");
	T_CHECK (mono_mmap_check () == 0, "consistent");
	return 0;
}

typedef struct {
	uint8_t *p;
	size_t len;
	MonoMemAccountType type;
} Live;

static int
case_random_accounting (void)
{
	enum { SLOTS = 64 };
	for (int bi = 0; bi < nbackends; bi++) {
		T_CHECK (use (backends[bi]) == 0, "%s", err);
		const MonoMmapCaps *caps = mono_mmap_caps ();
		size_t page = caps->page_size;
		Live live[SLOTS] = { 0 };
		uint64_t model[MONO_MEM_ACCOUNT_COUNT] = { 0 };
		TestRng rng = { 42 + (uint64_t)bi };
		for (int step = 0; step < 3000; step++) {
			Live *l = &live[test_rng_below (&rng, SLOTS)];
			if (!l->p) {
				size_t pages = 1 + test_rng_below (&rng, 12);
				size_t align = page << test_rng_below (&rng, 4);
				l->type = (MonoMemAccountType)test_rng_below (&rng, MONO_MEM_ACCOUNT_COUNT);
				size_t size = pages * page - test_rng_below (&rng, page);
				l->p = test_rng_below (&rng, 2) ? mono_valloc_aligned (size, align, 0, l->type) : mono_valloc (NULL, size, 0, l->type);
				T_CHECK (l->p != NULL, "%s: alloc at step %d", caps->name, step);
				l->len = pages * page;
				model[l->type] += l->len;
			} else if (caps->partial_free && l->len > page && test_rng_below (&rng, 2)) {
				/* Free the first or last page. */
				if (test_rng_below (&rng, 2)) {
					T_CHECK (mono_vfree (l->p, page, l->type) == 0, "head");
					l->p += page;
				} else {
					T_CHECK (mono_vfree (l->p + l->len - page, page, l->type) == 0, "tail");
				}
				l->len -= page;
				model[l->type] -= page;
			} else {
				T_CHECK (mono_vfree (l->p, l->len, l->type) == 0, "%s: free at step %d", caps->name, step);
				model[l->type] -= l->len;
				l->p = NULL;
			}
			MonoMmapStats st;
			mono_mmap_get_stats (&st);
			uint64_t total = 0;
			for (int t = 0; t < MONO_MEM_ACCOUNT_COUNT; t++) {
				T_CHECK (st.live_bytes[t] == model[t], "%s: step %d: %s accounted %llu, live requests %llu", caps->name, step,
				         mono_mem_account_name ((MonoMemAccountType)t), (unsigned long long)st.live_bytes[t],
				         (unsigned long long)model[t]);
				total += model[t];
			}
			T_CHECK (st.live_total == total, "total");
			if (step % 100 == 0)
				T_CHECK (mono_mmap_check () == 0, "%s: consistent at step %d", caps->name, step);
		}
		for (int i = 0; i < SLOTS; i++)
			if (live[i].p)
				T_CHECK (mono_vfree (live[i].p, live[i].len, live[i].type) == 0, "final free");
		T_CHECK (mono_mmap_check () == 0, "consistent at the end");
	}
	return 0;
}

static int
same_stats (const MonoMmapStats *a, const MonoMmapStats *b)
{
	return a->live_total == b->live_total && a->backend_bytes_live == b->backend_bytes_live && a->allocs == b->allocs &&
	       a->frees == b->frees && !memcmp (a->live_bytes, b->live_bytes, sizeof (a->live_bytes));
}

static int
case_bad_input (void)
{
	for (int bi = 0; bi < nbackends; bi++) {
		T_CHECK (use (backends[bi]) == 0, "%s", err);
		const MonoMmapCaps *caps = mono_mmap_caps ();
		size_t page = caps->page_size;
		uint8_t *p = mono_valloc (NULL, 4 * page, 0, MONO_MEM_ACCOUNT_LOS);
		T_CHECK (p != NULL, "alloc");
		MonoMmapStats before, after;
		mono_mmap_get_stats (&before);
#define EXPECT_NULL(call, code)                                                                  \
	do {                                                                                     \
		errno = 0;                                                                       \
		T_CHECK ((call) == NULL && errno == (code), "%s: %s: errno %d", caps->name, #call, errno); \
	} while (0)
#define EXPECT_FAIL(call)                                                                         \
	do {                                                                                      \
		errno = 0;                                                                        \
		T_CHECK ((call) == -1 && errno == EINVAL, "%s: %s: errno %d", caps->name, #call, errno); \
	} while (0)
		EXPECT_NULL (mono_valloc (NULL, 0, 0, MONO_MEM_ACCOUNT_OTHER), EINVAL);
		EXPECT_NULL (mono_valloc (NULL, page, 1 << 12, MONO_MEM_ACCOUNT_OTHER), EINVAL);
		EXPECT_NULL (mono_valloc (NULL, page, 0, (MonoMemAccountType)99), EINVAL);
		EXPECT_NULL (mono_valloc_aligned (page, 3 * page, 0, MONO_MEM_ACCOUNT_OTHER), EINVAL);
		EXPECT_NULL (mono_valloc_aligned (page, 0, 0, MONO_MEM_ACCOUNT_OTHER), EINVAL);
		EXPECT_NULL (mono_valloc (NULL, SIZE_MAX, 0, MONO_MEM_ACCOUNT_OTHER), ENOMEM);
		EXPECT_NULL (mono_valloc (NULL, SIZE_MAX - page, 0, MONO_MEM_ACCOUNT_OTHER), ENOMEM);
		EXPECT_FAIL (mono_vfree (p + 1, page, MONO_MEM_ACCOUNT_LOS));
		EXPECT_FAIL (mono_vfree (p, 0, MONO_MEM_ACCOUNT_LOS));
		EXPECT_FAIL (mono_vfree (p, 5 * page, MONO_MEM_ACCOUNT_LOS));
		EXPECT_FAIL (mono_vfree (p, 4 * page, MONO_MEM_ACCOUNT_NURSERY));
		EXPECT_FAIL (mono_vfree (p + 4 * page, page, MONO_MEM_ACCOUNT_LOS));
		EXPECT_FAIL (mono_vfree (p - page, 2 * page, MONO_MEM_ACCOUNT_LOS));
		EXPECT_FAIL (mono_vfree (p, SIZE_MAX, MONO_MEM_ACCOUNT_LOS));
		static uint8_t not_mapped[1 << 17];
		uint8_t *foreign = (uint8_t *)(((uintptr_t)not_mapped + page - 1) & ~(uintptr_t)(page - 1));
		if (foreign + page <= not_mapped + sizeof (not_mapped))
			EXPECT_FAIL (mono_vfree (foreign, page, MONO_MEM_ACCOUNT_LOS));
		mono_mmap_get_stats (&after);
		T_CHECK (same_stats (&before, &after), "%s: bad calls changed the accounting", caps->name);
		T_CHECK (after.rejected_calls >= before.rejected_calls + 13, "%s: rejected calls counted", caps->name);
		T_CHECK (p[0] == 0 && p[4 * page - 1] == 0, "mapping intact");
		T_CHECK (mono_vfree (p, 4 * page, MONO_MEM_ACCOUNT_LOS) == 0, "free");
		EXPECT_FAIL (mono_vfree (p, 4 * page, MONO_MEM_ACCOUNT_LOS)); /* twice: no longer handed out */
		T_CHECK (mono_mmap_check () == 0, "consistent");
	}
	return 0;
}

/* Hundreds of live ranges, split in the middle where the backend allows: the registry grows
 * (its array is reallocated with the lock released) and stays consistent. */
static int
case_many_ranges (void)
{
	enum { N = 300 };
	for (int bi = 0; bi < nbackends; bi++) {
		T_CHECK (use (backends[bi]) == 0, "%s", err);
		const MonoMmapCaps *caps = mono_mmap_caps ();
		size_t page = caps->page_size;
		static uint8_t *p[N];
		for (int i = 0; i < N; i++) {
			p[i] = mono_valloc (NULL, 3 * page, MONO_MMAP_NOZERO, MONO_MEM_ACCOUNT_MAJOR);
			T_CHECK (p[i] != NULL, "%s: alloc %d", caps->name, i);
		}
		for (int i = 0; i < N; i++) {
			if (caps->partial_free) {
				T_CHECK (mono_vfree (p[i] + page, page, MONO_MEM_ACCOUNT_MAJOR) == 0, "split %d", i);
				T_CHECK (mono_vfree (p[i], page, MONO_MEM_ACCOUNT_MAJOR) == 0 &&
				         mono_vfree (p[i] + 2 * page, page, MONO_MEM_ACCOUNT_MAJOR) == 0, "halves %d", i);
			} else {
				T_CHECK (mono_vfree (p[i], 3 * page, MONO_MEM_ACCOUNT_MAJOR) == 0, "free %d", i);
			}
			if (i % 50 == 0)
				T_CHECK (mono_mmap_check () == 0, "%s: consistent at %d", caps->name, i);
		}
		MonoMmapStats st;
		mono_mmap_get_stats (&st);
		T_CHECK (st.live_total == 0 && st.backend_bytes_live == 0, "%s: all freed", caps->name);
	}
	return 0;
}

/* A call that fails changes nothing: not even the choice of backend, which only the first
 * mapping made fixes. */
static int
case_failed_call_keeps_choice_open (void)
{
	T_CHECK (use (backends[0]) == 0, "%s", err);
	errno = 0;
	T_CHECK (mono_valloc (NULL, SIZE_MAX, 0, MONO_MEM_ACCOUNT_OTHER) == NULL && errno == ENOMEM, "SIZE_MAX: ENOMEM");
	T_CHECK (mono_valloc_aligned (SIZE_MAX - ((size_t)1 << 20), (size_t)1 << 20, 0, MONO_MEM_ACCOUNT_OTHER) == NULL, "huge aligned: refused");
	T_CHECK (!mono_mmap_started (), "no mapping made: the layer has not started");
	T_CHECK (mono_mmap_select_backend (backends[1], err, sizeof (err)) == 0, "the choice is still open: %s", err);
	void *p = mono_valloc (NULL, 1, 0, MONO_MEM_ACCOUNT_OTHER);
	T_CHECK (p != NULL && mono_mmap_started (), "a mapping fixes it");
	T_CHECK (mono_mmap_select_backend (backends[0], err, sizeof (err)) != 0, "now it is fixed");
	T_CHECK (mono_vfree (p, 1, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
	return 0;
}

/*
 * The malloc backend trusts "fresh from sbrk" only while the break only goes up (mono-break.h).
 * Memory above the break is made dirty the way a trimming malloc leaves it: the break is moved
 * up, the memory written, the break lowered again. Then blocks are mapped until one starts at or
 * above the break read before its call. Declared monotonic (the toolchain's answer where it
 * trusts the break), that block skips the memset and shows the old bytes: the scenario reaches
 * the fresh path. Declared otherwise, every block is memset and reads zero. Single-threaded
 * emscripten builds only: elsewhere nothing is ever trusted (case_malloc_zeroes_only_reused).
 */
#if MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_THREADS
#include <emscripten/heap.h>

/* Writes `len` bytes of 0xA5 above the break and lowers the break over them again. */
static bool
dirty_above_break (size_t len)
{
	void *p = sbrk ((intptr_t)len);
	if (p == (void *)-1)
		return false;
	memset (p, 0xA5, len);
	uintptr_t *brk = emscripten_get_sbrk_ptr ();
	if (*brk != (uintptr_t)p + len)
		return false;
	*brk = (uintptr_t)p;
	return true;
}

#define BREAK_TRIES 96

/* Maps blocks until one lands at or above the break it started from (the free memory of
 * malloc's heap is used up first); NULL after BREAK_TRIES or when the break cannot be moved. */
static uint8_t *
map_above_break (uint8_t **kept, int *nkept, size_t len)
{
	while (*nkept < BREAK_TRIES) {
		uintptr_t brk = (uintptr_t)sbrk (0);
		if (!dirty_above_break (2 * len))
			return NULL;
		uint8_t *p = mono_valloc_aligned (len, 65536, 0, MONO_MEM_ACCOUNT_OTHER);
		if (!p)
			return NULL;
		kept[(*nkept)++] = p;
		if ((uintptr_t)p >= brk)
			return p;
	}
	return NULL;
}

static int
break_case (bool monotonic, bool *dirty_seen)
{
	const size_t len = 2u << 20;
	uint8_t *kept[BREAK_TRIES];
	int nkept = 0;
	T_CHECK (use (MONO_MMAP_BACKEND_MALLOC) == 0, "%s", err);
	mono_mmap_malloc_declare_break_for_tests (monotonic);
	uint8_t *p = map_above_break (kept, &nkept, len);
	T_CHECK (p != NULL, "a block above the break in %d tries", nkept);
	*dirty_seen = !all_zero (p, len);
	for (int i = 0; i < nkept; i++)
		T_CHECK (mono_vfree (kept[i], len, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
	mono_mmap_malloc_declare_break_for_tests (MONO_BREAK_MONOTONIC);
	/* Memory above the break reads zero again, as the rest of the program (mwpm) counts on. */
	uint8_t *brk = sbrk (0);
	memset (brk, 0, ((size_t)__builtin_wasm_memory_size (0) << 16) - (uintptr_t)brk);
	return 0;
}

static int
case_malloc_dirty_above_break (void)
{
	bool dirty;
	T_CHECK (break_case (true, &dirty) == 0, "trusted break");
	T_CHECK (dirty, "with the break trusted, the old bytes show: the test reaches the fresh path");
	T_CHECK (break_case (false, &dirty) == 0, "untrusted break");
	T_CHECK (!dirty, "with the break declared able to go down, the block was memset");
	return 0;
}
#endif

/* A request no allocator of this machine can serve gets ENOMEM from the malloc backend, also
 * under sanitizers, whose mallocs abort instead of returning NULL. */
static int
case_malloc_huge_refused (void)
{
	T_CHECK (use (MONO_MMAP_BACKEND_MALLOC) == 0, "%s", err);
	const size_t sizes[] = { SIZE_MAX / 2 + 1, SIZE_MAX & ~(size_t)65535,
#if UINTPTR_MAX > 0xFFFFFFFFu
		SIZE_MAX / 4, (size_t)1 << 40, ((size_t)1 << 40) + 65536, (size_t)1 << 41, (size_t)1 << 46,
		/* Where the break would pass 2^53: emscripten 6.0.5's wasm64 malloc traps there. */
		(size_t)1 << 53, ((size_t)1 << 53) - 65536, (size_t)1 << 56, (size_t)1 << 60,
#else
		(size_t)3 << 30,
#endif
	};
	for (size_t i = 0; i < sizeof (sizes) / sizeof (sizes[0]); i++) {
		errno = 0;
		T_CHECK (mono_valloc (NULL, sizes[i], 0, MONO_MEM_ACCOUNT_OTHER) == NULL && errno == ENOMEM,
			 "%zu bytes: ENOMEM (errno %d)", sizes[i], errno);
		errno = 0;
		T_CHECK (mono_valloc_aligned (sizes[i] / 2, sizes[i] / 2 & -(sizes[i] / 2), 0, MONO_MEM_ACCOUNT_OTHER) == NULL &&
			 errno == ENOMEM, "%zu bytes aligned: ENOMEM (errno %d)", sizes[i] / 2, errno);
	}
	MonoMmapStats st;
	mono_mmap_get_stats (&st);
	T_CHECK (st.live_total == 0 && st.allocs == 0, "nothing was mapped");
	T_CHECK (mono_mmap_check () == 0, "consistent");
	return 0;
}

#if MONO_CONFIG_THREADS && MONO_CONFIG_EMSCRIPTEN
#include <pthread.h>

/*
 * Another thread grows the memory, beyond the break; this thread then maps more than malloc
 * has free, so malloc takes the memory above the break, inside what the other thread grew and
 * without growing it itself (checked: the memory size does not change during the call). This
 * thread has never seen that memory, and its bulk operations must reach it (mono-bulk.h).
 */
#include <emscripten/heap.h>
#include <malloc.h>

extern void emscripten_notify_memory_growth (size_t memory_index);

static void *
grow_memory_to (void *arg)
{
	uint64_t want = *(uint64_t *)arg, have = (uint64_t)__builtin_wasm_memory_size (0) << 16;
	if (want > have && __builtin_wasm_memory_grow (0, (size_t)((want - have + 65535) >> 16)) != (size_t)-1)
		emscripten_notify_memory_growth (0);
	return NULL;
}

static int
case_malloc_bulk_ready_after_growth (void)
{
	T_CHECK (use (MONO_MMAP_BACKEND_MALLOC) == 0, "%s", err);
	for (int zero = 0; zero <= 1; zero++) {
		uint64_t size = (uint64_t)__builtin_wasm_memory_size (0) << 16, brk = (uintptr_t)sbrk (0);
		size_t free_bytes = (size_t)mallinfo ().fordblks;
		/* More than malloc has free: the block extends malloc's top (at or above brk - free),
		 * and ends above the memory this thread knew. */
		size_t len = (free_bytes + (size_t)(size - brk) + (4u << 20) + 65535) & ~(size_t)65535;
		uint64_t want = brk + len + (8u << 20);
		pthread_t t;
		T_CHECK (pthread_create (&t, NULL, grow_memory_to, &want) == 0 && pthread_join (t, NULL) == 0, "thread");
		uint64_t grown = (uint64_t)__builtin_wasm_memory_size (0) << 16;
		T_CHECK (grown >= want, "the other thread grew the memory to %#llx (wanted %#llx)", (unsigned long long)grown,
			 (unsigned long long)want);
		uint8_t *p = mono_valloc (NULL, len, zero ? 0 : MONO_MMAP_NOZERO, MONO_MEM_ACCOUNT_OTHER);
		T_CHECK (p != NULL, "map %zu bytes", len);
		T_CHECK (((uint64_t)__builtin_wasm_memory_size (0) << 16) == grown, "this thread did not grow the memory itself");
		T_CHECK ((uint64_t)(uintptr_t)p + len > size, "the mapping [%p, +%zu) reaches into the new memory (above %#llx)",
			 (void *)p, len, (unsigned long long)size);
		T_CHECK (mono_bulk_seen () >= (uint64_t)(uintptr_t)p + len, "this thread's view %#llx covers [%p, +%zu)",
			 (unsigned long long)mono_bulk_seen (), (void *)p, len);
		memset (p, 0x5a, len);
		T_CHECK (mono_vfree (p, len, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
	}
	return 0;
}
#endif

/* MONO_MMAP_NO_GROW: backends that hold free memory (caps->no_grow: mwpm) serve it from there
 * and refuse with ENOMEM rather than grow; the others refuse it with ENOTSUP. */
static int
case_no_grow (void)
{
	for (int bi = 0; bi < nbackends; bi++) {
		T_CHECK (use (backends[bi]) == 0, "%s", err);
		const MonoMmapCaps *caps = mono_mmap_caps ();
		size_t page = caps->page_size;
		if (!caps->no_grow) {
			errno = 0;
			T_CHECK (mono_valloc (NULL, page, MONO_MMAP_NO_GROW, MONO_MEM_ACCOUNT_OTHER) == NULL && errno == ENOTSUP,
				 "%s: NO_GROW refused with ENOTSUP (errno %d)", caps->name, errno);
			continue;
		}
		uint8_t *a = mono_valloc (NULL, 4 * page, 0, MONO_MEM_ACCOUNT_OTHER);
		T_CHECK (a != NULL, "alloc");
		memset (a, 0x33, 4 * page);
		T_CHECK (mono_vfree (a, 4 * page, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
		uint64_t memory = mono_mmap_linear_memory_bytes ();
		uint8_t *b = mono_valloc (NULL, 4 * page, MONO_MMAP_NO_GROW, MONO_MEM_ACCOUNT_OTHER);
		T_CHECK (b != NULL && all_zero (b, 4 * page), "%s: served from held memory, zeroed", caps->name);
		errno = 0;
		T_CHECK (mono_valloc (NULL, (size_t)1 << 30, MONO_MMAP_NO_GROW, MONO_MEM_ACCOUNT_OTHER) == NULL && errno == ENOMEM,
			 "%s: 1 GiB held only: ENOMEM (errno %d)", caps->name, errno);
		T_CHECK (mono_mmap_linear_memory_bytes () == memory, "%s: the memory did not grow", caps->name);
		T_CHECK (mono_vfree (b, 4 * page, MONO_MEM_ACCOUNT_OTHER) == 0, "free");
		T_CHECK (mono_mmap_check () == 0, "consistent");
	}
	return 0;
}

/* The registry's arithmetic at the top of the address space (4 GiB on wasm32), where a
 * range's end, start + len, is 0 in uintptr_t. */
static int
case_ranges_at_the_top (void)
{
	const uintptr_t top = UINTPTR_MAX - 0xffff; /* the last 64 KiB: [top, top + 0x10000) ends at 2^N */
	MonoMmapRange items[4];
	MonoMmapRanges rs = { items, 0, 4 };
	mono_mmap_ranges_insert (&rs, (MonoMmapRange){ .start = top, .len = 0x10000 });
	mono_mmap_ranges_insert (&rs, (MonoMmapRange){ .start = top - 0x40000, .len = 0x30000 });
	size_t bad;
	T_CHECK (rs.count == 2 && rs.items[0].start == top - 0x40000 && rs.items[1].start == top, "sorted");
	T_CHECK (mono_mmap_ranges_check (&rs, 0x1000, &bad) == 0, "consistent");
	T_CHECK (mono_mmap_ranges_find (&rs, top) == 1 && mono_mmap_ranges_find (&rs, UINTPTR_MAX) == 1, "found at the top");
	T_CHECK (mono_mmap_ranges_find (&rs, top - 0x10000) == 1, "the gap below it");
	T_CHECK (mono_mmap_ranges_find (&rs, top - 0x40000) == 0, "the lower range");
	T_CHECK (mono_mmap_range_holds (&rs.items[1], top, 0x10000), "holds itself");
	T_CHECK (mono_mmap_range_holds (&rs.items[1], top + 0x8000, 0x8000), "holds its tail");
	T_CHECK (!mono_mmap_range_holds (&rs.items[1], top + 0x8000, 0x8001), "not past the top");
	T_CHECK (!mono_mmap_range_holds (&rs.items[1], top, SIZE_MAX), "not a huge size");
	T_CHECK (!mono_mmap_range_holds (&rs.items[0], top - 0x10000, 0x1000), "not the gap");
	T_CHECK (mono_mmap_ranges_cut_splits (&rs, 1, top + 0x4000, 0x4000), "a middle splits");
	mono_mmap_ranges_cut (&rs, 1, top + 0x4000, 0x4000);
	T_CHECK (rs.count == 3 && rs.items[2].start == top + 0x8000 && rs.items[2].len == 0x8000, "split at the top");
	mono_mmap_ranges_cut (&rs, 2, top + 0x8000, 0x8000);
	T_CHECK (rs.count == 2 && rs.items[1].len == 0x4000, "the range at the top freed");
	T_CHECK (mono_mmap_ranges_check (&rs, 0x1000, &bad) == 0, "consistent");
	rs.items[1].start = top - 0x20000; /* overlaps [top - 0x40000, top - 0x10000) */
	T_CHECK (mono_mmap_ranges_check (&rs, 0x1000, &bad) == 1 && bad == 1, "an overlap is found");
	return 0;
}

int
main (void)
{
	nbackends = 0;
	if (MONO_CONFIG_WASM_MMAP)
		backends[nbackends++] = MONO_MMAP_BACKEND_MWPM;
	backends[nbackends++] = MONO_CONFIG_WASM ? MONO_MMAP_BACKEND_LIBC : MONO_MMAP_BACKEND_POSIX;
	backends[nbackends++] = MONO_MMAP_BACKEND_MALLOC;
	tap_diag ("backends: %d", nbackends);
	tap_case ("routing follows --mono-wasm-mmap", case_routing);
	tap_case ("aligned allocations, every power of two to 4 MiB, whole and in parts", case_aligned);
	tap_case ("reused dirty pages read zero unless NOZERO", case_dirty_reuse);
	tap_case ("accounting equals live requests after random sequences", case_random_accounting);
	tap_case ("bad input: clear error, nothing changed", case_bad_input);
	tap_case ("hundreds of ranges, split in the middle", case_many_ranges);
	tap_case (nbackends >= 2 ? "a failed call leaves the backend choice open"
	                         : "a failed call leaves the backend choice open # SKIP fewer than two backends",
	          nbackends >= 2 ? case_failed_call_keeps_choice_open : NULL);
	tap_case ("malloc backend: fresh blocks are not memset (single-threaded emscripten), reused ones are",
		  case_malloc_zeroes_only_reused);
#if MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_THREADS
	tap_case ("malloc backend: memory above the break is memset when the break may have gone down",
		  case_malloc_dirty_above_break);
#else
	tap_case ("malloc backend: memory above the break is memset when the break may have gone down "
		  "# SKIP single-threaded emscripten only", NULL);
#endif
	tap_case ("malloc backend: requests no allocator can serve get ENOMEM", case_malloc_huge_refused);
#if MONO_CONFIG_THREADS && MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_SHARED_POOL
	tap_case ("malloc backend: mappings are ready for bulk operations after another thread grew the memory",
		  case_malloc_bulk_ready_after_growth);
#elif MONO_CONFIG_THREADS && MONO_CONFIG_EMSCRIPTEN
	/* The pool's malloc places blocks in mwpm's free pages, not at the break, and refreshes the
	 * view in its lock itself (test-pool-malloc checks that). */
	tap_case ("malloc backend: mappings are ready for bulk operations after another thread grew the memory "
		  "# SKIP the shared-pool malloc refreshes in its lock (test-pool-malloc)", NULL);
	(void)case_malloc_bulk_ready_after_growth;
#else
	tap_case ("malloc backend: mappings are ready for bulk operations after another thread grew the memory "
		  "# SKIP emscripten pthreads only", NULL);
#endif
	tap_case ("MONO_MMAP_NO_GROW: from held memory, or ENOMEM; ENOTSUP where the backend cannot", case_no_grow);
	tap_case ("range arithmetic at the top of the address space", case_ranges_at_the_top);
	return tap_done ();
}

/*
 * test-pool-malloc.c: the C library's allocation functions behave as the C standard and
 * emscripten expect, whichever malloc the build links: emscripten's dlmalloc, or the pool
 * malloc of the shared-pool build (mono/utils/pool/, docs/pool.md). The cases that matter most
 * for the pool:
 *   - calloc of a large block reads zero even when its pages were used and freed before (the
 *     pool's dlmalloc skips clearing chunks it maps directly, so mwpm must zero dirty pages);
 *   - memory freed by malloc goes back to mwpm and serves mwpm's other users (pool build only);
 *   - emscripten_builtin_malloc/_free/_memalign and malloc are one allocator.
 * A seeded random workload with canaries checks contents across malloc/realloc/free.
 */
#include "mono-config.h"
/* POOL_MALLOC: malloc is the pool's, in the shared-pool build or linked from libmwpm-pool.a
 * (the test-pool-malloc-dropin program, built with -DPOOL_DROPIN=1). */
#ifndef POOL_DROPIN
#define POOL_DROPIN 0
#endif
#define POOL_MALLOC (MONO_CONFIG_SHARED_POOL || POOL_DROPIN)
#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "mono-bulk.h"
#include "tap.h"
#include "test-rng.h"

/* emscripten_builtin_*: declared in emscripten/heap.h since 3.1.something, in emmalloc.h before. */
#if __has_include(<emscripten/heap.h>)
#include <emscripten/heap.h>
#endif
#include <emscripten/emmalloc.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>
#if MONO_CONFIG_THREADS
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#endif

#define MiB ((size_t)1 << 20)

/* In the malloc family of both allocators (dlmalloc's), declared by no header of emscripten's. */
void *pvalloc (size_t size);

/* Called through these, the allocators are not known to the compiler, which would otherwise
 * fold "the allocation failed" to false when the result is not used (it may assume success). */
static void *(*volatile calloc_fn) (size_t, size_t) = calloc;
static void *(*volatile aligned_alloc_fn) (size_t, size_t) = aligned_alloc;

static int
all_zero (const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int
case_calloc_after_reuse (void)
{
	/* Large blocks (direct mappings in the pool), dirtied, freed, then calloc'd again. */
	for (size_t size = 300 * 1024; size <= 8 * MiB; size *= 3) {
		unsigned char *p = malloc (size);
		T_CHECK (p, "malloc (%zu)", size);
		memset (p, 0xff, size);
		free (p);
		unsigned char *q = calloc (1, size);
		T_CHECK (q, "calloc (%zu)", size);
		T_CHECK (all_zero (q, size), "calloc (%zu) over reused memory is not zero", size);
		free (q);
	}
	/* Small ones, from segments. */
	for (int i = 0; i < 1000; i++) {
		unsigned char *p = malloc (200);
		T_CHECK (p, "malloc (200)");
		memset (p, 0xee, 200);
		free (p);
		unsigned char *q = calloc (25, 8);
		T_CHECK (q && all_zero (q, 200), "calloc (25, 8) is not zero");
		free (q);
	}
	errno = 0;
	void *huge = calloc_fn (SIZE_MAX / 2, 4);
	T_CHECK (huge == NULL, "calloc overflow returned memory");
	/* emscripten's default malloc leaves errno alone here; the pool's sets it. */
	T_CHECK (!POOL_MALLOC || errno == ENOMEM, "calloc overflow: errno %d, not ENOMEM", errno);
	return 0;
}

static int
case_alignment_and_sizes (void)
{
	for (size_t align = 8; align <= 1 << 20; align <<= 1) {
		void *a = aligned_alloc (align, 3 * align);
		void *b = memalign (align, 100);
		void *c = NULL;
		T_CHECK (posix_memalign (&c, align, 1000) == 0, "posix_memalign (%zu)", align);
		T_CHECK (a && b && c, "aligned allocations of %zu failed", align);
		T_CHECK ((uintptr_t)a % align == 0 && (uintptr_t)b % align == 0 && (uintptr_t)c % align == 0,
			 "alignment %zu not honoured", align);
		T_CHECK (malloc_usable_size (a) >= 3 * align && malloc_usable_size (c) >= 1000, "usable size too small");
		free (a);
		free (b);
		free (c);
	}
	void *p = NULL;
	T_CHECK (posix_memalign (&p, 24, 8) == EINVAL && p == NULL, "posix_memalign with alignment 24: EINVAL");
	errno = 0;
	T_CHECK (aligned_alloc_fn (24, 48) == NULL, "aligned_alloc with alignment 24 returned memory");
	for (size_t n = 1; n < 4096; n = n * 2 + 1) {
		void *q = malloc (n);
		T_CHECK (q && (uintptr_t)q % 8 == 0, "malloc (%zu) not 8-aligned", n);
		T_CHECK (malloc_usable_size (q) >= n, "usable size of malloc (%zu)", n);
		free (q);
	}
	free (NULL);
	return 0;
}

/*
 * Sizes and alignments at the limits, drawn at random (seeded) for every allocator of the family:
 * each call returns NULL with errno ENOMEM or EINVAL (posix_memalign: that code, and the pointer
 * untouched), or a block at least as large as asked for, aligned as asked (a non-power-of-two
 * alignment rounded up to the next power of two, valloc and pvalloc to the page), never a short
 * block and never a hang (a hang times the test out). emscripten's own malloc has three holes the
 * pool closes (pvalloc wraps to a tiny block above SIZE_MAX - 4095; memalign's family never
 * returns for a non-power-of-two alignment above 2^31; aligned_alloc with alignment 0 traps on a
 * division by zero), and on wasm64 a fourth (a request of about 2^53 bytes or more traps or
 * comes back short): on it those draws are skipped, counted, as are its refusals that leave
 * errno at 0.
 */
static const size_t limit_sizes[] = {
	0, 1, 7, 8, 9, 4095, 4096, 4097, 65535, 65536, 65537, 1u << 20, (1u << 20) + 1, 0x7fffffff, 0x80000000u, 0x80000001u,
	SIZE_MAX / 2 - 1, SIZE_MAX / 2, SIZE_MAX / 2 + 1, 0xffff0001u, SIZE_MAX - 65536, SIZE_MAX - 65535, SIZE_MAX - 4096,
	SIZE_MAX - 4095, SIZE_MAX - 64, SIZE_MAX - 16, SIZE_MAX - 8, SIZE_MAX - 1, SIZE_MAX,
#if UINTPTR_MAX > 0xFFFFFFFFu
	/* Past any wasm64 memory (16 GiB), below the hole of emscripten's malloc there. */
	(size_t)17 << 30, (size_t)1 << 40, ((size_t)1 << 52) - 1,
#endif
};
static const size_t limit_aligns[] = {
	0, 1, 2, 3, 4, 8, 12, 16, 24, 48, 4096, 65536, 65537, 1u << 30, 0x7fffffff, 0x80000000u, 0x80000001u, 0xc0000000u,
	SIZE_MAX - 1, SIZE_MAX,
};

enum { L_MALLOC, L_CALLOC, L_REALLOC, L_MEMALIGN, L_POSIX_MEMALIGN, L_ALIGNED_ALLOC, L_VALLOC, L_PVALLOC, L_BUILTIN_MALLOC,
       L_BUILTIN_MEMALIGN, L_COUNT };
static const char *const limit_names[L_COUNT] = { "malloc", "calloc", "realloc", "memalign", "posix_memalign", "aligned_alloc",
						  "valloc", "pvalloc", "emscripten_builtin_malloc", "emscripten_builtin_memalign" };

/* A size at the limits, or now and then any size. */
static size_t
limit_size (TestRng *r)
{
	uint64_t x = test_rng_next (r);
	if (x % 8 == 0)
		return (size_t)(x >> 8);
	return limit_sizes[(x >> 3) % (sizeof limit_sizes / sizeof limit_sizes[0])];
}

static size_t
limit_align (TestRng *r)
{
	uint64_t x = test_rng_next (r);
	if (x % 8 == 0)
		return (size_t)1 << (x >> 8) % (sizeof (size_t) * 8);
	return limit_aligns[(x >> 3) % (sizeof limit_aligns / sizeof limit_aligns[0])];
}

static size_t
next_pow2 (size_t a)
{
	size_t p = 1;
	while (p < a && p <= SIZE_MAX / 2)
		p <<= 1;
	return p < a ? 0 : p;
}

/* The hole of emscripten's own malloc this draw would fall into, or NULL. */
static const char *
known_hole (int fn, size_t size, size_t align)
{
	if (POOL_MALLOC)
		return NULL;
	if (fn == L_PVALLOC && size > SIZE_MAX - 4095)
		return "pvalloc wraps";
	if (fn == L_ALIGNED_ALLOC && align == 0)
		return "aligned_alloc divides by the alignment";
#if UINTPTR_MAX > 0xFFFFFFFFu
	/* Emscripten 6.0.5 on wasm64: a request of about 2^53 bytes or more traps in sbrk's heap
	 * growth, or comes back as a short block near SIZE_MAX (malloc (SIZE_MAX - 65535) gives 16
	 * bytes): the pool and the malloc backend refuse anything above the maximum memory first. */
	const size_t wasm64_sbrk_limit = (size_t)1 << 52;
	if (size >= wasm64_sbrk_limit || align >= wasm64_sbrk_limit)
		return "wasm64: sbrk mishandles 2^53";
#endif
	bool memalign_family = fn == L_MEMALIGN || fn == L_BUILTIN_MEMALIGN || fn == L_ALIGNED_ALLOC;
	if (memalign_family && align > SIZE_MAX / 2 + 1 && (align & (align - 1)))
		return "memalign never returns";
	return NULL;
}

static int
case_limits (void)
{
	TestRng r = { 20261207 };
	/* valloc's page: sysconf's (64 KiB) in the pool; emscripten's own dlmalloc uses 4 KiB. */
	size_t page = POOL_MALLOC ? (size_t)sysconf (_SC_PAGESIZE) : 4096;
	unsigned holes = 0, served = 0, refused = 0, no_errno = 0;
	for (int i = 0; i < 3000; i++) {
		int fn = (int)test_rng_below (&r, L_COUNT);
		size_t size = limit_size (&r), align = limit_align (&r), count = limit_size (&r) % 4 ? 1 + (size_t)test_rng_below (&r, 4) : limit_size (&r);
		if (known_hole (fn, size, align)) {
			holes++;
			continue;
		}
		/* calloc clears what it serves: keep what it may serve small (a product that wraps stays). */
		if (fn == L_CALLOC && count && size <= SIZE_MAX / count && size * count > 64 * MiB)
			size = 64 * MiB / count;
		size_t want = size, want_align = 8;
		void *p = NULL, *old = NULL;
		int rc = 0;
		errno = 0;
		switch (fn) {
		case L_MALLOC: p = malloc (size); break;
		case L_CALLOC: p = calloc_fn (count, size); want = count && size > SIZE_MAX / count ? SIZE_MAX : count * size; break;
		case L_REALLOC:
			old = malloc (100);
			T_CHECK (old, "malloc (100)");
			memset (old, 0x5c, 100);
			p = realloc (old, size);
			if (p || size == 0)
				old = NULL;
			break;
		case L_MEMALIGN: p = memalign (align, size); want_align = next_pow2 (align); break;
		case L_POSIX_MEMALIGN:
			p = (void *)0x1;
			rc = posix_memalign (&p, align, size);
			want_align = align;
			if (rc) {
				T_CHECK (p == (void *)0x1, "posix_memalign (%zu, %zu) failed (%d) but wrote the pointer", align, size, rc);
				T_CHECK (rc == ENOMEM || rc == EINVAL, "posix_memalign (%zu, %zu) returned %d", align, size, rc);
				p = NULL;
			}
			break;
		case L_ALIGNED_ALLOC: p = aligned_alloc_fn (align, size); want_align = align; break;
		case L_VALLOC: p = valloc (size); want_align = page; break;
		case L_PVALLOC: p = pvalloc (size); want_align = page; break;
		case L_BUILTIN_MALLOC: p = emscripten_builtin_malloc (size); break;
		default: p = emscripten_builtin_memalign (align, size); want_align = next_pow2 (align); break;
		}
		if (!p) {
			/* malloc (0) and friends may return NULL; anything else refused must say why. */
			if (fn != L_POSIX_MEMALIGN && want != 0 && !(errno == 0 && !POOL_MALLOC))
				T_CHECK (errno == ENOMEM || errno == EINVAL, "%s (align %zu, size %zu, count %zu) returned NULL with errno %d",
					 limit_names[fn], align, size, count, errno);
			/* emscripten's own malloc leaves errno alone in some refusals (the pool sets it). */
			no_errno += errno == 0 && fn != L_POSIX_MEMALIGN;
			if (old) {
				T_CHECK (((unsigned char *)old)[99] == 0x5c, "a failed realloc changed the block");
				free (old);
			}
			refused++;
			continue;
		}
		T_CHECK (want != SIZE_MAX || fn != L_CALLOC, "calloc (%zu, %zu) wraps but returned a block", count, size);
		T_CHECK (malloc_usable_size (p) >= want, "%s (align %zu, size %zu, count %zu): a block of %zu bytes", limit_names[fn], align,
			 size, count, malloc_usable_size (p));
		if (want_align > 8 && (fn == L_MEMALIGN || fn == L_BUILTIN_MEMALIGN || fn == L_POSIX_MEMALIGN || fn == L_ALIGNED_ALLOC ||
				       fn == L_VALLOC || fn == L_PVALLOC))
			T_CHECK (want_align && (uintptr_t)p % want_align == 0, "%s (align %zu, size %zu) gave %p", limit_names[fn], align, size, p);
		if (fn == L_CALLOC && want)
			T_CHECK (all_zero (p, want < 4096 ? want : 4096), "calloc (%zu, %zu) is not zero", count, size);
		free (p);
		served++;
	}
	tap_diag ("limits: %u served, %u refused (%u without errno), %u draws skipped (known holes of emscripten's malloc)", served,
		  refused, no_errno, holes);
	T_CHECK (served > 300 && refused > 300, "the draws missed a side: %u served, %u refused", served, refused);
	return 0;
}

static int
case_builtin_is_malloc (void)
{
	/* What libc allocates with the builtin names, the program may free with free, and back. */
	void *a = emscripten_builtin_malloc (1000);
	void *b = emscripten_builtin_memalign (65536, 200000);
	T_CHECK (a && b && (uintptr_t)b % 65536 == 0, "builtin allocations");
	T_CHECK (malloc_usable_size (a) >= 1000, "usable size of a builtin block");
	free (a);
	free (b);
	void *c = malloc (5000);
	T_CHECK (c, "malloc");
	emscripten_builtin_free (c);
	return 0;
}

/* Every live block holds a canary derived from its id; checked before realloc and free. */
typedef struct {
	unsigned char *p;
	size_t size;
	uint32_t id;
} Block;

static void
fill (Block *b)
{
	for (size_t i = 0; i < b->size; i++)
		b->p[i] = (unsigned char)(b->id * 31 + i);
}

static int
intact (const Block *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b->p[i] != (unsigned char)(b->id * 31 + i))
			return 0;
	return 1;
}

static int
case_random_workload (void)
{
	enum { SLOTS = 512, OPS = 60000 };
	static Block slots[SLOTS];
	TestRng r = { 12345 };
	uint32_t next_id = 1;
	for (int op = 0; op < OPS; op++) {
		Block *b = &slots[test_rng_next (&r) % SLOTS];
		uint64_t x = test_rng_next (&r);
		/* Mostly small, sometimes up to 512 KiB (direct mappings in the pool). */
		size_t size = x % 16 == 0 ? 1 + (size_t)(x >> 8) % (512 * 1024) : 1 + (size_t)(x >> 8) % 600;
		if (!b->p) {
			b->p = malloc (size);
			T_CHECK (b->p, "malloc (%zu) at op %d (seed 12345)", size, op);
			b->size = size;
			b->id = next_id++;
			fill (b);
		} else if (x % 3 == 0) {
			T_CHECK (intact (b, b->size), "block %u damaged before realloc at op %d (seed 12345)", b->id, op);
			unsigned char *q = realloc (b->p, size);
			T_CHECK (q, "realloc (%zu) at op %d", size, op);
			size_t keep = size < b->size ? size : b->size;
			b->p = q;
			T_CHECK (intact (b, keep), "realloc lost contents of block %u at op %d (seed 12345)", b->id, op);
			b->size = size;
			fill (b);
		} else {
			T_CHECK (intact (b, b->size), "block %u damaged before free at op %d (seed 12345)", b->id, op);
			free (b->p);
			b->p = NULL;
		}
	}
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].p) {
			T_CHECK (intact (&slots[i], slots[i].size), "block %u damaged at the end", slots[i].id);
			free (slots[i].p);
			slots[i].p = NULL;
		}
	}
	return 0;
}

#if MONO_CONFIG_THREADS
/*
 * Threads that come and go, mallocing, reallocating and freeing at once, and handing blocks to
 * each other through a shared table (as mimalloc's test-stress does), the main thread among
 * them: every block carries its size, an id and a pattern, checked by whichever thread frees
 * it. (These two cases did not reproduce what mimalloc's test-stress over the pool showed, a
 * lock whose wait ran emscripten's sched_yield: mono-spin-lock.h, mono_spin_pause; the peers
 * suite runs that program.)
 */
#define CHURN_THREADS 4
#define CHURN_ROUNDS 16
#define CHURN_OPS 8000
#define CHURN_SLOTS 32
#define CHURN_SHARED 64

typedef struct {
	uint32_t size, id;
} ChurnHeader;

static unsigned char *_Atomic churn_shared[CHURN_SHARED];

static unsigned char *
churn_new (TestRng *r, uint32_t id)
{
	uint64_t x = test_rng_next (r);
	/* Mostly small; one in 32 up to 256 KiB; one in 1024 up to 4 MiB (its own segment of mwpm
	 * pages, as mimalloc's test-stress makes them). */
	size_t size = sizeof (ChurnHeader) + (x % 1024 == 0 ? (size_t)(x >> 10) % (4 * MiB)
	                                      : x % 32 == 0 ? (size_t)(x >> 8) % (256 * 1024) : (size_t)(x >> 8) % 500);
	unsigned char *p = malloc (size);
	if (!p)
		return NULL;
	*(ChurnHeader *)p = (ChurnHeader){ (uint32_t)size, id };
	for (size_t i = sizeof (ChurnHeader); i < size; i++)
		p[i] = (unsigned char)(id * 7 + i);
	return p;
}

static bool
churn_intact (const unsigned char *p)
{
	ChurnHeader h = *(const ChurnHeader *)p;
	for (size_t i = sizeof (ChurnHeader); i < h.size; i++)
		if (p[i] != (unsigned char)(h.id * 7 + i))
			return false;
	return true;
}

/* One thread's work; returns NULL, or what went wrong. */
static void *
churn (void *arg)
{
	TestRng r = { 99 + (uintptr_t)arg };
	unsigned char *mine[CHURN_SLOTS] = { 0 };
	uint32_t id = (uint32_t)(uintptr_t)arg << 24;
	for (int op = 0; op < CHURN_OPS; op++) {
		unsigned char **slot = &mine[test_rng_below (&r, CHURN_SLOTS)];
		uint64_t what = test_rng_below (&r, 8);
		if (*slot && !churn_intact (*slot))
			return "a block lost its pattern";
		if (!*slot) {
			if (!(*slot = churn_new (&r, ++id)))
				return "malloc failed";
		} else if (what < 3) {
			free (*slot);
			*slot = NULL;
		} else if (what < 5) {
			/* Hand it over, take whatever another thread left there. */
			*slot = atomic_exchange (&churn_shared[test_rng_below (&r, CHURN_SHARED)], *slot);
		} else if (what == 5) {
			size_t size = ((ChurnHeader *)*slot)->size + (size_t)test_rng_below (&r, 2000);
			unsigned char *q = realloc (*slot, size);
			if (!q || !churn_intact (q))
				return "realloc failed or lost the contents";
			*slot = q;
		}
	}
	for (int i = 0; i < CHURN_SLOTS; i++) {
		if (mine[i] && !churn_intact (mine[i]))
			return "a block lost its pattern";
		free (mine[i]);
	}
	return NULL;
}

/* Hammers malloc and free until told to stop (churn_stop). */
static atomic_bool churn_stop;

static void *
hammer (void *arg)
{
	TestRng r = { 7 + (uintptr_t)arg };
	unsigned char *mine[CHURN_SLOTS] = { 0 };
	uint32_t id = (uint32_t)(uintptr_t)arg << 24;
	for (unsigned n = 0; !atomic_load (&churn_stop); n++) {
		unsigned char **slot = &mine[test_rng_below (&r, CHURN_SLOTS)];
		if (*slot && !churn_intact (*slot))
			return "a block lost its pattern";
		free (*slot);
		/* Now and then a block of 1-4 MiB: a segment of its own, taken and given back under
		 * the lock, which then stays held long enough for the waiters to spin. */
		if (n % 16 == 0) {
			size_t size = MiB + (size_t)test_rng_below (&r, 3 * MiB);
			*slot = malloc (size);
			if (!*slot)
				return "malloc failed";
			/* Only its header is checked (and written): a long fill would hold no lock. */
			*(ChurnHeader *)*slot = (ChurnHeader){ sizeof (ChurnHeader), ++id };
		} else {
			*slot = churn_new (&r, ++id);
		}
	}
	for (int i = 0; i < CHURN_SLOTS; i++) {
		if (mine[i] && !churn_intact (mine[i]))
			return "a block lost its pattern";
		free (mine[i]);
	}
	return NULL;
}

static void *
short_lived (void *arg)
{
	TestRng r = { (uintptr_t)arg };
	unsigned char *p = churn_new (&r, (uint32_t)(uintptr_t)arg);
	bool ok = p && churn_intact (p);
	free (p);
	return ok ? NULL : "a short-lived thread's block";
}

/* Threads start and end while others hammer malloc: a new thread's first malloc (emscripten
 * allocates its thread-local storage block with it) and an ending thread's last free (of that
 * block) wait for the lock while the thread has no thread-local storage of its own. */
static int
case_threads_start_under_load (void)
{
	pthread_t hammers[3];
	atomic_store (&churn_stop, false);
	for (uintptr_t i = 0; i < 3; i++)
		T_CHECK (pthread_create (&hammers[i], NULL, hammer, (void *)(i + 1)) == 0, "pthread_create");
	for (uintptr_t i = 0; i < 200; i++) {
		pthread_t t;
		void *problem;
		T_CHECK (pthread_create (&t, NULL, short_lived, (void *)(1000 + i)) == 0, "pthread_create");
		pthread_join (t, &problem);
		T_CHECK (!problem, "thread %u: %s", (unsigned)i, (const char *)problem);
	}
	atomic_store (&churn_stop, true);
	for (int i = 0; i < 3; i++) {
		void *problem;
		pthread_join (hammers[i], &problem);
		T_CHECK (!problem, "hammer %d: %s", i, (const char *)problem);
	}
	return 0;
}

static int
case_threads_churn (void)
{
	for (int round = 0; round < CHURN_ROUNDS; round++) {
		pthread_t t[CHURN_THREADS];
		for (uintptr_t i = 0; i < CHURN_THREADS; i++)
			T_CHECK (pthread_create (&t[i], NULL, churn, (void *)(i + 1 + round * CHURN_THREADS)) == 0, "pthread_create");
		const char *main_problem = churn ((void *)(uintptr_t)(200 + round));
		T_CHECK (!main_problem, "round %d, the main thread: %s", round, main_problem);
		for (int i = 0; i < CHURN_THREADS; i++) {
			void *problem;
			pthread_join (t[i], &problem);
			T_CHECK (!problem, "round %d, thread %d: %s", round, i, (const char *)problem);
		}
	}
	for (int i = 0; i < CHURN_SHARED; i++) {
		unsigned char *p = atomic_exchange (&churn_shared[i], NULL);
		T_CHECK (!p || churn_intact (p), "a handed-over block lost its pattern");
		free (p);
	}
	return 0;
}
#endif

#if POOL_MALLOC
/* Freed malloc memory is mwpm's to hand out again: a large block freed by malloc comes back
 * as an mwpm range without the memory growing. */
static int
case_free_returns_to_mwpm (void)
{
	unsigned char *p = malloc (16 * MiB);
	T_CHECK (p && mwpm_owns (p), "a 16 MiB malloc is not mwpm's");
	MwpmStats before, after;
	mwpm_get_stats (&before);
	free (p);
	void *q = mwpm_alloc_range (15 * MiB, 0);
	mwpm_get_stats (&after);
	T_CHECK (q, "mwpm_alloc_range (15 MiB) after the free");
	T_CHECK (after.sbrk_calls == before.sbrk_calls, "mwpm grew although malloc had just freed 16 MiB");
	mwpm_free_range (q, 15 * MiB);
	T_CHECK (mwpm_check_invariants () == 0, "mwpm's invariants");
	return 0;
}
#endif

#if POOL_MALLOC && MONO_CONFIG_THREADS
#include <emscripten.h>

/* emscripten's own (system/lib/pthread/emscripten_thread_state.S): what pthread_exit calls to
 * leave a worker without thread state before the thread's last frees. */
void __set_thread_state (pthread_t ptr, int is_main, int is_runtime, int can_block);

/*
 * A thread without thread state (pthread_self () 0, as a worker has once its thread has ended)
 * must take malloc's lock like any other thread: wait while another holds it, and really hold it
 * when it has it. One thread, the holder, takes the lock with a malloc that makes mwpm run its
 * grow hook (which runs with malloc's lock held, and waits there); another thread then mallocs a
 * small block, which must not return while the holder is in the hook. Run twice: the other
 * thread without thread state, and the holder without it. A lock that knows its holder by the
 * thread structure fails the second (musl's recursive mutex compares its owner with self->tid,
 * read through a null self: 0, the owner of a free mutex, so it takes a free lock for one it
 * already holds, and counts a recursion instead of locking).
 */
static atomic_int stateless_phase; /* 0, 1 the lock is held in the hook, 2 about to malloc, 3 done */
static atomic_int stateless_entered, stateless_go;
static void *(*volatile malloc_fn) (size_t) = malloc; /* a malloc the compiler cannot elide */
static size_t stateless_big;

static int
hook_holding_the_lock (size_t bytes, void *ctx)
{
	(void)bytes;
	(void)ctx;
	if (atomic_load (&stateless_phase) != 0)
		return 0; /* a later call of the same malloc (dlmalloc asks twice when mwpm fails it) */
	atomic_store (&stateless_phase, 1);
	double t0 = emscripten_get_now ();
	while (atomic_load (&stateless_phase) < 2 && emscripten_get_now () - t0 < 5000)
		;
	t0 = emscripten_get_now ();
	while (emscripten_get_now () - t0 < 300) {
		if (atomic_load (&stateless_phase) == 3) {
			atomic_store (&stateless_entered, 1);
			break;
		}
	}
	return 0;
}

static void *
hold_the_lock (void *stateless)
{
	while (!atomic_load (&stateless_go))
		;
	pthread_t self = pthread_self ();
	if (stateless)
		__set_thread_state (0, 0, 0, 1);
	void *p = malloc_fn (stateless_big);
	if (stateless)
		__set_thread_state (self, 0, 0, 1);
	free (p);
	return NULL;
}

static void *
malloc_while_held (void *stateless)
{
	double t0 = emscripten_get_now ();
	while (atomic_load (&stateless_phase) < 1)
		if (emscripten_get_now () - t0 > 5000)
			return "the grow hook never ran";
	pthread_t self = pthread_self ();
	if (stateless)
		__set_thread_state (0, 0, 0, 1);
	atomic_store (&stateless_phase, 2);
	void *p = malloc_fn (64);
	atomic_store (&stateless_phase, 3);
	if (stateless)
		__set_thread_state (self, 0, 0, 1);
	free (p);
	return p ? NULL : "malloc failed";
}

/* One run: the holder and the other thread, one of them without thread state. */
static int
run_stateless (bool holder_stateless)
{
	atomic_store (&stateless_phase, 0);
	atomic_store (&stateless_entered, 0);
	atomic_store (&stateless_go, 0);
	free (malloc_fn (64)); /* dlmalloc is set up: the small malloc takes the lock at once */
	pthread_t holder, other;
	T_CHECK (pthread_create (&holder, NULL, hold_the_lock, holder_stateless ? "" : NULL) == 0 &&
		 pthread_create (&other, NULL, malloc_while_held, holder_stateless ? NULL : "") == 0, "pthread_create");
	/* mwpm's free pages taken, then more than malloc holds free: the holder's malloc must ask
	 * mwpm for pages it does not have, and mwpm runs the hook before it grows (the malloc may
	 * then fail: the memory may be near its maximum). */
	void *held[64];
	size_t nheld = 0, held_bytes[64];
	MwpmStats st;
	for (mwpm_get_stats (&st); st.largest_free_run && nheld < 64; mwpm_get_stats (&st)) {
		held_bytes[nheld] = st.largest_free_run * MWPM_PAGE_SIZE;
		if (!(held[nheld] = mwpm_alloc_range (held_bytes[nheld], 0)))
			break;
		nheld++;
	}
	struct mallinfo mi = mallinfo ();
	stateless_big = (size_t)mi.fordblks + MiB;
	mwpm_set_grow_hook (hook_holding_the_lock, NULL);
	atomic_store (&stateless_go, 1);
	void *r;
	pthread_join (holder, NULL);
	pthread_join (other, &r);
	mwpm_set_grow_hook (NULL, NULL);
	while (nheld--)
		mwpm_free_range (held[nheld], held_bytes[nheld]);
	const char *who = holder_stateless ? "the holder" : "the other thread";
	T_CHECK (r == NULL, "%s without thread state: the small malloc failed, or the hook never ran: %s", who, r ? (const char *)r : "");
	T_CHECK (atomic_load (&stateless_phase) == 3, "%s without thread state: the hook did not run (phase %d)", who,
		 atomic_load (&stateless_phase));
	T_CHECK (!atomic_load (&stateless_entered), "%s without thread state: a malloc returned while another thread held malloc's lock", who);
	return 0;
}

static int
case_thread_without_state_locks (void)
{
	return run_stateless (false) || run_stateless (true);
}

/*
 * One thread's mallocs grow the memory; another thread, at once, callocs and reallocs blocks
 * of those segments (dlmalloc memsets and copies them in that thread). The pool's lock brings
 * the thread's view of the memory up to date (pool-lock.h): checked right after each call,
 * since the engine's own updates hide the trap in most runs (docs/mwpm.md, "Threads").
 */
#define POOL_ROUNDS 300
static atomic_int pool_turn;
static atomic_int pool_bad;

static void *
use_what_others_grew (void *arg)
{
	(void)arg;
	for (int i = 0; i < POOL_ROUNDS; i++) {
		while (atomic_load (&pool_turn) != 1)
			;
		/* Below dlmalloc's mmap threshold: carved from the segment the other thread made. */
		unsigned char *c = calloc (1, 64 * 1024);
		if (!c || mono_bulk_seen () < (uint64_t)(uintptr_t)c + 64 * 1024 || c[0] || c[64 * 1024 - 1])
			atomic_fetch_add (&pool_bad, 1);
		unsigned char *r = c ? realloc (c, 96 * 1024) : NULL;
		if (!r || mono_bulk_seen () < (uint64_t)(uintptr_t)r + 96 * 1024)
			atomic_fetch_add (&pool_bad, 1);
		free (r);
		atomic_store (&pool_turn, 0);
	}
	return NULL;
}

static int
case_threads_use_what_others_grew (void)
{
	pthread_t t;
	atomic_store (&pool_turn, 0);
	T_CHECK (pthread_create (&t, NULL, use_what_others_grew, NULL) == 0, "pthread_create");
	static void *kept[POOL_ROUNDS];
	for (int i = 0; i < POOL_ROUNDS; i++) {
		while (atomic_load (&pool_turn) != 0)
			;
		kept[i] = malloc (200 * 1024); /* below the mmap threshold: a new segment, the memory grows */
		atomic_store (&pool_turn, 1);
	}
	while (atomic_load (&pool_turn) != 0)
		;
	pthread_join (t, NULL);
	for (int i = 0; i < POOL_ROUNDS; i++)
		free (kept[i]);
	T_CHECK (atomic_load (&pool_bad) == 0, "%d blocks outside the thread's view, or not zero", atomic_load (&pool_bad));
	return 0;
}
#endif

int
main (void)
{
	tap_diag ("malloc: %s", MONO_CONFIG_SHARED_POOL ? "the shared pool (dlmalloc on mwpm)"
	                        : POOL_DROPIN ? "libmwpm-pool.a (dlmalloc on mwpm)" : "emscripten's default");
	tap_case ("calloc reads zero over reused memory; overflow is ENOMEM", case_calloc_after_reuse);
	tap_case ("alignment, usable sizes and errors of the aligned allocators", case_alignment_and_sizes);
	tap_case ("emscripten_builtin_* and malloc are one allocator", case_builtin_is_malloc);
	tap_case ("sizes and alignments at the limits: NULL with ENOMEM/EINVAL or a block as large as asked, never a hang", case_limits);
	tap_case ("random malloc/realloc/free keeps every block's contents", case_random_workload);
#if MONO_CONFIG_THREADS
	tap_case ("threads that come and go malloc, realloc, free and hand blocks to each other", case_threads_churn);
	tap_case ("threads start while others hammer malloc", case_threads_start_under_load);
#endif
#if POOL_MALLOC
	tap_case ("memory freed by malloc serves mwpm's other users", case_free_returns_to_mwpm);
#endif
#if POOL_MALLOC && MONO_CONFIG_THREADS
	tap_case ("calloc and realloc in a thread over segments another thread has just grown",
		  case_threads_use_what_others_grew);
	tap_case ("a thread without thread state takes malloc's lock like any other (waits, and holds it)", case_thread_without_state_locks);
#endif
	return tap_done ();
}

/*
 * sgen-stress-threads.c: --threads N. Each thread works the mmap layer directly while the GC
 * runs on the main thread (the threads never touch GC objects): it keeps up to 8 mappings of
 * 1..4 pages, checks that new memory asked zeroed reads zero, writes a canary into the first and last words
 * of every page, frees the head page of a mapping when the backend can free part of one
 * (checking the rest is intact), and checks every canary before the final free.
 */
#include "sgen-stress.h"

#include "mono-config.h"
#include "mono-mmap.h"

#include <stdio.h>
#include <string.h>

#if MONO_CONFIG_THREADS

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* emscripten: the pool has 8 workers (meson.build); joining more from the main thread hangs. */
#define MAX_THREADS (MONO_CONFIG_EMSCRIPTEN ? 8 : 16)
#define SLOTS 8

typedef struct {
	char *p;
	size_t size;
	uint64_t tag;
} Mapping;

typedef struct {
	pthread_t thread;
	int index;
	TestRng rng;
	StressThreadReport report;
	atomic_uint_fast64_t ops;
	Mapping slots[SLOTS];
} Hammer;

static Hammer hammers[16];
static int nthreads;
static atomic_bool stop;
static uint64_t ops_at_gc_start[16];

static void
fail (Hammer *h, const char *what, const void *p)
{
	h->report.errors++;
	if (h->report.errors <= 5)
		fprintf (stderr, "sgen-stress: thread %d: %s at %p\n", h->index, what, p);
}

/* Canaries: the first and last word of every page of [p, p + size). */
enum { CANARY_CHECK, CANARY_WRITE, CANARY_WRITE_ZEROED };

static void
canary (Hammer *h, Mapping *m, int mode)
{
	size_t page = mono_mmap_caps ()->page_size;
	for (size_t off = 0; off < m->size; off += page) {
		uint64_t *first = (uint64_t *) (m->p + off);
		uint64_t *last = (uint64_t *) (m->p + off + page) - 1;
		uint64_t v = m->tag ^ (uintptr_t) first; /* by address: survives freeing the head */
		if (mode != CANARY_CHECK) {
			if (mode == CANARY_WRITE_ZEROED && (*first || *last))
				fail (h, "new memory does not read zero", first);
			*first = v;
			*last = ~v;
		} else if (*first != v || *last != ~v) {
			fail (h, "canary changed", first);
		}
	}
}

static void
step (Hammer *h)
{
	size_t page = mono_mmap_caps ()->page_size;
	Mapping *m = &h->slots[test_rng_next (&h->rng) % SLOTS];
	if (!m->p) {
		/* Half the mappings ask for zeroed memory (and check it), half take it dirty. */
		bool zeroed = test_rng_next (&h->rng) & 1;
		m->size = page * test_rng_range (&h->rng, 1, 4);
		m->p = mono_valloc (NULL, m->size, MONO_MMAP_READ | MONO_MMAP_WRITE | (zeroed ? 0 : MONO_MMAP_NOZERO),
				    MONO_MEM_ACCOUNT_OTHER);
		if (!m->p) {
			fail (h, "mono_valloc failed", NULL);
			return;
		}
		m->tag = test_rng_next (&h->rng);
		canary (h, m, zeroed ? CANARY_WRITE_ZEROED : CANARY_WRITE);
		h->report.allocs++;
		h->report.bytes += m->size;
		return;
	}
	canary (h, m, CANARY_CHECK);
	if (m->size > page && mono_mmap_caps ()->partial_free && test_rng_next (&h->rng) % 2) {
		/* Free the head page; the rest must keep its canaries. */
		if (mono_vfree (m->p, page, MONO_MEM_ACCOUNT_OTHER) != 0)
			fail (h, "partial mono_vfree failed", m->p);
		m->p += page;
		m->size -= page;
		canary (h, m, CANARY_CHECK);
		h->report.partial_frees++;
		return;
	}
	if (mono_vfree (m->p, m->size, MONO_MEM_ACCOUNT_OTHER) != 0)
		fail (h, "mono_vfree failed", m->p);
	m->p = NULL;
}

static void *
hammer_main (void *arg)
{
	Hammer *h = arg;
	/* A short pause after each operation: the threads share the machine with the GC, and
	 * without it they would mostly measure how fast pages can be zeroed. */
	const struct timespec pause = { 0, 20000 };
	while (!atomic_load_explicit (&stop, memory_order_relaxed)) {
		step (h);
		atomic_fetch_add_explicit (&h->ops, 1, memory_order_relaxed);
		nanosleep (&pause, NULL);
	}
	for (int i = 0; i < SLOTS; i++) {
		Mapping *m = &h->slots[i];
		if (m->p) {
			canary (h, m, CANARY_CHECK);
			if (mono_vfree (m->p, m->size, MONO_MEM_ACCOUNT_OTHER) != 0)
				fail (h, "final mono_vfree failed", m->p);
			m->p = NULL;
		}
	}
	h->report.ops = atomic_load (&h->ops);
	return NULL;
}

int
stress_threads_start (int n, uint64_t seed, char *err, size_t errlen)
{
	if (n > MAX_THREADS) {
		snprintf (err, errlen, "--threads %d: at most %d", n, MAX_THREADS);
		return -1;
	}
	atomic_store (&stop, false);
	nthreads = 0;
	for (int i = 0; i < n; i++) {
		Hammer *h = &hammers[i];
		memset (&h->report, 0, sizeof (h->report));
		memset (h->slots, 0, sizeof (h->slots));
		atomic_store (&h->ops, 0);
		h->index = i;
		h->rng.s = seed * 1000003u + (uint64_t) i;
		int rc = pthread_create (&h->thread, NULL, hammer_main, h);
		if (rc != 0) {
			snprintf (err, errlen, "pthread_create failed for thread %d: %s", i, strerror (rc));
			stress_threads_stop (NULL);
			return -1;
		}
		nthreads++;
	}
	return 0;
}

void
stress_threads_gc_phase (bool running)
{
	for (int i = 0; i < nthreads; i++) {
		uint64_t ops = atomic_load (&hammers[i].ops);
		if (running)
			ops_at_gc_start[i] = ops;
		else
			hammers[i].report.ops_while_gc = ops - ops_at_gc_start[i];
	}
}

void
stress_threads_stop (StressThreadReport *reports)
{
	atomic_store (&stop, true);
	for (int i = 0; i < nthreads; i++) {
		pthread_join (hammers[i].thread, NULL);
		if (reports)
			reports[i] = hammers[i].report;
	}
	nthreads = 0;
}

#else

int
stress_threads_start (int n, uint64_t seed, char *err, size_t errlen)
{
	(void) seed;
	if (n == 0)
		return 0;
	snprintf (err, errlen, "--threads %d: this build has no threads (build with -Dthreads=true)", n);
	return -1;
}

void
stress_threads_gc_phase (bool running)
{
	(void) running;
}

void
stress_threads_stop (StressThreadReport *reports)
{
	(void) reports;
}

#endif

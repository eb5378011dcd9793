/*
 * test-one-pool.c: malloc and mmap drawing from one pool, as a third-party program sees it: it
 * knows nothing of mwpm, only POSIX and emscripten. Built three ways (tests/meson.build):
 *   with libmwpm-pool.a (malloc and mmap from mwpm, -sMALLOC=none)  every phase must fit;
 *   with emscripten's own mmap (memalign + memset from its malloc)  every phase must fit;
 *   with libmwpm-mmap.a and emscripten's malloc                    the second phase runs out:
 *                                                                  recorded (--expect=record)
 * linked with -sMAXIMUM_MEMORY=256MB.
 *
 *   mmap, then malloc   70% of the maximum in 2 MiB mappings, each written, then unmapped; then
 *                       60% in small blocks (64 B .. 4 KiB), freed, and 60% in 1 MiB blocks
 *   malloc, then mmap   70% in small and 1 MiB blocks (half each), freed; then 60% in 2 MiB
 *                       mappings
 *   threads             four threads map, unmap, malloc and free at once, each checking its
 *                       own patterns (pthreads builds)
 * Every block and mapping carries a pattern (its first word, one word per 4 KiB, its last word),
 * checked before it is freed; a fresh mapping must read zero where it is checked.
 */
#include "tap.h"

#include <emscripten/heap.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef _REENTRANT
#include <pthread.h>
#include <stdatomic.h>
#endif

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define MAX_BLOCKS (160 * 1024)

static void *blocks[MAX_BLOCKS];
static size_t sizes[MAX_BLOCKS];
static size_t nblocks;
static bool record;   /* --expect=record: running out of memory is a result, not a failure */
static TestRng rng = { 20261202 };

typedef enum { FROM_MMAP, FROM_MALLOC_SMALL, FROM_MALLOC_LARGE, FROM_MALLOC_MIXED } Source;
static const char *const source_names[] = { "mmap 2 MiB", "malloc 64 B-4 KiB", "malloc 1 MiB", "malloc mixed" };

static uint64_t
pattern (const void *p, size_t i)
{
	return ((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull) ^ i;
}

/* Words at 0, every 4 KiB and at the end (blocks are at least 16 bytes; a 4 KiB word that would
 * overlap the last one is left out): enough to see a block overlap or lose another. */
static void
write_pattern (uint8_t *p, size_t len)
{
	for (size_t off = 0; off + 16 <= len; off += 4 * KiB)
		memcpy (p + off, &(uint64_t){ pattern (p, off) }, 8);
	memcpy (p + len - 8, &(uint64_t){ pattern (p, len) }, 8);
}

static bool
pattern_ok (const uint8_t *p, size_t len)
{
	uint64_t w;
	for (size_t off = 0; off + 16 <= len; off += 4 * KiB) {
		memcpy (&w, p + off, 8);
		if (w != pattern (p, off))
			return false;
	}
	memcpy (&w, p + len - 8, 8);
	return w == pattern (p, len);
}

static bool
reads_zero_where_checked (const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += 4 * KiB)
		if (p[off])
			return false;
	return p[len - 1] == 0;
}

static size_t
block_size (Source s)
{
	switch (s) {
	case FROM_MMAP: return 2 * MiB;
	case FROM_MALLOC_SMALL: return (size_t)test_rng_range (&rng, 64, 4096);
	case FROM_MALLOC_LARGE: return MiB;
	case FROM_MALLOC_MIXED: return nblocks % 2 ? (size_t)test_rng_range (&rng, 64, 4096) : MiB;
	}
	return 0;
}

/* Takes `bytes` from a source, every piece patterned. Returns the bytes got (less when the
 * memory ran out; *err then holds the errno). A mapping that does not read zero fails. */
static size_t
take (Source s, size_t bytes, int *err, bool *bad)
{
	size_t got = 0, small_bytes = 0;
	*err = 0;
	while (got < bytes && nblocks < MAX_BLOCKS) {
		size_t len = block_size (s);
		if (s == FROM_MALLOC_MIXED && len < MiB && small_bytes > got / 2)
			len = MiB;
		void *p;
		if (s == FROM_MMAP) {
			p = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				p = NULL;
			if (p && !reads_zero_where_checked (p, len))
				*bad = true;
		} else {
			p = malloc (len);
		}
		if (!p) {
			*err = errno ? errno : ENOMEM;
			break;
		}
		write_pattern (p, len);
		blocks[nblocks] = p;
		sizes[nblocks++] = len;
		got += len;
		if (len < MiB)
			small_bytes += len;
	}
	return got;
}

/* Checks and gives back everything taken; false when a pattern was lost. */
static bool
give_back (Source s)
{
	bool ok = true;
	for (size_t i = 0; i < nblocks; i++) {
		ok &= pattern_ok (blocks[i], sizes[i]);
		if (s == FROM_MMAP)
			ok &= munmap (blocks[i], sizes[i]) == 0;
		else
			free (blocks[i]);
	}
	nblocks = 0;
	return ok;
}

/* One phase: take, report, give back. Returns 0 when it passed (or, recording, when it ran out
 * cleanly), 1 otherwise. */
static int
phase (const char *name, Source s, size_t bytes)
{
	int err;
	bool bad = false;
	size_t got = take (s, bytes, &err, &bad);
	bool intact = give_back (s);
	printf ("# result: %s: %s: got %zu of %zu MiB%s%s\n", name, source_names[s], got / MiB, bytes / MiB,
		err ? ", then " : "", err ? strerror (err) : "");
	T_CHECK (!bad, "%s: a fresh mapping did not read zero", name);
	T_CHECK (intact, "%s: a block lost its pattern or could not be freed", name);
	if (record) {
		T_CHECK (got >= bytes || err == ENOMEM, "%s: failed with %s, not ENOMEM", name, strerror (err));
		return 0;
	}
	T_CHECK (got >= bytes, "%s: %s stopped at %zu of %zu MiB (%s)", name, source_names[s], got / MiB, bytes / MiB,
		 strerror (err));
	return 0;
}

static size_t
share (unsigned percent)
{
	return (size_t)((uint64_t)emscripten_get_heap_max () * percent / 100) & ~(MiB - 1);
}

static int
case_mmap_then_malloc (void)
{
	if (phase ("mmap 70%", FROM_MMAP, share (70)))
		return 1;
	if (phase ("then malloc 60% small", FROM_MALLOC_SMALL, share (60)))
		return 1;
	return phase ("then malloc 60% large", FROM_MALLOC_LARGE, share (60));
}

static int
case_malloc_then_mmap (void)
{
	if (phase ("malloc 70%", FROM_MALLOC_MIXED, share (70)))
		return 1;
	return phase ("then mmap 60%", FROM_MMAP, share (60));
}

#ifdef _REENTRANT
#define THREADS 4
#define ROUNDS 400

/* One thread: mappings and malloc blocks of its own, patterned, freed in random order. */
static void *
mixer (void *arg)
{
	TestRng r = { 7 + (uintptr_t)arg };
	void *mine[16] = { 0 };
	size_t len[16] = { 0 };
	bool mapped[16] = { 0 };
	for (int round = 0; round < ROUNDS; round++) {
		int i = (int)test_rng_below (&r, 16);
		if (mine[i]) {
			if (!pattern_ok (mine[i], len[i]))
				return (void *)"a block lost its pattern";
			if (mapped[i] ? munmap (mine[i], len[i]) != 0 : (free (mine[i]), false))
				return (void *)"munmap failed";
			mine[i] = NULL;
			continue;
		}
		mapped[i] = test_rng_below (&r, 2);
		len[i] = mapped[i] ? (size_t)test_rng_range (&r, 1, 32) * 64 * KiB : (size_t)test_rng_range (&r, 16, 256 * KiB);
		void *p = mapped[i] ? mmap (NULL, len[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
		                    : malloc (len[i]);
		if (!p || p == MAP_FAILED)
			return (void *)(mapped[i] ? "mmap failed" : "malloc failed");
		if (mapped[i] && !reads_zero_where_checked (p, len[i]))
			return (void *)"a fresh mapping does not read zero";
		write_pattern (p, len[i]);
		mine[i] = p;
	}
	for (int i = 0; i < 16; i++) {
		if (mine[i] && !pattern_ok (mine[i], len[i]))
			return (void *)"a block lost its pattern";
		if (mine[i] && mapped[i])
			munmap (mine[i], len[i]);
		else
			free (mine[i]);
	}
	return NULL;
}

static int
case_threads (void)
{
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		T_CHECK (pthread_create (&t[i], NULL, mixer, (void *)i) == 0, "pthread_create");
	int bad = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join (t[i], &r);
		if (r)
			tap_diag ("thread %d: %s", i, (const char *)r);
		bad += r != NULL;
	}
	T_CHECK (bad == 0, "%d thread(s) saw a failed call, a fresh mapping not reading zero or a lost pattern", bad);
	return 0;
}
#endif

int
main (int argc, char **argv)
{
	const char *expect = test_arg_str (argc, argv, "--expect", "pass");
	if (strcmp (expect, "pass") && strcmp (expect, "record")) {
		printf ("Bail out! --expect takes pass or record, not '%s'\n", expect);
		return 2;
	}
	record = !strcmp (expect, "record");
	/* Each direction in a process of its own (--case): what one leaves in a split heap would
	 * decide the other. */
	const char *which = test_arg_str (argc, argv, "--case", "mmap-first");
	tap_diag ("maximum memory %zu MiB; running out is %s", (size_t)(emscripten_get_heap_max () / MiB),
		  record ? "a recorded result" : "a failure");
	if (!strcmp (which, "mmap-first")) {
		tap_case ("mmap 70% of the memory, unmap it, then malloc 60% in small and in large blocks", case_mmap_then_malloc);
	} else if (!strcmp (which, "malloc-first")) {
		tap_case ("malloc 70% of the memory, free it, then mmap 60%", case_malloc_then_mmap);
	} else if (!strcmp (which, "threads")) {
#ifdef _REENTRANT
		tap_case ("four threads mixing malloc and mmap", case_threads);
#else
		tap_report (1, "four threads mixing malloc and mmap # SKIP pthreads builds only");
#endif
	} else {
		printf ("Bail out! --case takes mmap-first, malloc-first or threads, not '%s'\n", which);
		return 2;
	}
	return tap_done ();
}

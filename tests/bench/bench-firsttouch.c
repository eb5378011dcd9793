/*
 * bench-firsttouch.c: what fresh linear memory costs on this engine and machine, apart from
 * any page layer. It grows the memory with sbrk, then writes each fresh region for the first
 * time in one of the ways a program does, and once every page is mapped, memsets one region
 * again:
 *
 *   byte      one byte per 4 KiB page (the cost of the page fault alone)
 *   memset    memset of the whole region (what emscripten's mmap does to every mapping)
 *   copy      memcpy of 64 KiB blocks into it, in order (sgen promoting into fresh blocks)
 *   scatter   the same blocks in a shuffled order
 *   words     one 8-byte store after another (a workload filling fresh objects)
 *   again     memset of a region already written (no fault: the memset alone)
 *
 * ./tools/bench runs it to explain the time figures (docs/performance.md): the first write to a
 * page costs about the same whichever way it is made, so a page layer that skips the memset
 * moves the page faults to whoever writes first; what it saves for good is the memset's own
 * time ("again") and the faults of pages never written.
 *
 *   bench-firsttouch [--mib=N]      prints one JSON line; each region is N MiB
 */
#include "../test-args.h"
#include "../test-clock.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (64u << 10)

static void
touch_bytes (char *p, size_t n)
{
	volatile char *v = p;
	for (size_t off = 0; off < n; off += 4096)
		v[off] = 1;
}

static void
touch_memset (char *p, size_t n)
{
	memset (p, 1, n);
}

static char source_block[BLOCK];

static void
copy_block (char *p, size_t i)
{
	memcpy (p + i * BLOCK, source_block, BLOCK);
}

static void
touch_copy (char *p, size_t n)
{
	for (size_t i = 0; i < n / BLOCK; i++)
		copy_block (p, i);
}

/* A fixed permutation of the blocks (multiplication by an odd step modulo a power of two). */
static void
touch_scatter (char *p, size_t n)
{
	size_t blocks = n / BLOCK;
	for (size_t i = 0; i < blocks; i++)
		copy_block (p, (i * 40503u + 17u) & (blocks - 1));
}

static void
touch_words (char *p, size_t n)
{
	volatile uint64_t *w = (uint64_t *)p;
	for (size_t i = 0; i < n / sizeof (uint64_t); i++)
		w[i] = i;
}

typedef struct {
	const char *name;
	void (*touch) (char *, size_t);
} Pattern;

static const Pattern patterns[] = {
	{ "byte", touch_bytes },   { "memset", touch_memset }, { "copy", touch_copy },
	{ "scatter", touch_scatter }, { "words", touch_words },
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])

int
main (int argc, char **argv)
{
	/* --mono-wasm-mmap is accepted and ignored: the benchmark driver passes it to every run. */
	static const char *const known[] = { "--mib=", "--mono-wasm-mmap=", NULL };
	test_args_check (argc, argv, known, "bench-firsttouch [--mib=N] (N a power of two from 1 to 256)");
	long mib = (long)test_arg_u64_in (argc, argv, "--mib", 64, 1, 256);
	if (mib & (mib - 1)) {
		fprintf (stderr, "bench-firsttouch: --mib=%ld is not a power of two\n", mib);
		return 2;
	}
	size_t n = (size_t)mib << 20;
	memset (source_block, 7, sizeof source_block);
	double t0 = test_now_ms ();
	char *p = sbrk ((intptr_t)(n * NPATTERNS));
	if (p == (void *)-1) {
		fprintf (stderr, "bench-firsttouch: sbrk(%zu) failed\n", n * NPATTERNS);
		return 1;
	}
	double grow = test_now_ms () - t0;
	double ms[NPATTERNS];
	for (size_t i = 0; i < NPATTERNS; i++) {
		double t = test_now_ms ();
		patterns[i].touch (p + i * n, n);
		ms[i] = test_now_ms () - t;
	}
	double t = test_now_ms ();
	memset (p, 0, n);
	double again = test_now_ms () - t;
	double pages = (double)(n / 4096);
	printf ("{\"bench\":\"firsttouch\",\"mib\":%ld,\"grow_ms\":%.2f,\"first_touch_ms\":%.2f,"
	        "\"first_touch_us_per_page\":%.3f,\"memset_ms\":%.2f",
	        mib, grow, ms[0], ms[0] * 1e3 / pages, again);
	for (size_t i = 0; i < NPATTERNS; i++)
		printf (",\"first_%s_ms\":%.2f", patterns[i].name, ms[i]);
	printf ("}\n");
	return 0;
}

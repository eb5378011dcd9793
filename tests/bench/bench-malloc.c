/*
 * bench-malloc.c: small-allocation speed and memory overhead of whatever malloc the program is
 * linked with. Built in every emscripten build: the plain build measures emscripten's default
 * dlmalloc, the shared-pool build (-Dshared_pool=true) the pool malloc (docs/pool.md). Compare
 * release builds side by side on one machine; docs/pool.md has the command and the numbers.
 *
 * Workloads (sizes uniform in 8..512 bytes, seeded, the same sequence in every build):
 *   churn   a live set of 20,000 blocks; 2,000,000 times: free a random one, allocate anew
 *   batch   40 rounds of: allocate 100,000 blocks, free them in random order
 *   lifo    40 rounds of: allocate 100,000 blocks, free them newest first
 * Each workload runs once to warm up (the engine compiles hot code again after a while), then
 * `--reps` times (default 9); the median and the minimum time are printed, in ns per
 * malloc+free pair. Time is the node process's CPU time (process.cpuUsage), so that waiting for
 * a core on a loaded machine is not counted; in a browser, performance.now(). The minimum is
 * the steadier figure on a shared machine. Every block gets its
 * first and last byte written.
 *
 * Overhead: 400,000 live blocks (about 100 MB), then every other one freed; for each state,
 * bytes of linear memory taken since the start (the program break's growth, which is what both
 * mallocs take from the system: sbrk directly, or mwpm's sbrk chunks) per live requested byte.
 *
 * Output: one "name value unit" line per measurement, easy to diff between builds.
 */
#include <emscripten.h>
#include "../test-args.h"
#include "../test-rng.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_SIZE 8
#define MAX_SIZE 512

typedef struct {
	uint64_t s;
} Rng;

static uint64_t
rng_next (Rng *r)
{
	return test_splitmix64 (&r->s);
}

/* Milliseconds of CPU time of the node process (user + system), or wall time in a browser. */
EM_JS (double, now_ms, (void), {
	if (typeof process === 'object' && process.cpuUsage) {
		const u = process.cpuUsage ();
		return (u.user + u.system) / 1000;
	}
	return performance.now ();
});

static size_t
rand_size (Rng *r)
{
	return MIN_SIZE + (size_t)(rng_next (r) % (MAX_SIZE - MIN_SIZE + 1));
}

static void *
touch_alloc (size_t size)
{
	unsigned char *p = malloc (size);
	if (!p) {
		fprintf (stderr, "bench-malloc: malloc (%zu) failed\n", size);
		exit (1);
	}
	p[0] = (unsigned char)size;
	p[size - 1] = (unsigned char)size;
	return p;
}

#define CHURN_LIVE 20000
#define CHURN_OPS 2000000
#define BATCH 100000
#define ROUNDS 40
#define OVERHEAD_BLOCKS 400000

static void *slots[OVERHEAD_BLOCKS];
static size_t sizes[OVERHEAD_BLOCKS];
static uint32_t order[BATCH];

/* Returns ns per malloc+free pair. */
static double
churn (uint64_t seed)
{
	Rng r = { seed };
	for (int i = 0; i < CHURN_LIVE; i++)
		slots[i] = touch_alloc (rand_size (&r));
	double t0 = now_ms ();
	for (int i = 0; i < CHURN_OPS; i++) {
		uint32_t k = (uint32_t)(rng_next (&r) % CHURN_LIVE);
		free (slots[k]);
		slots[k] = touch_alloc (rand_size (&r));
	}
	double t = now_ms () - t0;
	for (int i = 0; i < CHURN_LIVE; i++)
		free (slots[i]);
	return t * 1e6 / CHURN_OPS;
}

static double
batch (uint64_t seed, int lifo)
{
	Rng r = { seed };
	double total = 0;
	for (int round = 0; round < ROUNDS; round++) {
		for (uint32_t i = 0; i < BATCH; i++)
			order[i] = i;
		if (!lifo) {
			for (uint32_t i = BATCH - 1; i > 0; i--) {
				uint32_t j = (uint32_t)(rng_next (&r) % (i + 1));
				uint32_t t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
		}
		double t0 = now_ms ();
		for (uint32_t i = 0; i < BATCH; i++)
			slots[i] = touch_alloc (rand_size (&r));
		if (lifo) {
			for (uint32_t i = BATCH; i-- > 0;)
				free (slots[i]);
		} else {
			for (uint32_t i = 0; i < BATCH; i++)
				free (slots[order[i]]);
		}
		total += now_ms () - t0;
	}
	return total * 1e6 / ((double)ROUNDS * BATCH);
}

static int
cmp_double (const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void
report (const char *name, double *v, int n)
{
	qsort (v, (size_t)n, sizeof *v, cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf ("%s_median %.1f ns-per-pair\n", name, med);
	printf ("%s_min %.1f ns-per-pair\n", name, v[0]);
}

static uintptr_t
brk_now (void)
{
	return (uintptr_t)sbrk (0);
}

static void
overhead (uintptr_t brk0)
{
	Rng r = { 7 };
	uint64_t live = 0;
	for (int i = 0; i < OVERHEAD_BLOCKS; i++) {
		sizes[i] = rand_size (&r);
		slots[i] = touch_alloc (sizes[i]);
		live += sizes[i];
	}
	uintptr_t grown = brk_now () - brk0;
	printf ("overhead_full_live_bytes %llu B\n", (unsigned long long)live);
	printf ("overhead_full_linear_bytes %llu B\n", (unsigned long long)grown);
	printf ("overhead_full %.4f linear-bytes-per-live-byte\n", (double)grown / (double)live);
	for (int i = 0; i < OVERHEAD_BLOCKS; i += 2) {
		free (slots[i]);
		live -= sizes[i];
	}
	grown = brk_now () - brk0;
	printf ("overhead_half %.4f linear-bytes-per-live-byte\n", (double)grown / (double)live);
	for (int i = 1; i < OVERHEAD_BLOCKS; i += 2)
		free (slots[i]);
}

int
main (int argc, char **argv)
{
	static const char *const known[] = { "--reps=", "--only=", NULL };
	const char *usage = "bench-malloc [--reps=N] [--only=overhead|churn|batch|lifo] (N from 1 to 100)";
	test_args_check (argc, argv, known, usage);
	int reps = (int)test_arg_u64_in (argc, argv, "--reps", 9, 1, 100);
	const char *only = test_arg_str (argc, argv, "--only", NULL);
	if (only && strcmp (only, "overhead") && strcmp (only, "churn") && strcmp (only, "batch") && strcmp (only, "lifo"))
		test_args_fail (argv[0], "--only takes overhead, churn, batch or lifo, got '%s'", only);
#define RUN(name) (!only || !strcmp (only, name))
	/* Overhead first, on a fresh heap. */
	uintptr_t brk0 = brk_now ();
	if (RUN ("overhead"))
		overhead (brk0);
	double v[100];
	if (RUN ("churn")) {
		churn (1000);
		for (int i = 0; i < reps; i++)
			v[i] = churn (1 + (uint64_t)i);
		report ("churn", v, reps);
	}
	if (RUN ("batch")) {
		batch (1000, 0);
		for (int i = 0; i < reps; i++)
			v[i] = batch (100 + (uint64_t)i, 0);
		report ("batch", v, reps);
	}
	if (RUN ("lifo")) {
		batch (1000, 1);
		for (int i = 0; i < reps; i++)
			v[i] = batch (200 + (uint64_t)i, 1);
		report ("lifo", v, reps);
	}
	return 0;
}

/*
 * bench-mwpm.c: how long mwpm takes per allocation, measured, not tested (it never fails on a
 * slow result; it fails only when mwpm misbehaves or the arguments are wrong).
 *
 *   bench-mwpm [--pages N] [--frag F] [--pairs N] [--reps N] [--seed N] [--quick] [--json]
 *   bench-mwpm --chunk [--reps N] [--seed N] [--quick] [--json]
 *
 *   --pages N  managed pages; default: 1000, 8000, 32000 and 60000 in turn (with 64 KiB pages,
 *              60000 is nearly the whole 4 GiB space; the wasm build may grow to 4 GiB)
 *   --frag F   fraction of the managed pages in use, 0 <= F < 1; default: 0.01, 0.5 and 0.9
 *   --pairs N  timed alloc/free pairs per repetition (default 200000)
 *   --reps N   repetitions (default 5, at most 31); the median is the result
 *   --seed N   seed of the layout and of the request sizes (default 1)
 *   --quick    50000 pairs and 3 repetitions (a few seconds)
 *   --json     print only the JSON line
 *   --chunk    the growth measurement below instead of the latency
 *
 * Latency mode (the default): for each number of managed pages and each fragmentation level it
 * lays out the page table as below and times `pairs` alloc/free pairs of 1-32 pages (uniform,
 * from a seeded sequence), `reps` times; it reports the median, fastest and slowest ns per pair
 * and the summary-tree nodes visited per pair (mwpm_last_op_index_visits, in an untimed pass).
 * Repetitions go round-robin over the configurations, and each starts mwpm blank with the
 * program break put back where it was, so every configuration sees the same memory. Times are
 * CPU time (this thread's natively, the node process's as wasm), as the machines are shared;
 * the wall-clock median is printed beside them.
 *
 *   Layout (docs/mwpm.md, "Benchmark"): the span holds M managed pages. Exactly round(F * M) of
 *   them are in use, chosen uniformly at random (seeded) among the lowest M - 64 pages, so the
 *   free runs between them are short and scattered (geometric lengths, mean about 1/F pages);
 *   the top 64 pages (the tail) stay free, so a request that fits no hole is served there
 *   without growing the memory. F is the "fragmentation level": the fraction of managed pages
 *   in use. The benchmark checks that no timed pair called sbrk.
 *
 * Chunk mode (--chunk): the cost of growth. 1024 allocations of 1-4 pages, never freed, in
 * three variants: "alone" and "foreign-every-4" (another sbrk caller takes 1-64 KiB after every
 * 4th allocation, as a malloc growing in between) run on a linear memory grown beforehand, so
 * the time is mwpm's and sbrk's; "alone-growing" lets the memory grow during the sequence
 * (memory.grow on wasm, mprotect on the host). Reports sbrk calls, welds, bytes lost in
 * partial pages next to other callers' memory, pages left free in mwpm's hands at the end,
 * memory grows, and ns per allocation. The minimum chunk (MWPM_MIN_CHUNK_BYTES) is compiled
 * in: meson builds bench-mwpm-chunk-<size> programs for sizes other than the default. --pages,
 * --frag and --pairs do not apply.
 *
 * Output: a table, then one JSON line (the last line, starting with {"bench":); --json prints
 * only the JSON line. Exit status: 0, or 1 with a message on stderr.
 *
 * Build it release and without sanitizers (docs/mwpm.md gives the commands); the program says
 * so on stderr when it was not.
 */
#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "mono-sanitizers.h"
#include "../test-args.h"
#include "../test-rng.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#define PAGE ((size_t)MWPM_PAGE_SIZE)
#define TAIL_PAGES 64u
#define MAX_REQUEST 32u
#define SIZE_RING 4096u  /* request sizes, precomputed so the generator is not timed */
#define MAX_REPS 31
#define MAX_RESULTS 64


#ifdef __EMSCRIPTEN__
#define TARGET "wasm-emscripten"
#else
#define TARGET "native"
#endif

typedef struct {
	uint64_t seed;
	uint64_t pairs;
	unsigned reps;
	size_t pages;     /* 0: the default list */
	double frag;      /* < 0: the default list */
	int json_only;
	int chunk_mode;
	int quick;
} Options;

typedef struct {
	size_t pages, managed, in_use, largest_free_run;
	double frag;
	double ns_median, ns_min, ns_max, wall_median;
	double visits_mean;
	uint64_t visits_max;
} LatencyResult;

typedef struct {
	const char *variant;
	uint64_t allocs, pages;
	uint64_t sbrk_calls, welds, bytes_from_sbrk, bytes_unusable;
	size_t pages_external, pages_free_left;
	uint64_t memory_grows, memory_bytes;
	double ns_per_alloc_median, ns_per_alloc_min, ns_per_alloc_max, other_median;
} ChunkResult;

static uint64_t
now_ns (void)
{
	struct timespec ts;
	clock_gettime (CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef __EMSCRIPTEN__
/* CPU time of the node process in microseconds (process.cpuUsage), or -1 outside node. */
EM_JS (double, js_cpu_us, (void), {
	if (typeof process === 'object' && typeof process.cpuUsage === 'function') {
		const u = process.cpuUsage();
		return u.user + u.system;
	}
	return -1;
});
#endif

/*
 * CPU time in ns, or a negative value where there is none. The benchmark's main clock: on a
 * shared machine wall time also counts the time other processes hold the CPU. Native: this
 * thread's CPU time; wasm under node: the node process's (its compiler and GC threads add a
 * little; they are idle once the code is warm).
 */
static double
cpu_ns (void)
{
#ifdef __EMSCRIPTEN__
	double us = js_cpu_us ();
	return us < 0 ? -1 : us * 1000;
#else
	struct timespec ts;
	if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return -1;
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
#endif
}

/* Start and end of a timed stretch on both clocks. */
typedef struct {
	uint64_t wall0;
	double cpu0;
} Stopwatch;

static Stopwatch
watch_start (void)
{
	Stopwatch w = { now_ns (), cpu_ns () };
	return w;
}

/* ns per operation on the CPU clock when there is one (else the wall clock); *wall gets the
 * wall-clock figure. */
static double
watch_stop (const Stopwatch *w, uint64_t ops, double *wall)
{
	double cpu1 = cpu_ns ();
	*wall = (double)(now_ns () - w->wall0) / (double)ops;
	return w->cpu0 < 0 || cpu1 < 0 ? *wall : (cpu1 - w->cpu0) / (double)ops;
}

static const char *
clock_name (void)
{
	return cpu_ns () < 0 ? "wall" : "cpu";
}

static uint64_t
rng_next (uint64_t *s)
{
	return test_splitmix64 (s);
}

static uint64_t
rng_below (uint64_t *s, uint64_t n)
{
	return rng_next (s) % n;
}

static _Noreturn void die (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

static _Noreturn void
die (const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	fputs ("bench-mwpm: ", stderr);
	vfprintf (stderr, fmt, ap);
	fputc ('\n', stderr);
	va_end (ap);
	exit (1);
}

static MwpmStats
stats (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	return s;
}

static int
cmp_double (const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median (double *v, unsigned n)
{
	qsort (v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- Latency ---- */

/*
 * Makes the span hold exactly the layout of the header comment for M pages at level F and
 * returns the first page's address. mwpm is blank when it is called, so its first sbrk, of
 * M + 1 pages (one for alignment), makes a span of exactly M whole pages (when M pages are at
 * least the minimum chunk; the table reports the span as "managed").
 */
static char *
build_layout (size_t M, double F, uint64_t seed, size_t *in_use)
{
	char *body = mwpm_alloc_range (M * PAGE, 0);
	if (!body)
		die ("cannot allocate %zu pages (errno %d): the memory is too small for this page count", M, errno);
	size_t candidates = M - TAIL_PAGES;
	size_t want = (size_t)llround (F * (double)M);
	if (want > candidates)
		die ("fragmentation %.2f needs %zu pages in use, only %zu of %zu pages lie below the free tail", F, want,
		     candidates, M);
	/* Selection sampling: page i is kept with probability (still wanted) / (still left), so
	 * exactly `want` pages stay in use, uniformly spread. Free runs are freed as runs. */
	uint64_t rng = seed;
	size_t kept = 0, run_start = 0, run_len = 0;
	for (size_t i = 0; i < candidates; i++) {
		if (rng_below (&rng, candidates - i) < want - kept) {
			kept++;
			if (run_len && mwpm_free_range (body + run_start * PAGE, run_len * PAGE) != 0)
				die ("free failed");
			run_len = 0;
		} else {
			if (!run_len)
				run_start = i;
			run_len++;
		}
	}
	if (run_len && mwpm_free_range (body + run_start * PAGE, run_len * PAGE) != 0)
		die ("free failed");
	if (mwpm_free_range (body + candidates * PAGE, TAIL_PAGES * PAGE) != 0)
		die ("free failed");
	*in_use = kept;
	return body;
}

/* Moves the break by `delta` as another sbrk caller would; returns the old break. */
static uint64_t
foreign_sbrk (int64_t delta)
{
	uint64_t old;
	if (mwpm_platform_foreign_sbrk (delta, &old) != 0)
		die ("foreign sbrk of %" PRId64 " bytes failed", delta);
	return old;
}

/*
 * One repetition of one configuration. mwpm starts blank with the break at `start`, so its
 * span is exactly M pages and its summary tree only as tall as M needs; at the end mwpm forgets
 * its pages and the break goes back to `start` (the pages were never written, so they still
 * read zero, as mwpm's trust assumes). The first repetition also counts index visits.
 */
static double
run_latency_rep (const Options *o, uint64_t start, const uint32_t *sizes, LatencyResult *r, bool first, double *wall)
{
	size_t M = r->pages, in_use;
	mwpm_reset_for_tests ();
	char *body = build_layout (M, r->frag, o->seed ^ (uint64_t)M, &in_use);
	MwpmStats s0 = stats ();
	if (s0.pages_in_use != in_use)
		die ("layout: %zu pages in use, expected %zu", s0.pages_in_use, in_use);
	if (first && mwpm_check_invariants () != 0)
		die ("mwpm_check_invariants failed after the layout");

	if (first) {
		/* Untimed: index nodes visited per pair. The state after each pair is the state before
		 * it, so every pair sees the same layout. */
		uint64_t vsum = 0, vmax = 0;
		for (uint32_t i = 0; i < SIZE_RING; i++) {
			size_t bytes = (size_t)sizes[i] * PAGE;
			void *q = mwpm_alloc_range (bytes, 0);
			if (!q)
				die ("allocation of %u pages failed (errno %d)", sizes[i], errno);
			uint64_t v = mwpm_last_op_index_visits ();
			mwpm_free_range (q, bytes);
			v += mwpm_last_op_index_visits ();
			vsum += v;
			vmax = v > vmax ? v : vmax;
		}
		r->visits_mean = (double)vsum / SIZE_RING;
		r->visits_max = vmax;
		r->managed = s0.span_end_page - s0.span_first_page;
		r->in_use = in_use;
		r->largest_free_run = s0.largest_free_run;
	}

	Stopwatch w = watch_start ();
	for (uint64_t i = 0; i < o->pairs; i++) {
		size_t bytes = (size_t)sizes[i % SIZE_RING] * PAGE;
		void *q = mwpm_alloc_range (bytes, 0);
		if (__builtin_expect (!q, 0))
			die ("allocation of %zu bytes failed (errno %d)", bytes, errno);
		mwpm_free_range (q, bytes);
	}
	double ns = watch_stop (&w, o->pairs, wall);

	MwpmStats s1 = stats ();
	if (s1.sbrk_calls != s0.sbrk_calls)
		die ("the timed pairs grew the memory (%" PRIu64 " sbrk calls): the tail is too small", s1.sbrk_calls - s0.sbrk_calls);
	if (s1.pages_in_use != in_use || (first && mwpm_check_invariants () != 0))
		die ("mwpm's state changed across the timed pairs");
	if (mwpm_free_range (body, M * PAGE) != 0 || stats ().pages_in_use != 0)
		die ("tear-down failed");
	mwpm_reset_for_tests ();
	foreign_sbrk (-(int64_t)(foreign_sbrk (0) - start));
	return ns;
}

static void
run_latency (const Options *o)
{
	static const size_t default_pages[] = { 1000, 8000, 32000, 60000 };
	static const double default_frag[] = { 0.01, 0.5, 0.9 };
	static uint32_t sizes[SIZE_RING];
	uint64_t rng = o->seed;
	for (unsigned i = 0; i < SIZE_RING; i++)
		sizes[i] = 1 + (uint32_t)rng_below (&rng, MAX_REQUEST);

	LatencyResult res[MAX_RESULTS];
	unsigned nres = 0;
	for (unsigned i = 0; i < 4; i++) {
		if (o->pages && i)
			break;
		for (unsigned j = 0; j < 3; j++) {
			if (o->frag >= 0 && j)
				break;
			memset (&res[nres], 0, sizeof res[nres]);
			res[nres].pages = o->pages ? o->pages : default_pages[i];
			res[nres].frag = o->frag >= 0 ? o->frag : default_frag[j];
			nres++;
		}
	}

	/* Round robin: repetition r of every configuration runs before repetition r + 1 of any, so
	 * a slow phase of a shared machine hits all configurations alike and the ratios hold.
	 * Nothing here prints or calls malloc (on wasm, memory malloc took from sbrk above `start`
	 * would be lost when the break is put back). */
	mwpm_platform_host_reset (0, 0);
	uint64_t start = foreign_sbrk (0);
	double ns[MAX_RESULTS][MAX_REPS], wall[MAX_RESULTS][MAX_REPS];
	for (unsigned rep = 0; rep < o->reps; rep++) {
		for (unsigned i = 0; i < nres; i++)
			ns[i][rep] = run_latency_rep (o, start, sizes, &res[i], rep == 0, &wall[i][rep]);
	}
	for (unsigned i = 0; i < nres; i++) {
		LatencyResult *r = &res[i];
		r->ns_min = r->ns_max = ns[i][0];
		for (unsigned k = 1; k < o->reps; k++) {
			r->ns_min = ns[i][k] < r->ns_min ? ns[i][k] : r->ns_min;
			r->ns_max = ns[i][k] > r->ns_max ? ns[i][k] : r->ns_max;
		}
		r->ns_median = median (ns[i], o->reps);
		r->wall_median = median (wall[i], o->reps);
	}

	if (!o->json_only) {
		printf ("mwpm alloc/free pair latency, %s, page size %zu, requests of 1-%u pages, %" PRIu64
			" pairs x %u repetitions, seed %" PRIu64 ", %s clock\n",
			TARGET, PAGE, MAX_REQUEST, o->pairs, o->reps, o->seed, clock_name ());
		printf ("%8s %8s %6s %8s %8s %10s %10s %10s %10s %8s %8s %7s\n", "pages", "managed", "frag", "in_use",
			"maxrun", "ns/pair", "ns min", "ns max", "wall ns", "visits", "vis max", "x 1k");
		for (unsigned i = 0; i < nres; i++) {
			const LatencyResult *r = &res[i];
			double base = 0;
			for (unsigned k = 0; k < nres; k++) {
				if (res[k].pages == res[0].pages && res[k].frag == r->frag)
					base = res[k].ns_median;
			}
			printf ("%8zu %8zu %6.2f %8zu %8zu %10.1f %10.1f %10.1f %10.1f %8.1f %8" PRIu64 " %7.2f\n", r->pages,
				r->managed, r->frag, r->in_use, r->largest_free_run, r->ns_median, r->ns_min, r->ns_max,
				r->wall_median, r->visits_mean, r->visits_max, base > 0 ? r->ns_median / base : 0.0);
		}
		printf ("(ns: median, fastest and slowest repetition on the %s clock; wall ns: median on the wall clock;\n"
			" visits: summary-tree nodes per pair; x 1k: median / median at %zu pages, same fragmentation)\n",
			clock_name (), res[0].pages);
	}
	printf ("{\"bench\":\"mwpm-latency\",\"target\":\"%s\",\"page_size\":%zu,\"request_pages\":[1,%u],"
		"\"pairs\":%" PRIu64 ",\"reps\":%u,\"seed\":%" PRIu64 ",\"tail_pages\":%u,\"clock\":\"%s\",\"results\":[",
		TARGET, PAGE, MAX_REQUEST, o->pairs, o->reps, o->seed, TAIL_PAGES, clock_name ());
	for (unsigned i = 0; i < nres; i++) {
		const LatencyResult *r = &res[i];
		printf ("%s{\"pages\":%zu,\"managed\":%zu,\"frag\":%.4g,\"in_use\":%zu,\"largest_free_run\":%zu,"
			"\"ns_per_pair\":%.1f,\"ns_min\":%.1f,\"ns_max\":%.1f,\"wall_ns_per_pair\":%.1f,"
			"\"visits_per_pair\":%.2f,\"visits_max\":%" PRIu64 "}",
			i ? "," : "", r->pages, r->managed, r->frag, r->in_use, r->largest_free_run, r->ns_median, r->ns_min,
			r->ns_max, r->wall_median, r->visits_mean, r->visits_max);
	}
	printf ("]}\n");
}

/* ---- Chunk size ---- */

#define CHUNK_ALLOCS 1024u
#define CHUNK_VARIANTS 3
/* The clock of the growth sequence, which lasts about a millisecond: natively this thread's CPU
 * time; on wasm the wall clock, as node's CPU clock also counts its compiler and GC threads,
 * which a stretch this short does not average out (the fastest repetition is the undisturbed
 * one there). */
#ifdef __EMSCRIPTEN__
#define CHUNK_CPU_CLOCK 0
#else
#define CHUNK_CPU_CLOCK 1
#endif

/*
 * One variant of the growth sequence, `reps` times. With `pregrow` the linear memory is grown
 * first (and the break put back), so the time is mwpm's and sbrk's, not the engine's
 * memory.grow; afterwards the break is lowered to where it was, so every repetition runs on the
 * same memory. Without it the memory grows during the sequence as it would at startup (wasm:
 * each repetition starts where the last ended, as memory never shrinks).
 */
static void
run_chunk_variant (const Options *o, const char *variant, unsigned foreign_every, bool pregrow, ChunkResult *r)
{
	double ns[MAX_REPS], other[MAX_REPS];
	uint32_t pages[CHUNK_ALLOCS], foreign[CHUNK_ALLOCS];
	uint64_t total_pages = 0, rng = o->seed;
	for (unsigned i = 0; i < CHUNK_ALLOCS; i++) {
		pages[i] = 1 + (uint32_t)rng_below (&rng, 4);
		foreign[i] = 4 * (1 + (uint32_t)rng_below (&rng, 16384)); /* 4 B .. 64 KiB */
		total_pages += pages[i];
	}
	memset (r, 0, sizeof *r);
	r->variant = variant;
	for (unsigned rep = 0; rep < o->reps; rep++) {
		mwpm_platform_host_reset (0, 0); /* host: a fresh simulated memory */
		mwpm_reset_for_tests ();
		uint64_t start = foreign_sbrk (0);
		if (pregrow) {
			/* Room for the sequence, the foreign bytes and a chunk of slack. */
			int64_t room = (int64_t)((total_pages + CHUNK_ALLOCS / 2 + 256) * PAGE);
			foreign_sbrk (room);
			foreign_sbrk (-room);
		}
		uint64_t mem = mwpm_platform_memory_bytes (), grows = 0;
		Stopwatch w = watch_start ();
		for (unsigned i = 0; i < CHUNK_ALLOCS; i++) {
			if (!mwpm_alloc_range ((size_t)pages[i] * PAGE, 0))
				die ("allocation %u of %u pages failed (errno %d)", i, pages[i], errno);
			if (foreign_every && i % foreign_every == foreign_every - 1)
				foreign_sbrk (foreign[i]);
			uint64_t now = mwpm_platform_memory_bytes ();
			grows += now != mem;
			mem = now;
		}
		double wall, cpu = watch_stop (&w, CHUNK_ALLOCS, &wall);
		ns[rep] = CHUNK_CPU_CLOCK ? cpu : wall;
		other[rep] = CHUNK_CPU_CLOCK ? wall : cpu;
		MwpmStats s = stats ();
		if (s.pages_in_use != total_pages || mwpm_check_invariants () != 0)
			die ("mwpm's state is wrong after the growth sequence");
		/* The counts depend only on the sequence and the starting break; the last repetition's
		 * are kept. */
		r->allocs = CHUNK_ALLOCS;
		r->pages = total_pages;
		r->sbrk_calls = s.sbrk_calls;
		r->welds = s.welds;
		r->bytes_from_sbrk = s.bytes_from_sbrk;
		r->bytes_unusable = s.bytes_unusable;
		r->pages_external = s.pages_external;
		r->pages_free_left = s.pages_free_zeroed + s.pages_free_dirty;
		r->memory_grows = grows;
		r->memory_bytes = mem;
		if (pregrow) {
			/* Forget the pages and give the memory back to the break, as a fresh start. */
			mwpm_reset_for_tests ();
			foreign_sbrk (-(int64_t)(foreign_sbrk (0) - start));
		}
	}
	r->ns_per_alloc_min = r->ns_per_alloc_max = ns[0];
	for (unsigned i = 1; i < o->reps; i++) {
		r->ns_per_alloc_min = ns[i] < r->ns_per_alloc_min ? ns[i] : r->ns_per_alloc_min;
		r->ns_per_alloc_max = ns[i] > r->ns_per_alloc_max ? ns[i] : r->ns_per_alloc_max;
	}
	r->ns_per_alloc_median = median (ns, o->reps);
	r->other_median = median (other, o->reps);
}

static void
run_chunk (const Options *o)
{
	/* The chunk actually used: what the first one-page allocation takes from sbrk. */
	mwpm_platform_host_reset (0, 0);
	mwpm_reset_for_tests ();
	if (!mwpm_alloc_range (PAGE, 0))
		die ("first allocation failed");
	uint64_t chunk = stats ().bytes_from_sbrk;

	ChunkResult res[CHUNK_VARIANTS];
	run_chunk_variant (o, "alone", 0, true, &res[0]);
	run_chunk_variant (o, "foreign-every-4", 4, true, &res[1]);
	run_chunk_variant (o, "alone-growing", 0, false, &res[2]);

	if (!o->json_only) {
		printf ("mwpm growth, smallest sbrk request %" PRIu64 " bytes, %s, page size %zu: %u allocations of 1-4 pages, "
			"%u repetitions\n", chunk, TARGET, PAGE, CHUNK_ALLOCS, o->reps);
		printf ("%-16s %6s %6s %6s %12s %12s %8s %9s %6s %9s %9s %9s %9s\n", "variant", "pages", "sbrk", "welds",
			"sbrk bytes", "unusable B", "foreign", "free left", "grows", "ns/alloc", "ns min", "ns max", CHUNK_CPU_CLOCK ? "wall ns" : "cpu ns");
		for (unsigned i = 0; i < CHUNK_VARIANTS; i++) {
			const ChunkResult *r = &res[i];
			printf ("%-16s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8zu %9zu %6" PRIu64
				" %9.0f %9.0f %9.0f %9.0f\n",
				r->variant, r->pages, r->sbrk_calls, r->welds, r->bytes_from_sbrk, r->bytes_unusable,
				r->pages_external, r->pages_free_left, r->memory_grows, r->ns_per_alloc_median,
				r->ns_per_alloc_min, r->ns_per_alloc_max, r->other_median);
		}
		printf ("(ns: %s clock, median, fastest and slowest repetition; last column: median on the other clock)\n",
			CHUNK_CPU_CLOCK ? "cpu" : "wall");
	}
	printf ("{\"bench\":\"mwpm-chunk\",\"target\":\"%s\",\"page_size\":%zu,\"first_sbrk_bytes\":%" PRIu64
		",\"allocs\":%u,\"reps\":%u,\"seed\":%" PRIu64 ",\"clock\":\"%s\",\"results\":[",
		TARGET, PAGE, chunk, CHUNK_ALLOCS, o->reps, o->seed, CHUNK_CPU_CLOCK ? "cpu" : "wall");
	for (unsigned i = 0; i < CHUNK_VARIANTS; i++) {
		const ChunkResult *r = &res[i];
		printf ("%s{\"variant\":\"%s\",\"pages\":%" PRIu64 ",\"sbrk_calls\":%" PRIu64 ",\"welds\":%" PRIu64
			",\"bytes_from_sbrk\":%" PRIu64 ",\"bytes_unusable\":%" PRIu64 ",\"pages_external\":%zu,"
			"\"pages_free_left\":%zu,\"memory_grows\":%" PRIu64 ",\"memory_bytes\":%" PRIu64
			",\"ns_per_alloc\":%.1f,\"ns_min\":%.1f,\"ns_max\":%.1f,\"other_clock_ns_per_alloc\":%.1f}",
			i ? "," : "", r->variant, r->pages, r->sbrk_calls, r->welds, r->bytes_from_sbrk, r->bytes_unusable,
			r->pages_external, r->pages_free_left, r->memory_grows, r->memory_bytes, r->ns_per_alloc_median,
			r->ns_per_alloc_min, r->ns_per_alloc_max, r->other_median);
	}
	printf ("]}\n");
}

/* ---- Arguments ---- */

static void
usage (void)
{
	fputs ("usage: bench-mwpm [--pages N] [--frag F] [--pairs N] [--reps N] [--seed N] [--quick] [--json]\n"
	       "       bench-mwpm --chunk [--reps N] [--seed N] [--quick] [--json]\n"
	       "  --pages N   managed pages (default: 1000, 8000, 32000 and 60000 in turn)\n"
	       "  --frag F    fraction of managed pages in use, 0 <= F < 1 (default: 0.01, 0.5, 0.9)\n"
	       "  --pairs N   timed alloc/free pairs per repetition (default 200000; --quick 50000)\n"
	       "  --reps N    repetitions, the median is reported (default 5; --quick 3)\n"
	       "  --seed N    seed of the layout and the request sizes (default 1)\n"
	       "  --json      print only the JSON line\n"
	       "  --chunk     measure growth with the compiled-in minimum chunk instead\n",
	       stdout);
}

int
main (int argc, char **argv)
{
	static const char *const known[] = { "--pages=", "--frag=", "--pairs=", "--reps=", "--seed=", "--quick",
					     "--json", "--chunk", "--help", "-h", NULL };
	test_args_check (argc, argv, known, "see the top of tests/bench/bench-mwpm.c");
	if (test_arg_flag (argc, argv, "--help") || test_arg_flag (argc, argv, "-h")) {
		usage ();
		return 0;
	}
	size_t table = mwpm_table_pages ();
	Options o = {
		.seed = test_arg_u64_in (argc, argv, "--seed", 1, 0, UINT64_MAX),
		.pairs = test_arg_u64_in (argc, argv, "--pairs", 0, 1, (uint64_t)1 << 40),
		.reps = (unsigned)test_arg_u64_in (argc, argv, "--reps", 0, 1, MAX_REPS),
		.pages = (size_t)test_arg_u64_in (argc, argv, "--pages", 0, 2 * TAIL_PAGES, table - table / 16),
		.frag = test_arg_fraction (argc, argv, "--frag", -1, 0, 1),
		.quick = test_arg_flag (argc, argv, "--quick"),
		.json_only = test_arg_flag (argc, argv, "--json"),
		.chunk_mode = test_arg_flag (argc, argv, "--chunk"),
	};
	if (!o.pairs)
		o.pairs = o.quick ? 50000 : 200000;
	if (!o.reps)
		o.reps = o.quick ? 3 : 5;
#if MONO_HAVE_ASAN || MONO_HAVE_TSAN
	fputs ("bench-mwpm: warning: built with a sanitizer; the times are not mwpm's\n", stderr);
#endif
#ifndef __OPTIMIZE__
	fputs ("bench-mwpm: warning: built without optimisation; use --buildtype=release\n", stderr);
#endif
	mwpm_platform_host_reset (0, 0);
	mwpm_reset_for_tests ();
	if (o.chunk_mode)
		run_chunk (&o);
	else
		run_latency (&o);
	return 0;
}

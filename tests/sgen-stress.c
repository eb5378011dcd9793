/*
 * sgen-stress: runs GC workloads on sgen, verifies them, and reports what the memory layers did.
 *
 *   sgen-stress [--mono-wasm-mmap=on|off] [--seed N] [--scale N] [--threads N] [--json]
 *               [--workloads LIST] [--memory-trace FILE] [--mwpm-dump FILE] [--sgen-... options]
 *
 * --workloads: comma-separated names (sgen-stress-work.c) or 'all' (every one but the two startups and growth-heavy).
 * --memory-trace FILE: CSV time series, one row per sample:
 *     time_ms,phase,linear_memory,os_bytes_live,mwpm_in_use,mwpm_free_zeroed,mwpm_free_dirty,mwpm_foreign
 *   (the mwpm columns are pages, empty when mwpm is not the active backend).
 * --mwpm-dump FILE: one page-table snapshot per workload and at the end (tools/pagemap).
 * --json: one JSON object on the last line of stdout (fields in docs/sgen.md).
 * Exit status: 0 all verified; 1 a verification or checksum error; 2 bad options; 3 out of memory.
 */
#include "sgen-stress.h"

#include "mono-config.h"
#include "mono-mmap.h"
#include "mono-options.h"

#include "mono-wasm-pagemgr.h"
#include "usage.h"
#include "test-clock.h"
#if !MONO_CONFIG_WASM
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#endif

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

static int
check_workloads (const MonoOptionDef *def, MonoOptionValue v, char *err, size_t errlen);

static const MonoOptionDef stress_options[] = {
	{ .name = "seed", .type = MONO_OPTION_INT, .default_value = "1",
	  .help = "seed of every random choice", .max = INT64_MAX },
	{ .name = "scale", .type = MONO_OPTION_INT, .default_value = "1",
	  .help = "multiplies the work of every workload", .min = 1, .max = 1000 },
	{ .name = "threads", .type = MONO_OPTION_INT, .default_value = "0",
	  .help = "extra threads working the mmap layer while the GC runs (pthreads builds)", .max = 16 },
	{ .name = "json", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "print one JSON object with the results at the end" },
	{ .name = "workloads", .type = MONO_OPTION_STRING, .default_value = "all",
	  .help = "comma-separated: gcbench, churn, large, fdr, fdr-reverse, startup, startup-heavy, growth-heavy; 'all' = "
		  "all but the two startups and growth-heavy",
	  .check = check_workloads },
	{ .name = "memory-trace", .type = MONO_OPTION_STRING, .default_value = "",
	  .help = "write a CSV time series of memory use to this file" },
	{ .name = "mwpm-dump", .type = MONO_OPTION_STRING, .default_value = "",
	  .help = "write page-table snapshots (JSON lines) to this file" },
	{ .name = "corrupt-object", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "test only: damage one object before the final check (the run must then fail)" },
	{ .name = "count-faults", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "native, --mono-wasm-mmap=off: compare the run's page faults with the pages the GC touched, "
		  "and fail when memory was read before it was first written" },
	{ .name = "read-fresh", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "test only: read a fresh 4 MiB array before writing it (--count-faults must then fail)" },
	{ .name = "read-cards", .type = MONO_OPTION_BOOL, .default_value = "off",
	  .help = "test only: the GC reads the cards of new memory before writing them (--count-faults must then fail)" },
	{ .name = "card-bits", .type = MONO_OPTION_INT, .default_value = "23",
	  .help = "test only: index the card table by this many bits of the card number (fewer: shared cards)",
	  .min = 1, .max = 23 },
};

static bool selected[16];

static int
select_workloads (const char *list, char *err, size_t errlen)
{
	memset (selected, 0, sizeof (selected));
	if (!strcmp (list, "all")) {
		for (int i = 0; i < stress_workload_count; i++)
			selected[i] = stress_workloads[i].in_all;
		return 0;
	}
	const char *p = list;
	while (*p) {
		size_t len = strcspn (p, ",");
		int found = -1;
		for (int i = 0; i < stress_workload_count; i++) {
			if (strlen (stress_workloads[i].name) == len && !strncmp (stress_workloads[i].name, p, len))
				found = i;
		}
		if (found < 0) {
			snprintf (err, errlen, "unknown workload '%.*s' (known: all, gcbench, churn, large, fdr, fdr-reverse, "
				  "startup, startup-heavy, growth-heavy)", (int) len, p);
			return -1;
		}
		selected[found] = true;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
check_workloads (const MonoOptionDef *def, MonoOptionValue v, char *err, size_t errlen)
{
	(void) def;
	return select_workloads (v.s, err, errlen);
}

/*
 * Opens an output file given on the command line. Under node, emscripten's stdio writes to an
 * in-memory file system: the host's root is mounted at /host (NODEFS) and the path resolved
 * against node's working directory, so the file lands where the user asked. In a browser the
 * file stays in memory (the page reads its results through exported functions instead).
 */
static FILE *
open_output (const char *path)
{
#ifdef __EMSCRIPTEN__
	char host[4096];
	int mapped = EM_ASM_INT ({
		if (typeof process !== 'object' || typeof NODEFS === 'undefined')
			return 0;
		try {
			if (!FS.analyzePath('/host').exists) {
				FS.mkdir('/host');
				FS.mount(NODEFS, { root: '/' }, '/host');
			}
			stringToUTF8('/host' + require('path').resolve(UTF8ToString($0)), $1, $2);
			return 1;
		} catch (e) {
			return 0;
		}
	}, path, host, (int) sizeof (host));
	if (mapped)
		return fopen (host, "w");
#endif
	return fopen (path, "w");
}

/* ---- samples, errors ---- */

static struct {
	double t0, t_run_end;   /* before sgen_init; after the workloads (before the final checks) */
	double usage_ms;        /* spent reading the process's usage: not part of the run's time */
	FILE *trace;
	FILE *dump;
	const char *phase;
	uint64_t ticks;
	uint64_t linear_peak;
	int64_t resident_end;   /* resident bytes of the linear memory after the workloads */
	int64_t resident_peak;  /* the most of them at the end of any workload, or at the end */
	uint64_t errors;
} run;

static bool
mwpm_active (void)
{
	return mono_mmap_caps ()->backend == MONO_MMAP_BACKEND_MWPM;
}

static void
write_sample (void)
{
	SgenStats s;
	sgen_get_stats (&s);
	uint64_t linear = mono_mmap_linear_memory_bytes ();
	fprintf (run.trace, "%.3f,%s,%llu,%llu", test_now_ms () - run.t0, run.phase, (unsigned long long) linear,
		 (unsigned long long) s.os_bytes_live);
	if (mwpm_active ()) {
		MwpmStats m;
		mwpm_get_stats (&m);
		fprintf (run.trace, ",%zu,%zu,%zu,%zu\n", m.pages_in_use, m.pages_free_zeroed, m.pages_free_dirty,
			 m.pages_external);
		return;
	}
	fputs (",,,,\n", run.trace);
}

/* Reads the resident bytes of the linear memory (about a millisecond under node, so only at
 * the end of each workload and of the run, and kept out of run_ms). */
static int64_t
sample_resident (void)
{
	double t = test_now_ms ();
	int64_t r = usage_resident_linear ();
	if (r > run.resident_peak)
		run.resident_peak = r;
	run.usage_ms += test_now_ms () - t;
	return r;
}

void
stress_sample (const char *phase)
{
	/* Periodic calls (phase NULL) sample one time in 256: cheap enough for inner loops. */
	if (!phase && ++run.ticks % 256)
		return;
	if (phase)
		run.phase = phase;
	uint64_t linear = mono_mmap_linear_memory_bytes ();
	if (linear > run.linear_peak)
		run.linear_peak = linear;
	if (run.trace)
		write_sample ();
}

void
stress_error (const char *fmt, ...)
{
	va_list ap;
	run.errors++;
	if (run.errors > 20)
		return;
	fputs ("sgen-stress: ", stderr);
	va_start (ap, fmt);
	vfprintf (stderr, fmt, ap);
	va_end (ap);
	fputc ('\n', stderr);
}

void
stress_oom (const char *what)
{
	fflush (stdout);
	fprintf (stderr, "sgen-stress: cannot allocate %s: %s\n", what, sgen_last_error ());
	exit (3);
}

static void
dump_pages (const char *label)
{
	if (run.dump && mwpm_active ())
		mwpm_dump (run.dump, label);
}

/* mwpm's stats after the final full collection, live data still in place. */
static char mwpm_json[2048];

static void
snapshot_mwpm (void)
{
	if (mwpm_active ()) {
		MwpmStats m;
		mwpm_get_stats (&m);
		mwpm_stats_to_json (&m, mwpm_json, sizeof (mwpm_json));
	}
}

/* ---- damage one object (test only) ---- */

static void
corrupt_first_bytes (SgenObject *obj, void *ctx)
{
	bool *done = ctx;
	if (!*done && sgen_obj_vtable (obj) == &stress_bytes_vt && obj->length > 0) {
		sgen_array_bytes (obj)[0] ^= 0x5a;
		*done = true;
	}
}

/* ---- report ---- */

/* The program break at the end (wasm: linear memory in use by sbrk callers; 0 natively). */
static uint64_t
program_break (void)
{
#if MONO_CONFIG_WASM
	return (uint64_t) (uintptr_t) sbrk (0);
#else
	return 0;
#endif
}

static void
print_json (uint64_t seed, int64_t scale, int threads, double elapsed, uint64_t digest, uint64_t objects,
	    uint64_t live_final, const StressThreadReport *reports)
{
	SgenStats s;
	sgen_get_stats (&s);
	MonoMmapStats ms;
	mono_mmap_get_stats (&ms);
	printf ("{\"mmap\":\"%s\",\"seed\":%llu,\"scale\":%lld,\"threads\":%d,\"workloads\":\"%s\"",
		mono_mmap_caps ()->name, (unsigned long long) seed, (long long) scale, threads,
		mono_option_string ("workloads"));
	printf (",\"collections_minor\":%llu,\"collections_major\":%llu,\"objects_allocated\":%llu",
		(unsigned long long) s.collections_minor, (unsigned long long) s.collections_major,
		(unsigned long long) s.objects_allocated);
	printf (",\"bytes_allocated\":%llu,\"bytes_promoted\":%llu", (unsigned long long) s.bytes_allocated,
		(unsigned long long) s.bytes_promoted);
	printf (",\"verify_errors\":%llu,\"checksum_errors\":%llu,\"verify_runs\":%llu",
		(unsigned long long) (s.verify_errors + run.errors), (unsigned long long) run.errors,
		(unsigned long long) s.verify_runs);
	printf (",\"os_bytes_allocated\":%llu,\"os_bytes_freed\":%llu,\"os_bytes_peak\":%llu,\"os_bytes_live\":%llu",
		(unsigned long long) s.os_bytes_allocated, (unsigned long long) s.os_bytes_freed,
		(unsigned long long) s.os_bytes_peak, (unsigned long long) s.os_bytes_live);
	printf (",\"linear_memory_peak\":%llu,\"linear_memory_final\":%llu,\"bytes_zeroed_by_page_layer\":%llu",
		(unsigned long long) run.linear_peak, (unsigned long long) mono_mmap_linear_memory_bytes (),
		(unsigned long long) ms.bytes_zeroed);
	printf (",\"major_blocks_in_use\":%zu,\"major_blocks_empty\":%zu,\"major_blocks_released\":%zu",
		s.major_blocks_in_use, s.major_blocks_empty, s.major_blocks_released);
	printf (",\"los_objects_freed\":%llu,\"grow_hook_requests\":%llu,\"grow_hook_collections\":%llu",
		(unsigned long long) s.los_objects_freed, (unsigned long long) s.grow_hook_requests,
		(unsigned long long) s.grow_hook_collections);
	printf (",\"result_objects\":%llu,\"result_digest\":\"%016llx\",\"live_bytes_final\":%llu,\"elapsed_ms\":%.1f",
		(unsigned long long) objects, (unsigned long long) digest, (unsigned long long) live_final, elapsed);
	/* run_ms: GC init and the workloads, without the final checks (a runtime's start is that);
	 * bytes_mapped: what the GC asked the page layer for, in total. */
	printf (",\"run_ms\":%.1f,\"bytes_mapped\":%llu,\"card_bytes_scanned\":%llu", run.t_run_end - run.t0,
		(unsigned long long) ms.bytes_allocated, (unsigned long long) s.card_bytes_scanned);
	printf (",\"break_final\":%llu", (unsigned long long) program_break ());
	/* What the process holds (tests/usage.h; -1 where it cannot be known): the linear memory's
	 * resident bytes after the workloads and at the most, after the final checks, the process's
	 * peak resident set, and the memory.grow calls that grew the memory. */
	int64_t resident_final = sample_resident ();
	printf (",\"resident_linear_end\":%lld,\"resident_linear_peak\":%lld,\"resident_linear_final\":%lld",
		(long long) run.resident_end, (long long) run.resident_peak, (long long) resident_final);
	printf (",\"process_peak_rss\":%lld,\"memory_grow_calls\":%lld", (long long) usage_peak_rss (),
		(long long) usage_memory_grow_calls ());
	if (threads) {
		printf (",\"thread_reports\":[");
		for (int i = 0; i < threads; i++)
			printf ("%s{\"ops\":%llu,\"ops_while_gc\":%llu,\"allocs\":%llu,\"partial_frees\":%llu,\"errors\":%llu}",
				i ? "," : "", (unsigned long long) reports[i].ops,
				(unsigned long long) reports[i].ops_while_gc, (unsigned long long) reports[i].allocs,
				(unsigned long long) reports[i].partial_frees, (unsigned long long) reports[i].errors);
		printf ("]");
	}
	if (mwpm_json[0])
		printf (",\"mwpm\":%s", mwpm_json);
	printf ("}\n");
}

static void
print_text (double elapsed, uint64_t digest, uint64_t objects)
{
	SgenStats s;
	sgen_get_stats (&s);
	MonoMmapStats ms;
	mono_mmap_get_stats (&ms);
	printf ("sgen-stress: mmap %s, %llu minor and %llu major collections, %llu objects allocated\n",
		mono_mmap_caps ()->name, (unsigned long long) s.collections_minor,
		(unsigned long long) s.collections_major, (unsigned long long) s.objects_allocated);
	printf ("  OS bytes: %llu allocated, %llu freed, peak %llu; linear memory peak %llu, final %llu; "
		"zeroed by the page layer %llu\n",
		(unsigned long long) s.os_bytes_allocated, (unsigned long long) s.os_bytes_freed,
		(unsigned long long) s.os_bytes_peak, (unsigned long long) run.linear_peak,
		(unsigned long long) mono_mmap_linear_memory_bytes (), (unsigned long long) ms.bytes_zeroed);
	printf ("  verified: %llu heap problems, %llu checksum problems; final graph %llu objects, digest %016llx; %.1f ms\n",
		(unsigned long long) s.verify_errors, (unsigned long long) run.errors, (unsigned long long) objects,
		(unsigned long long) digest, elapsed);
}

/* What the command line asked for. */
typedef struct {
	uint64_t seed;
	int64_t scale;
	int threads;
	bool json;
	bool corrupt;
	bool count_faults;
	bool read_fresh;
	bool read_cards;
} StressConfig;

/* Options, workloads and output files: 0, 1 (--help-options printed) or 2 (an error). */
static int
configure (int *argc, char **argv, StressConfig *cfg)
{
	char err[256];
	sgen_register_options ();
	if (mono_options_register (stress_options, sizeof (stress_options) / sizeof (stress_options[0])) != 0) {
		fprintf (stderr, "sgen-stress: cannot register the options\n");
		return 2;
	}
	int rc = mono_options_startup (argc, argv);
	if (rc != 0)
		return rc;
	if (*argc > 1) {
		fprintf (stderr, "sgen-stress: unexpected argument '%s' (see --help-options)\n", argv[1]);
		return 2;
	}
	*cfg = (StressConfig) { .seed = (uint64_t) mono_option_int ("seed"), .scale = mono_option_int ("scale"),
				 .threads = (int) mono_option_int ("threads"), .json = mono_option_bool ("json"),
				 .corrupt = mono_option_bool ("corrupt-object"),
				 .count_faults = mono_option_bool ("count-faults"),
				 .read_fresh = mono_option_bool ("read-fresh"),
				 .read_cards = mono_option_bool ("read-cards") };
	if (select_workloads (mono_option_string ("workloads"), err, sizeof (err)) != 0) {
		fprintf (stderr, "sgen-stress: --workloads: %s\n", err);
		return 2;
	}
	const char *trace = mono_option_string ("memory-trace");
	const char *dump = mono_option_string ("mwpm-dump");
	if ((*trace && !(run.trace = open_output (trace))) || (*dump && !(run.dump = open_output (dump)))) {
		fprintf (stderr, "sgen-stress: cannot write --%s %s\n", *trace && !run.trace ? "memory-trace" : "mwpm-dump",
			 *trace && !run.trace ? trace : dump);
		return 2;
	}
	if (run.trace)
		fputs ("time_ms,phase,linear_memory,os_bytes_live,mwpm_in_use,mwpm_free_zeroed,mwpm_free_dirty,mwpm_foreign\n",
		       run.trace);
	return 0;
}

/* The mmap-layer threads, the GC and its roots: 0, or 2 with the error printed. */
static int
start (const StressConfig *cfg)
{
	char err[256];
	run.t0 = test_now_ms ();
	run.phase = "start";
	/* The threads start first: single-threaded builds refuse --threads before any work. */
	sgen_set_card_bits_for_tests ((unsigned) mono_option_int ("card-bits"));
	if (stress_threads_start (cfg->threads, cfg->seed, err, sizeof (err)) != 0 ||
	    stress_types_init (err, sizeof (err)) != 0 || sgen_init (err, sizeof (err)) != 0) {
		fprintf (stderr, "sgen-stress: %s\n", err);
		return 2;
	}
	if (sgen_register_root (stress_stack, STRESS_STACK, "shadow stack") != 0 ||
	    sgen_register_root (stress_keep, sizeof (stress_keep) / sizeof (stress_keep[0]), "kept data") != 0) {
		fprintf (stderr, "sgen-stress: cannot register roots\n");
		return 2;
	}
	stress_sample ("init");
	if (!cfg->json)
		printf ("sgen-stress: seed %llu, scale %lld, %d extra threads, mmap %s\n", (unsigned long long) cfg->seed,
			(long long) cfg->scale, cfg->threads, mono_mmap_caps ()->name);
	return 0;
}

static void
run_workloads (const StressConfig *cfg)
{
	StressParams params = { .seed = cfg->seed, .scale = cfg->scale, .corrupt = cfg->corrupt };
	stress_threads_gc_phase (true);
	for (int i = 0; i < stress_workload_count; i++) {
		if (!selected[i])
			continue;
		TestRng rng = { cfg->seed * 0x100000001b3ull + (uint64_t) i };
		double t = test_now_ms ();
		stress_workloads[i].run (&params, &rng);
		stress_sample (stress_workloads[i].name);
		sample_resident ();
		dump_pages (stress_workloads[i].name);
		if (!cfg->json)
			printf ("  %-12s %8.1f ms\n", stress_workloads[i].name, test_now_ms () - t);
	}
	stress_threads_gc_phase (false);
}

/* The final check: a full collection, every reachable object, the verifier. Returns the digest
 * of the object graph, with its object count and the live bytes after the collection. */
static uint64_t
check_final (const StressConfig *cfg, uint64_t *objects, uint64_t *live_final)
{
	sgen_collect (SGEN_COLLECT_MAJOR);
	if (cfg->corrupt) {
		bool done = false;
		sgen_walk_reachable (corrupt_first_bytes, &done);
		if (!done)
			stress_error ("--corrupt-object found no byte array to damage");
	}
	uint64_t digest = stress_check_reachable (objects);
	SgenStats at_end;
	sgen_get_stats (&at_end);
	*live_final = at_end.live_bytes_after_major;
	sgen_verify_heap ("final");
	stress_sample ("final");
	dump_pages ("final");
	snapshot_mwpm ();
	return digest;
}

/* Dropping everything must bring the heap back to its baseline: no object left. */
static void
check_dropped (void)
{
	memset (stress_keep, 0, sizeof (stress_keep));
	sgen_collect (SGEN_COLLECT_MAJOR);
	SgenStats dropped;
	sgen_get_stats (&dropped);
	if (dropped.live_bytes_after_major || dropped.major_blocks_in_use || dropped.los_objects)
		stress_error ("after dropping everything %llu bytes, %zu blocks and %zu large objects stay live",
			      (unsigned long long) dropped.live_bytes_after_major, dropped.major_blocks_in_use,
			      dropped.los_objects);
	stress_sample ("dropped");
	dump_pages ("dropped");
}

/*
 * First touch (--count-faults, native): a read of a fresh page before its first write maps the
 * zero page and then faults again on the write; a write first faults once. So over the run the
 * minor page faults must be about the pages the GC's mappings have had resident (mincore, in
 * the mmap layer), plus a small rest (this program's stack and stdio). More than that means
 * memory was read before it was written. Transparent huge pages are off for the process, so a
 * fault is one 4 KiB page.
 */
typedef struct {
	long faults0;
} FaultCount;

static long
minor_faults (void)
{
#if !MONO_CONFIG_WASM
	struct rusage ru;
	getrusage (RUSAGE_SELF, &ru);
	return ru.ru_minflt;
#else
	return 0;
#endif
}

/*
 * The card table's share: the faults taken while the GC writes the cards of memory new to the
 * heap (sgen_observe_card_touch_for_tests), against the card table's pages resident at the
 * end. A card page written first faults once; read first, twice. A card page made resident by
 * the write barrier instead (a mark) faults outside the count, so the count never exceeds the
 * pages. The run's own total cannot tell: the card table is a few dozen pages of tens of
 * thousands, and the rest of the run has more slack than that.
 */
static struct {
	long before;
	long faults;
} card_touch;

static void
count_card_faults (bool after)
{
#if !MONO_CONFIG_WASM
	struct rusage ru;
	getrusage (RUSAGE_SELF, &ru);   /* --count-faults runs no other thread */
	if (after)
		card_touch.faults += ru.ru_minflt - card_touch.before;
	else
		card_touch.before = ru.ru_minflt;
#else
	(void) after;
#endif
}

/* Pages of the card table the kernel holds: every card page that was touched. */
static long
card_pages_resident (void)
{
#if !MONO_CONFIG_WASM
	size_t len;
	const void *cards = sgen_card_table_for_tests (&len);
	size_t page = (size_t) sysconf (_SC_PAGESIZE);
	static unsigned char vec[(1u << 23) / 4096];
	if (!cards || len / page > sizeof vec || mincore ((void *) cards, len, vec) != 0)
		return -1;
	long n = 0;
	for (size_t i = 0; i < len / page; i++)
		n += vec[i] & 1;
	return n;
#else
	return -1;
#endif
}

/*
 * Whether a read of fresh anonymous memory maps the shared zero page, so that the first write
 * afterwards faults again. Most kernels do; a kernel without the zero page maps a private page
 * on the read, and a read before the first write then costs no extra fault (the page is
 * resident either way). Probed on 64 fresh pages: read each, then write each.
 */
static bool
read_then_write_faults_twice (void)
{
#if !MONO_CONFIG_WASM
	size_t page = (size_t) sysconf (_SC_PAGESIZE), len = 64 * page;
	volatile uint8_t *p = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == (void *) MAP_FAILED)
		return true;
	uint8_t any = 0;
	for (size_t i = 0; i < len; i += page)
		any |= p[i];
	long before = minor_faults ();
	for (size_t i = 0; i < len; i += page)
		p[i] = (uint8_t) (any + 1);
	long again = minor_faults () - before;
	munmap ((void *) p, len);
	return again >= 32;
#else
	return true;
#endif
}

/* 0 to go on, 2 for a usage error, 77 (a skip) when a --read-* check has nothing to find. */
static int
faults_begin (const StressConfig *cfg, FaultCount *fc)
{
	if (!cfg->count_faults)
		return 0;
#if !MONO_CONFIG_WASM
	prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0);
#endif
	if (mono_mmap_track_touched_for_tests () != 0) {
		fprintf (stderr, "sgen-stress: --count-faults needs a native build and --mono-wasm-mmap=off\n");
		return 2;
	}
	if ((cfg->read_fresh || cfg->read_cards) && !read_then_write_faults_twice ()) {
		printf ("sgen-stress: skipped: this kernel maps a private page when fresh memory is read (no shared "
			"zero page), so a read before the first write costs no extra fault and --read-fresh / "
			"--read-cards have nothing to show\n");
		return 77;
	}
	sgen_observe_card_touch_for_tests (count_card_faults, cfg->read_cards);
	fc->faults0 = minor_faults ();
	return 0;
}

/* --read-fresh: the defect --count-faults exists to catch, a large object's fresh pages read
 * (the zero page mapped) and then written (each copied): 1024 faults too many. */
static void
read_fresh_array (void)
{
	size_t len = 4u << 20;
	SgenObject *a = sgen_alloc_array (&stress_bytes_vt, len);
	if (!a)
		stress_error ("--read-fresh: cannot allocate %zu bytes", len);
	volatile uint8_t *b = sgen_array_bytes (a);
	uint8_t any = 0;
	for (size_t i = 0; i < len; i += 4096)
		any |= b[i];
	for (size_t i = 0; i < len; i += 4096)
		b[i] = (uint8_t) (any + 1);
}

/* Allowed beyond one fault per touched page: 2% and 256 pages (the stack, stdio, the GC's
 * own statics). */
static void
faults_end (const StressConfig *cfg, const FaultCount *fc)
{
	if (!cfg->count_faults)
		return;
	long faults = minor_faults () - fc->faults0;
	uint64_t touched = mono_mmap_touched_pages_for_tests ();
	printf ("sgen-stress: first touch: %ld minor page faults, %llu pages of GC memory touched\n", faults,
		(unsigned long long) touched);
	if ((uint64_t) faults > touched + touched / 50 + 256)
		stress_error ("%ld page faults for %llu touched pages: memory was read before it was first written", faults,
			      (unsigned long long) touched);
	long card_pages = card_pages_resident ();
	printf ("sgen-stress: first touch: %ld faults writing cards of new memory, %ld card table pages resident\n",
		card_touch.faults, card_pages);
	/* One fault per card page, and a little room: a page of the stack the count itself uses. */
	if (card_pages < 0 || card_touch.faults > card_pages + card_pages / 8 + 2)
		stress_error ("%ld page faults writing cards for %ld card table pages: cards were read before they were "
			      "first written", card_touch.faults, card_pages);
}

int
main (int argc, char **argv)
{
	StressConfig cfg;
	FaultCount fc = { 0 };
	int rc = configure (&argc, argv, &cfg);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if ((rc = faults_begin (&cfg, &fc)) != 0)
		return rc;
	if (start (&cfg) != 0)
		return 2;
	if (cfg.read_fresh)
		read_fresh_array ();
	run.resident_peak = -1;
	run_workloads (&cfg);
	run.t_run_end = test_now_ms () - run.usage_ms;
	run.resident_end = sample_resident ();
	faults_end (&cfg, &fc);
	uint64_t objects = 0, live_final = 0;
	uint64_t digest = check_final (&cfg, &objects, &live_final);
	check_dropped ();
	StressThreadReport reports[16];
	stress_threads_stop (reports);
	for (int i = 0; i < cfg.threads; i++) {
		if (reports[i].errors)
			stress_error ("mmap thread %d found %llu problems", i, (unsigned long long) reports[i].errors);
	}
	double elapsed = test_now_ms () - run.t0;
	if (cfg.json)
		print_json (cfg.seed, cfg.scale, cfg.threads, elapsed, digest, objects, live_final, reports);
	else
		print_text (elapsed, digest, objects);
	SgenStats s;
	sgen_get_stats (&s);
	if (run.trace)
		fclose (run.trace);
	if (run.dump)
		fclose (run.dump);
	sgen_shutdown ();
	return (s.verify_errors || run.errors) ? 1 : 0;
}

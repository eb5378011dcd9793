/*
 * bench-pagelayer.c: the page layer alone, as a GC starts: map a 4 MiB nursery and 120 batches
 * of 512 KiB (aligned to the 16 KiB major block, as sgen asks), touching each 16 KiB block once,
 * through the mmap layer with the backend chosen by --mono-wasm-mmap. Timed inside the process.
 *
 *   bench-pagelayer [--mono-wasm-mmap=on|off] [--batches N]
 *
 * Prints one JSON object: {"bench":"pagelayer","mmap":...,"elapsed_ms":...,"bytes_zeroed":...,
 * "linear_memory":...}. ./tools/bench runs it with mwpm on and off in alternation.
 */
#include "mono-mmap.h"
#include "mono-options.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BLOCK (16u << 10)

static const MonoOptionDef bench_options[] = {
	{ .name = "batches", .type = MONO_OPTION_INT, .default_value = "120",
	  .help = "512 KiB batches to map", .min = 1, .max = 4000 },
};

static double
now_ms (void)
{
	struct timespec ts;
	clock_gettime (CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
touch (volatile uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len; off += BLOCK)
		p[off] = 1;
}

int
main (int argc, char **argv)
{
	mono_options_register (bench_options, 1);
	int rc = mono_options_startup (&argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	int batches = (int)mono_option_int ("batches");
	double t0 = now_ms ();
	uint8_t *nursery = mono_valloc_aligned (4u << 20, 4u << 20, 0, MONO_MEM_ACCOUNT_NURSERY);
	if (!nursery) {
		fprintf (stderr, "bench-pagelayer: nursery: out of memory\n");
		return 1;
	}
	touch (nursery, 4u << 20);
	for (int i = 0; i < batches; i++) {
		uint8_t *b = mono_valloc_aligned (512u << 10, BLOCK, 0, MONO_MEM_ACCOUNT_MAJOR);
		if (!b) {
			fprintf (stderr, "bench-pagelayer: batch %d: out of memory\n", i);
			return 1;
		}
		touch (b, 512u << 10);
	}
	double elapsed = now_ms () - t0;
	MonoMmapStats st;
	mono_mmap_get_stats (&st);
	printf ("{\"bench\":\"pagelayer\",\"mmap\":\"%s\",\"batches\":%d,\"elapsed_ms\":%.3f,\"bytes_zeroed\":%" PRIu64
	        ",\"bytes_requested\":%" PRIu64 ",\"linear_memory\":%" PRIu64 "}\n",
	        mono_mmap_caps ()->name, batches, elapsed, st.bytes_zeroed, st.bytes_allocated, mono_mmap_linear_memory_bytes ());
	return mono_mmap_check () == 0 ? 0 : 1;
}

/*
 * bench-pagelayer.c: the page layer alone, mapping what sgen maps as a runtime starts (mono's
 * memory map on wasm, docs/sgen.md): the 8 MiB card table (a few cards written), the 4 MiB
 * nursery aligned to its size (every 4 KiB page written), and N major blocks of max(16 KiB,
 * page) in batches of the capability record's pieces_per_mapping (32; 1 on the malloc
 * backend), each block written once. Through the mmap layer with the backend chosen by
 * --mono-wasm-mmap; timed inside the process.
 *
 *   bench-pagelayer [--mono-wasm-mmap=on|off|malloc] [--blocks N]
 *
 * Prints one JSON object: {"bench":"pagelayer","mmap":...,"elapsed_ms":...,"bytes_zeroed":...,
 * "bytes_requested":...,"linear_memory":...}. ./tools/bench runs it for every backend in turn.
 */
#include "mono-mmap.h"
#include "mono-options.h"
#include "../test-clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CARD_TABLE (8u << 20)
#define NURSERY (4u << 20)
#define TOUCH 4096u

static const MonoOptionDef bench_options[] = {
	{ .name = "blocks", .type = MONO_OPTION_INT, .default_value = "256",
	  .help = "major blocks to map", .min = 1, .max = 16384 },
};

static void
touch (volatile uint8_t *p, size_t len, size_t step)
{
	for (size_t off = 0; off < len; off += step)
		p[off] = 1;
}

static void *
map (size_t len, size_t align, MonoMemAccountType type, const char *what)
{
	void *p = align ? mono_valloc_aligned (len, align, 0, type) : mono_valloc (NULL, len, 0, type);
	if (!p) {
		fprintf (stderr, "bench-pagelayer: %s: out of memory\n", what);
		exit (1);
	}
	return p;
}

/* The major heap: `blocks` blocks, pieces_per_mapping to a mapping, each written once. */
static void
map_blocks (int blocks)
{
	const MonoMmapCaps *caps = mono_mmap_caps ();
	size_t block = caps->page_size > (16u << 10) ? caps->page_size : (16u << 10);
	int per = caps->pieces_per_mapping ? (int)caps->pieces_per_mapping : 1;
	for (int done = 0; done < blocks; done += per) {
		int n = blocks - done < per ? blocks - done : per;
		touch (map ((size_t)n * block, block, MONO_MEM_ACCOUNT_MAJOR, "a batch of blocks"), (size_t)n * block, block);
	}
}

int
main (int argc, char **argv)
{
	mono_options_register (bench_options, 1);
	int rc = mono_options_startup (&argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	int blocks = (int)mono_option_int ("blocks");
	double t0 = test_now_ms ();
	uint8_t *cards = map (CARD_TABLE, 0, MONO_MEM_ACCOUNT_INTERNAL, "the card table");
	touch (cards, CARD_TABLE, 256u << 10);
	touch (map (NURSERY, NURSERY, MONO_MEM_ACCOUNT_NURSERY, "the nursery"), NURSERY, TOUCH);
	map_blocks (blocks);
	double elapsed = test_now_ms () - t0;
	MonoMmapStats st;
	mono_mmap_get_stats (&st);
	printf ("{\"bench\":\"pagelayer\",\"mmap\":\"%s\",\"blocks\":%d,\"elapsed_ms\":%.3f,\"bytes_zeroed\":%" PRIu64
	        ",\"bytes_requested\":%" PRIu64 ",\"linear_memory\":%" PRIu64 "}\n",
	        mono_mmap_caps ()->name, blocks, elapsed, st.bytes_zeroed, st.bytes_allocated, mono_mmap_linear_memory_bytes ());
	return mono_mmap_check () == 0 ? 0 : 1;
}

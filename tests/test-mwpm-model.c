/*
 * test-mwpm-model.c: the seeded model-based random test of mwpm (tests/mwpm-model.c).
 *   test-mwpm-model [--seed N] [--ops N] [--check-every N] [--long]
 * The default run makes 1,000,000 operations in four seeded runs, one of them with the
 * invariant check after every step and one (host only) with a small memory that runs out.
 * --long makes 20,000,000.
 */
#include "mono-config.h"
#include "mwpm-model.h"
#include "tap.h"

#include <inttypes.h>

static int
run (const char *what, uint64_t seed, uint64_t ops, uint32_t check_every, uint64_t memory_max)
{
	ModelSource src;
	ModelConfig cfg = { .ops = ops, .seed = seed, .check_every = check_every, .memory_max = memory_max };
	ModelCounts k;
	model_source_rng (&src, seed);
	tap_diag ("%s: seed %" PRIu64 ", %" PRIu64 " operations, invariants every %u", what, seed, ops, check_every);
	int failed = model_run (&src, &cfg, &k);
	tap_diag ("  allocs %" PRIu64 " (ENOMEM %" PRIu64 ", injected sbrk failures %" PRIu64 "), frees %" PRIu64
		  ", partial frees %" PRIu64 ", foreign sbrk %" PRIu64 ", rejected/stray calls %" PRIu64
		  ", invariant checks %" PRIu64 ", bytes zeroed %" PRIu64,
		  k.allocs, k.alloc_enomem, k.injected_failures, k.frees, k.partial_frees, k.foreign, k.bad_calls,
		  k.invariant_checks, k.bytes_zeroed);
	return failed;
}

static uint64_t seed, ops;
static uint32_t check_every;

static int case_main (void) { return run ("main", seed, ops * 6 / 10, check_every, 0); }
static int case_every_step (void) { return run ("every step", seed + 1, ops / 10, 1, 0); }
static int case_other_seed (void) { return run ("second seed", seed + 2, ops * 2 / 10, check_every, 0); }
static int
case_small_memory (void)
{
#if MONO_CONFIG_WASM
	return run ("third seed", seed + 3, ops / 10, check_every, 0);
#else
	return run ("64 MiB memory", seed + 3, ops / 10, check_every, 64u << 20);
#endif
}

int
main (int argc, char **argv)
{
	int long_run = 0;
	for (int i = 1; i < argc; i++)
		long_run |= !strcmp (argv[i], "--long");
	seed = test_arg_u64 (argc, argv, "--seed", 20261125);
	ops = test_arg_u64 (argc, argv, "--ops", long_run ? 20000000 : 1000000);
	check_every = (uint32_t)test_arg_u64 (argc, argv, "--check-every", 16);
	tap_case ("model: 60% of the operations", case_main);
	tap_case ("model: 10% with invariants after every step", case_every_step);
	tap_case ("model: 20% with a second seed", case_other_seed);
	tap_case ("model: 10% with a small memory (host) / a third seed (wasm)", case_small_memory);
	return tap_done ();
}

/*
 * test-mwpm-model.c: the seeded model-based random test of mwpm (tests/mwpm-model.c).
 *   test-mwpm-model [--seed N] [--ops N] [--check-every N] [--long]
 * The default run makes 1,000,000 operations in four seeded runs, one of them with the
 * invariant check after every step and one with a small memory that runs out, where requests
 * near the maximum are cheap: natively a 64 MiB simulated memory; on wasm the same program
 * linked with a 256 MiB maximum (test-mwpm-model-cap, tests/meson.build), which runs only
 * that case. --long makes 20,000,000.
 */
#include "mono-config.h"
#include "mwpm-model.h"
#include "mwpm-test-hooks.h"
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
	tap_diag ("  allocs %" PRIu64 " (large %" PRIu64 ", ENOMEM %" PRIu64 ", injected sbrk failures %" PRIu64 "), frees %" PRIu64
		  ", partial frees %" PRIu64 ", foreign sbrk %" PRIu64 ", rejected/stray calls %" PRIu64
		  ", invariant checks %" PRIu64 ", bytes zeroed %" PRIu64 ", from held pages only %" PRIu64 " (%" PRIu64
		  " ENOMEM), at an address %" PRIu64 " (%" PRIu64 " served, %" PRIu64 " refused), over own pages %" PRIu64
		  " (%" PRIu64 " served)",
		  k.allocs, k.large, k.alloc_enomem, k.injected_failures, k.frees, k.partial_frees, k.foreign, k.bad_calls,
		  k.invariant_checks, k.bytes_zeroed, k.held_only, k.held_only_misses, k.at_calls, k.at_ok, k.at_refused,
		  k.remap_calls, k.remap_ok);
	/* The run must have placed allocations at an address and refused some, and taken over its own
	 * pages and been refused, or it tested neither side. */
	if (!failed && ops >= 10000 &&
	    (k.at_ok == 0 || k.at_refused == 0 || k.remap_ok == 0 || k.remap_ok == k.remap_calls)) {
		tap_diag ("  alloc_at: %" PRIu64 " served, %" PRIu64 " refused; remap_at %" PRIu64 " of %" PRIu64
			  " served: the operation mix missed a side", k.at_ok, k.at_refused, k.remap_ok, k.remap_calls);
		failed = 1;
	}
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
	/* The wasm build's cap is linked in (0: whatever the platform reports). */
	return run ("small memory", seed + 3, ops / 10, check_every, MONO_CONFIG_WASM ? 0 : 64u << 20);
}

int
main (int argc, char **argv)
{
	bool long_run = test_arg_flag (argc, argv, "--long");
	seed = test_arg_u64 (argc, argv, "--seed", 20261125);
	ops = test_arg_u64 (argc, argv, "--ops", long_run ? 20000000 : 1000000);
	check_every = (uint32_t)test_arg_u64 (argc, argv, "--check-every", 16);
	/* On wasm the memory's maximum is linked in: the capped program runs the small-memory case,
	 * the 4 GiB one the others. */
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	bool capped = info.memory_max <= ((uint64_t)1 << 30);
	const char *other = MONO_CONFIG_WASM && capped ? " # SKIP run by the 4 GiB program" : "";
	const char *small = MONO_CONFIG_WASM && !capped ? " # SKIP run by the capped program (test-mwpm-model-cap)" : "";
	char name[128];
	snprintf (name, sizeof name, "model: 60%% of the operations%s", other);
	tap_case (name, *other ? NULL : case_main);
	snprintf (name, sizeof name, "model: 10%% with invariants after every step%s", other);
	tap_case (name, *other ? NULL : case_every_step);
	snprintf (name, sizeof name, "model: 20%% with a second seed%s", other);
	tap_case (name, *other ? NULL : case_other_seed);
	snprintf (name, sizeof name, "model: 10%% in a small memory, with requests near its maximum%s", small);
	tap_case (name, *small ? NULL : case_small_memory);
	return tap_done ();
}

/*
 * test-dropin-model.c: runs the drop-in's model (tests/dropin-model.c) from seeded generators,
 * natively (ASan/UBSan) and on wasm. --seed, --ops, --check-every, --long as test-mwpm-model.
 */
#include "dropin-model.h"
#include "mono-config.h"
#include "tap.h"

#include <inttypes.h>
#include <stdbool.h>

static uint64_t seed, ops;
static uint32_t check_every;

static int
run (const char *what, uint64_t s, uint64_t n, uint32_t every)
{
	ModelSource src;
	ModelConfig cfg = { .ops = n, .seed = s, .check_every = every };
	DropinCounts k;
	model_source_rng (&src, s);
	tap_diag ("%s: seed %" PRIu64 ", %" PRIu64 " operations, full checks every %u", what, s, n, every);
	int failed = dropin_model_run (&src, &cfg, &k);
	tap_diag ("  maps %" PRIu64 " (hinted %" PRIu64 ", at the hint %" PRIu64 "), MAP_FIXED %" PRIu64 " (units replaced %" PRIu64
		  ", refused %" PRIu64 ", EEXIST %" PRIu64 "), munmaps %" PRIu64 " (partial %" PRIu64 "), MADV_DONTNEED %" PRIu64
		  ", mprotect %" PRIu64 ", refused bad calls %" PRIu64 " (lengths past the space %" PRIu64 "), other users %" PRIu64
		  ", foreign sbrk %" PRIu64 ", full checks %" PRIu64,
		  k.maps, k.hinted, k.at_hint, k.fixed, k.fixed_replaced, k.fixed_refused, k.noreplace_eexist, k.unmaps, k.unmap_partial,
		  k.dontneed, k.protects, k.bad_calls, k.wraps, k.others, k.foreign, k.checks);
	/* Each side of each rule must have been reached, or the run tested less than it says. */
	if (!failed && n >= 20000 &&
	    (!k.at_hint || k.at_hint == k.hinted || !k.fixed_replaced || !k.fixed_refused || !k.noreplace_eexist || !k.unmap_partial || !k.wraps)) {
		tap_diag ("  the operation mix missed a side of a rule");
		failed = 1;
	}
	return failed;
}

static int case_main (void) { return run ("main", seed, ops * 8 / 10, check_every); }
static int case_every_step (void) { return run ("every step", seed + 1, ops / 20, 1); }

int
main (int argc, char **argv)
{
	bool long_run = test_arg_flag (argc, argv, "--long");
	seed = test_arg_u64 (argc, argv, "--seed", 20261207);
	ops = test_arg_u64 (argc, argv, "--ops", long_run ? 4000000 : 200000);
	check_every = (uint32_t)test_arg_u64 (argc, argv, "--check-every", 64);
	tap_case ("drop-in model: maps, hints, MAP_FIXED over mixes, munmap, madvise, bad lengths", case_main);
	tap_case ("drop-in model: full checks after every step", case_every_step);
	return tap_done ();
}

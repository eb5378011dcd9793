/*
 * fuzz-dropin.c: libFuzzer target driving the drop-in's model (tests/dropin-model.c) from the
 * input bytes: mmap with and without hints, MAP_FIXED and MAP_FIXED_NOREPLACE over mixes of
 * mapped, unmapped, other users' and foreign memory, munmap, madvise, mprotect, lengths past
 * the end of the space, with the drop-in's M1 and mwpm's invariants checked every step.
 * docs/testing.md says how to run it; ./tools/test runs a short fixed-seed run.
 */
#include "../dropin-model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	ModelSource src;
	ModelConfig cfg = { .ops = 1024, .seed = 0, .check_every = 1, .quiet = true };
	DropinCounts k;
	model_source_bytes (&src, data, size);
	if (dropin_model_run (&src, &cfg, &k) != 0)
		abort ();
	return 0;
}

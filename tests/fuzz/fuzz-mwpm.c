/*
 * fuzz-mwpm.c: libFuzzer target driving the mwpm model (tests/mwpm-model.c) from the input
 * bytes, with mwpm_check_invariants() after every operation. See docs/testing.md for how to
 * run it; ./tools/test runs a short fixed-seed run.
 */
#include "../mwpm-model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	ModelSource src;
	/* 64 MiB of simulated memory: exhaustion is reachable from short inputs. */
	ModelConfig cfg = { .ops = 4096, .seed = 0, .check_every = 1, .memory_max = 64u << 20, .quiet = true };
	ModelCounts k;
	model_source_bytes (&src, data, size);
	if (model_run (&src, &cfg, &k) != 0)
		abort ();
	return 0;
}

/*
 * mwpm-model.h: a model-based random test of mwpm through its public interface only.
 *
 * The model knows what the interface promises, not how mwpm works: which pages the test holds
 * (and the canaries written in them), which pages it has freed (those must be free-dirty: mwpm
 * never learns otherwise), which memory other sbrk callers took, and hence exactly how many
 * bytes a zeroed request must memset. After each operation it compares mwpm's stats with its
 * own counts; every `check_every` operations it also runs mwpm_check_invariants().
 * The operations come from a source: a seeded generator (tests) or fuzzer bytes (tests/fuzz).
 */
#ifndef TESTS_MWPM_MODEL_H
#define TESTS_MWPM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ModelSource ModelSource;
struct ModelSource {
	/* A value in [0, bound), bound > 0. Sets `exhausted` when it has no more input. */
	uint64_t (*next) (ModelSource *src, uint64_t bound);
	bool exhausted;
	uint64_t state;      /* generator state, or position in data */
	const uint8_t *data; /* fuzzer input */
	uint64_t size;
};

typedef struct {
	uint64_t ops;            /* operations to run (a fuzzer source may stop earlier) */
	uint64_t seed;           /* printed on failure */
	uint32_t check_every;    /* mwpm_check_invariants() period, in operations (1 = every step) */
	uint64_t memory_max;     /* host: the simulated memory's size limit (0: default 4 GiB) */
	bool quiet;
} ModelConfig;

typedef struct {
	uint64_t allocs, alloc_enomem, large, frees, partial_frees, foreign, bad_calls, injected_failures;
	uint64_t stray_frees, invariant_checks, bytes_zeroed, zero_checks;
	uint64_t held_only, held_only_misses;   /* MWPM_NO_GROW requests, and their ENOMEMs */
	uint64_t at_calls, at_ok, at_refused;   /* mwpm_alloc_at: calls, served, refused */
	uint64_t remap_calls, remap_ok;         /* mwpm_remap_at: calls, served */
} ModelCounts;

void model_source_rng (ModelSource *src, uint64_t seed);
void model_source_bytes (ModelSource *src, const uint8_t *data, uint64_t size);

/* Runs the model; 0 when every check held, else 1 after printing the seed, the operation
 * number and what failed. */
int model_run (ModelSource *src, const ModelConfig *cfg, ModelCounts *counts);

#endif

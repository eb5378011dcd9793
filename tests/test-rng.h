/*
 * test-rng.h: the one seeded generator of the tests, stress programs and benchmarks:
 * splitmix64 (a 64-bit counter passed through a mixing function). Same seed, same sequence, on
 * every target.
 */
#ifndef TESTS_TEST_RNG_H
#define TESTS_TEST_RNG_H

#include <stdint.h>

static inline uint64_t
test_splitmix64 (uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

typedef struct {
	uint64_t s;
} TestRng;

static inline uint64_t
test_rng_next (TestRng *r)
{
	return test_splitmix64 (&r->s);
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t
test_rng_below (TestRng *r, uint64_t n)
{
	return test_rng_next (r) % n;
}

/* Uniform in [lo, hi]. */
static inline uint64_t
test_rng_range (TestRng *r, uint64_t lo, uint64_t hi)
{
	return lo + test_rng_next (r) % (hi - lo + 1);
}

#endif

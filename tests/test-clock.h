/*
 * test-clock.h: the monotonic clock in milliseconds, for the test programs and benchmarks that
 * time their phases (header only).
 */
#ifndef TEST_CLOCK_H
#define TEST_CLOCK_H

#include <time.h>

static inline double
test_now_ms (void)
{
	struct timespec ts;
	clock_gettime (CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif

/*
 * bench-firsttouch.c: what fresh linear memory costs on this engine and machine, apart from
 * any page layer: growing the memory by 64 MiB with sbrk, the first write to each 4 KiB page
 * (the operating system maps and zeroes it: a page fault), and a memset of the same 64 MiB once
 * every page is mapped. ./tools/bench runs it to explain the startup figures
 * (docs/performance.md): emscripten's mmap pays its memset and, through it, the first touch
 * of every page; mwpm skips the memset, and the program then pays the first touch itself.
 *
 *   bench-firsttouch [--mib N]      prints one JSON line
 */
#include "../test-args.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_ms (void)
{
	struct timespec ts;
	clock_gettime (CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main (int argc, char **argv)
{
	/* --mono-wasm-mmap is accepted and ignored: the benchmark driver passes it to every run. */
	static const char *const known[] = { "--mib=", "--mono-wasm-mmap=", NULL };
	test_args_check (argc, argv, known, "bench-firsttouch [--mib=N] (N from 1 to 1024)");
	long mib = (long)test_arg_u64_in (argc, argv, "--mib", 64, 1, 1024);
	size_t n = (size_t)mib << 20;
	double t0 = now_ms ();
	volatile char *p = sbrk ((intptr_t)n);
	if (p == (void *)-1) {
		fprintf (stderr, "bench-firsttouch: sbrk(%zu) failed\n", n);
		return 1;
	}
	double t1 = now_ms ();
	for (size_t off = 0; off < n; off += 4096)
		p[off] = 1;
	double t2 = now_ms ();
	memset ((char *)p, 0, n);
	double t3 = now_ms ();
	printf ("{\"bench\":\"firsttouch\",\"mib\":%ld,\"grow_ms\":%.2f,\"first_touch_ms\":%.2f,\"first_touch_us_per_page\":%.3f,"
	        "\"memset_ms\":%.2f}\n",
	        mib, t1 - t0, t2 - t1, (t2 - t1) * 1e3 / (double)(n / 4096), t3 - t2);
	return 0;
}

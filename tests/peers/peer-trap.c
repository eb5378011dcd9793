/*
 * peer-trap.c: a trap of the shape of the pthreads memset hazard, for the peers suite to check
 * its classifier (tools/lib/peers.py, check_the_checks). A thread memsets memory beyond the end
 * of the linear memory, from a function named like dlmalloc's ("dl") or from another ("other").
 * Calls go through volatile pointers so that the frames stay as written (no inlining into
 * memory.fill); the binary keeps its function names (--profiling-funcs).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void *(*volatile memset_fn) (void *, int, size_t) = memset;

/* The memory's last 256 bytes of the 32-bit space: beyond any memory this program has. */
#define OUT_OF_BOUNDS ((void *)(uintptr_t)0xFFFFFF00u)

__attribute__((noinline)) void *
dlcalloc_like (size_t n)
{
	return memset_fn (OUT_OF_BOUNDS, 0, n);
}

/* A body of its own (another fill byte): identical functions may be merged into one. */
__attribute__((noinline)) void *
program_memset (size_t n)
{
	return memset_fn (OUT_OF_BOUNDS, 0x5a, n);
}

static void *(*volatile fill) (size_t);

static void *
work (void *arg)
{
	(void)arg;
	fill (4096);
	return NULL;
}

int
main (int argc, char **argv)
{
	fill = argc > 1 && !strcmp (argv[1], "dl") ? dlcalloc_like : program_memset;
	pthread_t t;
	if (pthread_create (&t, NULL, work, NULL) != 0)
		return 2;
	pthread_join (t, NULL);
	printf ("peer-trap: no trap\n");
	return 0;
}

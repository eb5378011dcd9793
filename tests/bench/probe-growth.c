/*
 * probe-growth.c: one mwpm allocation after malloc moved the break, in a fresh process, and
 * what it cost: the result, the linear memory before and after, the free pages left.
 *   probe-growth [--mib N] [--no-malloc]
 * Built for emscripten with -sMAXIMUM_MEMORY=256MB (tests/bench/meson.build); docs/mwpm.md
 * ("Growth") quotes its output. Not a test: tests/test-mwpm-growth.c checks the rule.
 */
#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "../test-args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

static void *volatile kept;

int
main (int argc, char **argv)
{
	uint64_t mib = test_arg_u64 (argc, argv, "--mib", 32);
	int with_malloc = !test_arg_flag (argc, argv, "--no-malloc");
	void *first = mwpm_alloc_range (MWPM_PAGE_SIZE, 0);
	if (with_malloc)
		kept = malloc (2u << 20); /* dlmalloc grows through sbrk for a block this large */
	uint64_t mem0 = mwpm_platform_memory_bytes ();
	errno = 0;
	void *p = mwpm_alloc_range ((size_t)(mib << 20), 0);
	int err = errno;
	MwpmStats s;
	mwpm_get_stats (&s);
	printf ("%s%llu MiB: %s; linear memory %.0f -> %.0f MiB; %zu pages free\n",
		with_malloc ? "malloc (2 MiB), then " : "", (unsigned long long)mib,
		p ? "served" : err == ENOMEM ? "NULL, ENOMEM" : strerror (err), mem0 / MIB,
		mwpm_platform_memory_bytes () / MIB, s.pages_free_zeroed + s.pages_free_dirty);
	(void)first;
	return 0;
}

/*
 * test-break-emmalloc.c: a program whose malloc is emmalloc (-sMALLOC=emmalloc), on emscripten
 * versions whose emmalloc lowers the break in malloc_trim (6.0.5: _sbrk64 of a negative
 * increment, wasm32 and wasm64 alike; mono-break.h). Memory that emmalloc wrote and gave back
 * below the old break comes back from sbrk unzeroed, so mwpm must not take sbrk's memory as
 * fresh in such a program:
 *   1. the hazard is real: malloc_trim lowers the break over written memory;
 *   2. mwpm's trust in the break is not MONOTONIC here (MONO_BREAK_MONOTONIC says no);
 *   3. a zeroed allocation from mwpm that sbrk serves from that memory reads zero.
 * With a rule that trusted the break here, 3 fails: mwpm would hand the written bytes out as zero.
 */
#include "mono-config.h"
#include "mono-wasm-pagemgr.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* emmalloc's (an alias of emmalloc_trim); musl's malloc.h does not declare it. */
int malloc_trim (size_t pad);

#define MIB ((size_t)1 << 20)
#define LEN (8 * MIB)

static int
case_trim_lowers_break (void)
{
	char *p = malloc (LEN);
	T_CHECK (p != NULL, "malloc of 8 MiB");
	memset (p, 0xab, LEN);
	uintptr_t before = (uintptr_t)sbrk (0);
	free (p);
	malloc_trim (0);
	uintptr_t after = (uintptr_t)sbrk (0);
	tap_diag ("break before malloc_trim 0x%llx, after 0x%llx", (unsigned long long)before, (unsigned long long)after);
	T_CHECK (after < before, "malloc_trim lowered the break");
	return 0;
}

static int
case_not_trusted (void)
{
	void *q = mwpm_alloc_range (65536, 0);
	T_CHECK (q != NULL, "a first allocation");
	MwpmStats s;
	mwpm_get_stats (&s);
	T_CHECK (s.zero_trust != MWPM_TRUST_MONOTONIC, "zero trust %d with emmalloc linked", s.zero_trust);
	mwpm_free_range (q, 65536);
	return 0;
}

static int
case_zeroed_over_trimmed_memory (void)
{
	/* emmalloc writes memory at the top of the heap, then gives it back to sbrk. */
	char *p = malloc (LEN);
	T_CHECK (p != NULL, "malloc of 8 MiB");
	memset (p, 0xcd, LEN);
	uintptr_t top = (uintptr_t)p + LEN;
	free (p);
	malloc_trim (0);
	T_CHECK ((uintptr_t)sbrk (0) < top, "the break went below the written memory");
	/* mwpm grows over it: every byte handed out zeroed must read zero. */
	size_t len = 16 * MIB;
	unsigned char *q = mwpm_alloc_range (len, MWPM_ZEROED);
	T_CHECK (q != NULL, "a zeroed allocation of 16 MiB");
	T_CHECK ((uintptr_t)q < top, "it reaches memory emmalloc wrote (at 0x%llx, written up to 0x%llx)",
		 (unsigned long long)(uintptr_t)q, (unsigned long long)top);
	for (size_t i = 0; i < len; i++)
		T_CHECK (q[i] == 0, "byte %zu of the zeroed allocation is 0x%02x", i, q[i]);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	mwpm_free_range (q, len);
	return 0;
}

int
main (void)
{
	tap_case ("emmalloc's malloc_trim lowers the break over written memory", case_trim_lowers_break);
	tap_case ("mwpm does not trust the break in a program with emmalloc", case_not_trusted);
	tap_case ("mwpm's zeroed memory over what emmalloc wrote and trimmed reads zero", case_zeroed_over_trimmed_memory);
	return tap_done ();
}

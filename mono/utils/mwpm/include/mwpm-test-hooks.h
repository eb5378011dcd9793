/*
 * mwpm-test-hooks.h: what tests, benchmarks and tools may reach of mwpm beyond its public
 * header: the platform's description and the knobs every platform implementation offers
 * (platform/mwpm-platform.h is the seam that builds on them), and resets and counters for
 * tests. Nothing here is for a runtime: it changes state behind mwpm's back or undoes it.
 */
#ifndef MWPM_TEST_HOOKS_H
#define MWPM_TEST_HOOKS_H

#include "mono-wasm-pagemgr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- The platform: a 32-bit linear memory with a program break ---- */

typedef struct {
	uintptr_t base;          /* address of linear-memory offset 0 */
	uint32_t sbrk_granule;   /* sbrk increments must be multiples of this (a power of two) */
	uint32_t sbrk_max;       /* largest increment one sbrk call accepts */
	uint64_t memory_max;     /* the linear memory can never grow beyond this many bytes */
	/* True when no component of this build lowers the program break, so memory sbrk hands out
	 * has never been handed out before and reads zero (docs/mwpm.md, "Zero trust"). */
	bool break_monotonic;
	bool threads;            /* other threads may call sbrk concurrently */
} MwpmPlatformInfo;

/* Fills *out. Cheap; the values never change while the process runs, except break_monotonic
 * on the host platform, which tests switch. */
void mwpm_platform_info (MwpmPlatformInfo *out);

/* Stores the break's offset now. Another sbrk caller may move it at any time after: growth
 * uses it to compute what is missing, and copes with a result that starts elsewhere. 0, or an
 * errno value. */
int mwpm_platform_break (uint64_t *brk);

/* Current size of the linear memory in bytes (wasm: memory.size * 65536). */
uint64_t mwpm_platform_memory_bytes (void);

/* Acts as another sbrk caller: moves the break by `increment` (may be negative where the
 * platform lets the break go down: the host always, emscripten through the sbrk pointer, WASI
 * never: ENOTSUP) and stores the old break's offset. On wasm, `increment` must be a multiple of
 * sbrk_granule (EINVAL otherwise), as for any sbrk caller there. Returns 0 or an errno value. */
int mwpm_platform_foreign_sbrk (int64_t increment, uint64_t *old_break);

/* Makes the next `count` calls of mwpm_platform_sbrk fail with ENOMEM. */
void mwpm_platform_fail_next_sbrk (unsigned count);

/* Host only (no-ops elsewhere): give the simulated memory a new maximum size and initial
 * static size (0: the defaults, 4 GiB - 64 KiB and 5 MiB + a bit) and start over (all memory
 * zero, break at the end of static data); declare what mwpm_platform_info reports as
 * break_monotonic and threads, to test each zero-trust level. */
void mwpm_platform_host_reset (uint64_t max_bytes, uint64_t static_bytes);
void mwpm_platform_host_declare (bool break_monotonic, bool threads);

/* ---- mwpm itself ---- */

/* Forgets every page (all become NOT_OURS) and zeroes the stats. Memory already taken from sbrk
 * is not given back. Not thread-safe with concurrent mwpm calls. */
void mwpm_reset_for_tests (void);

/* Summary-tree node visits of the last allocation or free made by this process (any thread). */
uint64_t mwpm_last_op_index_visits (void);

/* Calls a function of mwpm that needs its lock without taking it: at check level 1 and above
 * (the test builds) the lock-held check must stop the program (tests/test-lock-contract.c). */
void mwpm_test_break_lock_contract (void);

#endif

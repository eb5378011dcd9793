/*
 * test-usage.c: the process usage the benchmarks report (tests/usage.h, tools/wasm/pre.js and
 * growth.js) measures what it says, under node:
 *   - the linear memory is found in /proc/self/smaps (one read-write run of exactly its size,
 *     before the rest of V8's reservation), and its resident bytes follow writes: memory grown
 *     and not written adds nothing, one byte written per 4 KiB page adds those pages;
 *   - a growth of the memory through sbrk is counted as a memory.grow call;
 *   - the process's peak resident set holds at least the linear memory's resident bytes.
 * Elsewhere (natively, WASI) nothing can be known: every case is a skip.
 */
#include "mono-config.h"
#include "tap.h"
#include "usage.h"

#include <stdint.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

#ifdef __EMSCRIPTEN__
static int
case_resident_follows_writes (void)
{
	int64_t r0 = usage_resident_linear ();
	T_CHECK (r0 > 0, "the linear memory is found in smaps (%lld)", (long long)r0);
	int64_t grows0 = usage_memory_grow_calls ();
	size_t have = (size_t)__builtin_wasm_memory_size (0) << 16;
	uintptr_t brk = (uintptr_t)sbrk (0);
	/* 32 MiB above the memory's end: sbrk must grow it. */
	size_t len = have - brk + 32 * MiB;
	uint8_t *p = sbrk ((intptr_t)len);
	T_CHECK (p != (void *)-1, "sbrk of %zu bytes", len);
	T_CHECK (usage_memory_grow_calls () > grows0, "the growth was counted (%lld -> %lld)", (long long)grows0,
		 (long long)usage_memory_grow_calls ());
	int64_t r1 = usage_resident_linear ();
	T_CHECK (r1 > 0 && r1 - r0 < (int64_t)MiB, "grown but not written: resident %lld -> %lld", (long long)r0, (long long)r1);
	uint8_t *fresh = (uint8_t *)(((uintptr_t)p + len - 32 * MiB + 4095) & ~(uintptr_t)4095);
	for (size_t i = 0; i < 16 * MiB; i += 4096)
		fresh[i] = 1;
	int64_t r2 = usage_resident_linear ();
	int64_t added = r2 - r1;
	T_CHECK (added >= (int64_t)(16 * MiB) && added < (int64_t)(17 * MiB), "16 MiB written page by page: resident +%lld",
		 (long long)added);
	int64_t peak = usage_peak_rss ();
	T_CHECK (peak >= r2, "the process's peak resident set (%lld) holds the linear memory's (%lld)", (long long)peak,
		 (long long)r2);
	return 0;
}
#endif

int
main (void)
{
#ifndef __EMSCRIPTEN__
	tap_report (1, "resident bytes of the linear memory follow writes # SKIP emscripten under node only");
	return tap_done ();
#else
	if (usage_resident_linear () < 0) {
		tap_report (1, "resident bytes of the linear memory follow writes # SKIP no smaps here (not node)");
		return tap_done ();
	}
	tap_case ("resident bytes of the linear memory follow writes; growth is counted", case_resident_follows_writes);
	return tap_done ();
#endif
}

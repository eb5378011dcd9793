/*
 * usage.h: what the process holds, for the reports of tests and benchmarks (docs/benchmarks.md,
 * "Resident memory"). Under node (tools/wasm/pre.js, tools/wasm/growth.js):
 *   usage_resident_linear ()   bytes of the linear memory the process has resident (smaps)
 *   usage_peak_rss ()          the process's peak resident set, bytes
 *   usage_memory_grow_calls () memory.grow calls that grew the memory, from sbrk's growth
 *                              (emscripten_resize_heap) and mwpm's own (it tells the runtime
 *                              through emscripten_notify_memory_growth), on this thread
 * Each is -1 where it cannot be known (natively, in a browser, WASI).
 */
#ifndef TESTS_USAGE_H
#define TESTS_USAGE_H

#include <stdint.h>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>

static inline int64_t
usage_resident_linear (void)
{
	return (int64_t) EM_ASM_DOUBLE ({
		var r = Module['residentLinearBytes'] ? Module['residentLinearBytes'] () : null;
		return r === null ? -1 : r;
	});
}

static inline int64_t
usage_peak_rss (void)
{
	return (int64_t) EM_ASM_DOUBLE ({
		var u = Module['processUsage'] ? Module['processUsage'] () : null;
		return u === null ? -1 : u.maxRss;
	});
}

static inline int64_t
usage_memory_grow_calls (void)
{
	return (int64_t) EM_ASM_DOUBLE ({ return Module['memoryGrowCalls'] | 0; });
}
#else
static inline int64_t
usage_resident_linear (void)
{
	return -1;
}

static inline int64_t
usage_peak_rss (void)
{
	return -1;
}

static inline int64_t
usage_memory_grow_calls (void)
{
	return -1;
}
#endif

#endif

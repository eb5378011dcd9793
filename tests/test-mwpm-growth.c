/*
 * test-mwpm-growth.c: how much mwpm grows the linear memory, and when it may say ENOMEM, when
 * another sbrk caller has moved the break since mwpm's last chunk.
 *
 * The rule (docs/mwpm.md, "Growth"): one allocation grows the memory by at most its pages, the
 * alignment slack, one page and the sbrk granule, or by one minimum chunk; and it fails with
 * ENOMEM only when its pages cannot fit below the maximum from where the break is now.
 *
 * Natively the simulated memory is given a 2 GiB maximum; on wasm the program is linked with
 * -sMAXIMUM_MEMORY=256MB (tests/meson.build), so that the near-cap cases never grow node's
 * memory to 4 GiB. WASI cannot cap the memory mwpm sees: the near-cap cases are skipped there.
 */
#include "mono-wasm-pagemgr.h"
#include "mwpm-test-hooks.h"
#include "tap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define PAGE ((uint64_t)MWPM_PAGE_SIZE)
#define MIB (1024.0 * 1024.0)

#if MONO_CONFIG_WASI
#define NEAR_CAP_SKIP " # SKIP WASI: mwpm cannot know a memory maximum below 4 GiB"
#else
#define NEAR_CAP_SKIP ""
#endif
#if MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_SHARED_POOL
#define MALLOC_SKIP ""
#else
#define MALLOC_SKIP " # SKIP malloc does not call sbrk in this build"
#endif

static MwpmPlatformInfo info;

static MwpmStats
stats (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	return s;
}

static uint64_t
round_up (uint64_t x, uint64_t to)
{
	return (x + to - 1) / to * to;
}

static uint64_t
current_break (void)
{
	uint64_t brk = 0;
	if (mwpm_platform_break (&brk) != 0)
		abort ();
	return brk;
}

/* Starts over where the platform allows (host: a fresh 2 GiB memory); on wasm the memory
 * already taken stays, and every check below is relative to the state at the start. */
static void
fresh (void)
{
	mwpm_platform_host_reset ((uint64_t)2 << 30, 0);
	mwpm_reset_for_tests ();
	mwpm_platform_info (&info);
}

/* The most one allocation of `bytes` aligned to `align` may take from sbrk. */
static uint64_t
growth_bound (uint64_t bytes, uint64_t align)
{
	uint64_t need = round_up (bytes, PAGE) + (align > PAGE ? align - PAGE : 0) + PAGE + info.sbrk_granule;
	uint64_t chunk = round_up (MWPM_MIN_CHUNK_BYTES, info.sbrk_granule);
	return need > chunk ? need : chunk;
}

/* A foreign sbrk of about `bytes` (a multiple of the granule, as any sbrk caller's). */
static int
foreign (uint64_t bytes)
{
	uint64_t old;
	return mwpm_platform_foreign_sbrk ((int64_t)round_up (bytes, info.sbrk_granule), &old);
}

/* Allocates `bytes` after the break moved under mwpm (moved() does it) and checks the growth. */
static int
alloc_after_move (const char *what, uint64_t bytes, int (*moved) (void))
{
	T_CHECK (mwpm_alloc_range (PAGE, 0) != NULL, "a first page (mwpm's chunk, with free pages above it)");
	T_CHECK (stats ().pages_free_zeroed > 0, "a free tail to credit");
	T_CHECK (moved () == 0, "moving the break");
	MwpmStats s0 = stats ();
	uint64_t mem0 = mwpm_platform_memory_bytes ();
	void *p = mwpm_alloc_range ((size_t)bytes, 0);
	MwpmStats s1 = stats ();
	uint64_t mem1 = mwpm_platform_memory_bytes ();
	uint64_t grown = s1.bytes_from_sbrk - s0.bytes_from_sbrk;
	tap_diag ("%s, then %.0f MiB: %s; sbrk +%.2f MiB in %" PRIu64 " calls, linear memory %.0f -> %.0f MiB, %zu pages free",
		  what, bytes / MIB, p ? "served" : "ENOMEM", grown / MIB, s1.sbrk_calls - s0.sbrk_calls, mem0 / MIB,
		  mem1 / MIB, s1.pages_free_zeroed + s1.pages_free_dirty);
	T_CHECK (p != NULL, "served (errno %d)", errno);
	T_CHECK (grown <= growth_bound (bytes, PAGE), "grew %" PRIu64 " bytes for %" PRIu64 ", at most %" PRIu64, grown, bytes,
		 growth_bound (bytes, PAGE));
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return mwpm_free_range (p, (size_t)bytes);
}

static int
move_100_bytes (void)
{
	return foreign (100);
}

static int
case_foreign_then_large (void)
{
	fresh ();
	return alloc_after_move ("a 100-byte foreign sbrk", 32u << 20, move_100_bytes);
}

#if MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_SHARED_POOL
static void *volatile kept;

/* dlmalloc (emscripten's malloc) grows through sbrk for a block larger than its top. */
static int
move_by_malloc (void)
{
	kept = malloc (2u << 20);
	return kept ? 0 : -1;
}
#endif

static int
case_malloc_then_large (void)
{
#if MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_SHARED_POOL
	fresh ();
	return alloc_after_move ("malloc (2 MiB)", 32u << 20, move_by_malloc);
#else
	return 0;
#endif
}

/* A request that fits below the maximum from the current break must be served, after a
 * foreign sbrk, whether it takes 60% of the room or nearly all of it. */
static int
near_cap (unsigned percent)
{
	fresh ();
	T_CHECK (mwpm_alloc_range (PAGE, 0) != NULL, "a first page");
	T_CHECK (foreign (100) == 0, "foreign sbrk");
	uint64_t limit = info.memory_max < MWPM_SPACE_BYTES ? info.memory_max : MWPM_SPACE_BYTES;
	uint64_t brk = current_break ();
	uint64_t room_pages = (limit - round_up (brk, PAGE)) / PAGE;
	uint64_t pages = percent >= 100 ? room_pages : room_pages * percent / 100;
	T_CHECK (pages > 2, "room below the cap: %" PRIu64 " pages", room_pages);
	uint64_t bytes = pages * PAGE;
	MwpmStats s0 = stats ();
	uint64_t mem0 = mwpm_platform_memory_bytes ();
	errno = 0;
	void *p = mwpm_alloc_range ((size_t)bytes, 0);
	int err = errno;
	MwpmStats s1 = stats ();
	tap_diag ("cap %.0f MiB, break at %.2f MiB, request %.0f MiB (%u%% of the room): %s; sbrk +%.2f MiB, "
		  "linear memory %.0f -> %.0f MiB, %zu pages free",
		  limit / MIB, brk / MIB, bytes / MIB, percent, p ? "served" : "ENOMEM",
		  (s1.bytes_from_sbrk - s0.bytes_from_sbrk) / MIB, mem0 / MIB, mwpm_platform_memory_bytes () / MIB,
		  s1.pages_free_zeroed + s1.pages_free_dirty);
	T_CHECK (p != NULL, "a request that fits below the maximum failed (errno %d)", err);
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	T_CHECK (mwpm_free_range (p, (size_t)bytes) == 0, "free");
	/* One page more than the room can never fit: ENOMEM, and nothing changes. */
	brk = current_break ();
	room_pages = (limit - round_up (brk, PAGE)) / PAGE;
	MwpmStats s2 = stats ();
	uint64_t too_much = (room_pages + s2.pages_free_zeroed + s2.pages_free_dirty + 1) * PAGE;
	if (too_much < MWPM_SPACE_BYTES && (uint64_t)(size_t)too_much == too_much) {
		errno = 0;
		T_CHECK (mwpm_alloc_range ((size_t)too_much, 0) == NULL && errno == ENOMEM, "more than the room: ENOMEM");
		MwpmStats s3 = stats ();
		T_CHECK (s3.bytes_from_sbrk == s2.bytes_from_sbrk, "a request that cannot fit takes nothing from sbrk");
	}
	return 0;
}

static int case_near_cap_60 (void) { return MONO_CONFIG_WASI ? 0 : near_cap (60); }
static int case_near_cap_all (void) { return MONO_CONFIG_WASI ? 0 : near_cap (100); }

/* Aligned requests after a foreign sbrk: the slack is the alignment, nothing more. */
static int
case_foreign_then_aligned (void)
{
	fresh ();
	T_CHECK (mwpm_alloc_range (PAGE, 0) != NULL, "a first page");
	T_CHECK (foreign (100) == 0, "foreign sbrk");
	uint64_t bytes = 8u << 20, align = 4u << 20;
	MwpmStats s0 = stats ();
	void *p = mwpm_alloc_aligned ((size_t)bytes, (size_t)align, 0);
	MwpmStats s1 = stats ();
	uint64_t grown = s1.bytes_from_sbrk - s0.bytes_from_sbrk;
	tap_diag ("8 MiB aligned to 4 MiB after a foreign sbrk: sbrk +%.2f MiB", grown / MIB);
	T_CHECK (p != NULL && ((uintptr_t)p - info.base) % align == 0, "served, aligned");
	T_CHECK (grown <= growth_bound (bytes, align), "grew %" PRIu64 ", at most %" PRIu64, grown, growth_bound (bytes, align));
	T_CHECK (mwpm_check_invariants () == 0, "invariants");
	return 0;
}

int
main (void)
{
	mwpm_platform_info (&info);
	tap_case ("growth after a foreign sbrk takes only what is missing", case_foreign_then_large);
	tap_case ("growth after malloc moved the break takes only what is missing" MALLOC_SKIP, case_malloc_then_large);
	tap_case ("aligned growth after a foreign sbrk: the alignment slack, no more", case_foreign_then_aligned);
	tap_case ("near the cap: 60% of the room after a foreign sbrk is served" NEAR_CAP_SKIP, case_near_cap_60);
	tap_case ("near the cap: all the room after a foreign sbrk is served" NEAR_CAP_SKIP, case_near_cap_all);
	return tap_done ();
}

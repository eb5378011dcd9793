/*
 * test-pool-hook.c: mwpm's grow hook (mwpm_set_grow_hook). mwpm calls the hook, without its
 * lock, when no free run fits a request and before it grows the linear memory; when the hook
 * reports that it freed something, mwpm searches again. The GC registers a hook that collects;
 * this test registers one of its own that frees ranges it holds as "garbage", and checks that
 * the memory grows only when the hook could not free enough:
 *
 *   hook frees a fitting range      -> the request is served from it, no sbrk call
 *   hook frees nothing (returns 0)  -> mwpm grows
 *   hook frees too little           -> mwpm searches again, then grows
 *   no hook                         -> mwpm grows without calling anything
 *
 * Each case first drains mwpm's free pages (taking every free run), so that the request cannot
 * fit without the hook or growth. Runs natively (mwpm's simulated memory) and as wasm; in the
 * shared-pool build malloc also draws from mwpm, so nothing between the drain and the request
 * calls malloc, and the hook acts only while armed.
 *
 * Shared-pool build only: malloc itself reaches the hook (malloc -> mwpm -> hook), and a hook
 * that collects calls malloc and free from there. The last cases run such a hook inside a large
 * malloc and inside a malloc that needs a new segment.
 */
#include "mono-config.h"
#include "mono-wasm-pagemgr.h"
#include "tap.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PAGE ((size_t)MWPM_PAGE_SIZE)
#define MAX_HELD 4096

/* Ranges the test holds (drained free runs, garbage): freed at the end of each case. */
static struct {
	void *p;
	size_t size;
} held[MAX_HELD];
static size_t nheld;

static struct {
	bool armed;
	void *garbage;         /* what the hook frees when called */
	void *garbage_was;     /* where it was */
	size_t garbage_size;
	unsigned calls;
	size_t last_bytes;     /* the hook's argument */
	uint64_t sbrk_calls_seen; /* mwpm's sbrk calls when the hook ran */
} hook_state;

static uint64_t
sbrk_calls (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	return s.sbrk_calls;
}

static int
test_hook (size_t bytes, void *ctx)
{
	(void)ctx;
	if (!hook_state.armed)
		return 0;
	hook_state.calls++;
	hook_state.last_bytes = bytes;
	hook_state.sbrk_calls_seen = sbrk_calls ();
	if (!hook_state.garbage)
		return 0;
	int rc = mwpm_free_range (hook_state.garbage, hook_state.garbage_size);
	hook_state.garbage = NULL;
	return rc == 0;
}

static void
hold (void *p, size_t size)
{
	if (nheld < MAX_HELD) {
		held[nheld].p = p;
		held[nheld++].size = size;
	} else {
		mwpm_free_range (p, size);
	}
}

static void
release_held (void)
{
	for (size_t i = 0; i < nheld; i++)
		mwpm_free_range (held[i].p, held[i].size);
	nheld = 0;
}

/* Takes every free run of mwpm, so that no request fits without growing. */
static int
drain (void)
{
	for (;;) {
		MwpmStats s;
		mwpm_get_stats (&s);
		if (s.largest_free_run == 0)
			return 0;
		T_CHECK (nheld < MAX_HELD, "more than %d free runs to drain", MAX_HELD);
		size_t size = s.largest_free_run * PAGE;
		void *p = mwpm_alloc_range (size, 0);
		T_CHECK (p, "draining a free run of %zu pages failed", s.largest_free_run);
		T_CHECK (sbrk_calls () == s.sbrk_calls, "draining grew the memory");
		hold (p, size);
	}
}

static void
reset_hook (void)
{
	hook_state.armed = false;
	hook_state.garbage = NULL;
	hook_state.calls = 0;
	hook_state.last_bytes = 0;
}

/* Allocates `garbage_pages` for the hook to free, drains, then asks for `want_pages`. */
static int
request_with_garbage (size_t garbage_pages, size_t want_pages, void **out, uint64_t *grew_calls)
{
	reset_hook ();
	if (garbage_pages) {
		hook_state.garbage = mwpm_alloc_range (garbage_pages * PAGE, 0);
		T_CHECK (hook_state.garbage, "allocating the garbage failed");
		hook_state.garbage_size = garbage_pages * PAGE;
	}
	hook_state.garbage_was = hook_state.garbage;
	if (drain ())
		return 1;
	uint64_t before = sbrk_calls ();
	hook_state.armed = true;
	*out = mwpm_alloc_range (want_pages * PAGE, MWPM_ZEROED);
	hook_state.armed = false;
	*grew_calls = sbrk_calls () - before;
	T_CHECK (*out, "the request of %zu pages failed", want_pages);
	T_CHECK (mwpm_check_invariants () == 0, "mwpm's invariants after the request");
	return 0;
}

static int
case_hook_frees_enough (void)
{
	mwpm_set_grow_hook (test_hook, NULL);
	void *p;
	uint64_t grew;
	if (request_with_garbage (16, 16, &p, &grew))
		return 1;
	T_CHECK (hook_state.calls == 1, "the hook ran %u times, expected once", hook_state.calls);
	T_CHECK (hook_state.last_bytes >= 16 * PAGE, "the hook was told %zu bytes, the request is %zu",
		 hook_state.last_bytes, 16 * PAGE);
	T_CHECK (grew == 0, "mwpm grew (%llu sbrk calls) although the hook freed 16 pages",
		 (unsigned long long)grew);
	T_CHECK (p == hook_state.garbage_was, "the request was not served from the pages the hook freed");
	const unsigned char *b = p;
	T_CHECK (b[0] == 0 && b[16 * PAGE - 1] == 0, "MWPM_ZEROED memory from freed pages is not zero");
	hold (p, 16 * PAGE);
	release_held ();
	mwpm_set_grow_hook (NULL, NULL);
	return 0;
}

static int
case_hook_frees_nothing (void)
{
	mwpm_set_grow_hook (test_hook, NULL);
	void *p;
	uint64_t grew;
	if (request_with_garbage (0, 16, &p, &grew))
		return 1;
	T_CHECK (hook_state.calls == 1, "the hook ran %u times, expected once", hook_state.calls);
	T_CHECK (grew > 0, "mwpm served 16 pages without growing although nothing was free");
	T_CHECK (hook_state.sbrk_calls_seen + grew == sbrk_calls (), "the hook ran after growth began");
	hold (p, 16 * PAGE);
	release_held ();
	mwpm_set_grow_hook (NULL, NULL);
	return 0;
}

static int
case_hook_frees_too_little (void)
{
	mwpm_set_grow_hook (test_hook, NULL);
	void *p;
	uint64_t grew;
	if (request_with_garbage (4, 16, &p, &grew))
		return 1;
	T_CHECK (hook_state.calls == 1, "the hook ran %u times, expected once", hook_state.calls);
	T_CHECK (grew > 0, "mwpm served 16 pages without growing although the hook freed only 4");
	T_CHECK (mwpm_owns (p), "the new range is not mwpm's");
	hold (p, 16 * PAGE);
	release_held ();
	mwpm_set_grow_hook (NULL, NULL);
	return 0;
}

static int
case_no_hook (void)
{
	mwpm_set_grow_hook (NULL, NULL);
	void *p;
	uint64_t grew;
	if (request_with_garbage (16, 16, &p, &grew))
		return 1;
	T_CHECK (hook_state.calls == 0, "an unregistered hook ran");
	T_CHECK (grew > 0, "mwpm served 16 pages without growing although nothing was free");
	/* The garbage was never freed: give it back with the rest. */
	hold (hook_state.garbage, hook_state.garbage_size);
	hold (p, 16 * PAGE);
	release_held ();
	return 0;
}

#if MONO_CONFIG_SHARED_POOL
/* A hook that behaves like a collection: it allocates and frees with malloc (a gray stack, a
 * table) and frees the garbage. Nested calls (its own malloc may need pages) do nothing. */
static struct {
	int depth;
	unsigned calls, nested;
	bool malloc_ok;
} reent;

static int
malloc_hook (size_t bytes, void *ctx)
{
	(void)bytes;
	(void)ctx;
	if (!hook_state.armed)
		return 0;
	if (reent.depth) {
		reent.nested++;
		return 0;
	}
	reent.depth++;
	reent.calls++;
	unsigned char *small = malloc (100), *big = malloc (300 * 1024);
	reent.malloc_ok = small && big;
	if (small && big) {
		memset (small, 1, 100);
		memset (big, 2, 300 * 1024);
		reent.malloc_ok = small[99] == 1 && big[300 * 1024 - 1] == 2;
	}
	free (big);
	free (small);
	int freed = 0;
	if (hook_state.garbage) {
		freed = mwpm_free_range (hook_state.garbage, hook_state.garbage_size) == 0;
		hook_state.garbage = NULL;
	}
	reent.depth--;
	return freed;
}

/* Allocates garbage for the hook, drains mwpm, then calls malloc (size) until the hook ran. */
static int
malloc_reaches_hook (size_t size, void **blocks, int max_blocks, int *nblocks)
{
	memset (&reent, 0, sizeof reent);
	reset_hook ();
	hook_state.garbage = mwpm_alloc_range (64 * PAGE, 0);
	T_CHECK (hook_state.garbage, "allocating the garbage failed");
	hook_state.garbage_size = 64 * PAGE;
	mwpm_set_grow_hook (malloc_hook, NULL);
	if (drain ())
		return 1;
	hook_state.armed = true;
	*nblocks = 0;
	while (reent.calls == 0 && *nblocks < max_blocks) {
		void *b = malloc (size);
		if (!b)
			break;
		memset (b, 3, size);
		blocks[(*nblocks)++] = b;
	}
	hook_state.armed = false;
	mwpm_set_grow_hook (NULL, NULL);
	T_CHECK (reent.calls == 1, "the hook ran %u times inside malloc (%zu bytes, %d blocks, %llu sbrk calls), expected once",
		 reent.calls, size, *nblocks, (unsigned long long)sbrk_calls ());
	T_CHECK (reent.malloc_ok, "malloc inside the hook failed or lost its contents");
	T_CHECK (*nblocks > 0 && blocks[*nblocks - 1], "the malloc that ran the hook failed");
	const unsigned char *last = blocks[*nblocks - 1];
	T_CHECK (last[0] == 3 && last[size - 1] == 3, "the block allocated around the hook is not writable");
	T_CHECK (mwpm_check_invariants () == 0, "mwpm's invariants");
	return 0;
}

static int
case_hook_inside_large_malloc (void)
{
	void *blocks[1];
	int n;
	int rc = malloc_reaches_hook (2 << 20, blocks, 1, &n);
	for (int i = 0; i < n; i++)
		free (blocks[i]);
	release_held ();
	return rc;
}

static int
case_hook_inside_segment_growth (void)
{
	/* Below dlmalloc's direct-mmap threshold (256 KiB): served from segments, so the hook runs
	 * when a new segment is needed. */
	static void *blocks[256];
	int n;
	int rc = malloc_reaches_hook (96 * 1024, blocks, 256, &n);
	for (int i = 0; i < n; i++)
		free (blocks[i]);
	release_held ();
	return rc;
}
#endif

int
main (void)
{
	tap_case ("hook frees a fitting range: served from it, no growth", case_hook_frees_enough);
	tap_case ("hook frees nothing: mwpm grows after asking", case_hook_frees_nothing);
	tap_case ("hook frees too little: mwpm grows", case_hook_frees_too_little);
	tap_case ("no hook: mwpm grows without calling one", case_no_hook);
#if MONO_CONFIG_SHARED_POOL
	tap_case ("a hook that mallocs runs inside a large malloc", case_hook_inside_large_malloc);
	tap_case ("a hook that mallocs runs inside a malloc needing a segment", case_hook_inside_segment_growth);
#endif
	return tap_done ();
}

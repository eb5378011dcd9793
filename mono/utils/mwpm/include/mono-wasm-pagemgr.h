/*
 * mono-wasm-pagemgr.h: mwpm, the wasm page manager.
 *
 * mwpm hands out page-aligned ranges of a linear memory (wasm32, or wasm64 up to 16 GiB). It takes memory from sbrk
 * (through the platform seam, mwpm-platform.h), remembers for every page whether it is in use,
 * free and known to be zero, free and dirty, or foreign (taken by another sbrk caller), and
 * zeroes only dirty pages, only when asked. Ranges can be freed in part.
 *
 * Thread safety: every function may be called from any thread in pthreads builds (one internal
 * lock); single-threaded builds take no lock. mwpm never calls malloc, uses no C thread-local
 * storage and never prints while holding its lock. errno is set on failure only. Every range it
 * returns is safe for bulk memory operations (memset, memcpy) in the calling thread, even when
 * another thread has just grown the memory (docs/mwpm.md, "Threads").
 *
 * Ownership: memory returned by the allocation functions belongs to the caller until freed with
 * mwpm_free_range; mwpm never moves it.
 */
#ifndef MONO_WASM_PAGEMGR_H
#define MONO_WASM_PAGEMGR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mono-config.h"

/* Bytes per page: 65536 by default (the wasm page); the build option page_size chooses another
 * power of two from 4096 to 1 MiB. */
#define MWPM_PAGE_SIZE MONO_CONFIG_MWPM_PAGE_SIZE

/* Bytes of the address space mwpm manages, from the start of linear memory: on wasm32 the whole
 * 32-bit space (its end, 2^32, fits a uint64_t); on wasm64 16 GiB, the most memory64 engines give
 * a memory today (V8's limit; emscripten's MAXIMUM_MEMORY for wasm64 defaults to it). The page
 * table and the free-page index are sized by it: about 24 KiB of metadata per GiB managed with
 * 64 KiB pages (docs/wasm64.md, "mwpm on a 64-bit space"). A build may choose another power of
 * two of at least 4 GiB with -DMWPM_SPACE_BYTES=... */
#ifndef MWPM_SPACE_BYTES
#if defined(__wasm64__)
#define MWPM_SPACE_BYTES ((uint64_t)1 << 34)
#else
#define MWPM_SPACE_BYTES ((uint64_t)1 << 32)
#endif
#endif

/*
 * The smallest sbrk request. Each sbrk result costs up to one partial page at each end when
 * another caller sits next to it, and growing memory is a JS call on wasm; a larger chunk pays
 * these less often but keeps more free pages that only mwpm can use. The measurement that chose
 * this value is in docs/mwpm.md ("Chunk size"); benchmarks build mwpm with other values.
 */
#ifndef MWPM_MIN_CHUNK_BYTES
#define MWPM_MIN_CHUNK_BYTES (1u << 20)
#endif

/* Flags of the allocation functions. MWPM_NO_GROW: only from pages mwpm already holds (free
 * runs); ENOMEM when none fits, without calling the grow hook or growing. */
enum { MWPM_ZEROED = 1, MWPM_NO_GROW = 2 };

typedef struct {
	size_t   page_size;
	size_t   pages_in_use;       /* handed to callers */
	size_t   pages_free_zeroed;  /* controlled, free, known zero */
	size_t   pages_free_dirty;   /* controlled, free, contents unknown */
	size_t   pages_external;     /* inside mwpm's span but taken by other sbrk callers */
	size_t   largest_free_run;   /* pages */
	uint64_t bytes_zeroed;       /* bytes of dirty pages mwpm made read zero for MWPM_ZEROED
				      * requests, in total: memset, or found zero already */
	uint64_t bytes_found_zero;   /* of those, the bytes found zero and left unwritten (4 KiB
				      * units never written since the engine gave them, or zeroed
				      * by their last holder): no write, no page made resident */
	uint64_t bytes_from_sbrk;    /* bytes mwpm has obtained from sbrk, in total */
	/* Peaks and counters. */
	size_t   pages_in_use_peak;
	size_t   span_first_page;    /* the span: [first, end) in page indices of linear memory */
	size_t   span_end_page;
	uint64_t alloc_calls;        /* successful allocations */
	uint64_t alloc_failures;     /* allocations that returned NULL: EINVAL, and ENOMEM of the
				      * range and aligned allocators */
	uint64_t at_refused;         /* mwpm_alloc_at / mwpm_remap_at answered EEXIST or ENOMEM: the
				      * place was taken or out of reach (a caller honouring a hint
				      * then allocates elsewhere; not an allocation failure) */
	uint64_t free_calls;         /* frees that returned 0 */
	uint64_t free_rejected;      /* frees refused with EINVAL */
	uint64_t free_noop_calls;    /* frees that released no page (POSIX: still success) */
	uint64_t free_pages_ignored; /* pages in freed ranges that were not in use */
	uint64_t sbrk_calls;
	uint64_t sbrk_failures;      /* including injected ones */
	uint64_t welds;              /* sbrk results adjacent to the previous one */
	uint64_t bytes_unusable;     /* sbrk bytes in partial pages shared with other callers */
	uint64_t bytes_from_sbrk_untrusted; /* sbrk bytes not trusted to be zero (see docs/mwpm.md) */
	uint64_t break_lowered_seen; /* sbrk returned memory below a break mwpm had seen */
	uint64_t index_nodes_visited;/* summary-tree nodes read or written, in total */
	uint64_t lock_contended;     /* lock acquisitions that had to wait */
	int      zero_trust;         /* MWPM_TRUST_* in force now */
} MwpmStats;

/* How far mwpm trusts memory from sbrk to read zero (docs/mwpm.md, "Zero trust"). */
enum {
	MWPM_TRUST_NONE = 0,      /* nothing: every sbrk byte is treated as dirty */
	MWPM_TRUST_WITNESS = 1,   /* only bytes above the memory size seen before the call */
	MWPM_TRUST_MONOTONIC = 2, /* the break never goes down: all sbrk bytes are fresh */
};

/*
 * Allocates ceil(size / MWPM_PAGE_SIZE) pages and returns the page-aligned start.
 * flags: MWPM_ZEROED (every byte reads zero; otherwise contents are unspecified), MWPM_NO_GROW
 * (served only from free pages mwpm holds: ENOMEM rather than the grow hook and growth).
 * Errors: NULL with errno EINVAL for size 0 or unknown flag bits; NULL with errno ENOMEM when
 * sbrk fails, the 32-bit space is exhausted or the rounded size overflows. A failed call hands
 * out nothing (memory already obtained from sbrk stays in the pool as free pages).
 */
void *mwpm_alloc_range (size_t size, int flags);

/*
 * As mwpm_alloc_range, with the result a multiple of `alignment`, a power of two (values below
 * the page size mean the page size). Only the pages needed for `size` are taken.
 * Errors as above, and EINVAL when alignment is not a power of two (0 included).
 */
void *mwpm_alloc_aligned (size_t size, size_t alignment, int flags);

/*
 * As mwpm_alloc_range, at `addr`: the pages that [addr, addr + size) touches, all of them free
 * in mwpm, or reaching above the top of its span, which then grows into them (unless
 * MWPM_NO_GROW). For a caller that extends a range in place, or maps where it has just
 * unmapped. Returns addr.
 * Errors (nothing is handed out): NULL with errno EINVAL for size 0, unknown flag bits, an address
 * not page-aligned, or a range beyond the 32-bit space; EEXIST when a page of the range is in
 * use, foreign or below mwpm's span, or lies above the span in memory another sbrk caller holds
 * (below the break); ENOMEM when the range starts above the span's end (beyond the break), or
 * needs growth that MWPM_NO_GROW forbids or that sbrk refuses. EEXIST and ENOMEM are counted in
 * the stats as at_refused, EINVAL as alloc_failures.
 */
void *mwpm_alloc_at (void *addr, size_t size, int flags);

/* Says whether the caller holds the in-use page at `page` (mwpm_remap_at). Called with mwpm's
 * lock held: it must not call mwpm. */
typedef int (*MwpmHeldFn) (const void *page, void *ctx);

/*
 * As mwpm_alloc_at, where pages of the range that are in use and that `held` reports as the
 * caller's are taken over in place: they stay in use, and with MWPM_ZEROED read zero afterwards
 * (memset, counted in bytes_zeroed); free pages are claimed as by mwpm_alloc_at. For a caller
 * that maps over its own mappings and free pages at once (MAP_FIXED), in one step under mwpm's
 * lock, so that no other user of mwpm can take a free page of the range meanwhile.
 * Errors as mwpm_alloc_at (EEXIST when a page is in use and not held); EINVAL for a NULL `held`.
 * On any error nothing changes.
 */
void *mwpm_remap_at (void *addr, size_t size, int flags, MwpmHeldFn held, void *ctx);

/*
 * Frees every page that [base, base + size) touches and that is in use. Pages that are free,
 * foreign or outside mwpm are left alone and the call still returns 0 (POSIX munmap). Any part
 * of an allocation may be freed (head, middle, tail).
 * Errors: -1 with errno EINVAL when base is not page-aligned or size is 0; nothing changes.
 */
int mwpm_free_range (void *base, size_t size);

/* 1 if addr lies in a page mwpm controls (in use or free), else 0. */
int mwpm_owns (const void *addr);

void mwpm_get_stats (MwpmStats *out);

/* Bytes of the linear memory mwpm grows (wasm: memory.size; native: the simulated memory). */
uint64_t mwpm_memory_bytes (void);

/* The address of the linear memory's offset 0 (0 on wasm; the simulated memory's start natively). */
uintptr_t mwpm_memory_base (void);

/* 0 when the page table, bitmap, summary tree and stats agree; otherwise prints what is wrong
 * to stderr and returns the number of problems found. */
int mwpm_check_invariants (void);

/* ---- Introspection: the page table as runs ---- */

/* Page states, as reported by the walk (the encoding inside is the same, see the source). */
typedef enum {
	MWPM_PAGE_NOT_OURS = 0,    /* outside mwpm's span, or not yet seen */
	MWPM_PAGE_FOREIGN = 1,     /* inside the span, taken by another sbrk caller */
	MWPM_PAGE_FREE_ZEROED = 2,
	MWPM_PAGE_FREE_DIRTY = 3,
	MWPM_PAGE_IN_USE = 4,
	MWPM_PAGE_STATE_COUNT
} MwpmPageState;

typedef struct {
	MwpmPageState state;
	size_t first_page;        /* page index in linear memory: address = base + page * size */
	size_t page_count;
} MwpmRun;

/* Calls fn for every run of equal state in [first_page, end_page) (end clipped to the table),
 * in address order. fn runs without mwpm's lock held: it may print or allocate. The table is
 * copied in pieces, so each piece is a consistent snapshot, the whole walk only when no other
 * thread changes mwpm meanwhile. Returns the number of runs. */
size_t mwpm_walk_runs (size_t first_page, size_t end_page,
		       void (*fn) (const MwpmRun *run, void *ctx), void *ctx);

/* Total pages in the table (2^32 / MWPM_PAGE_SIZE) and the page index of an address. */
size_t mwpm_table_pages (void);
size_t mwpm_page_of (const void *addr);

const char *mwpm_page_state_name (MwpmPageState state);

/* Writes the stats as one JSON object (no newline) into buf; returns what snprintf returns. */
int mwpm_stats_to_json (const MwpmStats *stats, char *buf, size_t len);

/* Writes one snapshot of the page table as a line of JSON (format in mwpm-dump.c; drawn by
 * tools/pagemap). 0, or -1 when writing failed. */
int mwpm_dump (FILE *out, const char *label);

/* ---- Hooks ---- */

/* Called before mwpm grows the linear memory by `bytes` (docs/pool.md). The hook may free
 * memory into mwpm (a collection); it returns non-zero when it freed something. mwpm searches
 * again after it returns, whatever it returns (other threads may have freed or grown meanwhile),
 * and grows only if that search fails. Runs without mwpm's lock held, on the allocating thread.
 * NULL unregisters. */
typedef int (*MwpmGrowHook) (size_t bytes, void *ctx);
void mwpm_set_grow_hook (MwpmGrowHook hook, void *ctx);

/* Resets, counters and platform knobs for tests: mwpm-test-hooks.h. */

#endif

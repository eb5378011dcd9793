/*
 * mwpm-mmap.c: the drop-in's anonymous mappings over mwpm (mwpm-mmap.h states the contract of
 * each call; docs/drop-in.md the table). Platform-neutral: it works in offsets from mwpm's
 * memory base, so that the same code serves an emscripten program (mwpm-mmap-posix.c gives it
 * the POSIX names) and, natively, the model test and the fuzzer.
 *
 * What goes where:
 *   mmap, no MAP_FIXED            mwpm: at the hint when its pages are free in mwpm or reach
 *                                 into the top of its memory (mwpm_alloc_at), else anywhere;
 *                                 aligned to UNIT, zeroed only where dirty
 *   MAP_FIXED                     mwpm_remap_at: the drop-in's own pages in the range are taken
 *                                 over and zeroed, free pages claimed, the top grown into, in
 *                                 one step; memory the drop-in does not control: ENOMEM
 *   MAP_FIXED_NOREPLACE           mwpm_alloc_at, after checking that no page is the drop-in's:
 *                                 EEXIST wherever anything is
 *   munmap                        the drop-in's pages in the range go back to mwpm; others stay
 *   madvise(MADV_DONTNEED)        the drop-in's pages in the range are zeroed
 *
 * Invariant:
 *   M1  a bit of `ours` is set iff that mwpm page was handed out by mmap here and not unmapped;
 *       only those pages are ever freed or zeroed here (malloc's pages in a shared-pool build,
 *       or a GC's, are mwpm's too, and are never touched). mwpm_mmap_check tests that each of
 *       them is in use in mwpm.
 *
 * Locking: `lock` guards `ours` and the stats. It is held across mwpm_remap_at and
 * mwpm_alloc_at for MAP_FIXED (mwpm asks `held_here` under its own lock: the order is always
 * this lock, then mwpm's; neither call runs mwpm's grow hook), never across mwpm_alloc_range,
 * which may run the grow hook (a collection that may unmap). madvise zeroes under it, so that a
 * concurrent munmap cannot hand the pages to someone else meanwhile (waiters spin).
 */
#include "mono-config.h"
#include "mono-wasm-pagemgr.h"
#include "mwpm-mmap.h"
#include "mono-spin-lock.h"
#include "mono-bulk.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE ((uint64_t)MWPM_PAGE_SIZE)
#define PAGES ((size_t)(MWPM_SPACE_BYTES / MWPM_PAGE_SIZE))
/* The page size libc and sysconf report on emscripten. */
#define LIBC_PAGE ((uint64_t)65536)
/* The unit of every mapping here: the page size the program sees (sysconf(_SC_PAGESIZE), which
 * it rounds addresses and lengths by), or mwpm's page where that is larger. With mwpm pages
 * below 64 KiB, mappings are 64 KiB-aligned multiples of 64 KiB, and munmap, madvise and
 * MAP_FIXED take 64 KiB-aligned addresses, as POSIX says for the reported page size. */
#define UNIT (PAGE > LIBC_PAGE ? PAGE : LIBC_PAGE)

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_TYPE
#define MAP_TYPE 0x0f
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static MonoSpinLock lock = MONO_SPIN_LOCK_INIT;
static uint64_t ours[PAGES / 64];
static size_t ours_top; /* no page at or above it was ever ours: M1 looks no further */
static MwpmMmapStats stats;

/* ---- Pages: offsets from mwpm's base, page indices, the `ours` bitmap ---- */

/* A range of pages [first, end) of the address space. */
typedef struct {
	size_t first, end;
} Span;

/* mwpm's base, asked once (it never changes): mwpm's own answer takes its lock, and `held_here`
 * runs under that lock. Stored plus one, so that 0 means "not yet asked" (on wasm the base is 0). */
static atomic_uintptr_t base_plus_one;

static uintptr_t
base (void)
{
	uintptr_t b = atomic_load_explicit (&base_plus_one, memory_order_relaxed);
	if (__builtin_expect (b == 0, 0)) {
		b = mwpm_memory_base () + 1;
		atomic_store_explicit (&base_plus_one, b, memory_order_relaxed);
	}
	return b - 1;
}

static void *
page_addr (size_t page)
{
	return (void *)(base () + (uintptr_t)(page * PAGE));
}

static bool
page_ours (size_t p)
{
	return (ours[p / 64] >> (p % 64)) & 1;
}

static void
set_ours (Span s, bool on)
{
	MONO_ASSERT_LOCK_HELD (&lock);
	if (on && s.end > ours_top)
		ours_top = s.end;
	for (size_t p = s.first; p < s.end; p++) {
		if (on)
			ours[p / 64] |= (uint64_t)1 << (p % 64);
		else
			ours[p / 64] &= ~((uint64_t)1 << (p % 64));
	}
}

/*
 * The pages of [addr, addr + len), len rounded up to UNIT: false when addr lies outside the
 * address space or the rounded range runs past its end (on wasm32 such a length wraps). addr
 * must be a multiple of UNIT from the base. No sum can wrap.
 */
static bool
span_of (uintptr_t addr, size_t len, Span *out)
{
	uintptr_t b = base ();
	if (addr < b || (uint64_t)(addr - b) >= MWPM_SPACE_BYTES)
		return false;
	uint64_t off = addr - b;
	uint64_t units = (uint64_t)len / UNIT + ((uint64_t)len % UNIT != 0);
	if (units > (MWPM_SPACE_BYTES - off) / UNIT)
		return false;
	out->first = (size_t)(off / PAGE);
	out->end = (size_t)((off + units * UNIT) / PAGE);
	return true;
}

static bool
unit_aligned (uintptr_t addr)
{
	return addr >= base () && (addr - base ()) % UNIT == 0;
}

/* How many pages of s are ours. Lock held. */
static size_t
count_ours (Span s)
{
	MONO_ASSERT_LOCK_HELD (&lock);
	size_t n = 0;
	for (size_t p = s.first; p < s.end; p++)
		n += page_ours (p);
	return n;
}

/* The next run of our pages in [*p, end): its first page in *first, *p moved to its end.
 * False when no page of ours is left. Lock held. */
static bool
next_run (size_t *p, size_t end, size_t *first)
{
	MONO_ASSERT_LOCK_HELD (&lock);
	while (*p < end && !page_ours (*p))
		(*p)++;
	*first = *p;
	while (*p < end && page_ours (*p))
		(*p)++;
	return *p > *first;
}

/* mwpm's question during MAP_FIXED: is this page in use ours? Called under mwpm's lock, with
 * ours held by this thread. */
static int
held_here (const void *page, void *ctx)
{
	(void)ctx;
	return page_ours ((size_t)(((uintptr_t)page - base ()) / PAGE));
}

/* ---- mmap ---- */

static void *
refuse_map (int err)
{
	mono_spin_lock (&lock);
	stats.map_refused++;
	stats.noreplace_eexist += err == EEXIST;
	mono_spin_unlock (&lock);
	errno = err;
	return MAP_FAILED;
}

/* The flags Linux knows for mmap: under MAP_SHARED_VALIDATE any other bit is EOPNOTSUPP. */
static int
known_map_flags (void)
{
	int known = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
#ifdef MAP_NORESERVE
	known |= MAP_NORESERVE;
#endif
#ifdef MAP_POPULATE
	known |= MAP_POPULATE;
#endif
#ifdef MAP_NONBLOCK
	known |= MAP_NONBLOCK;
#endif
#ifdef MAP_STACK
	known |= MAP_STACK;
#endif
#ifdef MAP_GROWSDOWN
	known |= MAP_GROWSDOWN;
#endif
#ifdef MAP_DENYWRITE
	known |= MAP_DENYWRITE;
#endif
#ifdef MAP_EXECUTABLE
	known |= MAP_EXECUTABLE;
#endif
#ifdef MAP_LOCKED
	known |= MAP_LOCKED;
#endif
#ifdef MAP_HUGETLB
	known |= MAP_HUGETLB;
#endif
#ifdef MAP_SYNC
	known |= MAP_SYNC;
#endif
	return known;
}

/* A mapping mwpm has just handed out becomes ours (M1). */
static void *
note_ours (void *p, size_t len, bool at_hint, bool hinted)
{
	Span s;
	span_of ((uintptr_t)p, len, &s);
	mono_spin_lock (&lock);
	set_ours (s, true);
	stats.maps++;
	stats.hints_honoured += at_hint;
	stats.hints_elsewhere += hinted && !at_hint;
	mono_spin_unlock (&lock);
	return p;
}

/* MAP_FIXED at a (aligned; pages s): replaces our mappings there, claims free pages. */
static void *
map_fixed (uintptr_t a, Span s)
{
	size_t bytes = (s.end - s.first) * (size_t)PAGE;
	mono_spin_lock (&lock);
	size_t replaced = count_ours (s);
	void *p = mwpm_remap_at ((void *)a, bytes, MWPM_ZEROED, held_here, NULL);
	if (p) {
		set_ours (s, true);
		stats.maps++;
		stats.fixed_maps++;
		stats.fixed_pages_replaced += replaced;
	}
	mono_spin_unlock (&lock);
	/* mwpm says EEXIST where others hold memory: MAP_FIXED cannot replace that. */
	return p ? p : refuse_map (ENOMEM);
}

/* MAP_FIXED_NOREPLACE at a: only where nothing is. */
static void *
map_noreplace (uintptr_t a, Span s)
{
	size_t bytes = (s.end - s.first) * (size_t)PAGE;
	mono_spin_lock (&lock);
	void *p = count_ours (s) ? NULL : mwpm_alloc_at ((void *)a, bytes, MWPM_ZEROED);
	int err = p ? 0 : count_ours (s) ? EEXIST : errno;
	if (p) {
		set_ours (s, true);
		stats.maps++;
		stats.fixed_maps++;
	}
	mono_spin_unlock (&lock);
	return p ? p : refuse_map (err);
}

void *
mwpm_mmap (void *addr, size_t len, int prot, int flags, off_t off)
{
	(void)prot; /* wasm has no page protection */
	int type = flags & MAP_TYPE;
	/* The offset as musl checks it (anonymous mappings ignore it otherwise). */
	if (len == 0 || off < 0 || off % 4096 != 0 ||
	    (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE))
		return refuse_map (EINVAL);
	if (type == MAP_SHARED_VALIDATE && (flags & ~known_map_flags ()))
		return refuse_map (EOPNOTSUPP);
	if ((uint64_t)len > MWPM_SPACE_BYTES - UNIT)
		return refuse_map (ENOMEM);
	uintptr_t a = (uintptr_t)addr;
	Span s;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		/* Linux's order: a range past the address space is ENOMEM, then an unaligned one EINVAL. */
		uint64_t misalign = a >= base () ? (uint64_t)(a - base ()) % UNIT : 0;
		if (a < base () || !span_of (a - (uintptr_t)misalign, len + (size_t)misalign, &s))
			return refuse_map (ENOMEM);
		if (misalign)
			return refuse_map (EINVAL);
		return flags & MAP_FIXED_NOREPLACE ? map_noreplace (a, s) : map_fixed (a, s);
	}
	size_t bytes = (size_t)(((uint64_t)len + UNIT - 1) / UNIT * UNIT);
	/* The hint, where mwpm can place the mapping there; anywhere else otherwise. */
	void *p = NULL;
	if (addr && unit_aligned (a) && span_of (a, bytes, &s))
		p = mwpm_alloc_at (addr, bytes, MWPM_ZEROED);
	bool at_hint = p != NULL;
	if (!p)
		p = UNIT > PAGE ? mwpm_alloc_aligned (bytes, (size_t)UNIT, MWPM_ZEROED) : mwpm_alloc_range (bytes, MWPM_ZEROED);
	if (!p)
		return refuse_map (ENOMEM);
	return note_ours (p, bytes, at_hint, addr != NULL);
}

/* ---- munmap, madvise, mprotect ---- */

static int
refuse_call (uint64_t *counter, int err)
{
	mono_spin_lock (&lock);
	(*counter)++;
	mono_spin_unlock (&lock);
	errno = err;
	return -1;
}

int
mwpm_munmap (void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	Span s;
	if (len == 0 || !unit_aligned (a) || !span_of (a, len, &s))
		return refuse_call (&stats.unmap_refused, EINVAL);
	size_t p = s.first, run, freed = 0;
	mono_spin_lock (&lock);
	/* Each run of our pages leaves `ours` under the lock, then goes back to mwpm. */
	while (next_run (&p, s.end, &run)) {
		set_ours ((Span){ run, p }, false);
		freed += p - run;
		mono_spin_unlock (&lock);
		mwpm_free_range (page_addr (run), (p - run) * (size_t)PAGE);
		mono_spin_lock (&lock);
	}
	stats.unmaps++;
	stats.unmap_pages += freed;
	stats.unmap_noop += freed == 0;
	mono_spin_unlock (&lock);
	return 0;
}

static bool
known_advice (int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
#ifdef MADV_FREE
	case MADV_FREE:
#endif
#ifdef MADV_REMOVE
	case MADV_REMOVE:
#endif
#ifdef MADV_DONTFORK
	case MADV_DONTFORK:
	case MADV_DOFORK:
#endif
#ifdef MADV_MERGEABLE
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
#endif
#ifdef MADV_HUGEPAGE
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
#endif
#ifdef MADV_DONTDUMP
	case MADV_DONTDUMP:
	case MADV_DODUMP:
#endif
#ifdef MADV_WIPEONFORK
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
#endif
#ifdef MADV_COLD
	case MADV_COLD:
	case MADV_PAGEOUT:
#endif
		return true;
	default:
		return false;
	}
}

/* The pages of [addr, addr + len) below the memory's current size, in `below`; false when part
 * of the range lies above it. */
static bool
clip_to_memory (Span s, Span *below)
{
	size_t mem_pages = (size_t)(mwpm_memory_bytes () / PAGE);
	*below = (Span){ s.first, s.end < mem_pages ? s.end : mem_pages };
	if (below->end < below->first)
		below->end = below->first;
	return s.end <= mem_pages;
}

int
mwpm_madvise (void *addr, size_t len, int advice)
{
	uintptr_t a = (uintptr_t)addr;
	Span s;
	if (!known_advice (advice) || !unit_aligned (a) || !span_of (a, len, &s))
		return refuse_call (&stats.advise_refused, EINVAL);
	if (len == 0)
		return 0;
	Span below;
	bool mapped = clip_to_memory (s, &below);
	if (advice == MADV_DONTNEED) {
		/* Linux: private anonymous pages read zero after MADV_DONTNEED. Our pages get that;
		 * other memory keeps its contents. */
		size_t p = below.first, run;
		mono_bulk_ready ((uint64_t)below.end * PAGE);
		mono_spin_lock (&lock);
		while (next_run (&p, below.end, &run)) {
			memset (page_addr (run), 0, (p - run) * (size_t)PAGE);
			stats.dontneed_pages += p - run;
		}
		mono_spin_unlock (&lock);
	}
	return mapped ? 0 : refuse_call (&stats.advise_refused, ENOMEM);
}

int
mwpm_mprotect (void *addr, size_t len, int prot)
{
	uintptr_t a = (uintptr_t)addr;
	Span s, below;
	int known = PROT_READ | PROT_WRITE | PROT_EXEC;
#if defined(PROT_GROWSDOWN) && defined(PROT_GROWSUP)
	known |= PROT_GROWSDOWN | PROT_GROWSUP;
#endif
	/* Linux's order: alignment, length 0, a wrapping range, the bits, the range's pages. */
	if (!unit_aligned (a))
		return refuse_call (&stats.advise_refused, EINVAL);
	if (len == 0)
		return 0;
	if (!span_of (a, len, &s))
		return refuse_call (&stats.advise_refused, ENOMEM);
	if (prot & ~known)
		return refuse_call (&stats.advise_refused, EINVAL);
	if (!clip_to_memory (s, &below))
		return refuse_call (&stats.advise_refused, ENOMEM);
	return 0;
}

/* ---- What the drop-in tells ---- */

int
mwpm_mmap_owns (const void *addr)
{
	uintptr_t a = (uintptr_t)addr, b = base ();
	if (a < b || (uint64_t)(a - b) >= MWPM_SPACE_BYTES)
		return 0;
	mono_spin_lock (&lock);
	int owned = page_ours ((size_t)((a - b) / PAGE));
	mono_spin_unlock (&lock);
	return owned;
}

void
mwpm_mmap_get_stats (MwpmMmapStats *out)
{
	mono_spin_lock (&lock);
	*out = stats;
	mono_spin_unlock (&lock);
}

typedef struct {
	size_t problems;
} CheckState;

/* M1 over one run of mwpm's table: our pages must be in use. Lock held. */
static void
check_run (const MwpmRun *run, void *ctx)
{
	CheckState *c = ctx;
	if (run->state == MWPM_PAGE_IN_USE)
		return;
	for (size_t p = run->first_page; p < run->first_page + run->page_count; p++) {
		if (p % 64 == 0 && !ours[p / 64] && p + 64 <= run->first_page + run->page_count) {
			p += 63; /* a word of pages none of which is ours */
			continue;
		}
		if (page_ours (p) && c->problems++ < 8)
			fprintf (stderr, "M1: page %zu is the drop-in's but %s in mwpm\n", p, mwpm_page_state_name (run->state));
	}
}

int
mwpm_mmap_check (void)
{
	CheckState c = { 0 };
	/* mwpm_walk_runs calls back without mwpm's lock; this lock keeps `ours` still meanwhile
	 * (nothing here calls the drop-in). Printing under it is fine: no other lock is held. */
	mono_spin_lock (&lock);
	mwpm_walk_runs (0, ours_top, check_run, &c);
	mono_spin_unlock (&lock);
	return (int)c.problems;
}

void
mwpm_mmap_reset_for_tests (void)
{
	mono_spin_lock (&lock);
	memset (ours, 0, sizeof ours);
	ours_top = 0;
	memset (&stats, 0, sizeof stats);
	mono_spin_unlock (&lock);
}

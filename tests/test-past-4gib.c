/*
 * test-past-4gib.c: the mmap drop-in (libmwpm-mmap.a) on a 64-bit linear memory, past 4 GiB.
 * Built where mwpm manages more than 4 GiB (MWPM_SPACE_BYTES): wasm64.
 *
 * The program maps six 1 GiB mappings and writes three pages of each (so the process holds a few
 * MiB, not 6 GiB), then:
 *   - unmaps 256 MiB straddling the 4 GiB boundary, and parts of the mappings above it (a middle
 *     run and a tail);
 *   - maps again over the straddling hole at its address (a hint, honoured), and over a hole above
 *     4 GiB with MAP_FIXED, and once with no address;
 *   - checks after every step: what was written where it must still be, zeroes where a page was
 *     written and then unmapped and mapped again, ownership (mwpm_mmap_owns) of every mapping and
 *     hole, both invariant checks (mwpm's and the drop-in's);
 *   - and that the resident linear memory grew by about the pages written (under node: smaps),
 *     never by the mappings' size.
 * It prints one line of figures (mapped, resident, time) for docs/wasm64.md.
 */
#include "mono-config.h"
#include "mono-wasm-pagemgr.h"
#include "mwpm-mmap.h"
#include "tap.h"
#include "usage.h"
#include "test-clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GIB ((uint64_t)1 << 30)
#define MIB ((uint64_t)1 << 20)
#define MAPS 6

_Static_assert (MWPM_SPACE_BYTES > 4 * GIB + MAPS * GIB, "built only where mwpm manages more than 4 GiB");
_Static_assert (sizeof (void *) == 8, "a 64-bit target");

static char *maps[MAPS];
static uint64_t pages_written;
static size_t pg;

/* The offset of p in linear memory (addresses natively are offsets from mwpm's base). */
static uint64_t
off_of (const void *p)
{
	return (uint64_t)((uintptr_t)p - mwpm_memory_base ());
}

static char *
at_offset (uint64_t off)
{
	return (char *)(mwpm_memory_base () + (uintptr_t)off);
}

/* The three pages written in each mapping: first, middle, last. */
static uint64_t
probe (int m, int k)
{
	uint64_t offs[3] = {0, GIB / 2, GIB - pg};
	return off_of (maps[m]) + offs[k];
}

static unsigned char
pattern (int m, int k)
{
	return (unsigned char)(0x41 + m * 3 + k);
}

static bool
page_is (uint64_t off, unsigned char v)
{
	const unsigned char *p = (const unsigned char *)at_offset (off);
	for (size_t i = 0; i < pg; i += 509)
		if (p[i] != v)
			return false;
	return p[pg - 1] == v;
}

static bool
in_range (uint64_t off, uint64_t lo, uint64_t len)
{
	return off >= lo && off - lo < len;
}

static int
checks_pass (void)
{
	return mwpm_check_invariants () == 0 && mwpm_mmap_check () == 0;
}

/* A region unmapped by the test, for the probes' expectations. */
typedef struct {
	uint64_t lo, len;
} Hole;

static Hole holes[8];
static int nholes;

static bool
probe_unmapped (uint64_t off)
{
	for (int i = 0; i < nholes; i++)
		if (in_range (off, holes[i].lo, holes[i].len))
			return true;
	return false;
}

/* Every probe outside the holes still holds its pattern and belongs to the drop-in; every probe
 * inside one is not ours. */
static int
probes_hold (const char *when)
{
	for (int m = 0; m < MAPS; m++)
		for (int k = 0; k < 3; k++) {
			uint64_t off = probe (m, k);
			if (probe_unmapped (off)) {
				if (mwpm_mmap_owns (at_offset (off))) {
					tap_diag ("%s: mapping %d page %d at 0x%llx is unmapped but still owned", when, m, k,
						  (unsigned long long)off);
					return 1;
				}
			} else if (!mwpm_mmap_owns (at_offset (off)) || !page_is (off, pattern (m, k))) {
				tap_diag ("%s: mapping %d page %d at 0x%llx lost its contents or its owner", when, m, k,
					  (unsigned long long)off);
				return 1;
			}
		}
	return 0;
}

static int
unmap_hole (uint64_t lo, uint64_t len)
{
	T_CHECK (munmap (at_offset (lo), len) == 0, "munmap of 0x%llx + %llu MiB: errno %d", (unsigned long long)lo,
		 (unsigned long long)(len / MIB), errno);
	holes[nholes++] = (Hole){lo, len};
	for (uint64_t o = lo; o < lo + len; o += 16 * MIB)
		T_CHECK (!mwpm_mmap_owns (at_offset (o)), "0x%llx still owned after munmap", (unsigned long long)o);
	return 0;
}

/* Every probe page of the holes inside [lo, lo + len) reads zero: memory mapped again there
 * is zero, whatever was written before. */
static int
probes_zero_in (uint64_t lo, uint64_t len)
{
	for (int m = 0; m < MAPS; m++)
		for (int k = 0; k < 3; k++) {
			uint64_t off = probe (m, k);
			if (in_range (off, lo, len))
				T_CHECK (page_is (off, 0), "page 0x%llx written before the munmap is not zero when mapped again",
					 (unsigned long long)off);
		}
	return 0;
}

static int
case_past_4gib (void)
{
	/* The drop-in's unit: the page size emscripten reports (64 KiB), or mwpm's where larger. */
	pg = MWPM_PAGE_SIZE > 65536 ? MWPM_PAGE_SIZE : 65536;
	int64_t resident0 = usage_resident_linear ();
	double t0 = test_now_ms ();
	for (int m = 0; m < MAPS; m++) {
		maps[m] = mmap (NULL, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		T_CHECK (maps[m] != MAP_FAILED, "mapping %d of 1 GiB: errno %d", m, errno);
		T_CHECK (mwpm_mmap_owns (maps[m]) && mwpm_mmap_owns (maps[m] + GIB - 1), "mapping %d is the drop-in's", m);
		for (int k = 0; k < 3; k++) {
			memset (at_offset (probe (m, k)), pattern (m, k), pg);
			pages_written++;
		}
	}
	double t_map = test_now_ms () - t0;
	uint64_t top = 0;
	for (int m = 0; m < MAPS; m++)
		if (off_of (maps[m]) + GIB > top)
			top = off_of (maps[m]) + GIB;
	T_CHECK (top > 4 * GIB + GIB, "six GiB reach past 5 GiB (top 0x%llx)", (unsigned long long)top);
	T_CHECK (checks_pass (), "invariants after mapping");
	T_CHECK (probes_hold ("mapped") == 0, "patterns after mapping");

	/* 256 MiB across the 4 GiB boundary: part of one mapping below it and of one above it, or the
	 * middle of one that straddles it. */
	uint64_t straddle = 4 * GIB - 128 * MIB;
	T_CHECK (mwpm_mmap_owns (at_offset (straddle)) && mwpm_mmap_owns (at_offset (4 * GIB)), "both sides of 4 GiB mapped");
	/* The probes there, written before the unmap, must read zero when mapped again: write one
	 * on each side first. */
	memset (at_offset (straddle), 0x5a, pg);
	memset (at_offset (4 * GIB), 0x5b, pg);
	pages_written += 2;
	T_CHECK (unmap_hole (straddle, 256 * MIB) == 0, "unmap across 4 GiB");
	T_CHECK (checks_pass (), "invariants after the unmap across 4 GiB");
	T_CHECK (probes_hold ("unmapped across 4 GiB") == 0, "patterns after the unmap across 4 GiB");

	/* Parts of the mappings above 5 GiB: a middle run of the one holding 5 GiB + 512 MiB, and
	 * the tail of the highest. */
	int hi = 0;
	for (int m = 0; m < MAPS; m++)
		if (off_of (maps[m]) > off_of (maps[hi]))
			hi = m;
	uint64_t mid = off_of (maps[hi]) + GIB / 2 - 64 * MIB;
	T_CHECK (unmap_hole (mid, 128 * MIB) == 0, "unmap of a middle run above 4 GiB");
	uint64_t tail = off_of (maps[hi]) + GIB - 192 * MIB;
	T_CHECK (unmap_hole (tail, 192 * MIB) == 0, "unmap of a tail above 4 GiB");
	T_CHECK (checks_pass (), "invariants after the unmaps above 4 GiB");
	T_CHECK (probes_hold ("unmapped above 4 GiB") == 0, "patterns after the unmaps above 4 GiB");

	/* Mapped again: at the straddling hole's address (a hint, honoured where it is free), over the
	 * middle hole with MAP_FIXED, and once with no address. */
	char *a = mmap (at_offset (straddle), 256 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_CHECK (a == at_offset (straddle), "the hint across 4 GiB was honoured (got 0x%llx)",
		 (unsigned long long)(a == MAP_FAILED ? 0 : off_of (a)));
	T_CHECK (page_is (straddle, 0) && page_is (4 * GIB, 0), "pages written before the unmap read zero");
	T_CHECK (probes_zero_in (straddle, 256 * MIB) == 0, "probes across 4 GiB read zero");
	char *f = mmap (at_offset (mid), 128 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	T_CHECK (f == at_offset (mid), "MAP_FIXED over the middle hole above 4 GiB: errno %d", errno);
	T_CHECK (probes_zero_in (mid, 128 * MIB) == 0, "probes of the middle hole read zero");
	nholes = 1; /* the straddling and middle holes are mapped again; the tail stays unmapped */
	holes[0] = (Hole){tail, 192 * MIB};
	char *n = mmap (NULL, 64 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	T_CHECK (n != MAP_FAILED && mwpm_mmap_owns (n), "a mapping with no address: errno %d", errno);
	memset (n + 64 * MIB - pg, 0x77, pg);
	pages_written++;
	T_CHECK (checks_pass (), "invariants after mapping again");

	/* Overwrite the probes the remaps zeroed (their patterns are expected again). */
	for (int m = 0; m < MAPS; m++)
		for (int k = 0; k < 3; k++)
			if (!probe_unmapped (probe (m, k)) && page_is (probe (m, k), 0))
				memset (at_offset (probe (m, k)), pattern (m, k), pg);
	T_CHECK (probes_hold ("mapped again") == 0, "patterns after mapping again");
	double t_all = test_now_ms () - t0;

	int64_t resident1 = usage_resident_linear ();
	MwpmStats s;
	mwpm_get_stats (&s);
	uint64_t mapped = (uint64_t)s.pages_in_use * s.page_size;
	tap_diag ("past 4 GiB: %llu MiB mapped in use, span end at %.2f GiB, linear memory %.2f GiB; %llu pages "
		  "written (%llu KiB); resident linear memory %+.1f MiB; %.1f ms to map 6 GiB, %.1f ms in all; "
		  "dirty bytes made zero by mwpm %llu KiB, %llu KiB of them found zero (not written)",
		  (unsigned long long)(mapped / MIB), (double)s.span_end_page * s.page_size / GIB,
		  (double)mwpm_memory_bytes () / GIB, (unsigned long long)pages_written,
		  (unsigned long long)(pages_written * pg / 1024),
		  resident0 >= 0 && resident1 >= 0 ? (double)(resident1 - resident0) / MIB : 0.0, t_map, t_all,
		  (unsigned long long)(s.bytes_zeroed / 1024), (unsigned long long)(s.bytes_found_zero / 1024));
	if (resident0 >= 0 && resident1 >= 0) {
		/* The pages written (each a 64 KiB wasm page at most), mwpm's table and index for the
		 * pages it grew over, and the runtime's own allocations: far below any mapping. */
		uint64_t allowed = pages_written * pg + 24 * MIB;
		T_CHECK ((uint64_t)(resident1 - resident0) <= allowed,
			 "resident memory grew by %.1f MiB, more than the %.1f MiB written and metadata",
			 (double)(resident1 - resident0) / MIB, (double)allowed / MIB);
	}

	for (int m = 0; m < MAPS; m++)
		munmap (maps[m], GIB);
	munmap (n, 64 * MIB);
	T_CHECK (checks_pass (), "invariants after unmapping everything");
	T_CHECK (!mwpm_mmap_owns (at_offset (4 * GIB)), "nothing owned at 4 GiB at the end");
	return 0;
}

int
main (void)
{
	tap_case ("six GiB mapped, unmapped across 4 GiB and above it, mapped again", case_past_4gib);
	return tap_done ();
}

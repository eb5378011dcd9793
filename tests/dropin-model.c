/*
 * dropin-model.c: the model-based random test of the drop-in's anonymous mappings (see
 * dropin-model.h).
 *
 * Model state, per unit of the address space (independent of mwpm's and the drop-in's own):
 *   U_MAPPED    the model mapped it (canaries at both ends, or zero after MADV_DONTNEED)
 *   U_UNMAPPED  the model unmapped it: its pages are free in mwpm
 *   U_OTHER     another user of mwpm holds it (the model, through mwpm_alloc_aligned: canaries)
 *   U_FOREIGN   another sbrk caller's memory (the model, acting as one: a fill byte)
 *   U_STATIC    below the break when the run began: static data, the stack, malloc's heap
 *   U_UNKNOWN   never seen: free in mwpm, above its memory, or (on wasm) another caller's
 * What each call must do follows from the states of the units it covers; where a unit is
 * unknown, either outcome is allowed, but never a change to a unit the model knows.
 */
#include "dropin-model.h"

#include "mono-wasm-pagemgr.h"
#include "mwpm-mmap.h"
#include "mwpm-test-hooks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE ((uint64_t)MWPM_PAGE_SIZE)
#define UNIT (PAGE > 65536 ? PAGE : (uint64_t)65536)
#define PPU (UNIT / PAGE) /* mwpm pages per unit */
#define UNITS ((uint32_t)(MWPM_SPACE_BYTES / UNIT))
#define RING 128
#define MAX_OTHERS 128

enum { U_UNKNOWN = 0, U_MAPPED, U_UNMAPPED, U_OTHER, U_FOREIGN, U_STATIC, U_STATES };
static const char *const state_names[U_STATES] = { "unknown", "mapped", "unmapped", "other's", "foreign", "static" };

typedef struct {
	uint32_t first, count;
} Other;

static uint8_t u_state[UNITS];
static uint8_t u_zero[UNITS];   /* a mapped unit that reads zero at its canary places */
static uint32_t u_id[UNITS];
static uint8_t u_fill[UNITS];   /* a foreign unit's fill byte (0: partly foreign, not filled) */
static uint32_t ring_mapped[RING], ring_unmapped[RING], ring_foreign[RING];
static unsigned n_mapped_ring, n_unmapped_ring, n_foreign_ring;
static Other others[MAX_OTHERS];
static unsigned n_others;
static uint64_t mapped_units, other_units, op, next_id;
static uintptr_t base;
static uint32_t static_units;
static uint32_t u_top; /* every unit the model ever knew of lies below it */
static uint64_t hold_limit;
static const ModelConfig *conf;

#define FAIL(...)                                                                                       \
	do {                                                                                            \
		printf ("# drop-in model failure: seed %" PRIu64 ", operation %" PRIu64 ": ", conf->seed, op); \
		printf (__VA_ARGS__);                                                                   \
		printf ("\n");                                                                          \
		fflush (stdout);                                                                        \
		return 1;                                                                               \
	} while (0)

static void *
unit_addr (uint64_t u)
{
	return (void *)(base + (uintptr_t)(u * UNIT));
}

static uint64_t *
unit_word (uint32_t u, uint64_t byte)
{
	return (uint64_t *)(base + (uintptr_t)(u * UNIT + byte));
}

static uint64_t
canary (uint32_t id, uint32_t u)
{
	uint64_t z = ((uint64_t)id << 32 | u) * 0x9e3779b97f4a7c15ull;
	return z ^ (z >> 31) ^ 0xc2b2ae35u;
}

static void
write_canaries (uint32_t u, uint32_t id)
{
	u_id[u] = id;
	u_zero[u] = 0;
	*unit_word (u, 0) = canary (id, u);
	*unit_word (u, UNIT - 8) = ~canary (id, u);
}

/* A mapped or other unit holds what the model last put there. */
static int
check_unit (uint32_t u)
{
	if (u_state[u] == U_MAPPED || u_state[u] == U_OTHER) {
		uint64_t want = u_zero[u] ? 0 : canary (u_id[u], u), want_end = u_zero[u] ? 0 : ~canary (u_id[u], u);
		if (*unit_word (u, 0) != want || *unit_word (u, UNIT - 8) != want_end)
			FAIL ("%s unit %u (id %u) lost its contents", state_names[u_state[u]], u, u_id[u]);
	} else if (u_state[u] == U_FOREIGN && u_fill[u]) {
		const uint8_t *b = unit_addr (u);
		if (b[0] != u_fill[u] || b[UNIT - 1] != u_fill[u])
			FAIL ("foreign unit %u was overwritten", u);
	}
	return 0;
}

static int
check_units (uint64_t first, uint64_t end)
{
	for (uint64_t u = first; u < end && u < UNITS; u++)
		if (check_unit ((uint32_t)u))
			return 1;
	return 0;
}

/* Every unit of a new mapping reads zero: three words each, now and then all of it. */
static int
check_zero (ModelSource *src, uint32_t first, uint32_t count)
{
	for (uint32_t u = first; u < first + count; u++) {
		uint64_t w = src->next (src, UNIT / 8) * 8;
		if (*unit_word (u, 0) || *unit_word (u, UNIT - 8) || *unit_word (u, w))
			FAIL ("unit %u of a new mapping does not read zero", u);
		if (src->next (src, 64) == 0) {
			for (uint64_t b = 0; b < UNIT; b += 8)
				if (*unit_word (u, b))
					FAIL ("unit %u byte %" PRIu64 " of a new mapping is not zero", u, b);
		}
	}
	return 0;
}

/* How many units of [first, first + n) are in each state. */
typedef struct {
	uint32_t n[U_STATES];
} Census;

static Census
census (uint64_t first, uint64_t n)
{
	Census c = { { 0 } };
	for (uint64_t u = first; u < first + n; u++)
		c.n[u < UNITS ? u_state[u] : U_UNKNOWN]++;
	return c;
}

static bool
held_by_others (const Census *c)
{
	return c->n[U_OTHER] || c->n[U_FOREIGN] || c->n[U_STATIC];
}

/* mwpm's pages in use are exactly the mapped units and the others'. */
static int
check_pages_in_use (void)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	if (s.pages_in_use != (mapped_units + other_units) * PPU)
		FAIL ("mwpm has %zu pages in use; the model maps %" PRIu64 " units and others hold %" PRIu64 " (%" PRIu64 " pages each)",
		      s.pages_in_use, mapped_units, other_units, (uint64_t)PPU);
	return 0;
}

static void
remember (uint32_t *ring, unsigned *n, uint32_t u)
{
	ring[(*n)++ % RING] = u;
}

static uint32_t
recall (ModelSource *src, const uint32_t *ring, unsigned n)
{
	return n ? ring[src->next (src, n < RING ? n : RING)] : (uint32_t)src->next (src, UNITS);
}

/* An address to aim a call at: where the model mapped, unmapped, others hold, foreign memory,
 * static data, the top of mwpm's memory, anywhere, or near the end of the space. */
static uint32_t
pick_unit (ModelSource *src)
{
	MwpmStats s;
	switch (src->next (src, 10)) {
	case 0:
	case 1:
		return recall (src, ring_mapped, n_mapped_ring) + (uint32_t)src->next (src, 2);
	case 2:
	case 3:
		return recall (src, ring_unmapped, n_unmapped_ring);
	case 4:
		return n_others ? others[src->next (src, n_others)].first + (uint32_t)src->next (src, 2) : 0;
	case 5:
		return recall (src, ring_foreign, n_foreign_ring);
	case 6:
		return static_units ? (uint32_t)src->next (src, static_units) : 0;
	case 7:
		mwpm_get_stats (&s);
		return (uint32_t)(s.span_end_page / PPU) - (uint32_t)src->next (src, 3);
	case 8:
		return UNITS - 1 - (uint32_t)src->next (src, 4);
	default:
		return (uint32_t)src->next (src, UNITS);
	}
}

/* A length of n units, as a program would write it: a byte count that rounds up to them. */
static size_t
bytes_for (ModelSource *src, uint64_t n)
{
	return (size_t)(n * UNIT - src->next (src, UNIT));
}

static uint64_t
pick_units (ModelSource *src)
{
	uint64_t r = src->next (src, 100);
	return r < 70 ? 1 + src->next (src, 4) : r < 97 ? 1 + src->next (src, 24) : 1 + src->next (src, 160);
}

/* A range of units for a call: a place, then a length; false when it runs past the model's units
 * (the call is not made: lengths past the space are drawn by their own operation). */
static bool
pick_range (ModelSource *src, uint32_t *at, uint64_t *n)
{
	*at = pick_unit (src);
	*n = pick_units (src);
	return *at < UNITS && *n <= UNITS - *at;
}

/* The model's side of a mapping the drop-in made at units [first, first + n). */
static int
note_mapped (ModelSource *src, uint32_t first, uint64_t n)
{
	if (check_zero (src, first, (uint32_t)n))
		return 1;
	uint32_t id = (uint32_t)++next_id;
	for (uint32_t u = first; u < first + n; u++) {
		mapped_units += u_state[u] != U_MAPPED;
		u_state[u] = U_MAPPED;
		u_top = u >= u_top ? (uint32_t)u + 1 : u_top;
		write_canaries (u, id);
	}
	remember (ring_mapped, &n_mapped_ring, first);
	return 0;
}

static int
do_map (ModelSource *src, DropinCounts *k, bool hinted)
{
	uint64_t n = pick_units (src);
	if (mapped_units + other_units + n > hold_limit)
		return 0;
	uint32_t hint = hinted ? pick_unit (src) : 0;
	void *addr = hinted ? unit_addr (hint) : NULL;
	if (hinted && src->next (src, 8) == 0)
		addr = (char *)addr + 1 + src->next (src, UNIT - 1); /* unaligned: ignored */
	errno = 0;
	char *p = mwpm_mmap (addr, bytes_for (src, n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (p == MAP_FAILED)
		FAIL ("mmap of %" PRIu64 " units (hint %p) failed with errno %d", n, addr, errno);
	uintptr_t off = (uintptr_t)p - base;
	if (off % UNIT || off / UNIT + n > UNITS)
		FAIL ("mmap returned %p: not a unit of the space", (void *)p);
	uint32_t first = (uint32_t)(off / UNIT);
	Census c = census (first, n);
	if (c.n[U_MAPPED] || held_by_others (&c))
		FAIL ("mmap of %" PRIu64 " units at unit %u covers %u mapped, %u other's, %u foreign, %u static units", n, first,
		      c.n[U_MAPPED], c.n[U_OTHER], c.n[U_FOREIGN], c.n[U_STATIC]);
	if (hinted && ((uintptr_t)addr - base) % UNIT == 0 && hint + n <= UNITS) {
		Census h = census (hint, n);
		bool free_there = h.n[U_UNMAPPED] == n;
		k->hinted++;
		if (free_there && (void *)p != addr)
			FAIL ("a hint at %" PRIu64 " unmapped units (unit %u) went elsewhere (unit %u)", n, hint, first);
		if ((h.n[U_MAPPED] || held_by_others (&h)) && (void *)p == addr)
			FAIL ("a hint over units in use (unit %u) was taken", hint);
		k->at_hint += (void *)p == addr;
	}
	k->maps++;
	return note_mapped (src, first, n);
}

/* MAP_FIXED (or _NOREPLACE) at a picked unit. */
static int
do_fixed (ModelSource *src, DropinCounts *k, bool noreplace)
{
	uint32_t at;
	uint64_t n;
	if (!pick_range (src, &at, &n) || mapped_units + other_units + n > hold_limit)
		return 0;
	Census c = census (at, n);
	MwpmStats before, after;
	MwpmMmapStats ms0, ms1;
	mwpm_get_stats (&before);
	mwpm_mmap_get_stats (&ms0);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
	errno = 0;
	char *p = mwpm_mmap (unit_addr (at), bytes_for (src, n), PROT_READ | PROT_WRITE, flags, 0);
	int err = errno;
	mwpm_get_stats (&after);
	mwpm_mmap_get_stats (&ms1);
	const char *what = noreplace ? "MAP_FIXED_NOREPLACE" : "MAP_FIXED";
	bool occupied = c.n[U_MAPPED] || held_by_others (&c);
	if (p == MAP_FAILED) {
		if (!noreplace && !held_by_others (&c) && c.n[U_MAPPED] + c.n[U_UNMAPPED] == n)
			FAIL ("%s over %u mapped and %u unmapped units (unit %u) failed with errno %d", what, c.n[U_MAPPED], c.n[U_UNMAPPED], at,
			      err);
		if (noreplace && c.n[U_UNMAPPED] == n)
			FAIL ("%s over %" PRIu64 " unmapped units (unit %u) failed with errno %d", what, n, at, err);
		if (!noreplace && err != ENOMEM)
			FAIL ("%s (unit %u) failed with errno %d, not ENOMEM", what, at, err);
		if (noreplace && occupied && err != EEXIST)
			FAIL ("%s where something is (unit %u) failed with errno %d, not EEXIST", what, at, err);
		if (noreplace && err != EEXIST && err != ENOMEM)
			FAIL ("%s failed with errno %d", what, err);
		if (after.pages_in_use != before.pages_in_use || after.bytes_zeroed != before.bytes_zeroed)
			FAIL ("a refused %s changed the pages in use or zeroed memory", what);
		k->fixed_refused++;
		k->noreplace_eexist += err == EEXIST;
		return check_units (at, at + n);
	}
	if (p != unit_addr (at))
		FAIL ("%s at unit %u returned %p", what, at, (void *)p);
	if (held_by_others (&c))
		FAIL ("%s at unit %u took %u other's, %u foreign or %u static units", what, at, c.n[U_OTHER], c.n[U_FOREIGN], c.n[U_STATIC]);
	if (noreplace && c.n[U_MAPPED])
		FAIL ("%s at unit %u replaced %u mapped units", what, at, c.n[U_MAPPED]);
	if (ms1.fixed_pages_replaced - ms0.fixed_pages_replaced != c.n[U_MAPPED] * PPU)
		FAIL ("%s replaced %" PRIu64 " pages, the model %" PRIu64, what, ms1.fixed_pages_replaced - ms0.fixed_pages_replaced,
		      (uint64_t)c.n[U_MAPPED] * PPU);
	k->fixed++;
	k->fixed_replaced += c.n[U_MAPPED];
	return note_mapped (src, at, n);
}

static int
do_unmap (ModelSource *src, DropinCounts *k)
{
	uint32_t at;
	uint64_t n;
	if (!pick_range (src, &at, &n))
		return 0;
	Census c = census (at, n);
	MwpmMmapStats ms0, ms1;
	mwpm_mmap_get_stats (&ms0);
	errno = 0;
	if (mwpm_munmap (unit_addr (at), bytes_for (src, n)) != 0)
		FAIL ("munmap of %" PRIu64 " units at unit %u failed with errno %d", n, at, errno);
	mwpm_mmap_get_stats (&ms1);
	if (ms1.unmap_pages - ms0.unmap_pages != c.n[U_MAPPED] * PPU)
		FAIL ("munmap at unit %u gave back %" PRIu64 " pages; the model mapped %u units there", at, ms1.unmap_pages - ms0.unmap_pages,
		      c.n[U_MAPPED]);
	for (uint32_t u = at; u < at + n; u++) {
		if (u_state[u] == U_MAPPED) {
			u_state[u] = U_UNMAPPED;
			mapped_units--;
			remember (ring_unmapped, &n_unmapped_ring, u);
		}
	}
	k->unmaps++;
	k->unmap_partial += c.n[U_MAPPED] && c.n[U_MAPPED] < n;
	return check_units (at > 0 ? at - 1 : 0, at + n + 1);
}

static int
do_dontneed (ModelSource *src, DropinCounts *k)
{
	uint32_t at;
	uint64_t n;
	if (!pick_range (src, &at, &n))
		return 0;
	uint64_t mem_units = mwpm_memory_bytes () / UNIT;
	errno = 0;
	int rc = mwpm_madvise (unit_addr (at), bytes_for (src, n), MADV_DONTNEED);
	bool above = at + n > mem_units;
	if (above ? rc != -1 || errno != ENOMEM : rc != 0)
		FAIL ("madvise of units [%u, +%" PRIu64 ") (memory: %" PRIu64 " units): %d, errno %d", at, n, mem_units, rc, errno);
	for (uint32_t u = at; u < at + n && u < mem_units; u++) {
		if (u_state[u] == U_MAPPED)
			u_zero[u] = 1;
	}
	k->dontneed++;
	if (check_units (at > 0 ? at - 1 : 0, at + n + 1))
		return 1;
	/* Written again, as a program would. */
	for (uint32_t u = at; u < at + n && u < mem_units; u++)
		if (u_state[u] == U_MAPPED && src->next (src, 2))
			write_canaries (u, u_id[u]);
	return 0;
}

static int
do_protect (ModelSource *src, DropinCounts *k)
{
	uint32_t at;
	uint64_t n;
	if (!pick_range (src, &at, &n))
		return 0;
	uint64_t mem_units = mwpm_memory_bytes () / UNIT;
	errno = 0;
	int rc = mwpm_mprotect (unit_addr (at), bytes_for (src, n), PROT_READ);
	if (at + n > mem_units ? rc != -1 || errno != ENOMEM : rc != 0)
		FAIL ("mprotect of units [%u, +%" PRIu64 "): %d, errno %d", at, n, rc, errno);
	k->protects++;
	return check_units (at, at + n);
}

/* Another user of mwpm takes whole units (as malloc's segments or a GC's blocks would), or gives
 * them back. */
static int
do_other (ModelSource *src, DropinCounts *k)
{
	if (n_others && (n_others == MAX_OTHERS || src->next (src, 2))) {
		unsigned i = (unsigned)src->next (src, n_others);
		Other o = others[i];
		if (check_units (o.first, o.first + o.count))
			return 1;
		if (mwpm_free_range (unit_addr (o.first), (size_t)(o.count * UNIT)) != 0)
			FAIL ("mwpm_free_range of another user's units failed");
		for (uint32_t u = o.first; u < o.first + o.count; u++) {
			u_state[u] = U_UNMAPPED; /* free in mwpm, as the drop-in's unmapped units are */
			remember (ring_unmapped, &n_unmapped_ring, u);
		}
		other_units -= o.count;
		others[i] = others[--n_others];
		return 0;
	}
	uint64_t n = 1 + src->next (src, 8);
	if (mapped_units + other_units + n > hold_limit)
		return 0;
	char *p = mwpm_alloc_aligned ((size_t)(n * UNIT), (size_t)UNIT, 0);
	if (!p)
		FAIL ("another user's mwpm_alloc_aligned of %" PRIu64 " units failed", n);
	uint32_t first = (uint32_t)(((uintptr_t)p - base) / UNIT);
	Census c = census (first, n);
	if (c.n[U_MAPPED] || held_by_others (&c))
		FAIL ("mwpm handed another user units the model knows in use (unit %u)", first);
	uint32_t id = (uint32_t)++next_id;
	for (uint32_t u = first; u < first + n; u++) {
		u_state[u] = U_OTHER;
		u_top = u >= u_top ? (uint32_t)u + 1 : u_top;
		write_canaries (u, id);
	}
	other_units += n;
	others[n_others++] = (Other){ first, (uint32_t)n };
	k->others++;
	return 0;
}

/* Another sbrk caller takes memory at the break. */
static int
do_foreign (ModelSource *src, DropinCounts *k)
{
	MwpmPlatformInfo info;
	mwpm_platform_info (&info);
	uint64_t size = (1 + src->next (src, 3 * UNIT)) / info.sbrk_granule * info.sbrk_granule + info.sbrk_granule, off;
	if (mwpm_platform_foreign_sbrk ((int64_t)size, &off) != 0)
		return 0;
	uint8_t fill = (uint8_t)(1 + src->next (src, 255));
	memset ((void *)(base + (uintptr_t)off), fill, (size_t)size);
	for (uint64_t u = off / UNIT; u <= (off + size - 1) / UNIT; u++) {
		if (u_state[u] != U_UNKNOWN && u_state[u] != U_FOREIGN && u_state[u] != U_STATIC)
			FAIL ("another sbrk caller got unit %" PRIu64 ", which is %s", u, state_names[u_state[u]]);
		u_state[u] = U_FOREIGN;
		u_top = u >= u_top ? (uint32_t)u + 1 : u_top;
		/* Only units wholly inside the foreign memory are checked for the fill byte. */
		u_fill[u] = u * UNIT >= off && (u + 1) * UNIT <= off + size ? fill : 0;
		remember (ring_foreign, &n_foreign_ring, (uint32_t)u);
	}
	k->foreign++;
	return 0;
}

/* Calls that must be refused whole: lengths that run past the end of the space (on wasm32 such
 * lengths wrap), unaligned addresses, length 0, bad map types. Nothing may change. */
static int
do_bad_call (ModelSource *src, DropinCounts *k)
{
	uint32_t at = pick_unit (src);
	if (at >= UNITS)
		return 0;
	char *a = unit_addr (at);
	uint64_t room = MWPM_SPACE_BYTES - (uint64_t)at * UNIT;
	size_t huge;
	switch (src->next (src, 4)) {
	case 0: huge = SIZE_MAX - (size_t)src->next (src, 3 * UNIT); break;
	case 1: huge = SIZE_MAX & ~(size_t)(UNIT - 1); break;
	case 2: huge = (size_t)(room + 1 + src->next (src, 4 * UNIT)); break;
	default: huge = (size_t)(room + UNIT * (1 + src->next (src, 1000))); break;
	}
	if ((uint64_t)huge <= room)
		return 0; /* fits (a 32-bit size_t that wrapped to little): not a bad call */
	MwpmStats before, after;
	mwpm_get_stats (&before);
	int which = (int)src->next (src, 9), rc = 0, want = 0;
	void *p = NULL;
	errno = 0;
	switch (which) {
	case 0: rc = mwpm_munmap (a, huge); want = EINVAL; break;
	case 1: rc = mwpm_madvise (a, huge, MADV_DONTNEED); want = EINVAL; break;
	case 2: rc = mwpm_mprotect (a, huge, PROT_READ); want = ENOMEM; break;
	case 3: p = mwpm_mmap (a, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0); want = ENOMEM; break;
	case 4: /* no address: only a length larger than the space is bad */
		p = mwpm_mmap (NULL, SIZE_MAX - (size_t)src->next (src, UNIT - 1), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0);
		want = ENOMEM;
		break;
	case 5: rc = mwpm_munmap (a + 1 + src->next (src, UNIT - 1), UNIT); want = EINVAL; break;
	case 6: rc = mwpm_munmap (a, 0); want = EINVAL; break;
	case 7: p = mwpm_mmap (NULL, UNIT, PROT_READ, MAP_ANONYMOUS, 0); want = EINVAL; break;
	default: /* unaligned: EINVAL, unless the range runs past the space first (Linux: ENOMEM) */
		p = mwpm_mmap (a + 1 + src->next (src, UNIT - 1), UNIT, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0);
		want = at + 1 < UNITS ? EINVAL : ENOMEM;
		break;
	}
	int err = errno;
	bool failed = which == 3 || which == 4 || which == 7 || which == 8 ? p == MAP_FAILED : rc == -1;
	if (!failed || err != want)
		FAIL ("bad call %d at unit %u, length %#zx: %s, errno %d (expected %d)", which, at, huge, failed ? "refused" : "accepted",
		      err, want);
	mwpm_get_stats (&after);
	if (after.pages_in_use != before.pages_in_use || after.bytes_zeroed != before.bytes_zeroed ||
	    after.bytes_from_sbrk != before.bytes_from_sbrk)
		FAIL ("refused bad call %d changed pages", which);
	k->bad_calls++;
	k->wraps += which <= 4;
	return check_units (at, at + 64);
}

static int
full_check (DropinCounts *k)
{
	k->checks++;
	if (mwpm_mmap_check () != 0)
		FAIL ("M1: the drop-in's pages are not all in use in mwpm");
	if (mwpm_check_invariants () != 0)
		FAIL ("mwpm_check_invariants failed");
	return check_units (0, u_top);
}

static void
reset_model (void)
{
	memset (u_state, 0, sizeof u_state);
	memset (u_zero, 0, sizeof u_zero);
	memset (u_fill, 0, sizeof u_fill);
	n_mapped_ring = n_unmapped_ring = n_foreign_ring = n_others = 0;
	mapped_units = other_units = next_id = 0;
	u_top = 0;
}

int
dropin_model_run (ModelSource *src, const ModelConfig *cfg, DropinCounts *k)
{
	conf = cfg;
	memset (k, 0, sizeof *k);
	reset_model ();
	mwpm_platform_host_reset (0, 0);
	mwpm_reset_for_tests ();
	mwpm_mmap_reset_for_tests ();
	base = mwpm_memory_base ();
	/* Everything below the break now is someone else's: static data, the stack, malloc's heap. */
	uint64_t brk;
	if (mwpm_platform_break (&brk) != 0)
		FAIL ("no break");
	static_units = (uint32_t)((brk + UNIT - 1) / UNIT);
	for (uint32_t u = 0; u < static_units; u++)
		u_state[u] = U_STATIC;
	u_top = static_units;
	hold_limit = (512ull << 20) / UNIT;

	for (op = 0; op < cfg->ops && !src->exhausted; op++) {
		uint64_t r = src->next (src, 100);
		bool full = mapped_units + other_units > hold_limit * 3 / 4;
		int err;
		if (r < 18)
			err = full ? do_unmap (src, k) : do_map (src, k, false);
		else if (r < 30)
			err = do_map (src, k, true);
		else if (r < 40)
			err = do_fixed (src, k, false);
		else if (r < 45)
			err = do_fixed (src, k, true);
		else if (r < 72)
			err = do_unmap (src, k);
		else if (r < 78)
			err = do_dontneed (src, k);
		else if (r < 80)
			err = do_protect (src, k);
		else if (r < 90)
			err = do_other (src, k);
		else if (r < 91)
			err = do_foreign (src, k);
		else
			err = do_bad_call (src, k);
		if (err || check_pages_in_use ())
			return 1;
		if (cfg->check_every && op % cfg->check_every == 0 && full_check (k))
			return 1;
	}
	/* The end: everything mapped comes back, the others' too. */
	if (full_check (k))
		return 1;
	if (mwpm_munmap (unit_addr (0), (size_t)(MWPM_SPACE_BYTES - UNIT)) != 0)
		FAIL ("munmap of the whole space failed with errno %d", errno);
	for (uint32_t u = 0; u < u_top; u++) {
		if (u_state[u] == U_MAPPED) {
			u_state[u] = U_UNMAPPED;
			mapped_units--;
		}
	}
	while (n_others) {
		Other o = others[--n_others];
		mwpm_free_range (unit_addr (o.first), (size_t)(o.count * UNIT));
		for (uint32_t u = o.first; u < o.first + o.count; u++)
			u_state[u] = U_UNMAPPED;
		other_units -= o.count;
	}
	if (check_pages_in_use () || full_check (k))
		return 1;
	return 0;
}

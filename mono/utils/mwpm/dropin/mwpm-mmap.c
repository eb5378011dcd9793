/*
 * mwpm-mmap.c: libmwpm-mmap, POSIX mmap / munmap / mprotect / madvise for any emscripten C
 * program, served by mwpm (docs/drop-in.md).
 *
 * musl defines mmap, munmap, mprotect and madvise as weak symbols; these strong definitions win
 * the link. libc's own mmap and munmap stay reachable as emscripten_builtin_mmap / _munmap.
 *
 * What goes where:
 *   anonymous (MAP_ANONYMOUS, private or shared)  mwpm: aligned to the page size the program
 *                                                  sees (UNIT), zeroed only where dirty, any
 *                                                  part can be unmapped; at the address hint
 *                                                  when its pages are free in mwpm or lie at
 *                                                  the top of mwpm's memory (so that a mapping
 *                                                  can be extended in place), else anywhere
 *   MAP_FIXED over pages this library mapped       those pages are zeroed in place
 *   MAP_FIXED(_NOREPLACE) over pages free in mwpm  mapped there, as with a hint
 *   MAP_FIXED anywhere else                        ENOMEM (memory mwpm does not hold, or
 *                                                  another user's; partly ours: ENOMEM too;
 *                                                  _NOREPLACE says EEXIST; unaligned: EINVAL)
 *   file mappings                                  libc, and remembered here
 *
 * Invariants:
 *   M1  a bit of `ours` is set iff that mwpm page was handed out by mmap here and not unmapped;
 *       only those pages are ever freed or zeroed here (malloc's pages in a shared-pool build,
 *       or a GC's, are mwpm's too, and are never touched);
 *   M2  every libc mapping made through this library is in `libc_maps` with the exact address
 *       and length libc was given, and is handed back to libc only with that length: libc
 *       (emscripten 3.1.6) cannot unmap part of a mapping, and with any other length returns
 *       EINVAL without releasing its lock, which deadlocks the next call once a thread exists.
 * munmap of a range that holds no mapping returns 0 (POSIX; libc says EINVAL).
 *
 * Locking: `lock` guards `ours` and `libc_maps`. mwpm is never called with it held when mwpm
 * might call back (its grow hook, which may unmap), and malloc is never called with it held.
 * madvise zeroes under the lock, so that a concurrent munmap cannot hand the pages to someone
 * else meanwhile (waiters spin, then yield). MAP_FIXED zeroes after checking ownership without
 * the lock: a program that unmaps a range while mapping over it has no defined result anyway.
 */
#include "mono-config.h"
#include "mono-wasm-pagemgr.h"
#include "mono-spin-lock.h"
#include "mwpm-platform.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

/* libc's implementations (weak aliases in musl, declared in no header). */
void *emscripten_builtin_mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off);
int emscripten_builtin_munmap (void *addr, size_t len);

#define PAGE ((uintptr_t)MWPM_PAGE_SIZE)
#define PAGES ((size_t)(((uint64_t)1 << 32) / MWPM_PAGE_SIZE))
/* The page size libc and sysconf report on emscripten. */
#define LIBC_PAGE ((size_t)65536)
/* The unit of every mapping here: the page size the program sees (sysconf(_SC_PAGESIZE), which
 * it rounds addresses and lengths by), or mwpm's page where that is larger. With mwpm pages
 * below 64 KiB, mappings are 64 KiB-aligned multiples of 64 KiB, and munmap, madvise and
 * MAP_FIXED take 64 KiB-aligned addresses, as POSIX says for the reported page size. */
#define UNIT ((uintptr_t)(PAGE > LIBC_PAGE ? PAGE : LIBC_PAGE))

typedef struct LibcMap {
	uintptr_t addr;
	size_t len;
	struct LibcMap *next;
} LibcMap;

static MonoSpinLock lock = MONO_SPIN_LOCK_INIT;
static uint64_t ours[PAGES / 64];
static LibcMap *libc_maps;

static bool
page_ours (size_t p)
{
	return (ours[p / 64] >> (p % 64)) & 1;
}

static void
set_ours (size_t first, size_t count, bool on)
{
	for (size_t p = first; p < first + count; p++) {
		if (on)
			ours[p / 64] |= (uint64_t)1 << (p % 64);
		else
			ours[p / 64] &= ~((uint64_t)1 << (p % 64));
	}
}

/* mwpm pages [*first, *end) of the units touched by [addr, addr + len) (addr a multiple of
 * UNIT), clipped to the 32-bit space. */
static void
page_span (uintptr_t addr, size_t len, size_t *first, size_t *end)
{
	uint64_t e = ((uint64_t)addr + len + UNIT - 1) / UNIT * UNIT;
	if (e > ((uint64_t)1 << 32))
		e = (uint64_t)1 << 32;
	*first = addr / PAGE;
	*end = (size_t)(e / PAGE);
}

/* How many pages of [first, end) are ours. Lock held. */
static size_t
count_ours (size_t first, size_t end)
{
	MONO_ASSERT_LOCK_HELD (&lock);
	size_t n = 0;
	for (size_t p = first; p < end; p++)
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

/* The libc mapping overlapping [addr, addr + len), or NULL. Lock held. */
static LibcMap *
libc_overlap (uintptr_t addr, size_t len, LibcMap ***link_out)
{
	MONO_ASSERT_LOCK_HELD (&lock);
	LibcMap **link = &libc_maps;
	for (LibcMap *m = libc_maps; m; link = &m->next, m = m->next) {
		if ((uint64_t)addr < (uint64_t)m->addr + m->len && (uint64_t)m->addr < (uint64_t)addr + len) {
			if (link_out)
				*link_out = link;
			return m;
		}
	}
	return NULL;
}

static void *
map_file (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	LibcMap *rec = malloc (sizeof *rec);
	if (!rec) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	void *p = emscripten_builtin_mmap (addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED) {
		int e = errno;
		free (rec);
		errno = e;
		return MAP_FAILED;
	}
	rec->addr = (uintptr_t)p;
	rec->len = len;
	mono_spin_lock (&lock);
	rec->next = libc_maps;
	libc_maps = rec;
	mono_spin_unlock (&lock);
	return p;
}

/* A mapping mwpm has just handed out becomes ours (M1). */
static void *
note_ours (void *p, size_t len)
{
	size_t first, end;
	page_span ((uintptr_t)p, len, &first, &end);
	mono_spin_lock (&lock);
	set_ours (first, end - first, true);
	mono_spin_unlock (&lock);
	return p;
}

/* MAP_FIXED (or _NOREPLACE, `noreplace`) at addr: over a mapping of ours, zeroed in place
 * (_NOREPLACE: EEXIST); over pages free in mwpm (or at the top of its memory), a new mapping
 * there; over anything else, or a mix of ours and not ours, ENOMEM (_NOREPLACE: EEXIST when
 * something is there). */
static void *
map_fixed (void *addr, size_t len, bool noreplace)
{
	uintptr_t a = (uintptr_t)addr;
	if (a % UNIT || (uint64_t)a + len > ((uint64_t)1 << 32)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	size_t first, end;
	page_span (a, len, &first, &end);
	mono_spin_lock (&lock);
	size_t owned = count_ours (first, end);
	mono_spin_unlock (&lock);
	if (owned == end - first && !noreplace) {
		/* Replacing a mapping of ours: a fresh anonymous mapping reads zero. Another thread may
		 * have made it, and grown the memory for it (docs/mwpm.md, "Threads"). */
		mono_bulk_ready ((uint64_t)end * PAGE);
		memset (addr, 0, (end - first) * PAGE);
		return addr;
	}
	void *p = owned ? NULL : mwpm_alloc_at (addr, (end - first) * PAGE, MWPM_ZEROED);
	if (!p) {
		errno = noreplace && (owned || errno == EEXIST) ? EEXIST : ENOMEM;
		return MAP_FAILED;
	}
	return note_ours (p, (end - first) * PAGE);
}

void *
mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (len == 0) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (!(flags & MAP_ANONYMOUS))
		return map_file (addr, len, prot, flags, fd, off);
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
		return map_fixed (addr, len, flags & MAP_FIXED_NOREPLACE);
	if (len > SIZE_MAX - (UNIT - 1)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	len = (len + UNIT - 1) & ~(size_t)(UNIT - 1);
	/* The hint, where mwpm can place the mapping there; anywhere else otherwise. */
	void *p = NULL;
	if (addr && (uintptr_t)addr % UNIT == 0 && (uint64_t)(uintptr_t)addr + len <= ((uint64_t)1 << 32))
		p = mwpm_alloc_at (addr, len, MWPM_ZEROED);
	if (!p)
		p = UNIT > PAGE ? mwpm_alloc_aligned (len, UNIT, MWPM_ZEROED) : mwpm_alloc_range (len, MWPM_ZEROED);
	if (!p) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return note_ours (p, len);
}

int
munmap (void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	mono_spin_lock (&lock);
	LibcMap **link;
	LibcMap *m = libc_overlap (a, len, &link);
	if (m) {
		/* M2: libc gets back exactly what it mapped, or nothing. A length that rounds to the
		 * same number of pages (sysconf's page size, 64 KiB) is the same mapping. */
		if (m->addr != a || (m->len + LIBC_PAGE - 1) / LIBC_PAGE != (len + LIBC_PAGE - 1) / LIBC_PAGE) {
			mono_spin_unlock (&lock);
			errno = EINVAL;
			return -1;
		}
		*link = m->next;
		mono_spin_unlock (&lock);
		int rc = emscripten_builtin_munmap (addr, m->len);
		free (m);
		return rc;
	}
	if (a % UNIT) {
		mono_spin_unlock (&lock);
		errno = EINVAL;
		return -1;
	}
	size_t p, end, run;
	page_span (a, len, &p, &end);
	/* Each run of our pages leaves `ours` under the lock, then goes back to mwpm. */
	while (next_run (&p, end, &run)) {
		set_ours (run, p - run, false);
		mono_spin_unlock (&lock);
		mwpm_free_range ((void *)(run * PAGE), (p - run) * PAGE);
		mono_spin_lock (&lock);
	}
	mono_spin_unlock (&lock);
	return 0;
}

int
mprotect (void *addr, size_t len, int prot)
{
	(void)len;
	(void)prot;
	/* wasm has no page protection: accepted and ignored, as libc does. */
	if ((uintptr_t)addr % UNIT) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
madvise (void *addr, size_t len, int advice)
{
	uintptr_t a = (uintptr_t)addr;
	if (a % UNIT) {
		errno = EINVAL;
		return -1;
	}
	if (advice != MADV_DONTNEED || len == 0)
		return 0;
	/* Linux: private anonymous pages read zero after MADV_DONTNEED. Our pages get that; other
	 * memory keeps its contents (libc ignores the advice). */
	size_t p, end, run;
	page_span (a, len, &p, &end);
	mono_bulk_ready ((uint64_t)end * PAGE);
	mono_spin_lock (&lock);
	while (next_run (&p, end, &run))
		memset ((void *)(run * PAGE), 0, (p - run) * PAGE);
	mono_spin_unlock (&lock);
	return 0;
}

/*
 * mwpm-mmap-posix.c: the POSIX names of libmwpm-mmap.a and libmwpm-pool.a (docs/drop-in.md).
 *
 * musl defines mmap, munmap, mprotect and madvise as weak symbols; these strong definitions win
 * the link. Anonymous memory goes to the drop-in (mwpm-mmap.c); file mappings go to libc, whose
 * own mmap and munmap stay reachable as emscripten_builtin_mmap / _munmap, and are remembered
 * here.
 *
 * Invariant:
 *   M2  every libc mapping made through this library is in `libc_maps` with the exact address
 *       and length libc was given, and is handed back to libc only with that length: libc
 *       (emscripten 3.1.6) cannot unmap part of a mapping, and with any other length returns
 *       EINVAL without releasing its lock, which deadlocks the next call once a thread exists.
 *
 * Locking: `lock` guards `libc_maps`; malloc (a record) is never called with it held, nor is
 * anything of the drop-in's. A file mapping's memory is never the drop-in's and never free in
 * mwpm, so MAP_FIXED and MAP_FIXED_NOREPLACE over it are refused by the drop-in itself (ENOMEM,
 * EEXIST), and madvise leaves it alone.
 */
#include "mono-config.h"
#include "mwpm-mmap.h"
#include "mono-spin-lock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>

/* libc's implementations (weak aliases in musl, declared in no header). */
void *emscripten_builtin_mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off);
int emscripten_builtin_munmap (void *addr, size_t len);

/* The page size libc and sysconf report on emscripten. */
#define LIBC_PAGE ((size_t)65536)

typedef struct LibcMap {
	uintptr_t addr;
	size_t len;
	struct LibcMap *next;
} LibcMap;

static MonoSpinLock lock = MONO_SPIN_LOCK_INIT;
static LibcMap *libc_maps;

/* The libc mapping overlapping [addr, addr + len), or NULL. Lock held. */
static LibcMap *
libc_overlap (uintptr_t addr, size_t len, LibcMap ***link_out)
{
	MONO_ASSERT_LOCK_HELD (&lock);
	LibcMap **link = &libc_maps;
	for (LibcMap *m = libc_maps; m; link = &m->next, m = m->next) {
		if ((uint64_t)addr < (uint64_t)m->addr + m->len && (uint64_t)m->addr < (uint64_t)addr + len) {
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

void *
mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (!(flags & MAP_ANONYMOUS))
		return map_file (addr, len, prot, flags, fd, off);
	return mwpm_mmap (addr, len, prot, flags, off);
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
	if (!m) {
		mono_spin_unlock (&lock);
		return mwpm_munmap (addr, len);
	}
	/* M2: libc gets back exactly what it mapped, or nothing. A length that rounds to the same
	 * number of pages (sysconf's page size, 64 KiB) is the same mapping. */
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

int
mprotect (void *addr, size_t len, int prot)
{
	return mwpm_mprotect (addr, len, prot);
}

int
madvise (void *addr, size_t len, int advice)
{
	return mwpm_madvise (addr, len, advice);
}

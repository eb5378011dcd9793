/*
 * peer-count.c: counts a third-party program's mmap and munmap calls (the peers suite,
 * tools/lib/peers.py, docs/testing.md).
 *
 * Linked with -Wl,--wrap=mmap -Wl,--wrap=munmap: every call of the program (and of libc) goes
 * through __wrap_*, which counts it and calls the mmap in the link, libc's or the drop-in's
 * (__real_*). Both wrappers are always defined: wasm-ld 14 crashes on --wrap when a __wrap_
 * symbol is missing. peer-report.js reads the counts when node exits (a program built with
 * ASYNCIFY may never return from main, so no atexit handler is relied on). For PHP it also adds
 * up the bytes zend_mm copies to reallocate huge blocks (peer_huge_copied).
 */
#include <emscripten.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>

void *__real_mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap (void *addr, size_t len);

enum { MMAP_CALLS, MMAP_FAILED, MUNMAP_CALLS, MUNMAP_FAILED, NCOUNTS };
static atomic_uint counts[NCOUNTS];

void *
__wrap_mmap (void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	atomic_fetch_add (&counts[MMAP_CALLS], 1);
	void *p = __real_mmap (addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED)
		atomic_fetch_add (&counts[MMAP_FAILED], 1);
	return p;
}

int
__wrap_munmap (void *addr, size_t len)
{
	atomic_fetch_add (&counts[MUNMAP_CALLS], 1);
	int rc = __real_munmap (addr, len);
	if (rc != 0)
		atomic_fetch_add (&counts[MUNMAP_FAILED], 1);
	return rc;
}

/* Count i (the enum above), or 0 for an unknown i. */
EMSCRIPTEN_KEEPALIVE unsigned
peer_count (int i)
{
	return i >= 0 && i < NCOUNTS ? atomic_load (&counts[i]) : 0;
}

/* Bytes PHP's zend_mm copied to reallocate huge blocks it could not resize in place
 * (tests/peers/php-8.2-count-huge-copies.patch calls it); 0 in other programs. */
static _Atomic unsigned long long huge_copied;

void
peer_huge_copied (size_t bytes)
{
	atomic_fetch_add (&huge_copied, bytes);
}

/* As a double: a JS number holds it exactly up to 2^53 bytes. */
EMSCRIPTEN_KEEPALIVE double
peer_huge_copied_bytes (void)
{
	return (double)atomic_load (&huge_copied);
}

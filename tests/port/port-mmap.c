/*
 * port-mmap.c: a program outside the project, built with emcc --use-port=ports/mwpm.py
 * (tools/lib/port_suite.py): it maps, writes and unmaps with plain POSIX calls, and asks mwpm's
 * header, which the port puts on the include path, what happened. TAP.
 */
#include <mono-wasm-pagemgr.h>
#include <mwpm-mmap.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int n, failed;

static void
check (int ok, const char *what)
{
	printf ("%sok %d - %s\n", ok ? "" : "not ", ++n, what);
	failed += !ok;
}

int
main (void)
{
	size_t pg = (size_t)sysconf (_SC_PAGESIZE), len = 64 * pg;
	MwpmStats s0, s1;
	mwpm_get_stats (&s0);
	unsigned char *p = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check (p != MAP_FAILED && mwpm_owns (p) && mwpm_mmap_owns (p), "mmap is mwpm's");
	if (p == MAP_FAILED)
		return 1;
	mwpm_get_stats (&s1);
	check (s1.bytes_zeroed == s0.bytes_zeroed, "fresh pages are not memset");
	int zero = 1;
	for (size_t i = 0; i < len; i += 4096)
		zero &= p[i] == 0;
	check (zero, "a fresh mapping reads zero");
	memset (p, 0x5a, len);
	check (munmap (p + 8 * pg, 16 * pg) == 0, "munmap of part of a mapping");
	check (p[0] == 0x5a && p[24 * pg] == 0x5a, "the rest keeps its contents");
	unsigned char *q = mmap (p + 8 * pg, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check (q == p + 8 * pg && q[0] == 0 && q[16 * pg - 1] == 0, "a hint over the hole is honoured, and reads zero");
	check (mmap (p, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED, "NOREPLACE over a mapping fails");
	check (munmap (p, len) == 0 && !mwpm_mmap_owns (p), "munmap of everything");
	printf ("1..%d\n", n);
	return failed != 0;
}

/*
 * mwpm-platform-host.c: the platform seam on a native host, simulating a wasm linear memory.
 *
 * A 4 GiB window of address space is reserved (PROT_NONE) at a 4 GiB-aligned address, so that
 * alignments inside the simulated memory are alignments of real pointers. It grows like
 * emscripten's heap: sbrk past the memory size grows it to the larger of the request and 20%
 * more (at most 96 MiB more), in 64 KiB units, up to the maximum. Fresh memory reads zero.
 * Unlike emscripten 3.1.6, a foreign caller may lower the break, and the memory it gives back
 * keeps its contents: this is how tests reproduce a trimming malloc (docs/mwpm.md).
 *
 * Layout of the simulated memory (offsets):
 *
 *   0          static_bytes (not aligned)     break             memory size        max
 *   | data+stack | heap: sbrk callers  ...     |   grown, unused  |   reserved      |
 */
#include "mwpm-platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define WASM_PAGE 65536u
#define DEFAULT_MAX (MWPM_SPACE_BYTES - WASM_PAGE) /* as -sMAXIMUM_MEMORY=4GB */
#define DEFAULT_STATIC (5u * 1024 * 1024 + 0x2b70) /* unaligned, as emscripten's heap base */
#define INITIAL_BYTES (16u * 1024 * 1024)

static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;
static char *host_base;
static uint64_t host_max = DEFAULT_MAX;
static uint64_t host_static = DEFAULT_STATIC;
static uint64_t host_size;   /* bytes accessible */
static uint64_t host_break;
static uint64_t host_touched; /* highest size ever accessible since the last reset */
static atomic_uint fail_count;
static atomic_bool monotonic = true;
static atomic_bool declared_threads = true;

static void
host_die (const char *what)
{
	perror (what);
	abort ();
}

/* Makes [0, bytes) accessible. Called with host_lock held. */
static void
host_set_size (uint64_t bytes)
{
	if (bytes > host_size && mprotect (host_base + host_size, bytes - host_size, PROT_READ | PROT_WRITE) != 0)
		host_die ("mwpm host: mprotect");
	host_size = bytes;
	if (bytes > host_touched)
		host_touched = bytes;
}

static void
host_init_locked (void)
{
	if (host_base)
		return;
	/* Reserve 8 GiB and keep a 4 GiB-aligned window. */
	size_t reserve = (size_t)(2 * MWPM_SPACE_BYTES);
	char *p = mmap (NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		host_die ("mwpm host: reserving 8 GiB of address space");
	uintptr_t aligned = ((uintptr_t)p + (MWPM_SPACE_BYTES - 1)) & ~(uintptr_t)(MWPM_SPACE_BYTES - 1);
	if (aligned > (uintptr_t)p)
		munmap (p, aligned - (uintptr_t)p);
	uintptr_t end = (uintptr_t)p + reserve;
	if (end > aligned + MWPM_SPACE_BYTES)
		munmap ((char *)(aligned + MWPM_SPACE_BYTES), end - (aligned + MWPM_SPACE_BYTES));
	host_base = (char *)aligned;
	host_break = host_static;
	host_set_size (INITIAL_BYTES > host_static ? INITIAL_BYTES : (host_static + WASM_PAGE) & ~(uint64_t)(WASM_PAGE - 1));
}

/* Grows the memory so that `needed` bytes are accessible; emscripten's over-growth policy. */
static int
host_grow_locked (uint64_t needed)
{
	if (needed <= host_size)
		return 0;
	if (needed > host_max)
		return ENOMEM;
	uint64_t over = host_size + (host_size / 5 < 96u * 1024 * 1024 ? host_size / 5 : 96u * 1024 * 1024);
	uint64_t target = needed > over ? needed : over;
	target = (target + WASM_PAGE - 1) & ~(uint64_t)(WASM_PAGE - 1);
	if (target > host_max)
		target = host_max;
	host_set_size (target);
	return 0;
}

void
mwpm_platform_info (MwpmPlatformInfo *out)
{
	pthread_mutex_lock (&host_lock);
	host_init_locked ();
	pthread_mutex_unlock (&host_lock);
	out->base = (uintptr_t)host_base;
	out->sbrk_granule = 4;
	out->sbrk_max = 0x7ffffffcu;
	out->memory_max = host_max;
	out->break_monotonic = atomic_load (&monotonic);
	out->threads = atomic_load (&declared_threads);
}

static int
host_sbrk (int64_t increment, uint64_t *old_break)
{
	int err = 0;
	pthread_mutex_lock (&host_lock);
	host_init_locked ();
	uint64_t old = host_break;
	int64_t next = (int64_t)old + increment;
	if (increment >= ((int64_t)1 << 31) || next < (int64_t)host_static || (uint64_t)next > host_max)
		err = ENOMEM;
	else
		err = host_grow_locked ((uint64_t)next);
	if (!err) {
		host_break = (uint64_t)next;
		*old_break = old;
	}
	pthread_mutex_unlock (&host_lock);
	return err;
}

int
mwpm_platform_sbrk (uint32_t increment, uint64_t *old_break)
{
	unsigned f = atomic_load (&fail_count);
	while (f > 0) {
		if (atomic_compare_exchange_weak (&fail_count, &f, f - 1))
			return ENOMEM;
	}
	return host_sbrk (increment, old_break);
}

int
mwpm_platform_break (uint64_t *brk)
{
	pthread_mutex_lock (&host_lock);
	host_init_locked ();
	*brk = host_break;
	pthread_mutex_unlock (&host_lock);
	return 0;
}

uint64_t
mwpm_platform_memory_bytes (void)
{
	pthread_mutex_lock (&host_lock);
	host_init_locked ();
	uint64_t n = host_size;
	pthread_mutex_unlock (&host_lock);
	return n;
}

int
mwpm_platform_foreign_sbrk (int64_t increment, uint64_t *old_break)
{
	return host_sbrk (increment, old_break);
}

void
mwpm_platform_fail_next_sbrk (unsigned count)
{
	atomic_store (&fail_count, count);
}

void
mwpm_platform_host_reset (uint64_t max_bytes, uint64_t static_bytes)
{
	pthread_mutex_lock (&host_lock);
	host_init_locked ();
	/* Give back everything ever touched: it reads zero again, as fresh wasm memory does. */
	if (host_touched) {
		if (madvise (host_base, host_touched, MADV_DONTNEED) != 0 ||
		    mprotect (host_base, host_touched, PROT_NONE) != 0)
			host_die ("mwpm host: reset");
	}
	host_size = host_touched = 0;
	host_max = max_bytes ? (max_bytes < DEFAULT_MAX ? max_bytes : DEFAULT_MAX) : DEFAULT_MAX;
	host_static = static_bytes ? static_bytes : DEFAULT_STATIC;
	host_break = host_static;
	uint64_t initial = INITIAL_BYTES > host_static ? INITIAL_BYTES : (host_static + WASM_PAGE) & ~(uint64_t)(WASM_PAGE - 1);
	host_set_size (initial < host_max ? initial : host_max);
	atomic_store (&fail_count, 0);
	atomic_store (&monotonic, true);
	atomic_store (&declared_threads, true);
	pthread_mutex_unlock (&host_lock);
}

void
mwpm_platform_host_declare (bool break_monotonic, bool threads)
{
	atomic_store (&monotonic, break_monotonic);
	atomic_store (&declared_threads, threads);
}

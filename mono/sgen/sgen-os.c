/*
 * sgen-os.c: every byte of GC memory comes from here, through the mmap layer (mono-mmap.h).
 *
 * Accounting counts the bytes the GC asked for (exact sizes, no page rounding), per account
 * type: live, allocated in total, freed in total, peak of the live total. The heap limit
 * (sgen-memgov.c) is checked here for allocations flagged SGEN_ALLOC_HEAP.
 *
 * Invariant: os_allocated - os_freed == os_live == sum of live[type].
 */
#include "sgen-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	uint64_t live[MONO_MEM_ACCOUNT_COUNT];
	uint64_t live_total, allocated, freed, peak;
} os;

static char last_error[256];

/* The mutator is inside sgen: here, at the bottom of sgen, where every space and the internal
 * allocator (which raises it around its OS requests) can reach it. */
int _sgen_busy;

void
_sgen_fatal (const char *fmt, ...)
{
	va_list ap;
	fflush (stdout);
	fputs ("sgen: fatal: ", stderr);
	va_start (ap, fmt);
	vfprintf (stderr, fmt, ap);
	va_end (ap);
	fputc ('\n', stderr);
	abort ();
}

void
_sgen_set_error (const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	vsnprintf (last_error, sizeof (last_error), fmt, ap);
	va_end (ap);
}

const char *
sgen_last_error (void)
{
	return last_error[0] ? last_error : "no error";
}

static void
account_alloc (size_t size, MonoMemAccountType type)
{
	os.live[type] += size;
	os.live_total += size;
	os.allocated += size;
	if (os.live_total > os.peak)
		os.peak = os.live_total;
}

static int
mmap_flags (int flags)
{
	int f = MONO_MMAP_READ | MONO_MMAP_WRITE | MONO_MMAP_PRIVATE | MONO_MMAP_ANON;
	if (flags & SGEN_ALLOC_NOZERO)
		f |= MONO_MMAP_NOZERO;
	if (flags & SGEN_ALLOC_HELD)
		f |= MONO_MMAP_NO_GROW;
	return f;
}

static bool
limit_refuses (size_t size, int flags, const char *description)
{
	if (!(flags & SGEN_ALLOC_HEAP) || _sgen_collecting || !_sgen_memgov_over_limit (_sgen_os_heap_bytes (), size))
		return false;
	_sgen_set_error ("out of memory: %s needs %zu bytes, the heap holds %llu of its limit of "
			 "%llu bytes (--sgen-max-heap-size)",
			 description, size, (unsigned long long) _sgen_os_heap_bytes (),
			 (unsigned long long) _sgen_memgov_max_heap ());
	return true;
}

static void *
finish_alloc (void *p, size_t size, int flags, const char *description, MonoMemAccountType type)
{
	if (!p) {
		/* A request only from memory already held (SGEN_ALLOC_HELD) is a question, asked several
		 * times per new batch: its "no" is not an error worth the formatting. */
		if (!(flags & SGEN_ALLOC_HELD))
			_sgen_set_error ("out of memory: the OS refused %zu bytes for %s (%s)", size, description,
					 strerror (errno));
		return NULL;
	}
	account_alloc (size, type);
	return p;
}

void *
sgen_alloc_os_memory (size_t size, int flags, const char *description, MonoMemAccountType type)
{
	if (limit_refuses (size, flags, description))
		return NULL;
	return finish_alloc (mono_valloc (NULL, size, mmap_flags (flags), type), size, flags, description, type);
}

void *
sgen_alloc_os_memory_aligned (size_t size, size_t alignment, int flags, const char *description,
			      MonoMemAccountType type)
{
	if (limit_refuses (size, flags, description))
		return NULL;
	return finish_alloc (mono_valloc_aligned (size, alignment, mmap_flags (flags), type), size, flags,
			     description, type);
}

void
sgen_free_os_memory (void *addr, size_t size, int flags, MonoMemAccountType type)
{
	(void) flags;
	if (os.live[type] < size)
		_sgen_fatal ("freeing %zu %s bytes but only %llu are live", size, mono_mem_account_name (type),
			     (unsigned long long) os.live[type]);
	if (mono_vfree (addr, size, type) != 0)
		_sgen_fatal ("the mmap layer refused to free %zu bytes at %p (%s): %s", size, addr,
			     mono_mem_account_name (type), strerror (errno));
	os.live[type] -= size;
	os.live_total -= size;
	os.freed += size;
}

uint64_t
_sgen_os_heap_bytes (void)
{
	return os.live[MONO_MEM_ACCOUNT_NURSERY] + os.live[MONO_MEM_ACCOUNT_MAJOR] + os.live[MONO_MEM_ACCOUNT_LOS];
}

void
_sgen_os_fill_stats (SgenStats *out)
{
	_Static_assert (MONO_MEM_ACCOUNT_COUNT == sizeof (out->os_live_by_type) / sizeof (out->os_live_by_type[0]),
			"one counter per account type");
	memcpy (out->os_live_by_type, os.live, sizeof (os.live));
	out->os_bytes_live = os.live_total;
	out->os_bytes_allocated = os.allocated;
	out->os_bytes_freed = os.freed;
	out->os_bytes_peak = os.peak;
}

void
_sgen_os_reset (void)
{
	memset (&os, 0, sizeof (os));
	last_error[0] = 0;
}

/*
 * pool-malloc.c: the C library's allocation functions in the shared-pool build.
 *
 * The build links this file in place of emscripten's malloc (-sMALLOC=none). Allocation is
 * dlmalloc, compiled from emscripten's own copy with pool-dlmalloc-config.h (prefix "dl"), so
 * chunk layout, bins and speed are those of emscripten's default malloc; only the source of
 * memory differs: segments are mwpm pages, not sbrk. docs/pool.md explains the choice.
 *
 * emscripten_builtin_malloc / _free / _memalign (and in later versions, 6.0.5 among them, _realloc / _calloc) are what
 * libc (mmap, pthread_create, TLS and environment setup) calls; __libc_malloc and friends are what musl's internal code calls.
 * All of them are the same allocator.
 *
 * Failures set errno to ENOMEM as POSIX asks: dlmalloc returns NULL without setting it for
 * requests so large that its size arithmetic wraps (calloc overflow, sizes near SIZE_MAX).
 *
 * Arguments at the limits are checked here, before dlmalloc sees them, where its own arithmetic
 * would wrap: memalign's family refuses an alignment above half the address space (EINVAL, as
 * glibc does; dlmalloc rounds a non-power of two up by shifting, which never ends there), and
 * pvalloc a size whose rounding up to the page would wrap (ENOMEM; dlmalloc would return a
 * block of the wrapped, tiny size).
 */
#include "mono-config.h"
#include "mono-wasm-pagemgr.h"
#include "pool-pages.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* dlmalloc's entry points (USE_DL_PREFIX). */
void *dlmalloc (size_t);
void dlfree (void *);
void *dlcalloc (size_t, size_t);
void *dlrealloc (void *, size_t);
void *dlmemalign (size_t, size_t);
int dlposix_memalign (void **, size_t, size_t);
void *dlvalloc (size_t);
void *dlpvalloc (size_t);
size_t dlmalloc_usable_size (const void *);
int dlmalloc_trim (size_t);
struct mallinfo dlmallinfo (void);

/* ---- Pages for dlmalloc ---- */

void *
_mono_pool_pages_map (size_t size)
{
	void *p = mwpm_alloc_range (size, 0);
	return p ? p : POOL_PAGES_FAILED;
}

int
_mono_pool_pages_unmap (void *base, size_t size)
{
	return mwpm_free_range (base, size);
}

/* ---- The C library's names ---- */

static inline void *
checked (void *p)
{
	if (!p)
		errno = ENOMEM;
	return p;
}

void *
malloc (size_t size)
{
	return checked (dlmalloc (size));
}

void
free (void *ptr)
{
	dlfree (ptr);
}

void *
calloc (size_t count, size_t size)
{
	return checked (dlcalloc (count, size));
}

void *
realloc (void *ptr, size_t size)
{
	void *p = dlrealloc (ptr, size);
	if (!p && size)
		errno = ENOMEM;
	return p;
}

/* An alignment memalign's family can meet: at most half the address space (the largest power of
 * two a size_t holds); others get EINVAL. Smaller ones that are not powers of two are rounded up
 * by dlmalloc, as glibc does. */
static bool
alignment_ok (size_t alignment)
{
	if (alignment > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return false;
	}
	return true;
}

static void *
aligned (size_t alignment, size_t size)
{
	return alignment_ok (alignment) ? checked (dlmemalign (alignment, size)) : NULL;
}

void *
memalign (size_t alignment, size_t size)
{
	return aligned (alignment, size);
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
	return dlposix_memalign (out, alignment, size);
}

/* C11: alignment must be a power of two; the size need not be a multiple of it (C17 DR 460). */
void *
aligned_alloc (size_t alignment, size_t size)
{
	if (alignment == 0 || (alignment & (alignment - 1))) {
		errno = EINVAL;
		return NULL;
	}
	return aligned (alignment, size);
}

void *
valloc (size_t size)
{
	return checked (dlvalloc (size));
}

/* The size rounded up to the page (the page size sysconf reports, as dlmalloc's own): a size
 * whose rounding wraps cannot be served. */
void *
pvalloc (size_t size)
{
	size_t page = (size_t)sysconf (_SC_PAGESIZE);
	if (size > SIZE_MAX - (page - 1)) {
		errno = ENOMEM;
		return NULL;
	}
	return checked (dlpvalloc (size));
}

size_t
malloc_usable_size (void *ptr)
{
	return dlmalloc_usable_size (ptr);
}

int
malloc_trim (size_t pad)
{
	return dlmalloc_trim (pad);
}

struct mallinfo
mallinfo (void)
{
	return dlmallinfo ();
}

void *
emscripten_builtin_malloc (size_t size)
{
	return checked (dlmalloc (size));
}

void
emscripten_builtin_free (void *ptr)
{
	dlfree (ptr);
}

/* Later emscripten versions (6.0.5 among them) also declare these two (emscripten/heap.h); libc's own code may
 * call them, and without them here emscripten's malloc would be linked for them. */
void *
emscripten_builtin_realloc (void *ptr, size_t size)
{
	return realloc (ptr, size);
}

void *
emscripten_builtin_calloc (size_t count, size_t size)
{
	return checked (dlcalloc (count, size));
}

void *
emscripten_builtin_memalign (size_t alignment, size_t size)
{
	return aligned (alignment, size);
}

void *
__libc_malloc (size_t size)
{
	return checked (dlmalloc (size));
}

void
__libc_free (void *ptr)
{
	dlfree (ptr);
}

void *
__libc_calloc (size_t count, size_t size)
{
	return checked (dlcalloc (count, size));
}

void *
__libc_realloc (void *ptr, size_t size)
{
	return realloc (ptr, size);
}

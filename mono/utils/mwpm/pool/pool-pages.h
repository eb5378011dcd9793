/*
 * pool-pages.h: where the pool malloc's memory comes from (shared-pool builds).
 *
 * dlmalloc, compiled with pool-dlmalloc-config.h, asks these two functions for memory in
 * place of mmap/munmap. They call mwpm directly, never mmap or sbrk, so the pool malloc cannot
 * recurse into itself: mwpm never calls malloc.
 *
 * Sizes are multiples of dlmalloc's granularity (POOL_GRANULARITY, a multiple of the mwpm page
 * size), addresses are what these functions returned (or page-aligned parts of it).
 * Thread safety: as mwpm (any thread). The grow hook registered with mwpm may run inside
 * _mono_pool_pages_map, with dlmalloc's (recursive) lock held
 * by the same thread; it may call malloc and free (docs/pool.md, "The grow hook").
 */
#ifndef MONO_POOL_PAGES_H
#define MONO_POOL_PAGES_H

#include <stddef.h>

/* The failure value dlmalloc expects from MMAP (its MFAIL, the same as MAP_FAILED). */
#define POOL_PAGES_FAILED ((void *)~(size_t)0)

/* A new segment, or a large chunk dlmalloc hands straight to the caller: contents unspecified
 * (dlmalloc is built with MMAP_CLEARS 0: calloc clears such a chunk itself). POOL_PAGES_FAILED
 * with errno ENOMEM when mwpm cannot find or grow the pages. */
void *_mono_pool_pages_map (size_t size);

/* Gives [base, base + size) back to mwpm (any page-aligned part of a mapping). 0, or -1 with
 * errno EINVAL for an unaligned base or size 0. */
int _mono_pool_pages_unmap (void *base, size_t size);

#endif

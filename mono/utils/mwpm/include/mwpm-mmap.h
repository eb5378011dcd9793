/*
 * mwpm-mmap.h: the drop-in's anonymous mappings over mwpm (docs/drop-in.md), as functions of
 * their own. libmwpm-mmap.a and libmwpm-pool.a give a program these as its mmap, munmap,
 * madvise and mprotect (file mappings go to libc there); natively they serve the model test
 * and the fuzzer, over mwpm's simulated memory.
 *
 * Each follows what Linux does for private anonymous memory, in units of UNIT = the larger of
 * 64 KiB (the page size emscripten's sysconf reports) and mwpm's page, where the linear memory
 * below its current size is what is "mapped" in Linux's sense (every byte of it is accessible),
 * and the address space is the one mwpm manages (wasm32: 4 GiB, where a range past its end is
 * a length that wraps).
 *
 * Thread safety: any thread (one lock of the drop-in's own, then mwpm's). errno is set on
 * failure only.
 */
#ifndef MWPM_MMAP_H
#define MWPM_MMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * mmap of anonymous memory (MAP_ANONYMOUS is implied; `fd` is not taken).
 *   flags: MAP_PRIVATE, MAP_SHARED or MAP_SHARED_VALIDATE (exactly one, else EINVAL); other
 *   bits are ignored as Linux ignores them, except under MAP_SHARED_VALIDATE, where a bit
 *   unknown here gives EOPNOTSUPP. `prot` is accepted and ignored (wasm has no protection).
 *   Placement: without MAP_FIXED the hint is honoured when its pages are free in mwpm or reach
 *   into the top of mwpm's memory, else the mapping goes anywhere; MAP_FIXED replaces the
 *   drop-in's own mappings in the range and maps over pages free in mwpm (or at the top);
 *   MAP_FIXED_NOREPLACE maps only where nothing is.
 * Errors (nothing changes): EINVAL for length 0, an unaligned offset, an unaligned MAP_FIXED
 * address, a bad map type; ENOMEM for a length that overflows when rounded, a MAP_FIXED range
 * past the address space, memory that mwpm cannot provide, and MAP_FIXED over memory the
 * drop-in does not control (malloc's, another user's of mwpm, static data, memory another sbrk
 * caller holds); EEXIST for MAP_FIXED_NOREPLACE where anything is.
 */
void *mwpm_mmap (void *addr, size_t len, int prot, int flags, off_t off);

/*
 * munmap: frees the drop-in's mappings in [addr, addr + len) (any part of them); other memory
 * is left alone and the call still returns 0 (POSIX).
 * Errors (nothing changes): EINVAL for an unaligned addr, length 0, or a range that leaves the
 * address space.
 */
int mwpm_munmap (void *addr, size_t len);

/*
 * madvise: MADV_DONTNEED makes the drop-in's pages in the range read zero (as Linux does for
 * private anonymous memory); other memory is left as it is; other known advice changes nothing.
 * Errors: EINVAL for unknown advice, an unaligned addr, or a range that wraps past the address
 * space (nothing changes); ENOMEM when part of the range lies above the memory's current size
 * (the part below is still advised, as Linux does).
 */
int mwpm_madvise (void *addr, size_t len, int advice);

/*
 * mprotect: accepted and ignored (wasm has no page protection).
 * Errors: EINVAL for an unaligned addr or unknown prot bits; ENOMEM for a range that wraps or
 * reaches above the memory's current size (Linux's answers).
 */
int mwpm_mprotect (void *addr, size_t len, int prot);

/* 1 when addr lies in a page the drop-in mapped and did not unmap, else 0. */
int mwpm_mmap_owns (const void *addr);

/* What the drop-in did, counted as Linux would describe it. */
typedef struct {
	uint64_t maps;                 /* anonymous mappings made */
	uint64_t hints_honoured;       /* of those, placed at a hint (not MAP_FIXED) */
	uint64_t hints_elsewhere;      /* placed elsewhere: the hint's pages were taken or out of reach */
	uint64_t fixed_maps;           /* MAP_FIXED / MAP_FIXED_NOREPLACE mappings made */
	uint64_t fixed_pages_replaced; /* pages of the drop-in's own mappings replaced by MAP_FIXED */
	uint64_t map_refused;          /* mmap failures: EINVAL, ENOMEM, EEXIST, EOPNOTSUPP */
	uint64_t noreplace_eexist;     /* of those, MAP_FIXED_NOREPLACE where something was */
	uint64_t unmaps;               /* munmap calls that returned 0 */
	uint64_t unmap_pages;          /* pages given back to mwpm by them */
	uint64_t unmap_noop;           /* munmap calls that held no mapping of the drop-in (POSIX: 0) */
	uint64_t unmap_refused;        /* munmap failures (EINVAL) */
	uint64_t dontneed_pages;       /* pages zeroed by MADV_DONTNEED */
	uint64_t advise_refused;       /* madvise and mprotect failures */
} MwpmMmapStats;

void mwpm_mmap_get_stats (MwpmMmapStats *out);

/* M1 (mwpm-mmap.c): every page the drop-in holds is in use in mwpm. 0, or the number of
 * problems, printed to stderr. */
int mwpm_mmap_check (void);

/* Tests: forgets every mapping and zeroes the stats (after mwpm_reset_for_tests). */
void mwpm_mmap_reset_for_tests (void);

#endif

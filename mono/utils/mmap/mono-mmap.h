/*
 * mono-mmap.h: the runtime's virtual-memory layer.
 *
 * Every page of GC memory is obtained here. One of four backends serves the calls, chosen once
 * before the first allocation (mono_mmap_select_backend, normally from the option
 * --mono-wasm-mmap=on|off|malloc):
 *
 *   posix   native mmap/munmap (native builds with the option off)
 *   mwpm    the wasm page manager (wasm; on native builds over mwpm's simulated linear memory)
 *   libc    the C library's anonymous mmap (emscripten's or wasi-libc's): the baseline mwpm
 *           replaces. Cannot free part of a mapping; always zeroes every byte it maps.
 *   malloc  posix_memalign and free, what dotnet ships on wasm instead of mwpm: zeroes a
 *           mapping only when it is not fresh from sbrk (single-threaded emscripten builds; every
 *           mapping elsewhere); cannot free part of a mapping.
 *
 * Callers do not #ifdef on the backend: they read the capability record (mono_mmap_caps).
 *
 * Zeroing follows mono: memory is zeroed unless MONO_MMAP_NOZERO is passed.
 * Accounting: per account type, the bytes callers asked for and have not freed (each request
 * rounded up to whole pages, never inflated by alignment padding), plus what the layer itself
 * mapped and zeroed (MonoMmapStats).
 */
#ifndef MONO_UTILS_MONO_MMAP_H
#define MONO_UTILS_MONO_MMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MONO_MMAP_NONE    = 0,
	MONO_MMAP_READ    = 1 << 0,
	MONO_MMAP_WRITE   = 1 << 1,
	MONO_MMAP_PRIVATE = 1 << 2,
	MONO_MMAP_ANON    = 1 << 3,
	/* The caller initialises the memory itself: contents may be anything. */
	MONO_MMAP_NOZERO  = 1 << 4,
	/* Only from memory the backend already holds: ENOMEM rather than growing (or collecting in
	 * the grow hook). Backends without caps->no_grow refuse it with ENOTSUP. */
	MONO_MMAP_NO_GROW = 1 << 5,
	MONO_MMAP_ALL_FLAGS = (1 << 6) - 1,
};

typedef enum {
	MONO_MEM_ACCOUNT_NURSERY,
	MONO_MEM_ACCOUNT_MAJOR,
	MONO_MEM_ACCOUNT_LOS,
	MONO_MEM_ACCOUNT_INTERNAL,
	MONO_MEM_ACCOUNT_OTHER,
	MONO_MEM_ACCOUNT_COUNT
} MonoMemAccountType;

typedef enum {
	MONO_MMAP_BACKEND_POSIX,
	MONO_MMAP_BACKEND_MWPM,
	MONO_MMAP_BACKEND_LIBC,
	MONO_MMAP_BACKEND_MALLOC,
	MONO_MMAP_BACKEND_COUNT
} MonoMmapBackend;

/* What the active backend can do. */
typedef struct {
	MonoMmapBackend backend;
	const char *name;        /* "posix", "mwpm", "libc" or "malloc" */
	size_t page_size;        /* granularity of addresses and sizes handed out */
	bool partial_free;       /* any page-aligned part of a mapping may be freed */
	bool fresh_zeroed;       /* memory never used before reads zero without asking */
	bool always_zeroed;      /* every mapping reads zero whatever the flags (MONO_MMAP_NOZERO
	                          * saves no work) */
	/* Pieces of one size a caller that needs many (the GC's major blocks) should take per
	 * mapping: 32 where a mapping is dear (a JS call, 64 KiB of alignment, a memset) or its
	 * parts go back in any case; 1 where every mapping is an ordinary malloc block that goes
	 * back alone and costs no more than its piece (dotnet's MS_BLOCK_ALLOC_NUM on wasm). */
	unsigned pieces_per_mapping;
	/* MONO_MMAP_NO_GROW is served: the backend holds free memory it hands out first fit (mwpm),
	 * so a caller can prefer memory already touched to fresh memory (sgen's batches). */
	bool no_grow;
} MonoMmapCaps;

typedef struct {
	uint64_t live_bytes[MONO_MEM_ACCOUNT_COUNT];  /* requested (whole pages), not yet freed */
	uint64_t live_total;
	uint64_t peak_total;
	uint64_t bytes_allocated;    /* requested, in total */
	uint64_t bytes_freed;        /* released, in total */
	uint64_t bytes_zeroed;       /* memset by the page layer (libc: every byte it maps) */
	uint64_t backend_bytes_live; /* held from the backend, padding included */
	uint64_t allocs, frees, failed_allocs, rejected_calls;
} MonoMmapStats;

/* Chooses the backend; refused (-1, message in err) once memory has been allocated, or when
 * this build lacks it. Before any call, the default is the build's default (mwpm on wasm when
 * MONO_CONFIG_WASM_MMAP, posix on native). */
int mono_mmap_select_backend (MonoMmapBackend backend, char *err, size_t errlen);
/* The backend --mono-wasm-mmap=off means in this build: libc on wasm, posix natively. */
MonoMmapBackend mono_mmap_platform_backend (void);
const MonoMmapCaps *mono_mmap_caps (void);
bool mono_mmap_started (void);

size_t mono_pagesize (void);
/* addr is a hint and ignored (NULL expected). size is rounded up to the page size. Returns NULL
 * with errno EINVAL (size 0, unknown flags, bad account type) or ENOMEM. */
void *mono_valloc (void *addr, size_t size, int flags, MonoMemAccountType type);
/* alignment: a power of two; below the page size means the page size. */
void *mono_valloc_aligned (size_t size, size_t alignment, int flags, MonoMemAccountType type);
/* Frees [addr, addr+size) (size rounded up to pages), which must lie inside one live mapping
 * made with the same account type. Whole mappings always; parts of one only when
 * caps->partial_free. Returns 0, or -1 with errno EINVAL (nothing changed) for an unaligned
 * address, size 0, a range the layer did not hand out, a type mismatch, or a partial free the
 * backend cannot do. */
int mono_vfree (void *addr, size_t size, MonoMemAccountType type);

void mono_mmap_get_stats (MonoMmapStats *out);
const char *mono_mem_account_name (MonoMemAccountType type);
/* Bytes of linear memory (wasm) or of mwpm's simulated memory span / mapped bytes (native). */
uint64_t mono_mmap_linear_memory_bytes (void);
/* Checks the layer's bookkeeping (and mwpm's invariants when active); 0 when consistent. */
int mono_mmap_check (void);

/* Called by the backend before it grows the memory it takes mappings from by `bytes` (mwpm,
 * docs/pool.md): the runtime may free memory there (a collection); it returns non-zero when it
 * freed something. Runs on the allocating thread, with no lock of the layer held. */
typedef int (*MonoMmapGrowHook) (size_t bytes, void *ctx);
/* Registers the hook with the active backend (NULL unregisters): 0, or -1 with errno ENOTSUP
 * when the backend has no growth of its own to announce (posix, libc). */
int mono_mmap_set_grow_hook (MonoMmapGrowHook hook, void *ctx);

/* Tests only (native, posix backend): from now on, count the memory pages the GC's mappings have
 * had resident (mincore: touched, read or written) when they are freed; _touched_pages adds the
 * live mappings' resident pages. Compared with the page faults of a run, it tells whether
 * memory was read before it was first written (a second fault per page: docs/sgen.md). -1 /
 * UINT64_MAX where it cannot be known (wasm, other backends). */
int mono_mmap_track_touched_for_tests (void);
uint64_t mono_mmap_touched_pages_for_tests (void);

/* Tests only (malloc backend): declare whether the program break only goes up, in place of the
 * toolchain's answer (mono-break.h), and forget what was seen of it. Declared false, every
 * zeroed mapping is memset. */
void mono_mmap_malloc_declare_break_for_tests (bool monotonic);

/* Tests only: forget every mapping and start again with no backend chosen. */
void mono_mmap_reset_for_tests (void);

#endif

/*
 * sgen-gc.h: the public interface of sgen, a compact generational garbage collector in the
 * shape of mono's sgen (docs/sgen.md draws the design).
 *
 *   nursery (copying, bump allocation)  --minor collection promotes survivors-->
 *   major heap (mark-sweep, 16 KiB blocks in size classes) + large object space
 *
 * Threads: one mutator thread calls every function here (the GC has no stop-the-world
 * machinery). Other threads may use the mmap layer meanwhile.
 * Roots are precise: registered ranges of object pointers and GC handles. Every store of a
 * reference into a heap object goes through sgen_wbarrier_set (the remembered set depends on it).
 * Errors: allocation returns NULL when the heap limit (--sgen-max-heap-size) is reached even
 * after a full collection, or the OS refuses memory; sgen_last_error() then says why. The heap
 * stays consistent after such a failure.
 */
#ifndef MONO_SGEN_GC_H
#define MONO_SGEN_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgen-object.h"

/* Registers sgen's options (--sgen-nursery-size, --sgen-max-heap-size, --sgen-verify, ...) in
 * the option table; call before mono_options_startup. Safe to call more than once. */
void sgen_register_options (void);

/* Starts the GC with the values of the options. 0, or -1 with a message in err (bad size, no
 * memory for the nursery). sgen_shutdown gives every byte back; init may then be called again. */
int sgen_init (char *err, size_t errlen);
void sgen_shutdown (void);

/* A zeroed object of a SGEN_KIND_OBJECT vtable / an array of `length` elements. */
SgenObject *sgen_alloc_obj (const SgenVTable *vt);
SgenObject *sgen_alloc_array (const SgenVTable *vt, size_t length);
const char *sgen_last_error (void);

/* Stores value into *slot of obj (an object of the heap) and records old-to-young references. */
void sgen_wbarrier_set (SgenObject *obj, void **slot, SgenObject *value);

typedef enum { SGEN_COLLECT_MINOR, SGEN_COLLECT_MAJOR } SgenCollectKind;
void sgen_collect (SgenCollectKind kind);

/* Roots: `count` object pointers at `start`, scanned by every collection until unregistered.
 * The range stays owned by the caller. -1 when already registered or out of memory. */
int sgen_register_root (void **start, size_t count, const char *name);
int sgen_unregister_root (void **start);

/* Handles: a strong handle keeps its object alive; a weak one reads NULL once its object died.
 * Handle 0 is never valid. */
uint32_t sgen_gchandle_new (SgenObject *obj, bool weak);
SgenObject *sgen_gchandle_get (uint32_t handle);
void sgen_gchandle_set (uint32_t handle, SgenObject *obj);
void sgen_gchandle_free (uint32_t handle);

typedef struct {
	uint64_t collections_minor;
	uint64_t collections_major;
	uint64_t objects_allocated;
	uint64_t bytes_allocated;        /* object bytes handed to the mutator */
	uint64_t bytes_promoted;         /* copied from the nursery to the major heap */
	uint64_t objects_freed_major;    /* swept */
	uint64_t los_objects_freed;
	uint64_t verify_runs;
	uint64_t verify_errors;
	/* Heap shape now. */
	size_t   major_blocks_in_use;
	size_t   major_blocks_empty;     /* mapped, holding no object */
	size_t   major_blocks_released;  /* given back to the OS (partial free) */
	size_t   major_batches;
	size_t   los_objects;
	uint64_t los_bytes;
	uint64_t live_bytes_after_major; /* major + LOS object bytes after the last major sweep */
	/* OS memory requested by the GC (exact sizes asked for), by account type and in total. */
	uint64_t os_live_by_type[5];
	uint64_t os_bytes_live;
	uint64_t os_bytes_allocated;
	uint64_t os_bytes_freed;
	uint64_t os_bytes_peak;
	uint64_t heap_limit;             /* 0: none */
	uint64_t oom_errors;             /* allocations that failed: heap limit or OS */
	uint64_t grow_hook_requests;     /* growths the backend announced from outside sgen */
	uint64_t grow_hook_collections;  /* major collections run at an allocation for them */
	uint64_t card_bytes_scanned;     /* card-table bytes read by minor collections, in total */
} SgenStats;

void sgen_get_stats (SgenStats *out);

/* Verifies the heap now (docs/sgen.md, "Verifier"); returns the number of problems, printing
 * each to stderr (at most a few dozen lines). Counted in verify_errors. */
int sgen_verify_heap (const char *when);

/* Calls fn(obj, ctx) for every object reachable from the roots and handles (depth first). */
void sgen_walk_reachable (void (*fn) (SgenObject *obj, void *ctx), void *ctx);

/* ---- For tests only ---- */
void sgen_set_write_barrier_enabled_for_tests (bool enabled);
/* From the next sgen_init on, cards are indexed by the low `bits` bits of the card number
 * (1..23; 23, the default, covers wasm32's space): with few bits, regions 512 << bits bytes
 * apart share cards all the time, as on 64-bit hosts rarely. Returns -1 for other values. */
int sgen_set_card_bits_for_tests (unsigned bits);
/* Tests only (first touch, docs/sgen.md): `observe` (may be NULL) runs before (false) and after
 * (true) the cards of memory new to the heap are written, so a test can count the page faults
 * of the card table alone. With read_first the cards are read before they are written: the
 * defect that count must catch. */
void sgen_observe_card_touch_for_tests (void (*observe) (bool after), bool read_first);
/* Tests only: where the card table lies (NULL before sgen_init). */
const void *sgen_card_table_for_tests (size_t *len);
/* Is p inside the nursery, an in-use major block, or the start of a large object? */
bool sgen_ptr_in_heap (const void *p);
bool sgen_ptr_in_nursery (const void *p);

#endif

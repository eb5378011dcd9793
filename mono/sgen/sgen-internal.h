/*
 * sgen-internal.h: what the spaces of sgen say to each other. Not for users of the GC.
 *
 * Files: sgen-os.c (OS memory, accounting), sgen-memgov.c (when to collect, the heap limit),
 * sgen-object.c (vtables), sgen-nursery.c, sgen-major.c (with sgen-block-map.c and
 * sgen-records.c for its metadata), sgen-los.c, sgen-cardtable.c (write barrier, remembered
 * set), sgen-internal-alloc.c (metadata memory), sgen-roots.c (root ranges, handles),
 * sgen-gray.c (the gray stack both collectors use), sgen-verify.c, sgen-gc.c (collections and
 * the public API).
 *
 * Every function here runs on the mutator thread.
 */
#ifndef MONO_SGEN_INTERNAL_H
#define MONO_SGEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mono-mmap.h"
#include "sgen-gc.h"

/* Objects above this size go to the large object space. */
#define SGEN_MAX_SMALL_OBJ_SIZE 8192u
/* Major blocks are max(this, the backend's page): 16 KiB natively, 64 KiB on wasm, as mono's
 * ms_block_size (mono_pagesize () with a 16 KiB floor). */
#define SGEN_MIN_BLOCK_SIZE (16u * 1024u)
/* Largest object size sgen accepts (any space). */
#define SGEN_MAX_OBJECT_SIZE ((size_t) 1 << 30)

/* Prints "sgen: fatal: ..." and aborts: only for states the GC cannot continue from (the OS
 * refusing memory in the middle of a collection, the bookkeeping's own allocations failing). */
_Noreturn void _sgen_fatal (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Records the message sgen_last_error returns. */
void _sgen_set_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* ---- sgen-internal-alloc.c: the GC's own metadata, never from malloc ---- */
/* size bytes that read zero; out of memory is fatal. Free with the same size. */
void *_sgen_internal_alloc (size_t size);
void _sgen_internal_free (void *p, size_t size);
/* The contents move to a piece of new_size bytes (p may be NULL); bytes past old_size read zero. */
void *_sgen_internal_realloc (void *p, size_t old_size, size_t new_size);
/* A full array of *cap elements of elem_size bytes made twice as big (first_cap elements when
 * empty): returns it, moved or not, and updates *cap. Callers test count == *cap first. */
void *_sgen_internal_grow_array (void *items, size_t *cap, size_t elem_size, size_t first_cap);
/* Gives every superblock back (at sgen_shutdown, after every other space gave its pieces back). */
void _sgen_internal_shutdown (void);

/* > 0 while the mutator runs inside sgen (allocation, collection, verification): the grow
 * hook must not start a collection then. Defined in sgen-os.c. */
extern int _sgen_busy;

/* ---- sgen-os.c: OS memory through the mmap layer, accounting, governor ---- */

/* Flags: SGEN_ALLOC_HEAP counts against the heap limit; SGEN_ALLOC_NOZERO: the caller
 * initialises the memory itself (otherwise it reads zero); SGEN_ALLOC_HELD: only from memory
 * the backend already holds (MONO_MMAP_NO_GROW: where caps->no_grow), NULL rather than growth. */
enum { SGEN_ALLOC_HEAP = 1, SGEN_ALLOC_NOZERO = 2, SGEN_ALLOC_HELD = 4 };

/*
 * Allocates size bytes (a multiple of the backend page is not required: the layer rounds) for
 * `description`, counted as `type`. With SGEN_ALLOC_HEAP, refused (NULL, error recorded) when
 * the heap limit would be passed, unless a collection is running (collections may overshoot:
 * the next allocation sees it). NULL when the OS refuses.
 */
void *sgen_alloc_os_memory (size_t size, int flags, const char *description, MonoMemAccountType type);
/* As above, the result a multiple of `alignment` (a power of two). */
void *sgen_alloc_os_memory_aligned (size_t size, size_t alignment, int flags, const char *description,
				    MonoMemAccountType type);
/* Frees [addr, addr + size) obtained above (whole, or a page-aligned part when the backend
 * has partial_free). A refusal by the layer is fatal: it means sgen's own bookkeeping broke. */
void sgen_free_os_memory (void *addr, size_t size, int flags, MonoMemAccountType type);

/* OS bytes live in the heap accounts (nursery + major + LOS), as the heap limit counts them. */
uint64_t _sgen_os_heap_bytes (void);
void _sgen_os_fill_stats (SgenStats *out);
void _sgen_os_reset (void);

/* ---- sgen-memgov.c: when to collect, the heap limit. It is told the heap's size (sgen-os.c
 * keeps it) and asks nothing of the other files. ---- */
void _sgen_memgov_init (uint64_t max_heap, size_t nursery_size);
uint64_t _sgen_memgov_max_heap (void);
/* Would `size` more bytes pass the limit, with heap_bytes in the heap accounts now? */
bool _sgen_memgov_over_limit (uint64_t heap_bytes, size_t size);
/* Bytes promoted into or allocated in the old generation since the last major collection. */
void _sgen_memgov_old_allocated (size_t bytes);
bool _sgen_memgov_major_needed (void);
uint64_t _sgen_memgov_old_since_major (void);
/* After a major collection: old-generation object bytes still live. */
void _sgen_memgov_major_done (uint64_t live_old_bytes, uint64_t heap_bytes);
/* The backend must grow by `bytes` (announced from outside sgen): remembered until a major. */
void _sgen_memgov_pressure (uint64_t bytes);
/* Would a major collection now answer the pressure (the old generation grew by as much)? */
bool _sgen_memgov_pressure_major_needed (void);
/* True while a collection runs (heap allocations may overshoot the limit). */
extern bool _sgen_collecting;

/* ---- sgen-nursery.c ---- */
int _sgen_nursery_init (size_t size, char *err, size_t errlen);
void _sgen_nursery_shutdown (void);
/* A zeroed object of `size` bytes, or NULL when the nursery is full. */
void *_sgen_nursery_alloc (size_t size);
bool _sgen_nursery_contains (const void *p);
/* After a minor collection evacuated it: clears the used part and restarts at the bottom. */
void _sgen_nursery_clear (void);
/* Calls fn for every object in the nursery, in address order (the verifier). */
void _sgen_nursery_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx);
size_t _sgen_nursery_used (void);
char *_sgen_nursery_start (void);
size_t _sgen_nursery_size (void);

/* ---- sgen-major.c ---- */
void _sgen_major_init (void);
void _sgen_major_shutdown (void);
/* A zeroed small object (size <= SGEN_MAX_SMALL_OBJ_SIZE). NULL on refusal (heap limit / OS). */
void *_sgen_major_alloc (size_t size);
/* Is p the start of an allocated object slot of the major heap? */
bool _sgen_major_is_object (const void *p);
bool _sgen_major_contains (const void *p);
/* Sweeps after marking: frees unmarked objects, clears marks, then returns empty blocks to the
 * OS by the rules of docs/sgen.md. Returns the object bytes still live. */
uint64_t _sgen_major_sweep (void);
/* Gives every FREE and EMPTY block back to the OS, the reserve too (backends that free in
 * part only): memory no object uses, so nothing moves or dies. Returns the blocks released. */
size_t _sgen_major_release_free_blocks (void);
void _sgen_major_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx);
/* Counts problems of the block structure (states, counts, free slots reading zero). */
int _sgen_major_check (bool expensive);
/* The minor collection's remembered set: fn for every slot in a marked card of an in-use
 * block (the cards are cleared). */
void _sgen_major_scan_cards (void (*fn) (void **slot, void *ctx), void *ctx);
/* Clears the cards of the blocks in use: after every scan of a minor collection. */
void _sgen_major_clear_cards (void);
/* Bytes per block (SGEN_MIN_BLOCK_SIZE or the backend's page, whichever is larger). */
size_t _sgen_major_block_size (void);
void _sgen_major_fill_stats (SgenStats *out);

/* ---- sgen-block-map.c: block base address -> block record ---- */
void _sgen_block_map_insert (uintptr_t base, void *value);
void *_sgen_block_map_find (uintptr_t base); /* NULL when absent */
void _sgen_block_map_remove (uintptr_t base);
size_t _sgen_block_map_count (void);
void _sgen_block_map_clear (void);

/* ---- sgen-records.c: fixed-size metadata records from OS memory ---- */
void _sgen_records_init (size_t record_size);
void *_sgen_records_alloc (void); /* zeroed; NULL when the OS refuses */
void _sgen_records_free (void *record);
void _sgen_records_shutdown (void);

/* ---- sgen-los.c ---- */
void *_sgen_los_alloc (size_t size);
bool _sgen_los_is_object (const void *p);
uint64_t _sgen_los_sweep (void);
void _sgen_los_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx);
void _sgen_los_shutdown (void);
void _sgen_los_fill_stats (SgenStats *out);
int _sgen_los_check (void);
/* As _sgen_major_scan_cards, for the reference arrays of the large object space. */
void _sgen_los_scan_cards (void (*fn) (void **slot, void *ctx), void *ctx);
void _sgen_los_clear_cards (void);

/* ---- sgen-cardtable.c: the remembered set, one byte per 512-byte card ---- */
#define SGEN_CARD_BITS 9
#define SGEN_CARD_SIZE (1u << SGEN_CARD_BITS)
#define SGEN_CARD_COUNT_BITS 23
#define SGEN_CARD_COUNT (1u << SGEN_CARD_COUNT_BITS)
extern uint8_t *_sgen_cards;
extern size_t _sgen_card_mask;   /* SGEN_CARD_COUNT - 1; fewer bits only in tests */
extern bool _sgen_barrier_enabled;
/* The card of an address: its card number, masked to the table (overlapping on 64-bit). */
static inline size_t
_sgen_card_index (const void *p)
{
	return (size_t) (((uintptr_t) p >> SGEN_CARD_BITS) & _sgen_card_mask);
}
static inline void
_sgen_card_mark (const void *slot)
{
	_sgen_cards[_sgen_card_index (slot)] = 1;
}
static inline bool
_sgen_card_marked (const void *p)
{
	return _sgen_cards[_sgen_card_index (p)] != 0;
}
int _sgen_cards_init (char *err, size_t errlen);
void _sgen_cards_shutdown (void);
/* Writes the cards of [start, start + len), never reading one first: memory new to the heap,
 * whose cards a later scan will read (first touch). Cards it may share with another region keep
 * their marks. */
void _sgen_cards_touch (const void *start, size_t len);
/* Clears the marked cards of [start, start + len): once every region was scanned. */
void _sgen_cards_clear (const void *start, size_t len);
/* For every marked card of [start, start + len): calls fn with the part of the range the card
 * covers. Reads the cards only (a card may be shared: see sgen-cardtable.c). */
typedef void (*SgenCardFn) (char *from, char *to, void *ctx);
void _sgen_cards_scan (const void *start, size_t len, SgenCardFn fn, void *ctx);
/* Cards read by scans, in total (the minor collections' card work). */
uint64_t _sgen_cards_bytes_scanned (void);

/* ---- sgen-roots.c ---- */
void _sgen_roots_foreach_slot (void (*fn) (void **slot, void *ctx), void *ctx);
/* Weak handles: fn returns the new value of each non-NULL target (NULL clears it). */
void _sgen_roots_update_weak (SgenObject *(*fn) (SgenObject *obj, void *ctx), void *ctx);
void _sgen_roots_shutdown (void);

/* ---- sgen-gray.c: the work list of objects whose slots are still to be scanned ---- */
void _sgen_gray_push (SgenObject *obj);
SgenObject *_sgen_gray_pop (void); /* NULL when empty */
void _sgen_gray_shutdown (void);

/* ---- sgen-object.c ---- */
/* vt was accepted by sgen_vtable_init (checked without reading through an unknown pointer). */
bool _sgen_vtable_is_known (const SgenVTable *vt);

/* ---- sgen-verify.c ---- */
extern int _sgen_verify_level; /* 0 off; 1 after every collection; 2 adds expensive checks */
/* The verifier's own counts (runs, problems) into the stats; back to 0 at sgen_init. */
void _sgen_verify_fill_stats (SgenStats *out);
void _sgen_verify_reset (void);

#endif

/*
 * sgen-internal-alloc.c: memory for the collector's own metadata (the block map, the gray
 * stack, the LOS table, roots and handles, the verifier's scratch), never from malloc: all of
 * it comes through sgen_alloc_os_memory (account INTERNAL), as mono's internal allocator on wasm.
 *
 *   sizes up to 8 KiB   one of ten size classes (16, 32, ... 8192 bytes): carved from superblocks
 *                       of 512 KiB, one class per superblock, handed out from a free list or
 *                       by a bump pointer; freed pieces go back to their class's free list
 *   larger sizes        an OS allocation of their own, freed back to the OS
 *
 * Why not malloc: on wasm a malloc that grows its heap between two of the page layer's sbrk
 * calls splits the page layer's memory (measured with sgen-stress --workloads=startup-heavy:
 * 150 MB of linear memory with a malloc per batch, 105 MB without); and in the shared-pool
 * build malloc is the page layer. Why 512 KiB: mono's value on wasm (dotnet/runtime PR 108512);
 * a superblock is mapped zero and only the pieces handed out are ever touched, so its untouched
 * rest costs no memory traffic.
 *
 * Every piece handed out reads zero: bump-pointer pieces are fresh from the OS (zero, never
 * written, and not read here), pieces from a free list are zeroed before they are given out.
 * Runs on the mutator thread only (sgen-internal.h). Out of memory is fatal: the bookkeeping
 * cannot go on without it (_sgen_fatal).
 *
 * Invariant: every superblock is on the list of its class; a class's bump pointer lies inside
 * its newest superblock; free-list pieces lie in superblocks of their class.
 */
#include "sgen-internal.h"

#include <string.h>

#define SUPERBLOCK_BYTES (512u * 1024u)
#define MIN_PIECE 16u
#define MAX_PIECE 8192u
#define NUM_CLASSES 10 /* 16 << 9 == 8192 */

typedef struct Superblock {
	struct Superblock *next;
	uint32_t size_class;
} __attribute__ ((aligned (16))) Superblock;

typedef struct FreePiece {
	struct FreePiece *next;
} FreePiece;

typedef struct {
	Superblock *superblocks;
	char *bump, *bump_end;   /* in the newest superblock of the class */
	FreePiece *free;
} SizeClass;

static struct {
	SizeClass classes[NUM_CLASSES];
	uint64_t large_live;     /* bytes in allocations of their own */
} internal;

/* A large piece is its own OS allocation of whole backend pages (what the layer maps anyway). */
static size_t
large_size (size_t size)
{
	size_t page = mono_pagesize ();
	return (size + page - 1) & ~(page - 1);
}

static unsigned
class_of (size_t size)
{
	unsigned c = 0;
	while (((size_t) MIN_PIECE << c) < size)
		c++;
	return c;
}

static void *
os_alloc (size_t size, const char *what)
{
	_sgen_busy++; /* the page layer's grow hook must not collect in the middle of this */
	void *p = sgen_alloc_os_memory (size, 0, what, MONO_MEM_ACCOUNT_INTERNAL);
	_sgen_busy--;
	if (!p)
		_sgen_fatal ("out of memory for the GC's bookkeeping (%zu bytes for %s)", size, what);
	return p;
}

static void
new_superblock (SizeClass *sc, unsigned c)
{
	Superblock *sb = os_alloc (SUPERBLOCK_BYTES, "GC metadata superblock");
	sb->next = sc->superblocks;
	sb->size_class = c;
	sc->superblocks = sb;
	sc->bump = (char *) (sb + 1);
	sc->bump_end = (char *) sb + SUPERBLOCK_BYTES;
}

void *
_sgen_internal_alloc (size_t size)
{
	if (size == 0)
		size = 1;
	if (size > MAX_PIECE) {
		size = large_size (size);
		internal.large_live += size;
		return os_alloc (size, "GC metadata");
	}
	unsigned c = class_of (size);
	SizeClass *sc = &internal.classes[c];
	size_t piece = (size_t) MIN_PIECE << c;
	if (sc->free) {
		FreePiece *p = sc->free;
		sc->free = p->next;
		memset (p, 0, piece);
		return p;
	}
	if (!sc->bump || (size_t) (sc->bump_end - sc->bump) < piece)
		new_superblock (sc, c);
	void *p = sc->bump;
	sc->bump += piece;
	return p;
}

void
_sgen_internal_free (void *p, size_t size)
{
	if (!p)
		return;
	if (size == 0)
		size = 1;
	if (size > MAX_PIECE) {
		size = large_size (size);
		internal.large_live -= size;
		sgen_free_os_memory (p, size, 0, MONO_MEM_ACCOUNT_INTERNAL);
		return;
	}
	SizeClass *sc = &internal.classes[class_of (size)];
	FreePiece *f = p;
	f->next = sc->free;
	sc->free = f;
}

void *
_sgen_internal_grow_array (void *items, size_t *cap, size_t elem_size, size_t first_cap)
{
	size_t n = *cap ? 2 * *cap : first_cap;
	items = _sgen_internal_realloc (items, *cap * elem_size, n * elem_size);
	*cap = n;
	return items;
}

void *
_sgen_internal_realloc (void *p, size_t old_size, size_t new_size)
{
	bool same_piece = old_size <= MAX_PIECE ? new_size <= MAX_PIECE && class_of (old_size ? old_size : 1) ==
								class_of (new_size ? new_size : 1)
						: new_size > MAX_PIECE && large_size (old_size) == large_size (new_size);
	if (p && same_piece)
		return p;
	void *q = _sgen_internal_alloc (new_size);
	if (p) {
		memcpy (q, p, old_size < new_size ? old_size : new_size);
		_sgen_internal_free (p, old_size);
	}
	return q;
}

void
_sgen_internal_shutdown (void)
{
	for (unsigned c = 0; c < NUM_CLASSES; c++) {
		SizeClass *sc = &internal.classes[c];
		while (sc->superblocks) {
			Superblock *next = sc->superblocks->next;
			sgen_free_os_memory (sc->superblocks, SUPERBLOCK_BYTES, 0, MONO_MEM_ACCOUNT_INTERNAL);
			sc->superblocks = next;
		}
	}
	memset (&internal, 0, sizeof (internal));
}

/*
 * sgen-major.c: the old generation, mark-sweep over blocks in size classes.
 *
 * Blocks are max(16 KiB, the backend's page) bytes (64 KiB on wasm, as mono's ms_block_size)
 * and come from the OS in batches of caps->pieces_per_mapping blocks (32, as mono's
 * MS_BLOCK_ALLOC_NUM; 1 on the malloc backend, as dotnet on wasm), aligned to the block size.
 * Each block serves one size class at a time; the metadata (state, allocation bitmap) lives
 * outside the block, so a block's memory can go back to the OS while its batch stays.
 *
 * Block states:
 *
 *            new batch (zeroed)                       sweep: nothing marked
 *   [OS] ------------------------> FREE ----------------> IN_USE -----------------> EMPTY
 *    ^                               ^  take (no memset)    ^ |  take (memset first)  |
 *    |                               |                      | +-----------------------+
 *    |                               |                      |  sweep: some marked (dead slots
 *    |                               |                      |  are zeroed, block stays)
 *    +--- RELEASED <-----------------+----------------------------------------------+
 *          release_empty_blocks: FREE/EMPTY blocks beyond the reserve (rules below)
 *
 *   FREE      mapped, reads zero, no size class.
 *   IN_USE    has a size class; allocated slots hold objects, every other slot reads zero.
 *   EMPTY     mapped, no object, dirty below its high-water mark (the dead objects of the last
 *             cycle), zero above it.
 *   RELEASED  its pages went back to the OS; never used again (its batch may live on).
 *
 * The high-water mark of a block is the end of the highest slot handed out since the block was
 * last zero: nothing above it has been written. Taking an EMPTY block zeroes only below it, and
 * the expensive check reads free slots only below it, so no memory is read or zeroed that was
 * never written (a first touch that reads costs a second page fault: docs/sgen.md).
 *
 * Giving memory back (after every sweep), from the mmap layer's capability record:
 *   partial_free: a block (at least a backend page) whose state is FREE or EMPTY is freed with
 *     sgen_free_os_memory, as long as SGEN_EMPTY_BLOCK_RESERVE empty blocks stay mapped;
 *   no partial_free (emscripten's libc mmap, malloc): a batch goes back whole, only when every
 *     one of its blocks is empty (same reserve); with one block per batch (malloc) that is every
 *     empty block beyond the reserve.
 * A batch whose blocks are all RELEASED is forgotten.
 *
 * Invariants (_sgen_major_check): the block map (sgen-block-map.c) holds exactly the blocks not
 * RELEASED; per block, live == popcount(alloc bits) and 0 < live only in IN_USE, and every
 * allocated slot lies below the high-water mark; a block with free slots is on its class's
 * partial list exactly when IN_USE; blocks_in_use/empty/released equal the counts.
 */
#include "sgen-internal.h"

#include <stdio.h>
#include <string.h>

/* Empty blocks kept mapped after a sweep: the next cycle's promotions start from them without
 * a trip to the OS. Small next to the 4 MiB nursery (512 KiB of 64 KiB blocks). */
#define SGEN_EMPTY_BLOCK_RESERVE 8u
/* The smallest slot: the bitmap of a block has a bit per 16 bytes. */
#define MIN_SLOT 16u

typedef enum { BLOCK_FREE, BLOCK_IN_USE, BLOCK_EMPTY, BLOCK_RELEASED } BlockState;

typedef struct Batch Batch;
typedef struct Block Block;

struct Block {
	char *base;
	Batch *batch;
	Block *next;          /* partial list of its class, or the empty list */
	uint8_t state;
	uint8_t size_class;
	bool listed;          /* on a partial or the empty list */
	uint32_t slot_size;
	uint32_t nslots;
	uint32_t live;        /* allocated slots */
	uint32_t cursor;      /* allocation scans from here */
	uint32_t high_water;  /* slots [0, high_water) may have been written since the last zeroing */
	uint64_t *alloc_bits; /* bitmap_words words, in the batch record after the blocks */
};

struct Batch {
	char *base;
	size_t bytes;
	uint32_t nblocks;
	uint32_t released;
	Block blocks[];
};

/* Slot sizes: finer steps below 1 KiB where most objects are, then the 16 KiB block divided
 * into 2..12 slots (rounded down to SGEN_ALIGN); larger blocks hold more slots of each. */
static const uint32_t class_sizes[] = {
	16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1360, 1632, 2048, 2336, 2728, 3272, 4096, 5456, 8192,
};
#define NUM_CLASSES (sizeof (class_sizes) / sizeof (class_sizes[0]))
_Static_assert (NUM_CLASSES < 256, "class index fits a byte");

static uint8_t class_of_size[SGEN_MAX_SMALL_OBJ_SIZE / SGEN_ALIGN + 1];

static struct {
	Batch **batches;       /* in no order: extents may overlap (see sgen-block-map.c) */
	size_t nbatches, cap;
	Block *partial[NUM_CLASSES];
	Block *empty;          /* FREE and EMPTY blocks */
	size_t in_use, empty_count, released;
	size_t block_size;     /* max (SGEN_MIN_BLOCK_SIZE, the backend's page) */
	uint32_t per_batch;    /* blocks per OS allocation (caps->pieces_per_mapping) */
	uint32_t bitmap_words; /* per block */
	uint64_t objects_freed;
} major;

/* The record of a batch of n blocks: the batch, its blocks, their allocation bitmaps. */
static size_t
batch_record_bytes (uint32_t n)
{
	return sizeof (Batch) + n * (sizeof (Block) + major.bitmap_words * sizeof (uint64_t));
}

/* Batches of at least half of per_batch blocks take a fixed-size record (sgen-records.c); shorter
 * ones (new_batch) a piece of their own size from the internal allocator (at most 8 KiB for a
 * quarter batch of 64 KiB blocks), so that a batch of one block costs a block's metadata, not a
 * full batch's. Both read zero. */
static bool
full_record (uint32_t n)
{
	return 2 * n >= major.per_batch;
}

static Batch *
alloc_batch_record (uint32_t n)
{
	return full_record (n) ? _sgen_records_alloc () : _sgen_internal_alloc (batch_record_bytes (n));
}

static void
free_batch_record (Batch *b)
{
	if (full_record (b->nblocks))
		_sgen_records_free (b);
	else
		_sgen_internal_free (b, batch_record_bytes (b->nblocks));
}

size_t
_sgen_major_block_size (void)
{
	return major.block_size;
}

void
_sgen_major_init (void)
{
	size_t c = 0;
	for (size_t s = 0; s <= SGEN_MAX_SMALL_OBJ_SIZE; s += SGEN_ALIGN) {
		while (class_sizes[c] < s)
			c++;
		class_of_size[s / SGEN_ALIGN] = (uint8_t) c;
	}
	memset (&major, 0, sizeof (major));
	const MonoMmapCaps *caps = mono_mmap_caps ();
	major.block_size = caps->page_size > SGEN_MIN_BLOCK_SIZE ? caps->page_size : SGEN_MIN_BLOCK_SIZE;
	major.per_batch = caps->pieces_per_mapping ? caps->pieces_per_mapping : 1;
	major.bitmap_words = (uint32_t) (major.block_size / MIN_SLOT / 64);
	_sgen_records_init (batch_record_bytes (major.per_batch));
}

static void
forget_batch (size_t index)
{
	free_batch_record (major.batches[index]);
	major.batches[index] = major.batches[--major.nbatches];
}

void
_sgen_major_shutdown (void)
{
	while (major.nbatches) {
		Batch *b = major.batches[major.nbatches - 1];
		if (b->released) {
			/* Only partial_free backends release blocks one by one. */
			for (uint32_t i = 0; i < b->nblocks; i++) {
				if (b->blocks[i].state != BLOCK_RELEASED)
					sgen_free_os_memory (b->blocks[i].base, major.block_size, 0, MONO_MEM_ACCOUNT_MAJOR);
			}
		} else {
			sgen_free_os_memory (b->base, b->bytes, 0, MONO_MEM_ACCOUNT_MAJOR);
		}
		forget_batch (major.nbatches - 1);
	}
	_sgen_internal_free (major.batches, major.cap * sizeof (Batch *));
	memset (&major, 0, sizeof (major));
	_sgen_records_shutdown ();
	_sgen_block_map_clear ();
}

static Block *
block_of (const void *p)
{
	return _sgen_block_map_find ((uintptr_t) p & ~(uintptr_t) (major.block_size - 1));
}

static void
remember_batch (Batch *b)
{
	if (major.nbatches == major.cap)
		major.batches = _sgen_internal_grow_array (major.batches, &major.cap, sizeof (Batch *), 16);
	major.batches[major.nbatches++] = b;
}

/*
 * The memory of a new batch: per_batch blocks, unless the backend holds free memory that a
 * shorter batch fits (caps->no_grow): then the longest run of per_batch, per_batch / 2, ... 1
 * blocks that it can hand out without growing. Free memory the backend holds was written before
 * (the holes freed blocks and large objects leave): reusing it costs a memset where fresh
 * memory costs a page fault per 4 KiB (docs/performance.md), and a full batch would skip every
 * hole shorter than itself and take fresh memory above them.
 */
static char *
map_batch (uint32_t *nblocks)
{
	if (mono_mmap_caps ()->no_grow) {
		for (uint32_t n = major.per_batch; n >= 1; n /= 2) {
			char *base = sgen_alloc_os_memory_aligned ((size_t) n * major.block_size, major.block_size,
								   SGEN_ALLOC_HEAP | SGEN_ALLOC_HELD, "major heap batch",
								   MONO_MEM_ACCOUNT_MAJOR);
			if (base) {
				*nblocks = n;
				return base;
			}
		}
	}
	*nblocks = major.per_batch;
	return sgen_alloc_os_memory_aligned ((size_t) major.per_batch * major.block_size, major.block_size,
					     SGEN_ALLOC_HEAP, "major heap batch", MONO_MEM_ACCOUNT_MAJOR);
}

static bool
new_batch (void)
{
	uint32_t nblocks;
	char *base = map_batch (&nblocks);
	if (!base)
		return false;
	size_t bytes = (size_t) nblocks * major.block_size;
	Batch *b = alloc_batch_record (nblocks);
	if (!b) {
		sgen_free_os_memory (base, bytes, 0, MONO_MEM_ACCOUNT_MAJOR);
		return false;
	}
	b->base = base;
	b->bytes = bytes;
	b->nblocks = nblocks;
	uint64_t *bits = (uint64_t *) &b->blocks[b->nblocks];
	/* Push in reverse so the lowest block is taken first. */
	for (uint32_t i = b->nblocks; i-- > 0;) {
		Block *blk = &b->blocks[i];
		blk->base = base + (size_t) i * major.block_size;
		blk->batch = b;
		blk->state = BLOCK_FREE;
		blk->alloc_bits = bits + (size_t) i * major.bitmap_words;
		blk->listed = true;
		blk->next = major.empty;
		major.empty = blk;
		_sgen_block_map_insert ((uintptr_t) blk->base, blk);
	}
	major.empty_count += b->nblocks;
	remember_batch (b);
	return true;
}

static Block *
take_block (uint8_t cls)
{
	if (!major.empty && !new_batch ())
		return NULL;
	Block *blk = major.empty;
	major.empty = blk->next;
	major.empty_count--;
	if (blk->state == BLOCK_EMPTY)
		memset (blk->base, 0, (size_t) blk->high_water * blk->slot_size);
	/* Its cards are written before any minor collection reads them (sgen-cardtable.c). */
	_sgen_cards_touch (blk->base, major.block_size);
	blk->state = BLOCK_IN_USE;
	blk->size_class = cls;
	blk->slot_size = class_sizes[cls];
	blk->nslots = (uint32_t) (major.block_size / class_sizes[cls]);
	blk->live = 0;
	blk->cursor = 0;
	blk->high_water = 0;
	memset (blk->alloc_bits, 0, major.bitmap_words * sizeof (uint64_t));
	blk->next = NULL;
	blk->listed = true;
	major.partial[cls] = blk;
	major.in_use++;
	return blk;
}
static bool
bit_get (const Block *blk, uint32_t i)
{
	return (blk->alloc_bits[i / 64] >> (i % 64)) & 1;
}

static void
bit_flip (Block *blk, uint32_t i)
{
	blk->alloc_bits[i / 64] ^= (uint64_t) 1 << (i % 64);
}

void *
_sgen_major_alloc (size_t size)
{
	uint8_t cls = class_of_size[sgen_align_up (size, SGEN_ALIGN) / SGEN_ALIGN];
	Block *blk = major.partial[cls];
	if (!blk && !(blk = take_block (cls)))
		return NULL;
	uint32_t i = blk->cursor;
	while (bit_get (blk, i))
		i++;
	bit_flip (blk, i);
	blk->live++;
	blk->cursor = i + 1;
	if (blk->cursor > blk->high_water)
		blk->high_water = blk->cursor;
	if (blk->live == blk->nslots) {
		major.partial[cls] = blk->next;
		blk->next = NULL;
		blk->listed = false;
	}
	_sgen_memgov_old_allocated (blk->slot_size);
	return blk->base + (size_t) i * blk->slot_size;
}

bool
_sgen_major_contains (const void *p)
{
	Block *blk = block_of (p);
	return blk && blk->state == BLOCK_IN_USE;
}

bool
_sgen_major_is_object (const void *p)
{
	Block *blk = block_of (p);
	if (!blk || blk->state != BLOCK_IN_USE)
		return false;
	size_t off = (size_t) ((const char *) p - blk->base);
	if (off % blk->slot_size)
		return false;
	uint32_t i = (uint32_t) (off / blk->slot_size);
	return i < blk->nslots && bit_get (blk, i);
}

static void
push_empty (Block *blk)
{
	blk->next = major.empty;
	blk->listed = true;
	major.empty = blk;
	major.empty_count++;
}

/* Returns the block's surviving object bytes; frees the rest. */
static uint64_t
sweep_block (Block *blk)
{
	uint32_t marked = 0;
	for (uint32_t i = 0; i < blk->nslots; i++) {
		if (bit_get (blk, i) && (((SgenObject *) (blk->base + (size_t) i * blk->slot_size))->vtword & SGEN_FLAG_MARKED))
			marked++;
	}
	if (!marked) {
		/* Left dirty: zeroed only if it is taken again (take_block). */
		major.in_use--;
		major.objects_freed += blk->live;
		blk->state = BLOCK_EMPTY;
		blk->live = 0;
		return 0;
	}
	for (uint32_t i = 0; i < blk->nslots; i++) {
		if (!bit_get (blk, i))
			continue;
		SgenObject *obj = (SgenObject *) (blk->base + (size_t) i * blk->slot_size);
		if (obj->vtword & SGEN_FLAG_MARKED) {
			obj->vtword &= ~(uintptr_t) SGEN_FLAG_MARKED;
		} else {
			memset (obj, 0, blk->slot_size);
			bit_flip (blk, i);
			major.objects_freed++;
		}
	}
	blk->live = marked;
	blk->cursor = 0;
	return (uint64_t) marked * blk->slot_size;
}

static bool
all_empty (const Batch *b)
{
	for (uint32_t i = 0; i < b->nblocks; i++) {
		uint8_t s = b->blocks[i].state;
		if (s != BLOCK_FREE && s != BLOCK_EMPTY)
			return false;
	}
	return true;
}

static void
release_block (Block *blk)
{
	blk->state = BLOCK_RELEASED;
	blk->listed = false;
	blk->next = NULL;
	_sgen_block_map_remove ((uintptr_t) blk->base);
	blk->batch->released++;
	major.released++;
	major.empty_count--;
}

/* partial_free: each empty block goes back alone while the budget lasts. */
static size_t
release_blocks_of (Batch *b, size_t budget)
{
	for (uint32_t i = 0; i < b->nblocks && budget; i++) {
		Block *blk = &b->blocks[i];
		if (blk->state != BLOCK_FREE && blk->state != BLOCK_EMPTY)
			continue;
		sgen_free_os_memory (blk->base, major.block_size, 0, MONO_MEM_ACCOUNT_MAJOR);
		release_block (blk);
		budget--;
	}
	return budget;
}

/* No partial free: the whole batch goes back, when every block of it is empty. */
static size_t
release_batch (Batch *b, size_t budget)
{
	if (b->released || budget < b->nblocks || !all_empty (b))
		return budget;
	sgen_free_os_memory (b->base, b->bytes, 0, MONO_MEM_ACCOUNT_MAJOR);
	for (uint32_t i = 0; i < b->nblocks; i++)
		release_block (&b->blocks[i]);
	return budget - b->nblocks;
}

/* Releases the FREE and EMPTY blocks beyond `reserve` (see the rules at the top). */
static void
release_empty_blocks (size_t reserve)
{
	bool partial = mono_mmap_caps ()->partial_free;
	size_t budget = major.empty_count > reserve ? major.empty_count - reserve : 0;
	for (size_t bi = 0; bi < major.nbatches && budget;) {
		Batch *b = major.batches[bi];
		budget = partial ? release_blocks_of (b, budget) : release_batch (b, budget);
		if (b->released == b->nblocks) {
			major.released -= b->nblocks;
			forget_batch (bi);
		} else {
			bi++;
		}
	}
}

uint64_t
_sgen_major_sweep (void)
{
	uint64_t live = 0;
	memset (major.partial, 0, sizeof (major.partial));
	major.empty = NULL;
	major.empty_count = 0;
	for (size_t bi = 0; bi < major.nbatches; bi++) {
		Batch *b = major.batches[bi];
		for (uint32_t i = 0; i < b->nblocks; i++) {
			Block *blk = &b->blocks[i];
			blk->listed = false;
			blk->next = NULL;
			if (blk->state == BLOCK_IN_USE)
				live += sweep_block (blk);
			if (blk->state == BLOCK_FREE || blk->state == BLOCK_EMPTY)
				major.empty_count++;
		}
	}
	release_empty_blocks (SGEN_EMPTY_BLOCK_RESERVE);
	/* Rebuild the lists, lowest addresses first (they are taken from the head). */
	major.empty_count = 0;
	for (size_t bi = major.nbatches; bi-- > 0;) {
		Batch *b = major.batches[bi];
		for (uint32_t i = b->nblocks; i-- > 0;) {
			Block *blk = &b->blocks[i];
			if (blk->state == BLOCK_FREE || blk->state == BLOCK_EMPTY) {
				push_empty (blk);
			} else if (blk->state == BLOCK_IN_USE && blk->live < blk->nslots) {
				blk->next = major.partial[blk->size_class];
				blk->listed = true;
				major.partial[blk->size_class] = blk;
			}
		}
	}
	return live;
}

size_t
_sgen_major_release_free_blocks (void)
{
	if (!mono_mmap_caps ()->partial_free)
		return 0;
	/* Every FREE and EMPTY block goes (the budget is all of them), so the empty list ends up
	 * empty; the partial lists hold only IN_USE blocks and stay as they are. */
	size_t n = major.empty_count;
	release_empty_blocks (0);
	major.empty = NULL;
	return n;
}

void
_sgen_major_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	for (size_t bi = 0; bi < major.nbatches; bi++) {
		Batch *b = major.batches[bi];
		for (uint32_t i = 0; i < b->nblocks; i++) {
			Block *blk = &b->blocks[i];
			if (blk->state != BLOCK_IN_USE)
				continue;
			for (uint32_t s = 0; s < blk->nslots; s++) {
				if (bit_get (blk, s))
					fn ((SgenObject *) (blk->base + (size_t) s * blk->slot_size), ctx);
			}
		}
	}
}

typedef struct {
	Block *blk;
	void (*fn) (void **slot, void *ctx);
	void *ctx;
} CardScan;

/* The slots of [from, to), one marked card of a block, in the objects that overlap it. */
static void
scan_card_of_block (char *from, char *to, void *ctx)
{
	CardScan *cs = ctx;
	Block *blk = cs->blk;
	uint32_t first = (uint32_t) ((size_t) (from - blk->base) / blk->slot_size);
	uint32_t last = (uint32_t) ((size_t) (to - 1 - blk->base) / blk->slot_size);
	for (uint32_t s = first; s <= last && s < blk->high_water; s++) {
		if (!bit_get (blk, s))
			continue;
		SgenObject *obj = (SgenObject *) (blk->base + (size_t) s * blk->slot_size);
		SGEN_FOREACH_REF (obj, slot, {
			if ((char *) slot >= from && (char *) slot < to)
				cs->fn (slot, cs->ctx);
		});
	}
}

void
_sgen_major_scan_cards (void (*fn) (void **slot, void *ctx), void *ctx)
{
	/* Promotions may add batches meanwhile: their blocks hold no young references, and the
	 * loop reads the array afresh each time. */
	for (size_t bi = 0; bi < major.nbatches; bi++) {
		for (uint32_t i = 0; i < major.batches[bi]->nblocks; i++) {
			Block *blk = &major.batches[bi]->blocks[i];
			if (blk->state != BLOCK_IN_USE)
				continue;
			CardScan cs = { blk, fn, ctx };
			_sgen_cards_scan (blk->base, (size_t) blk->high_water * blk->slot_size, scan_card_of_block, &cs);
		}
	}
}

void
_sgen_major_clear_cards (void)
{
	for (size_t bi = 0; bi < major.nbatches; bi++) {
		for (uint32_t i = 0; i < major.batches[bi]->nblocks; i++) {
			Block *blk = &major.batches[bi]->blocks[i];
			if (blk->state == BLOCK_IN_USE)
				_sgen_cards_clear (blk->base, (size_t) blk->high_water * blk->slot_size);
		}
	}
}

static int
check_block (const Block *blk, bool expensive)
{
	int errors = 0;
	uint32_t bits = 0;
	for (uint32_t w = 0; w < major.bitmap_words; w++)
		bits += (uint32_t) __builtin_popcountll (blk->alloc_bits[w]);
	if (blk->state != BLOCK_IN_USE) {
		if (blk->listed != (blk->state != BLOCK_RELEASED)) {
			fprintf (stderr, "sgen-major: block %p (state %d) listed=%d\n", (void *) blk->base, blk->state, blk->listed);
			errors++;
		}
		return errors;
	}
	if (bits != blk->live || blk->live == 0 || blk->nslots != major.block_size / blk->slot_size ||
	    blk->high_water > blk->nslots) {
		fprintf (stderr, "sgen-major: block %p: live %u, bits %u, %u slots of %u\n", (void *) blk->base,
			 blk->live, bits, blk->nslots, blk->slot_size);
		errors++;
	}
	if (blk->listed != (blk->live < blk->nslots)) {
		fprintf (stderr, "sgen-major: block %p with %u of %u slots live is %son its partial list\n",
			 (void *) blk->base, blk->live, blk->nslots, blk->listed ? "" : "not ");
		errors++;
	}
	for (uint32_t s = blk->high_water; s < blk->nslots; s++) {
		if (bit_get (blk, s)) {
			fprintf (stderr, "sgen-major: block %p: slot %u allocated above the high-water mark %u\n",
				 (void *) blk->base, s, blk->high_water);
			errors++;
			break;
		}
	}
	if (!expensive)
		return errors;
	for (uint32_t s = 0; s < blk->high_water; s++) {
		if (bit_get (blk, s))
			continue;
		const uint8_t *p = (const uint8_t *) blk->base + (size_t) s * blk->slot_size;
		for (uint32_t k = 0; k < blk->slot_size; k++) {
			if (p[k]) {
				fprintf (stderr, "sgen-major: free slot %p is not zero at +%u\n", (const void *) p, k);
				errors++;
				break;
			}
		}
	}
	return errors;
}

int
_sgen_major_check (bool expensive)
{
	int errors = 0;
	size_t in_use = 0, empty = 0, released = 0;
	for (size_t bi = 0; bi < major.nbatches; bi++) {
		const Batch *b = major.batches[bi];
		uint32_t rel = 0;
		for (uint32_t i = 0; i < b->nblocks; i++) {
			const Block *blk = &b->blocks[i];
			in_use += blk->state == BLOCK_IN_USE;
			empty += blk->state == BLOCK_FREE || blk->state == BLOCK_EMPTY;
			rel += blk->state == BLOCK_RELEASED;
			errors += check_block (blk, expensive);
			if ((blk->state != BLOCK_RELEASED) != (block_of (blk->base) == blk)) {
				fprintf (stderr, "sgen-major: block %p (state %d) and the block map disagree\n",
					 (void *) blk->base, blk->state);
				errors++;
			}
		}
		released += rel;
		if (rel != b->released || rel == b->nblocks) {
			fprintf (stderr, "sgen-major: batch %p: %u released blocks, recorded %u of %u\n",
				 (void *) b->base, rel, b->released, b->nblocks);
			errors++;
		}
	}
	size_t listed_empty = 0;
	for (const Block *blk = major.empty; blk; blk = blk->next)
		listed_empty++;
	if (_sgen_block_map_count () != in_use + empty) {
		fprintf (stderr, "sgen-major: the block map holds %zu blocks, %zu are mapped\n", _sgen_block_map_count (),
			 in_use + empty);
		errors++;
	}
	if (in_use != major.in_use || empty != major.empty_count || released != major.released || listed_empty != empty) {
		fprintf (stderr, "sgen-major: counts: in use %zu/%zu, empty %zu/%zu (listed %zu), released %zu/%zu\n",
			 in_use, major.in_use, empty, major.empty_count, listed_empty, released, major.released);
		errors++;
	}
	return errors;
}

void
_sgen_major_fill_stats (SgenStats *out)
{
	out->major_blocks_in_use = major.in_use;
	out->major_blocks_empty = major.empty_count;
	out->major_blocks_released = major.released;
	out->major_batches = major.nbatches;
	out->objects_freed_major = major.objects_freed;
}

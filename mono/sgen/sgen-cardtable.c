/*
 * sgen-cardtable.c: the remembered set, a card table, as mono's sgen has it on 32-bit.
 *
 * One byte per 512-byte card of the address space: 2^23 cards, 8 MiB, mapped at init with one
 * sgen_alloc_os_memory call (INTERNAL). On wasm32 that covers the whole 32-bit space exactly;
 * on 64-bit hosts the index keeps the low 23 bits of the card number (mono's overlapping cards),
 * so cards of addresses 4 GiB apart share a byte. A card may be shared on wasm32 too: regions
 * that are not 512-byte aligned (large objects from the malloc backend) meet inside a card.
 * Hence two rules, so that a mark is scanned for nothing at worst, never lost:
 *  - a mark is cleared only once every region was scanned (not as it is read: the region that
 *    shares the card may come later in the scan);
 *  - memory new to the heap keeps the marks of its cards (it is touched, not cleared: the mark
 *    may be another region's). A stale mark costs one scan of a card that holds no young
 *    reference, and the next minor collection clears it.
 *
 *   the write barrier     storing a nursery reference into an object outside the nursery marks
 *                         the card of the slot (sgen_wbarrier_set);
 *   a minor collection    scans the marked cards of the major blocks and large objects only
 *                         (about 2 KiB of cards per MiB of heap), treats the slots in them as
 *                         roots, then clears them: after it no old-to-young reference is left
 *                         (every survivor is promoted);
 *   first touch           the cards of a block or large object are written when it is taken
 *                         into use, before any scan reads them, and written without being read
 *                         first (_sgen_cards_touch), so a fresh card page takes one page fault
 *                         and the table's untouched pages cost nothing (docs/sgen.md).
 *
 * Invariant (checked by the verifier): every slot of an object outside the nursery that points
 * into the nursery lies in a marked card.
 */
#include "sgen-internal.h"

#include <stdio.h>
#include <string.h>

uint8_t *_sgen_cards;
size_t _sgen_card_mask = SGEN_CARD_COUNT - 1;
static unsigned card_bits = SGEN_CARD_COUNT_BITS;
static uint64_t bytes_scanned;

int
sgen_set_card_bits_for_tests (unsigned bits)
{
	if (bits < 1 || bits > SGEN_CARD_COUNT_BITS)
		return -1;
	card_bits = bits;
	return 0;
}

int
_sgen_cards_init (char *err, size_t errlen)
{
	_sgen_cards = sgen_alloc_os_memory (SGEN_CARD_COUNT, 0, "card table", MONO_MEM_ACCOUNT_INTERNAL);
	if (!_sgen_cards) {
		snprintf (err, errlen, "cannot map the %u-byte card table: %s", SGEN_CARD_COUNT, sgen_last_error ());
		return -1;
	}
	_sgen_card_mask = ((size_t) 1 << card_bits) - 1;
	bytes_scanned = 0;
	return 0;
}

void
_sgen_cards_shutdown (void)
{
	if (_sgen_cards)
		sgen_free_os_memory (_sgen_cards, SGEN_CARD_COUNT, 0, MONO_MEM_ACCOUNT_INTERNAL);
	_sgen_cards = NULL;
}

/* Does every card of the table belong to one 512-byte stretch of addresses: no two regions
 * share a card except where they meet inside it? wasm32 with every card bit. */
static bool
cards_unshared (void)
{
	return (UINTPTR_MAX >> SGEN_CARD_BITS) <= _sgen_card_mask;
}

/* Writes a card with the value it holds, as a write access: a locked compare-exchange with 0
 * stores 0 where the card is 0 and leaves a mark alone, and the processor treats it as a write
 * either way, so a fresh card page takes one page fault, not a read fault and then a write fault.
 * (An atomic or of 0 would not do: compilers turn it into a plain load.) */
static void
rewrite_card (uint8_t *card)
{
	uint8_t zero = 0;
	__atomic_compare_exchange_n (card, &zero, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static struct {
	void (*observe) (bool after);
	bool read_first;
} touch_test;

void
sgen_observe_card_touch_for_tests (void (*observe) (bool after), bool read_first)
{
	touch_test.observe = observe;
	touch_test.read_first = read_first;
}

const void *
sgen_card_table_for_tests (size_t *len)
{
	*len = SGEN_CARD_COUNT;
	return _sgen_cards;
}

/* The defect the first-touch test must catch: each card read, then written. */
static void
touch_reading_first (uintptr_t lo, uintptr_t end)
{
	volatile uint8_t *cards = _sgen_cards;
	for (uintptr_t a = lo & ~(uintptr_t) (SGEN_CARD_SIZE - 1); a < end; a += SGEN_CARD_SIZE) {
		size_t i = _sgen_card_index ((const void *) a);
		cards[i] = cards[i];
	}
}

/*
 * First touch without a read (_sgen_cards_touch): the cards that lie wholly inside [lo, end)
 * and that no other region can share are written 0 (the memory is new to the heap: nothing in it points
 * anywhere yet). The cards at the two ends may be shared with a neighbouring region, and where
 * the table wraps (64-bit hosts, fewer card bits in tests) every card may be: those keep their
 * value (rewrite_card), written after the inner ones, which put most of their pages in memory
 * already.
 */
static void
touch_writing (uintptr_t lo, uintptr_t end)
{
	uintptr_t first = (lo + SGEN_CARD_SIZE - 1) & ~(uintptr_t) (SGEN_CARD_SIZE - 1);
	uintptr_t last = end & ~(uintptr_t) (SGEN_CARD_SIZE - 1);   /* inner cards: [first, last) */
	bool unshared = cards_unshared ();
	for (uintptr_t a = first; a < last; a += SGEN_CARD_SIZE) {
		uint8_t *card = &_sgen_cards[_sgen_card_index ((const void *) a)];
		if (unshared)
			*card = 0;
		else
			rewrite_card (card);
	}
	if (lo & (SGEN_CARD_SIZE - 1) || first >= last)
		rewrite_card (&_sgen_cards[_sgen_card_index ((const void *) lo)]);
	if (end & (SGEN_CARD_SIZE - 1) && last >= first)
		rewrite_card (&_sgen_cards[_sgen_card_index ((const void *) (end - 1))]);
}

void
_sgen_cards_touch (const void *start, size_t len)
{
	if (!len)
		return;
	uintptr_t lo = (uintptr_t) start, end = lo + len;
	if (touch_test.observe)
		touch_test.observe (false);
	if (touch_test.read_first)
		touch_reading_first (lo, end);
	else
		touch_writing (lo, end);
	if (touch_test.observe)
		touch_test.observe (true);
}

void
_sgen_cards_clear (const void *start, size_t len)
{
	uintptr_t a = (uintptr_t) start & ~(uintptr_t) (SGEN_CARD_SIZE - 1);
	uintptr_t end = (uintptr_t) start + len;
	for (; a < end; a += SGEN_CARD_SIZE) {
		uint8_t *card = &_sgen_cards[_sgen_card_index ((const void *) a)];
		if (*card)
			*card = 0;
	}
}

void
_sgen_cards_scan (const void *start, size_t len, SgenCardFn fn, void *ctx)
{
	uintptr_t lo = (uintptr_t) start, end = lo + len;
	uintptr_t a = lo & ~(uintptr_t) (SGEN_CARD_SIZE - 1);
	bytes_scanned += (end - a + SGEN_CARD_SIZE - 1) / SGEN_CARD_SIZE;
	for (; a < end; a += SGEN_CARD_SIZE) {
		uint8_t *card = &_sgen_cards[_sgen_card_index ((const void *) a)];
		if (!*card)
			continue;
		uintptr_t cs = a > lo ? a : lo, ce = a + SGEN_CARD_SIZE < end ? a + SGEN_CARD_SIZE : end;
		fn ((char *) cs, (char *) ce, ctx);
	}
}

uint64_t
_sgen_cards_bytes_scanned (void)
{
	return bytes_scanned;
}

bool _sgen_barrier_enabled = true;

void
sgen_wbarrier_set (SgenObject *obj, void **slot, SgenObject *value)
{
	*slot = value;
	if (_sgen_barrier_enabled && value && _sgen_nursery_contains (value) && !_sgen_nursery_contains (obj))
		_sgen_card_mark (slot);
}

void
sgen_set_write_barrier_enabled_for_tests (bool enabled)
{
	_sgen_barrier_enabled = enabled;
}

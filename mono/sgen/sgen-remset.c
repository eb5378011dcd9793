/*
 * sgen-remset.c: the write barrier and the remembered set, a sequential store buffer.
 *
 * Storing a nursery reference into an object outside the nursery (major heap or LOS) appends
 * the slot's address to the buffer. A minor collection treats every buffered slot as a root,
 * and since it promotes every survivor, no old-to-young reference is left afterwards: the
 * buffer is then emptied. Duplicates are harmless (a slot is only updated once: the second
 * visit finds it already pointing out of the nursery).
 *
 * Invariant between collections (checked by the verifier): every slot of an old object that
 * points into the nursery is in the buffer.
 */
#include "sgen-internal.h"

#include <stdlib.h>

bool _sgen_barrier_enabled = true;

static struct {
	void ***slots;
	size_t count, cap;
} remset;

void
_sgen_remset_add (void **slot)
{
	if (remset.count == remset.cap) {
		remset.cap = remset.cap ? 2 * remset.cap : 4096;
		remset.slots = _sgen_xrealloc (remset.slots, remset.cap * sizeof (void **));
	}
	remset.slots[remset.count++] = slot;
}

size_t
_sgen_remset_count (void)
{
	return remset.count;
}

void **
_sgen_remset_slots (void)
{
	return (void **) remset.slots;
}

void
_sgen_remset_clear (void)
{
	remset.count = 0;
}

void
_sgen_remset_shutdown (void)
{
	free (remset.slots);
	remset.slots = NULL;
	remset.count = remset.cap = 0;
	_sgen_barrier_enabled = true;
}

void
sgen_wbarrier_set (SgenObject *obj, void **slot, SgenObject *value)
{
	*slot = value;
	if (_sgen_barrier_enabled && value && _sgen_nursery_contains (value) && !_sgen_nursery_contains (obj))
		_sgen_remset_add (slot);
}

void
sgen_set_write_barrier_enabled_for_tests (bool enabled)
{
	_sgen_barrier_enabled = enabled;
}

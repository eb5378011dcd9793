/*
 * sgen-nursery.c: the young generation, one region aligned to its own size.
 *
 *   start                         next                         end
 *   +-----------------------------+----------------------------+
 *   | objects, packed, in order   | zero                       |
 *   +-----------------------------+----------------------------+
 *
 * Allocation bumps `next`. A minor collection (sgen-gc.c) copies every reachable object out to
 * the major heap, then _sgen_nursery_clear zeroes [start, next) and resets next = start.
 * Invariants: start % size == 0; [next, end) reads zero; [start, next) parses as a sequence of
 * objects (each header's size leads to the next).
 * Zeroing: the region is requested zeroed once; afterwards the nursery clears what it used
 * itself, so new objects never see old contents.
 * First touch: fresh memory read before it is written faults twice (the shared zero page, then
 * the private copy), and a minor collection reads every object it copies, payloads the mutator
 * may never have written. So allocation writes one word of each fresh 4 KiB page before handing
 * it out ([start, written) has been written; written only grows, by whole pages, up to end).
 */
#include "sgen-internal.h"

#include <stdio.h>
#include <string.h>

#define TOUCH_PAGE 4096

static char *start, *next, *end, *written;
static size_t nursery_size;

int
_sgen_nursery_init (size_t size, char *err, size_t errlen)
{
	start = sgen_alloc_os_memory_aligned (size, size, SGEN_ALLOC_HEAP, "nursery", MONO_MEM_ACCOUNT_NURSERY);
	if (!start) {
		snprintf (err, errlen, "cannot map the %zu-byte nursery: %s", size, sgen_last_error ());
		return -1;
	}
	nursery_size = size;
	next = written = start;
	end = start + size;
	return 0;
}

void
_sgen_nursery_shutdown (void)
{
	if (start)
		sgen_free_os_memory (start, nursery_size, 0, MONO_MEM_ACCOUNT_NURSERY);
	start = next = end = written = NULL;
	nursery_size = 0;
}

/* Writes the fresh pages up to `upto` (a zero over a zero: contents stay as they were). */
static void
touch_fresh (const char *upto)
{
	for (; written < upto; written += TOUCH_PAGE)
		*(volatile char *) written = 0;
	if (written > end)
		written = end;
}

void *
_sgen_nursery_alloc (size_t size)
{
	if ((size_t) (end - next) < size)
		return NULL;
	void *p = next;
	next += size;
	if (next > written)
		touch_fresh (next);
	return p;
}

bool
_sgen_nursery_contains (const void *p)
{
	return (uintptr_t) p - (uintptr_t) start < nursery_size;
}

void
_sgen_nursery_clear (void)
{
	memset (start, 0, (size_t) (next - start));
	next = start;
}

void
_sgen_nursery_foreach (void (*fn) (SgenObject *obj, void *ctx), void *ctx)
{
	char *p = start;
	while (p < next) {
		SgenObject *obj = (SgenObject *) p;
		fn (obj, ctx);
		/* A broken header ends the walk (the verifier reported it): its size is unknown. */
		if (!_sgen_vtable_is_known (sgen_obj_vtable (obj)) || (obj->vtword & SGEN_FLAG_MASK))
			break;
		p += sgen_obj_size (obj);
	}
}

char *
_sgen_nursery_start (void)
{
	return start;
}

size_t
_sgen_nursery_used (void)
{
	return (size_t) (next - start);
}

size_t
_sgen_nursery_size (void)
{
	return nursery_size;
}

/*
 * sgen-gray.c: the gray stack, objects reached but whose slots are not scanned yet. The minor
 * collection pushes each object it copies; the major collection each object it marks.
 * Empty between collections.
 */
#include "sgen-internal.h"


static struct {
	SgenObject **items;
	size_t count, cap;
} gray;

void
_sgen_gray_push (SgenObject *obj)
{
	if (gray.count == gray.cap)
		gray.items = _sgen_internal_grow_array (gray.items, &gray.cap, sizeof (SgenObject *), 1024);
	gray.items[gray.count++] = obj;
}

SgenObject *
_sgen_gray_pop (void)
{
	return gray.count ? gray.items[--gray.count] : NULL;
}

void
_sgen_gray_shutdown (void)
{
	_sgen_internal_free (gray.items, gray.cap * sizeof (SgenObject *));
	gray.items = NULL;
	gray.count = gray.cap = 0;
}

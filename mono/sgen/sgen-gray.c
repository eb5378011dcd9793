/*
 * sgen-gray.c: the gray stack, objects reached but whose slots are not scanned yet. The minor
 * collection pushes each object it copies; the major collection each object it marks.
 * Empty between collections.
 */
#include "sgen-internal.h"

#include <stdlib.h>

static struct {
	SgenObject **items;
	size_t count, cap;
} gray;

void
_sgen_gray_push (SgenObject *obj)
{
	if (gray.count == gray.cap) {
		gray.cap = gray.cap ? 2 * gray.cap : 1024;
		gray.items = _sgen_xrealloc (gray.items, gray.cap * sizeof (SgenObject *));
	}
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
	free (gray.items);
	gray.items = NULL;
	gray.count = gray.cap = 0;
}

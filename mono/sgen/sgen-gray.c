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
} G;

void
_sgen_gray_push (SgenObject *obj)
{
	if (G.count == G.cap) {
		G.cap = G.cap ? 2 * G.cap : 1024;
		G.items = _sgen_xrealloc (G.items, G.cap * sizeof (SgenObject *));
	}
	G.items[G.count++] = obj;
}

SgenObject *
_sgen_gray_pop (void)
{
	return G.count ? G.items[--G.count] : NULL;
}

void
_sgen_gray_shutdown (void)
{
	free (G.items);
	G.items = NULL;
	G.count = G.cap = 0;
}

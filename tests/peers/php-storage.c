/*
 * php-storage.c: the way WordPress Playground's PHP gets zend_mm's memory (its issue 1128, PR
 * 1229: a PHP extension that gives zend_mm a custom chunk storage), written here for the peers'
 * 'storage' link of PHP (tools/lib/php.py), so that the same PHP build can be measured with it
 * beside the drop-ins:
 *
 *   chunk_alloc     posix_memalign (alignment, size), then a memset of the whole chunk
 *   chunk_free      free
 *   chunk_truncate  none: a huge block that shrinks is reallocated by copying
 *   chunk_extend    none: a huge block that grows is reallocated by copying
 *
 * over emscripten's own malloc. zend_mm asks its storage for every chunk and every huge block
 * once the storage is set; the heap's first chunk, made before, stays mmap's (as in Playground,
 * which sets the storage when its extension starts).
 *
 * The storage is set as soon as the memory manager has made its heap (peer_heap_started, a hook
 * of tests/peers/php-8.2-peer-hooks.patch): through the heap's two first fields, which
 * zend_alloc.c keeps private (use_custom_heap, then storage, in a build with ZEND_MM_CUSTOM and
 * ZEND_MM_STORAGE, PHP 8.2's defaults). zend_mm_get_storage (public) checks the result: if the
 * layout were not the one assumed, the program stops saying so instead of running with
 * something else.
 */
#include "php.h"
#include "Zend/zend_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
storage_chunk_alloc (zend_mm_storage *storage, size_t size, size_t alignment)
{
	(void)storage;
	void *p = NULL;
	if (posix_memalign (&p, alignment, size) != 0)
		return NULL;
	memset (p, 0, size);
	return p;
}

static void
storage_chunk_free (zend_mm_storage *storage, void *chunk, size_t size)
{
	(void)storage;
	(void)size;
	free (chunk);
}

static zend_mm_storage storage = {
	.handlers = { storage_chunk_alloc, storage_chunk_free, NULL, NULL },
	.data = NULL,
};

/* The start of zend_mm_heap in PHP 8.2 (zend_alloc.c), as far as the storage. */
typedef struct {
	int use_custom_heap;
	zend_mm_storage *storage;
} HeapStart;

void peer_heap_started (zend_mm_heap *heap);

void
peer_heap_started (zend_mm_heap *heap)
{
	if (zend_mm_get_storage (heap) == NULL)
		((HeapStart *)heap)->storage = &storage;
	if (zend_mm_get_storage (heap) != &storage) {
		fprintf (stderr, "php-storage: zend_mm_heap does not start as assumed (use_custom_heap, storage)\n");
		abort ();
	}
}

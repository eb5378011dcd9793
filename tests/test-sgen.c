/*
 * test-sgen.c: unit tests of sgen, each space on its own and the whole collector, run once for
 * every mmap backend this build has (native: posix and mwpm; wasm: mwpm and libc).
 * The heap is verified after every collection (--sgen-verify --sgen-verify-expensive).
 *
 * Usage: test-sgen [--seed N] [--only TEXT[|TEXT...]]   (--only: the cases whose name contains one
 *        of the TEXTs)
 */
#include "tap.h"

#include "mono-config.h"
#include "mono-mmap.h"
#include "mono-options.h"
#include "sgen-gc.h"

#include "mono-wasm-pagemgr.h"

#include <stdbool.h>

#define BLOCK 16384u
#define SGEN_CARD_TABLE_BYTES (8u << 20)

static TestRng rng;
static uint64_t seed;
static MonoMmapBackend backend;
static const char *backend_name;

/* A node: two references, an id; aux holds a checksum of the id. */
typedef struct {
	SgenObject header;
	SgenObject *left, *right;
	uint64_t id;
} Node;

static const uint32_t node_refs[] = { offsetof (Node, left), offsetof (Node, right) };
static SgenVTable node_vt, refs_vt, bytes_vt;

#define NROOTS 4096
static void *roots[NROOTS];

static uint32_t
mix32 (uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (uint32_t) v;
}

static Node *
new_node (uint64_t id)
{
	Node *n = (Node *) sgen_alloc_obj (&node_vt);
	if (n) {
		n->id = id;
		n->header.aux = mix32 (id);
	}
	return n;
}

static bool
node_ok (const Node *n)
{
	return n->header.aux == mix32 (n->id);
}

/* Byte array of `len` bytes filled from `key`; aux is the key. */
static SgenObject *
new_bytes (size_t len, uint32_t key)
{
	SgenObject *a = sgen_alloc_array (&bytes_vt, len);
	if (a) {
		a->aux = key;
		for (size_t i = 0; i < len; i++)
			sgen_array_bytes (a)[i] = (uint8_t) (key + i * 7);
	}
	return a;
}

static bool
bytes_ok (SgenObject *a)
{
	for (size_t i = 0; i < a->length; i++) {
		if (sgen_array_bytes (a)[i] != (uint8_t) (a->aux + i * 7))
			return false;
	}
	return true;
}

static void
clear_roots (void)
{
	memset (roots, 0, sizeof (roots));
}

static int
start_gc (const char *options)
{
	char err[256];
	sgen_shutdown ();
	mono_mmap_reset_for_tests ();
	mono_options_reset_for_tests ();
	sgen_register_options ();
	if (mono_options_parse_string (options, NULL, err, sizeof (err)) != 0 ||
	    mono_mmap_select_backend (backend, err, sizeof (err)) != 0 || sgen_init (err, sizeof (err)) != 0) {
		printf ("# start with '%s' on %s failed: %s\n", options, backend_name, err);
		return -1;
	}
	clear_roots ();
	if (sgen_register_root (roots, NROOTS, "test roots") != 0)
		return -1;
	return 0;
}

static SgenStats
stats (void)
{
	SgenStats s;
	sgen_get_stats (&s);
	return s;
}

#define DEFAULT_OPTIONS "--sgen-nursery-size=256K --sgen-verify --sgen-verify-expensive"

/* ---- vtables ---- */

/* Reference offsets outside the object are refused, including one whose end wraps around the
 * 32-bit space (0xFFFFFFFC + 4 is 0 on wasm32). */
static int
case_vtable_offsets_refused (void)
{
	static SgenVTable vt;
	char msg[256];
	static const struct {
		uint32_t size, offset;
		const char *why;
	} bad[] = {
		{ 24, 0xFFFFFFFCu, "an offset whose end wraps around" },
		{ 24, 0xFFFFFFF8u, "an aligned offset near the top" },
		{ 24, 24, "an offset at the end" },
		{ 24, 8, "an offset inside the header" },
		{ 24, 18, "an unaligned offset" },
		{ 16, 16, "an offset in an object with no fields" },
		{ 16 + sizeof (void *) - 1, 16, "a slot that sticks out of the object by a byte" },
	};
	for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++) {
		uint32_t off = bad[i].offset;
		T_CHECK (sgen_vtable_init (&vt, SGEN_KIND_OBJECT, "Bad", bad[i].size, &off, 1, msg, sizeof (msg)) != 0 &&
			 strstr (msg, "reference offset"), "%s (%u in %u bytes) is refused: %s", bad[i].why, off, bad[i].size, msg);
	}
	uint32_t last = 24 - sizeof (void *);
	T_CHECK (sgen_vtable_init (&vt, SGEN_KIND_OBJECT, "Good", 24, &last, 1, msg, sizeof (msg)) == 0,
		 "the last slot of a 24-byte object is accepted: %s", msg);
	return 0;
}

/* ---- each space ---- */

static int
case_nursery_and_promotion (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	for (int i = 0; i < 100; i++) {
		roots[i] = new_node ((uint64_t) i);
		T_CHECK (roots[i] && sgen_ptr_in_nursery (roots[i]), "node %d allocated in the nursery", i);
	}
	for (int i = 1; i < 100; i++)
		sgen_wbarrier_set (roots[i], (void **) &((Node *) roots[i])->left, roots[i - 1]);
	sgen_collect (SGEN_COLLECT_MINOR);
	SgenStats s = stats ();
	T_CHECK (s.collections_minor == 1 && s.verify_errors == 0, "minor %llu, verify errors %llu",
		 (unsigned long long) s.collections_minor, (unsigned long long) s.verify_errors);
	T_CHECK (s.bytes_promoted >= 100 * sizeof (Node), "promoted %llu", (unsigned long long) s.bytes_promoted);
	for (int i = 0; i < 100; i++) {
		Node *n = roots[i];
		T_CHECK (!sgen_ptr_in_nursery (n) && sgen_ptr_in_heap (n), "node %d promoted", i);
		T_CHECK (n->id == (uint64_t) i && node_ok (n), "node %d intact", i);
		T_CHECK (n->left == (i ? roots[i - 1] : NULL), "node %d's reference was updated", i);
	}
	return 0;
}

static int
case_major_sweep (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	for (int i = 0; i < 2000; i++)
		roots[i] = new_node ((uint64_t) i);
	sgen_collect (SGEN_COLLECT_MINOR);
	SgenStats before = stats ();
	for (int i = 0; i < 2000; i += 2)
		roots[i] = NULL;
	sgen_collect (SGEN_COLLECT_MAJOR);
	SgenStats after = stats ();
	T_CHECK (after.objects_freed_major - before.objects_freed_major == 1000, "freed %llu",
		 (unsigned long long) (after.objects_freed_major - before.objects_freed_major));
	T_CHECK (after.live_bytes_after_major > 0 && after.verify_errors == 0, "live after major");
	for (int i = 1; i < 2000; i += 2)
		T_CHECK (((Node *) roots[i])->id == (uint64_t) i && node_ok (roots[i]), "survivor %d intact", i);
	/* Freed slots are reused: new promotions fill them before new blocks. */
	size_t blocks = after.major_blocks_in_use;
	for (int i = 0; i < 2000; i += 2)
		roots[i] = new_node ((uint64_t) i);
	sgen_collect (SGEN_COLLECT_MINOR);
	T_CHECK (stats ().major_blocks_in_use == blocks, "in use %zu after refilling, %zu before",
		 stats ().major_blocks_in_use, blocks);
	return 0;
}

static int
case_los (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	roots[0] = new_bytes (100000, 5);
	roots[1] = sgen_alloc_array (&refs_vt, 3000);  /* a large array of references */
	T_CHECK (roots[0] && roots[1] && !sgen_ptr_in_nursery (roots[0]), "large objects outside the nursery");
	roots[2] = new_node (9);
	sgen_wbarrier_set (roots[1], &sgen_array_refs (roots[1])[2999], roots[2]);
	roots[2] = NULL;
	sgen_collect (SGEN_COLLECT_MINOR);  /* the node lives only through the large array */
	Node *n = sgen_array_refs (roots[1])[2999];
	T_CHECK (n && !sgen_ptr_in_nursery (n) && n->id == 9 && node_ok (n), "node reached through the LOS object");
	SgenStats s = stats ();
	T_CHECK (s.los_objects == 2 && s.os_live_by_type[MONO_MEM_ACCOUNT_LOS] > 100000, "two LOS objects");
	sgen_collect (SGEN_COLLECT_MAJOR);
	T_CHECK (bytes_ok (roots[0]), "large byte array intact");
	roots[0] = roots[1] = NULL;
	sgen_collect (SGEN_COLLECT_MAJOR);
	s = stats ();
	T_CHECK (s.los_objects == 0 && s.os_live_by_type[MONO_MEM_ACCOUNT_LOS] == 0 && s.los_objects_freed == 2,
		 "LOS freed: %zu objects, %llu bytes live", s.los_objects,
		 (unsigned long long) s.os_live_by_type[MONO_MEM_ACCOUNT_LOS]);
	T_CHECK (s.verify_errors == 0, "verified");
	return 0;
}

static int
case_weak_handles (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	Node *kept = new_node (1), *lost = new_node (2);
	uint32_t strong = sgen_gchandle_new ((SgenObject *) kept, false);
	uint32_t wk = sgen_gchandle_new ((SgenObject *) kept, true);
	uint32_t wl = sgen_gchandle_new ((SgenObject *) lost, true);
	sgen_collect (SGEN_COLLECT_MINOR);
	kept = (Node *) sgen_gchandle_get (strong);
	T_CHECK (!sgen_ptr_in_nursery (kept) && kept->id == 1, "strong handle followed its object");
	T_CHECK (sgen_gchandle_get (wk) == (SgenObject *) kept, "weak handle followed its object");
	T_CHECK (sgen_gchandle_get (wl) == NULL, "weak handle of a dead nursery object cleared");
	sgen_gchandle_free (strong);
	sgen_collect (SGEN_COLLECT_MAJOR);
	T_CHECK (sgen_gchandle_get (wk) == NULL, "weak handle of a dead old object cleared");
	uint32_t again = sgen_gchandle_new (NULL, false);
	T_CHECK (again == strong, "freed handle reused (%u, %u)", again, strong);
	return 0;
}

/* The governor: a full nursery runs a minor collection; old-generation growth by the allowance
 * (4 nurseries here: no major collection has run yet) runs a major one, without any explicit
 * call. */
static int
case_governor_triggers (void)
{
	T_CHECK (start_gc ("--sgen-nursery-size=256K --sgen-verify") == 0, "start");
	size_t allocated = 0;
	/* Objects live in a ring of 16 roots: each survives a while, then becomes garbage; a minor
	 * collection promotes at most 16 of them (4 KiB), far below the 1 MiB allowance. */
	for (uint32_t i = 0; allocated < (8u << 20); i++) {
		roots[i % 16] = new_bytes (200, i);
		allocated += 216;
	}
	SgenStats s = stats ();
	tap_diag ("%zu bytes allocated: %llu minor, %llu major collections", allocated,
		  (unsigned long long) s.collections_minor, (unsigned long long) s.collections_major);
	T_CHECK (s.collections_minor >= allocated / (256u << 10) - 1, "a minor collection per nursery");
	T_CHECK (s.collections_major == 0, "little survives: no major collection needed");
	/* Now everything survives (kept in arrays): promotion grows the old generation. */
	for (int k = 0; k < 12; k++) {
		roots[600 + k] = sgen_alloc_array (&refs_vt, 1000);
		for (uint32_t i = 0; i < 1000; i++) {
			SgenObject *o = new_bytes (400, i);
			sgen_wbarrier_set (roots[600 + k], &sgen_array_refs (roots[600 + k])[i], o);
		}
	}
	s = stats ();
	tap_diag ("after keeping 5 MB: %llu minor, %llu major collections", (unsigned long long) s.collections_minor,
		  (unsigned long long) s.collections_major);
	T_CHECK (s.collections_major >= 1, "old-generation growth ran a major collection");
	T_CHECK (s.verify_errors == 0, "verified");
	return 0;
}

/* ---- the whole collector ---- */

/* A random graph under roots[0..nroots), with references across generations. */
/*
 * A random graph under roots[0..nroots): each new node becomes the head of a chain (its left
 * is the old head) and, one time in three, the right child of another chain's head, which is
 * often old by then: references go both ways between generations.
 */
static int
build_graph (int nodes, int nroots)
{
	for (int i = 0; i < nodes; i++) {
		Node *n = new_node ((uint64_t) i + 1000);
		if (!n)
			return -1;
		uint64_t k = test_rng_below (&rng, (uint64_t) nroots);
		sgen_wbarrier_set ((SgenObject *) n, (void **) &n->left, roots[k]);
		roots[k] = n;
		Node *other = roots[test_rng_below (&rng, (uint64_t) nroots)];
		if (other && other != n && !test_rng_below (&rng, 3))
			sgen_wbarrier_set ((SgenObject *) other, (void **) &other->right, (SgenObject *) n);
		if (i % 997 == 0)
			sgen_collect (i % 3 ? SGEN_COLLECT_MINOR : SGEN_COLLECT_MAJOR);
	}
	return 0;
}

typedef struct {
	uint64_t count, sum;
	int bad;
} Digest;

static void
digest_object (SgenObject *obj, void *ctx)
{
	Digest *d = ctx;
	d->count++;
	if (sgen_obj_vtable (obj) == &node_vt) {
		Node *n = (Node *) obj;
		if (!node_ok (n))
			d->bad++;
		d->sum += n->id * 0x9e3779b97f4a7c15ull;
	} else if (sgen_obj_vtable (obj) == &bytes_vt) {
		if (!bytes_ok (obj))
			d->bad++;
		d->sum += obj->aux + obj->length;
	}
}

static Digest
digest (void)
{
	Digest d = { 0 };
	sgen_walk_reachable (digest_object, &d);
	return d;
}

static int
case_graph_survives (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	T_CHECK (build_graph (20000, 64) == 0, "build");
	Digest d0 = digest ();
	T_CHECK (d0.count == 20000 && d0.bad == 0, "%llu nodes reachable, %d bad", (unsigned long long) d0.count, d0.bad);
	sgen_collect (SGEN_COLLECT_MINOR);
	Digest d1 = digest ();
	sgen_collect (SGEN_COLLECT_MAJOR);
	Digest d2 = digest ();
	T_CHECK (d1.count == d0.count && d1.sum == d0.sum && d2.count == d0.count && d2.sum == d0.sum && !d1.bad && !d2.bad,
		 "graph unchanged by collections");
	T_CHECK (stats ().verify_errors == 0, "verified");
	return 0;
}

/*
 * Shared cards: with 8 card bits, regions 128 KiB apart share every card (as regions 4 GiB
 * apart do on 64-bit hosts, and neighbouring large objects of the malloc backend do anywhere).
 * A card shared by two regions must be scanned for both before it is cleared, and memory new to
 * the heap must not clear a mark that another region's slot made.
 */
static int
case_shared_cards (void)
{
	T_CHECK (sgen_set_card_bits_for_tests (8) == 0, "8 card bits");
	int rc = start_gc (DEFAULT_OPTIONS);
	sgen_set_card_bits_for_tests (23);   /* from the next start on */
	T_CHECK (rc == 0, "start");
	for (int round = 0; round < 4; round++) {
		T_CHECK (build_graph (6000, 96) == 0, "build");
		for (int k = 0; k < 8; k++) {
			void *arr = sgen_alloc_array (&refs_vt, 600 + (size_t) test_rng_below (&rng, 4000));
			T_CHECK (arr, "large array");
			roots[600 + k] = arr;
			sgen_collect (SGEN_COLLECT_MINOR);   /* the array is old now (and may have moved) */
			arr = roots[600 + k];
			for (uint32_t i = 0; i < 64; i++) {
				size_t len = ((SgenObject *) arr)->length;
				sgen_wbarrier_set (arr, &sgen_array_refs (arr)[test_rng_below (&rng, len)], (SgenObject *) new_node (i));
			}
		}
		for (int i = 0; i < 48; i++)
			roots[test_rng_below (&rng, 96)] = NULL;
		sgen_collect (SGEN_COLLECT_MINOR);
	}
	sgen_collect (SGEN_COLLECT_MAJOR);
	Digest d = digest ();
	T_CHECK (d.bad == 0 && stats ().verify_errors == 0, "verified (%d bad of %llu)", d.bad, (unsigned long long) d.count);
	return 0;
}

static int
case_baseline_after_drop (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	SgenStats base = stats ();
	T_CHECK (build_graph (30000, 64) == 0, "build");
	for (int i = 0; i < 40; i++)
		roots[100 + i] = new_bytes (20000 + (size_t) i * 100, (uint32_t) i);
	sgen_collect (SGEN_COLLECT_MAJOR);
	SgenStats full = stats ();
	T_CHECK (full.os_live_by_type[MONO_MEM_ACCOUNT_MAJOR] > 512 * 1024 && full.los_objects == 40, "heap filled");
	clear_roots ();
	sgen_collect (SGEN_COLLECT_MAJOR);
	SgenStats s = stats ();
	T_CHECK (s.live_bytes_after_major == 0 && s.los_bytes == 0 && s.major_blocks_in_use == 0,
		 "nothing live: %llu bytes, %zu blocks", (unsigned long long) s.live_bytes_after_major, s.major_blocks_in_use);
	T_CHECK (s.os_live_by_type[MONO_MEM_ACCOUNT_LOS] == 0, "LOS back to zero");
	T_CHECK (s.os_live_by_type[MONO_MEM_ACCOUNT_NURSERY] == base.os_live_by_type[MONO_MEM_ACCOUNT_NURSERY],
		 "nursery unchanged");
	/* What stays mapped is the empty-block reserve (8 blocks), or one batch where batches go back
	 * only whole. */
	const MonoMmapCaps *caps = mono_mmap_caps ();
	uint64_t block = caps->page_size > BLOCK ? caps->page_size : BLOCK;
	uint64_t allowed = 8 * block > caps->pieces_per_mapping * block ? 8 * block : caps->pieces_per_mapping * block;
	T_CHECK (s.os_live_by_type[MONO_MEM_ACCOUNT_MAJOR] <= allowed, "major heap keeps %llu bytes (at most %llu)",
		 (unsigned long long) s.os_live_by_type[MONO_MEM_ACCOUNT_MAJOR], (unsigned long long) allowed);
	T_CHECK (s.os_bytes_freed > 0 && s.verify_errors == 0, "freed %llu", (unsigned long long) s.os_bytes_freed);
	/* sgen's accounting against the mmap layer's own (page-multiple requests match exactly). */
	MonoMmapStats ms;
	mono_mmap_get_stats (&ms);
	T_CHECK (ms.live_bytes[MONO_MEM_ACCOUNT_MAJOR] == s.os_live_by_type[MONO_MEM_ACCOUNT_MAJOR] &&
			 ms.live_bytes[MONO_MEM_ACCOUNT_NURSERY] == s.os_live_by_type[MONO_MEM_ACCOUNT_NURSERY] &&
			 ms.live_bytes[MONO_MEM_ACCOUNT_INTERNAL] == s.os_live_by_type[MONO_MEM_ACCOUNT_INTERNAL],
		 "accounting agrees with the mmap layer: major %llu/%llu, internal %llu/%llu",
		 (unsigned long long) s.os_live_by_type[MONO_MEM_ACCOUNT_MAJOR],
		 (unsigned long long) ms.live_bytes[MONO_MEM_ACCOUNT_MAJOR],
		 (unsigned long long) s.os_live_by_type[MONO_MEM_ACCOUNT_INTERNAL],
		 (unsigned long long) ms.live_bytes[MONO_MEM_ACCOUNT_INTERNAL]);
	return 0;
}

/*
 * Page freeing keeps live neighbours: fill 256 blocks with 256-byte arrays, keep only the objects
 * of every 7th block (so most backend pages hold a live block next to empty ones, and some hold
 * none), collect, then take every page the layer will give (zeroed, then overwritten) and check
 * that the kept objects did not change.
 */
static int
case_page_freeing_keeps_live_neighbours (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	enum { PER_BLOCK = BLOCK / 256, BLOCKS = 256 };
	static void *objs[PER_BLOCK * BLOCKS];
	int n = PER_BLOCK * BLOCKS;
	for (int i = 0; i < n; i++) {
		objs[i] = new_bytes (256 - 16, (uint32_t) i);
		T_CHECK (objs[i], "alloc");
		if (i % NROOTS == NROOTS - 1 || i == n - 1) {
			/* Promote a batch: roots first, so the major heap fills in order. */
			int first = i - i % NROOTS;
			for (int k = first; k <= i; k++)
				roots[k - first] = objs[k];
			sgen_collect (SGEN_COLLECT_MINOR);
			for (int k = first; k <= i; k++)
				objs[k] = roots[k - first];
			clear_roots ();
		}
	}
	int kept = 0;
	for (int i = 0; i < n; i++) {
		if (((uintptr_t) objs[i] / BLOCK) % 7 == 0 && kept < NROOTS)
			roots[kept++] = objs[i];
	}
	T_CHECK (kept > 100, "kept %d", kept);
	SgenStats before = stats ();
	sgen_collect (SGEN_COLLECT_MAJOR);
	SgenStats after = stats ();
	const MonoMmapCaps *caps = mono_mmap_caps ();
	tap_diag ("%s, page %zu: %zu blocks released, %llu bytes freed, %d objects kept", backend_name,
		  caps->page_size, after.major_blocks_released,
		  (unsigned long long) (after.os_bytes_freed - before.os_bytes_freed), kept);
	if (caps->partial_free)
		T_CHECK (after.os_bytes_freed > before.os_bytes_freed, "empty groups were returned");
	/* Take memory until the layer must have handed out every freed page again. */
	size_t grab = (size_t) BLOCKS * BLOCK;
	void *mem = mono_valloc (NULL, grab, MONO_MMAP_READ | MONO_MMAP_WRITE, MONO_MEM_ACCOUNT_OTHER);
	T_CHECK (mem, "grab");
	memset (mem, 0xCC, grab);
	for (int i = 0; i < kept; i++)
		T_CHECK (bytes_ok (roots[i]), "kept object %d at %p intact", i, roots[i]);
	T_CHECK (mono_vfree (mem, grab, MONO_MEM_ACCOUNT_OTHER) == 0, "free grab");
	T_CHECK (sgen_verify_heap ("after page freeing") == 0 && mono_mmap_check () == 0, "verified");
	return 0;
}

/* Freed pages come back dirty; every object allocated on them must still read zero. */
static int
case_dirty_reuse_reads_zero (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	for (int round = 0; round < 2; round++) {
		/* Fill the major heap and the LOS with non-zero bytes, then drop everything. */
		for (int i = 0; i < 3000; i++) {
			roots[i % NROOTS] = new_bytes (1000, 0xAB);
			if (i % 1000 == 999)
				sgen_collect (SGEN_COLLECT_MINOR);
		}
		for (int i = 0; i < 40; i++)
			roots[i] = new_bytes (40000, 0xCD);
		clear_roots ();
		sgen_collect (SGEN_COLLECT_MAJOR);
		/* New objects of every kind: payloads must read zero. */
		for (int i = 0; i < 60; i++) {
			SgenObject *big = sgen_alloc_array (&bytes_vt, 30000 + (size_t) i * 1000);
			SgenObject *small = sgen_alloc_array (&bytes_vt, 1000);
			T_CHECK (big && small, "alloc");
			for (size_t k = 0; k < big->length; k++)
				T_CHECK (sgen_array_bytes (big)[k] == 0, "large object %d reads %#x at %zu", i,
					 sgen_array_bytes (big)[k], k);
			for (size_t k = 0; k < small->length; k++)
				T_CHECK (sgen_array_bytes (small)[k] == 0, "small object reads non-zero");
			roots[i] = big;
		}
		clear_roots ();
	}
	T_CHECK (stats ().verify_errors == 0, "verified (free major slots read zero)");
	return 0;
}

static int
case_verifier_catches_corruption (void)
{
	T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
	T_CHECK (build_graph (2000, 16) == 0, "build");
	sgen_collect (SGEN_COLLECT_MAJOR);
	T_CHECK (sgen_verify_heap ("before") == 0, "clean heap verifies");
	Node *victim = roots[3];
	SgenObject *saved = victim->left;
	T_CHECK (saved, "victim has a child");
	/* Into the middle of an object. */
	victim->left = (SgenObject *) ((char *) saved + 8);
	tap_diag ("expected verifier reports follow");
	T_CHECK (sgen_verify_heap ("corrupted: interior pointer") > 0, "interior pointer caught");
	/* Into memory the heap does not hold. */
	static uint64_t outside[4];
	victim->left = (SgenObject *) outside;
	T_CHECK (sgen_verify_heap ("corrupted: foreign pointer") > 0, "foreign pointer caught");
	victim->left = saved;
	T_CHECK (sgen_verify_heap ("restored") == 0, "restored heap verifies");
	return 0;
}

static int
case_barrier_off_fails_verification (void)
{
	for (int off = 0; off < 2; off++) {
		T_CHECK (start_gc (DEFAULT_OPTIONS) == 0, "start");
		roots[0] = new_node (1);
		sgen_collect (SGEN_COLLECT_MINOR);  /* roots[0] is old now */
		sgen_set_write_barrier_enabled_for_tests (!off);
		Node *young = new_node (2);
		sgen_wbarrier_set (roots[0], (void **) &((Node *) roots[0])->left, (SgenObject *) young);
		sgen_set_write_barrier_enabled_for_tests (true);
		int errors = sgen_verify_heap (off ? "barrier off" : "barrier on");
		if (off) {
			T_CHECK (errors > 0, "missing remembered-set entry caught");
		} else {
			T_CHECK (errors == 0, "with the barrier on the heap verifies");
			sgen_collect (SGEN_COLLECT_MINOR);
			Node *old = roots[0];
			T_CHECK (old->left && ((Node *) old->left)->id == 2 && node_ok ((Node *) old->left),
				 "the young object survived through the remembered set");
		}
	}
	return 0;
}

static int
case_heap_limit (void)
{
	T_CHECK (start_gc ("--sgen-nursery-size=256K --sgen-max-heap-size=4M --sgen-verify") == 0, "start");
	int i;
	SgenObject *last = NULL;
	for (i = 0; i < NROOTS; i++) {
		last = new_bytes (i % 2 ? 3000 : 20000, (uint32_t) i);
		if (!last)
			break;
		roots[i] = last;
	}
	T_CHECK (!last, "the limit stopped allocation (after %d objects)", i);
	T_CHECK (strstr (sgen_last_error (), "out of memory"), "clear error: %s", sgen_last_error ());
	tap_diag ("%s", sgen_last_error ());
	SgenStats s = stats ();
	T_CHECK (s.oom_errors == 1 && s.verify_errors == 0, "one failure counted (%llu), heap still verifies",
		 (unsigned long long) s.oom_errors);
	for (int k = 0; k < i; k++)
		T_CHECK (bytes_ok (roots[k]), "object %d intact after the failure", k);
	clear_roots ();
	sgen_collect (SGEN_COLLECT_MAJOR);
	T_CHECK (new_bytes (20000, 1) != NULL, "allocation works again after dropping");
	return 0;
}

/* Same seed, same program: the same verified results in every backend. */
static Digest first_digest;
static uint64_t first_minor, first_major;
static bool have_first;

static int
case_same_results_across_backends (void)
{
	T_CHECK (start_gc ("--sgen-nursery-size=256K --sgen-verify") == 0, "start");
	rng.s = seed;
	for (int round = 0; round < 5; round++) {
		T_CHECK (build_graph (8000, 128) == 0, "build");
		for (int i = 0; i < 64; i++)
			roots[test_rng_below (&rng, 128)] = NULL;
		for (int i = 0; i < 8; i++)
			roots[200 + test_rng_below (&rng, 64)] = new_bytes (9000 + test_rng_below (&rng, 30000), (uint32_t) i);
	}
	sgen_collect (SGEN_COLLECT_MAJOR);
	Digest d = digest ();
	SgenStats s = stats ();
	tap_diag ("%s: %llu objects, sum %016llx, %llu minor, %llu major", backend_name, (unsigned long long) d.count,
		  (unsigned long long) d.sum, (unsigned long long) s.collections_minor,
		  (unsigned long long) s.collections_major);
	T_CHECK (d.bad == 0 && s.verify_errors == 0, "verified");
	if (!have_first) {
		first_digest = d;
		first_minor = s.collections_minor;
		first_major = s.collections_major;
		have_first = true;
	} else {
		T_CHECK (d.count == first_digest.count && d.sum == first_digest.sum, "same reachable graph");
		T_CHECK (s.collections_minor == first_minor && s.collections_major == first_major, "same collections");
	}
	return 0;
}

/*
 * Fill with small objects, drop, collect, refill with large ones: with partial freeing the
 * blocks go back and the large objects reuse their pages, so the memory span grows little.
 */
static int
case_fill_drop_refill (void)
{
	T_CHECK (start_gc ("--sgen-nursery-size=256K --sgen-verify") == 0, "start");
	const size_t target = 16u << 20;
	SgenObject *holder = NULL;
	size_t filled = 0;
	int h = 0, nholders = 0;
	while (filled < target) {
		if (!holder || h == 1000) {
			holder = sgen_alloc_array (&refs_vt, 1000);
			T_CHECK (holder && nholders < NROOTS, "holder");
			roots[nholders++] = holder;
			h = 0;
		}
		SgenObject *o = new_bytes (480, (uint32_t) filled);
		T_CHECK (o, "fill");
		holder = roots[nholders - 1]; /* the allocation may have moved it */
		sgen_wbarrier_set (holder, &sgen_array_refs (holder)[h++], o);
		filled += 496;
	}
	sgen_collect (SGEN_COLLECT_MAJOR);
	uint64_t span_full = mono_mmap_linear_memory_bytes ();
	SgenStats full = stats ();
	clear_roots ();
	sgen_collect (SGEN_COLLECT_MAJOR);
	SgenStats dropped = stats ();
	/* Large objects take whole pages (60,000 bytes use 64 KiB with mwpm's default page): 7/8
	 * of the bytes need about the pages the drop freed. */
	for (size_t got = 0, i = 0; got < target / 8 * 7; got += 60000, i++) {
		roots[i % NROOTS] = new_bytes (60000, (uint32_t) i);
		T_CHECK (roots[i % NROOTS], "refill");
	}
	uint64_t span_refilled = mono_mmap_linear_memory_bytes ();
	tap_diag ("%s: major %llu bytes at full, freed %llu on drop; memory span %llu -> %llu after the refill",
		  backend_name, (unsigned long long) full.os_live_by_type[MONO_MEM_ACCOUNT_MAJOR],
		  (unsigned long long) (dropped.os_bytes_freed - full.os_bytes_freed), (unsigned long long) span_full,
		  (unsigned long long) span_refilled);
	T_CHECK (dropped.os_bytes_freed - full.os_bytes_freed >= target / 2, "the dropped blocks went back");
	if (mono_mmap_caps ()->backend == MONO_MMAP_BACKEND_MWPM)
		T_CHECK (span_refilled <= span_full + span_full / 8, "the refill reused the freed pages");
	return 0;
}

/*
 * The grow hook (one page pool): with old garbage that a major collection would free, an mwpm
 * allocation from outside the GC that does not fit runs the collection instead of growing the
 * memory. Without enough garbage, the hook declines.
 */
#if MONO_CONFIG_WASM_MMAP
/* 12 MiB of old objects, unreachable: garbage a major collection would give back. */
static void
make_old_garbage (void)
{
	for (int i = 0; i < 12 * 1024; i++) {
		roots[i % NROOTS] = new_bytes (1000, (uint32_t) i);
		if (i % NROOTS == NROOTS - 1)
			sgen_collect (SGEN_COLLECT_MINOR);
	}
	sgen_collect (SGEN_COLLECT_MINOR);
	clear_roots ();
}

/* mwpm's free runs, taken so that the next request of mwpm must grow (and reach the hook). */
static struct {
	void *p[256];
	size_t len[256];
	size_t n;
} drained;

static void
drain_mwpm (void)
{
	MwpmStats m;
	for (mwpm_get_stats (&m); m.largest_free_run && drained.n < 256; mwpm_get_stats (&m)) {
		size_t len = m.largest_free_run * (size_t) MWPM_PAGE_SIZE;
		void *p = mwpm_alloc_range (len, 0);
		if (!p)
			break;
		drained.p[drained.n] = p;
		drained.len[drained.n++] = len;
	}
}

static void
undrain_mwpm (void)
{
	while (drained.n) {
		drained.n--;
		mwpm_free_range (drained.p[drained.n], drained.len[drained.n]);
	}
}

/* A request larger than mwpm's largest free run: it reaches the grow hook. */
static size_t
hook_request_size (void)
{
	MwpmStats m;
	mwpm_get_stats (&m);
	size_t want = (m.largest_free_run + 1) * (size_t) MWPM_PAGE_SIZE;
	return want < (2u << 20) ? 2u << 20 : want;
}
#endif

/*
 * The grow hook never collects inside the request (it may come from malloc, with objects held in
 * C locals); it gives back the reserve of empty blocks and leaves the collection to the next
 * allocation, which runs it when the old generation grew by as much as was asked. Then a second
 * request of that size is served from the memory the collection gave back, without growing.
 */
static int
case_grow_hook (void)
{
#if MONO_CONFIG_WASM_MMAP
	T_CHECK (start_gc ("--sgen-nursery-size=4M --sgen-verify") == 0, "start");
	make_old_garbage ();
	SgenStats before = stats ();
	T_CHECK (before.collections_major == 0, "no major collection yet");
	size_t want = hook_request_size ();
	T_CHECK (want <= (12u << 20), "the request (%zu bytes) is smaller than the garbage", want);
	void *p = mwpm_alloc_range (want, MWPM_ZEROED);
	T_CHECK (p, "allocation");
	SgenStats after = stats ();
	T_CHECK (after.grow_hook_requests == before.grow_hook_requests + 1, "the hook ran once");
	T_CHECK (after.collections_major == 0 && after.collections_minor == before.collections_minor,
		 "no collection ran inside the request");
	T_CHECK (mwpm_free_range (p, want) == 0, "free");
	uint64_t span = mono_mmap_linear_memory_bytes ();
	T_CHECK (new_bytes (64, 1) != NULL, "an allocation");
	after = stats ();
	T_CHECK (after.grow_hook_collections == 1 && after.collections_major == 1, "the allocation collected once: %llu",
		 (unsigned long long) after.grow_hook_collections);
	void *q = mwpm_alloc_range (want, MWPM_ZEROED);
	tap_diag ("asked %zu bytes twice: %llu bytes freed by the collection, memory %llu -> %llu", want,
		  (unsigned long long) (after.os_bytes_freed - before.os_bytes_freed), (unsigned long long) span,
		  (unsigned long long) mono_mmap_linear_memory_bytes ());
	T_CHECK (q && mono_mmap_linear_memory_bytes () == span, "the second request did not grow the memory");
	T_CHECK (mwpm_free_range (q, want) == 0, "free");
	/* Nothing left to free: no collection follows a request. */
	void *r = mwpm_alloc_range (want + (16u << 20), 0);
	T_CHECK (r && new_bytes (64, 2) && stats ().grow_hook_collections == 1, "no collection without garbage");
	T_CHECK (mwpm_free_range (r, want + (16u << 20)) == 0, "free");
	T_CHECK (stats ().verify_errors == 0 && sgen_verify_heap ("after the hook") == 0, "verified");
#endif
	return 0;
}

/*
 * An object held only in a C local survives any call that reaches the grow hook: in the
 * shared-pool build a malloc, elsewhere a request to mwpm (the same path). With garbage enough
 * to answer the request, the old hook collected right there and the young object moved.
 */
static int
case_local_survives_hook (void)
{
#if MONO_CONFIG_WASM_MMAP
	T_CHECK (start_gc ("--sgen-nursery-size=4M --sgen-verify") == 0, "start");
	make_old_garbage ();
	SgenObject *local = new_bytes (200, 77);
	T_CHECK (local && sgen_ptr_in_nursery (local), "a young object");
	uint8_t copy[200 + SGEN_HEADER_SIZE];
	memcpy (copy, local, sizeof copy);
#if MONO_CONFIG_SHARED_POOL
	extern int malloc_trim (size_t pad);   /* the pool's (pool-malloc.c); in no emscripten header */
	malloc_trim (0);   /* malloc's free memory back to mwpm, where the drain takes it */
#endif
	drain_mwpm ();
	SgenStats before = stats ();
	size_t want = hook_request_size ();
#if MONO_CONFIG_SHARED_POOL
	/* malloc may serve a request from its own free memory: larger ones until one reaches mwpm's
	 * growth (at most 12 MiB, the garbage that makes a collection worth it). */
	void *p = NULL;
	for (; want <= (12u << 20); want += want / 2) {
		p = malloc (want);
		if (!p || stats ().grow_hook_requests > before.grow_hook_requests)
			break;
		free (p);
		p = NULL;
	}
#else
	void *p = mwpm_alloc_range (want, 0);
#endif
	T_CHECK (p, "the request");
	SgenStats after = stats ();
	T_CHECK (after.grow_hook_requests > before.grow_hook_requests, "the request reached the hook");
	T_CHECK (after.collections_minor == before.collections_minor && after.collections_major == before.collections_major,
		 "no collection ran inside it");
	T_CHECK (sgen_ptr_in_nursery (local) && memcmp (copy, local, sizeof copy) == 0, "the object is where it was, intact");
	T_CHECK (sgen_verify_heap ("after the request") == 0, "the heap verifies");
#if MONO_CONFIG_SHARED_POOL
	free (p);
#else
	T_CHECK (mwpm_free_range (p, want) == 0, "free");
#endif
	undrain_mwpm ();
#endif
	return 0;
}

/*
 * The malloc backend (dotnet's): the GC's memory is memset only when it is not fresh from sbrk,
 * and only single-threaded emscripten builds can tell; elsewhere all of it is memset. The first
 * start takes fresh memory (this case runs first for malloc, the first backend): some of it is
 * not memset. The second start takes what the first one freed: the 8 MiB card table at least
 * comes from below the break and is memset.
 */
static int
case_malloc_zeroes_only_reused (void)
{
	const bool fresh_check = MONO_CONFIG_EMSCRIPTEN && !MONO_CONFIG_THREADS;
	MonoMmapStats ms;
	uint64_t z[3], mapped[2];
	for (int start = 0; start < 2; start++) {
		mono_mmap_get_stats (&ms);
		z[start] = ms.bytes_zeroed;
		/* A 16 MiB nursery aligned to 16 MiB: malloc must grow the heap for it, and the block
		 * lands above the old break, fresh. */
		T_CHECK (start_gc ("--sgen-nursery-size=16M --sgen-verify") == 0, "start %d", start);
		mono_mmap_get_stats (&ms);
		mapped[start] = ms.bytes_allocated;
		tap_diag ("malloc, start %d: %llu bytes mapped, %llu memset", start, (unsigned long long) mapped[start],
			  (unsigned long long) (ms.bytes_zeroed - z[start]));
	}
	z[2] = ms.bytes_zeroed;
	uint64_t first = z[1] - z[0], second = z[2] - z[1];
	if (fresh_check) {
		T_CHECK (first < mapped[0], "the first start memset all its %llu bytes", (unsigned long long) mapped[0]);
		T_CHECK (second >= SGEN_CARD_TABLE_BYTES, "the second start memset only %llu bytes", (unsigned long long) second);
	} else {
		T_CHECK (first == mapped[0] && second == mapped[1], "every mapping is memset here: %llu of %llu, %llu of %llu",
			 (unsigned long long) first, (unsigned long long) mapped[0], (unsigned long long) second,
			 (unsigned long long) mapped[1]);
	}
	return 0;
}

typedef struct {
	const char *name;
	int (*fn) (void);
	int only;          /* a MonoMmapBackend the case needs, or -1: any */
} Case;

static const Case cases[] = {
	/* First: it needs malloc's heap as the program started. */
	{ "memory fresh from sbrk is not memset, reused memory is", case_malloc_zeroes_only_reused,
	  MONO_MMAP_BACKEND_MALLOC },
	{ "vtables with reference offsets outside the object are refused", case_vtable_offsets_refused, -1 },
	{ "nursery allocation and promotion", case_nursery_and_promotion, -1 },
	{ "major sweep frees and reuses slots", case_major_sweep, -1 },
	{ "large object space", case_los, -1 },
	{ "weak and strong handles", case_weak_handles, -1 },
	{ "the governor triggers minor and major collections", case_governor_triggers, -1 },
	{ "random graph survives minor and major collections", case_graph_survives, -1 },
	{ "cards shared by many regions are scanned for each", case_shared_cards, -1 },
	{ "dropping everything returns to the baseline", case_baseline_after_drop, -1 },
	{ "page freeing never frees live neighbours", case_page_freeing_keeps_live_neighbours, -1 },
	{ "reused dirty pages read zero through the GC", case_dirty_reuse_reads_zero, -1 },
	{ "verifier catches corrupted references", case_verifier_catches_corruption, -1 },
	{ "write barrier off makes verification fail", case_barrier_off_fails_verification, -1 },
	{ "heap limit gives a clear out-of-memory error", case_heap_limit, -1 },
	{ "fill, drop, refill", case_fill_drop_refill, -1 },
	{ "same results in every backend", case_same_results_across_backends, -1 },
	{ "mwpm's grow hook: no collection inside the request, one at the next allocation", case_grow_hook,
	  MONO_MMAP_BACKEND_MWPM },
	{ "an object held in a local survives a request that reaches the grow hook", case_local_survives_hook,
	  MONO_MMAP_BACKEND_MWPM },
};

/* Whether `name` contains one of the '|'-separated words of `words`. */
static bool
name_matches (const char *name, const char *words)
{
	for (const char *w = words; *w;) {
		size_t n = strcspn (w, "|");
		for (const char *s = name; *s; s++)
			if (!strncmp (s, w, n))
				return true;
		w += n + (w[n] == '|');
	}
	return false;
}

int
main (int argc, char **argv)
{
	char err[256];
	seed = test_arg_u64 (argc, argv, "--seed", 42);
	const char *only = test_arg_str (argc, argv, "--only", NULL);
	printf ("# seed %llu, mwpm page size %d\n", (unsigned long long) seed, MONO_CONFIG_MWPM_PAGE_SIZE);
	if (sgen_vtable_init (&node_vt, SGEN_KIND_OBJECT, "Node", sizeof (Node), node_refs, 2, err, sizeof (err)) ||
	    sgen_vtable_init (&refs_vt, SGEN_KIND_REF_ARRAY, "Object[]", 0, NULL, 0, err, sizeof (err)) ||
	    sgen_vtable_init (&bytes_vt, SGEN_KIND_BYTE_ARRAY, "byte[]", 0, NULL, 0, err, sizeof (err))) {
		printf ("Bail out! %s\n", err);
		return 1;
	}
	/* malloc first: its heap is still as the program started, so fresh memory comes from sbrk. */
	const MonoMmapBackend backends[] = { MONO_MMAP_BACKEND_MALLOC, MONO_MMAP_BACKEND_POSIX, MONO_MMAP_BACKEND_MWPM,
					     MONO_MMAP_BACKEND_LIBC };
	const char *names[] = { "malloc", "posix", "mwpm", "libc" };
	int ran = 0;
	for (size_t b = 0; b < 4; b++) {
		mono_mmap_reset_for_tests ();
		if (mono_mmap_select_backend (backends[b], err, sizeof (err)) != 0) {
			printf ("# backend %s not in this build: %s\n", names[b], err);
			continue;
		}
		backend = backends[b];
		backend_name = names[b];
		ran++;
		for (size_t c = 0; c < sizeof (cases) / sizeof (cases[0]); c++) {
			char name[160];
			if (only && !name_matches (cases[c].name, only))
				continue;
			rng.s = seed + c;
			if (cases[c].only >= 0 && backend != (MonoMmapBackend) cases[c].only) {
				snprintf (name, sizeof (name), "%s: %s # SKIP %s only", backend_name, cases[c].name,
					  cases[c].only == MONO_MMAP_BACKEND_MWPM ? "mwpm" : "malloc");
				tap_report (1, name);
				continue;
			}
			snprintf (name, sizeof (name), "%s: %s", backend_name, cases[c].name);
			tap_case (name, cases[c].fn);
		}
		sgen_shutdown ();
		SgenStats s;
		sgen_get_stats (&s);
		char label[80];
		snprintf (label, sizeof (label), "%s: shutdown returns every byte", backend_name);
		MonoMmapStats ms;
		mono_mmap_get_stats (&ms);
		tap_report (s.os_bytes_live == 0 && ms.live_bytes[MONO_MEM_ACCOUNT_MAJOR] == 0 &&
				    ms.live_bytes[MONO_MEM_ACCOUNT_LOS] == 0 && ms.live_bytes[MONO_MEM_ACCOUNT_NURSERY] == 0,
			    label);
	}
	if (!ran)
		printf ("Bail out! no mmap backend could be selected\n");
	return tap_done ();
}

/*
 * sgen-stress-work.c: the GC workloads of sgen-stress, each sized by --scale.
 *
 *   gcbench      Boehm and Ellis's GCBench: a stretch tree, a long-lived tree, a big array, then
 *                many short-lived trees of depths 4..12, built top-down and bottom-up
 *   churn        a table of random objects replaced at random, with references between them in
 *                every direction across generations
 *   large        large byte and reference arrays in a sliding window (the large object space)
 *   fdr          fill the heap with small objects, drop them, collect, refill with large ones
 *   fdr-reverse  the same, large objects first, then small ones
 *   startup      shaped like a runtime's start: mostly short-lived objects through the nursery,
 *                a table of long-lived ones (type metadata, strings) and a handful of large
 *                arrays (loaded assemblies): 96 MiB allocated, about 14 MiB live at the end
 *   startup-heavy  64 MiB (times --scale) of 1..8 KB byte arrays allocated, checked to read
 *                zero and kept, then dropped: mostly page-layer work, the honest worst case
 *   growth-heavy 256 MiB (times --scale) of small objects (major blocks) and large ones
 *                (64 KiB .. 2 MiB), seven eighths of it dropped, the rest kept scattered (so
 *                most blocks stay partly live), 160 MiB of large objects refill it; twice. The
 *                heap's peak is about 290 MiB
 *
 * No workload reads memory it has not written (a read before the first write of a fresh page
 * costs a second page fault, docs/sgen.md): objects are filled before they are checked, and
 * the zero check of a new array reads only the memory page its header lies on, which the GC
 * wrote when it made the header.
 */
#include "sgen-stress.h"

#include <stdio.h>
#include <string.h>

SgenVTable stress_node_vt, stress_obj_vt, stress_refs_vt, stress_bytes_vt;
void *stress_stack[STRESS_STACK];
int stress_sp;
void *stress_keep[64];

enum { KEEP_LONG_TREE, KEEP_ARRAY, KEEP_TABLE, KEEP_WINDOW, KEEP_FILL, KEEP_STARTUP, KEEP_ASSEMBLIES, KEEP_GROWTH };

/* The memory page of the engines (the unit of first-touch faults), not a page layer's page. */
#define TOUCH_PAGE 4096u

static const uint32_t node_refs[] = { offsetof (StressNode, left), offsetof (StressNode, right) };
static const uint32_t obj_refs[] = { offsetof (StressObj, refs[0]), offsetof (StressObj, refs[1]),
				     offsetof (StressObj, refs[2]) };

int
stress_types_init (char *err, size_t errlen)
{
	if (sgen_vtable_init (&stress_node_vt, SGEN_KIND_OBJECT, "Node", sizeof (StressNode), node_refs, 2, err, errlen) ||
	    sgen_vtable_init (&stress_obj_vt, SGEN_KIND_OBJECT, "Obj", sizeof (StressObj), obj_refs, 3, err, errlen) ||
	    sgen_vtable_init (&stress_refs_vt, SGEN_KIND_REF_ARRAY, "Object[]", 0, NULL, 0, err, errlen) ||
	    sgen_vtable_init (&stress_bytes_vt, SGEN_KIND_BYTE_ARRAY, "byte[]", 0, NULL, 0, err, errlen))
		return -1;
	return 0;
}

static uint32_t
mix32 (uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t) (v ^ (v >> 33));
}

static uint32_t
checksum_of (SgenObject *obj)
{
	const SgenVTable *vt = sgen_obj_vtable (obj);
	if (vt == &stress_node_vt)
		return mix32 (((StressNode *) obj)->id);
	if (vt == &stress_obj_vt)
		return mix32 (((StressObj *) obj)->data[0] * 31 + ((StressObj *) obj)->data[1]);
	if (vt == &stress_bytes_vt) {
		/* Eight bytes at a time (the payload starts 8-byte aligned), then the tail. */
		const uint8_t *b = sgen_array_bytes (obj);
		uint64_t h = 0x243f6a8885a308d3ull ^ obj->length, w;
		uint32_t i = 0;
		for (; i + 8 <= obj->length; i += 8) {
			memcpy (&w, b + i, 8);
			h = (h ^ w) * 0x100000001b3ull;
			h ^= h >> 29;
		}
		for (; i < obj->length; i++)
			h = (h ^ b[i]) * 0x100000001b3ull;
		return mix32 (h);
	}
	return mix32 (obj->length ^ 0x5151u);
}

void
stress_seal (SgenObject *obj)
{
	obj->aux = checksum_of (obj);
}

bool
stress_check (SgenObject *obj)
{
	if (!obj)
		return true;
	if (obj->aux == checksum_of (obj))
		return true;
	stress_error ("object %p (%s, length %u) fails its checksum", (void *) obj, sgen_obj_vtable (obj)->name,
		      obj->length);
	return false;
}

/* ---- allocation helpers: each result is sealed; NULL ends the run (stress_oom) ---- */

static uint64_t next_id;

/* An array of the vtable's kind, or the end of the run. */
static SgenObject *
alloc_array (const SgenVTable *vt, size_t len, const char *what)
{
	SgenObject *a = sgen_alloc_array (vt, len);
	if (!a)
		stress_oom (what);
	return a;
}

static SgenObject *
new_node (void)
{
	StressNode *n = (StressNode *) sgen_alloc_obj (&stress_node_vt);
	if (!n)
		stress_oom ("a tree node");
	n->id = ++next_id;
	stress_seal (&n->header);
	return &n->header;
}

static SgenObject *
new_bytes (size_t len, TestRng *rng)
{
	SgenObject *a = alloc_array (&stress_bytes_vt, len, "a byte array");
	uint64_t x = test_rng_next (rng);
	uint8_t *b = sgen_array_bytes (a);
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t) (x + i * (x >> 56 | 1));
	stress_seal (a);
	return a;
}

/* A byte array left as allocated: it must read zero. Only the bytes on the memory page of its
 * header are read (the GC wrote that page when it made the header): reading the rest would be a
 * read before the first write of fresh memory. */
static SgenObject *
new_zero_bytes (size_t len)
{
	SgenObject *a = alloc_array (&stress_bytes_vt, len, "a byte array");
	const uint8_t *b = sgen_array_bytes (a);
	size_t on_page = TOUCH_PAGE - (size_t) ((uintptr_t) b % TOUCH_PAGE);
	if (len > on_page)
		len = on_page;
	uint64_t any = 0, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy (&w, b + i, 8);
		any |= w;
	}
	for (; i < len; i++)
		any |= b[i];
	if (any)
		stress_error ("a new %zu-byte array at %p does not read zero", len, (void *) a);
	stress_seal (a);
	return a;
}

static SgenObject *
new_refs (size_t len)
{
	SgenObject *a = alloc_array (&stress_refs_vt, len, "a reference array");
	stress_seal (a);
	return a;
}

static void
set_ref (SgenObject *obj, SgenObject **slot, SgenObject *value)
{
	sgen_wbarrier_set (obj, (void **) slot, value);
}

/* ---- gcbench ---- */

static SgenObject *
make_tree (int depth)
{
	if (depth <= 0)
		return new_node ();
	int sp = stress_push (make_tree (depth - 1));
	stress_push (make_tree (depth - 1));
	StressNode *n = (StressNode *) new_node ();
	set_ref (&n->header, &n->left, stress_stack[sp]);
	set_ref (&n->header, &n->right, stress_stack[sp + 1]);
	stress_pop_to (sp);
	return &n->header;
}

/* Gives the node at stress_stack[at] two children, recursively. */
static void
populate (int depth, int at)
{
	if (depth <= 0)
		return;
	SgenObject *l = new_node ();
	StressNode *n = stress_stack[at];
	set_ref (&n->header, &n->left, l);
	SgenObject *r = new_node ();
	n = stress_stack[at];
	set_ref (&n->header, &n->right, r);
	int sp = stress_push (((StressNode *) stress_stack[at])->left);
	populate (depth - 1, sp);
	stress_stack[sp] = ((StressNode *) stress_stack[at])->right;
	populate (depth - 1, sp);
	stress_pop_to (sp);
}

/* Checks a complete tree of `depth`; returns its node count. */
static uint64_t
check_tree (SgenObject *obj, int depth)
{
	StressNode *n = (StressNode *) obj;
	if (!n)
		return 0;
	stress_check (obj);
	uint64_t count = 1 + check_tree (n->left, depth - 1) + check_tree (n->right, depth - 1);
	if ((depth <= 0) != (n->left == NULL))
		stress_error ("tree node %p at depth %d has the wrong shape", (void *) n, depth);
	return count;
}

static uint64_t
tree_size (int depth)
{
	return ((uint64_t) 1 << (depth + 1)) - 1;
}

static void
check_full_tree (SgenObject *root, int depth, const char *what)
{
	uint64_t count = check_tree (root, depth);
	if (count != tree_size (depth))
		stress_error ("%s of depth %d has %llu nodes, not %llu", what, depth, (unsigned long long) count,
			      (unsigned long long) tree_size (depth));
}

static void
run_gcbench (const StressParams *p, TestRng *rng)
{
	const int stretch = 14, long_lived = 14, min_depth = 4, max_depth = 12;
	const size_t array_bytes = 125000 * sizeof (double);
	int sp = stress_push (make_tree (stretch));
	check_full_tree (stress_stack[sp], stretch, "stretch tree");
	stress_pop_to (sp);
	stress_sample ("gcbench-stretch");

	stress_keep[KEEP_LONG_TREE] = new_node ();
	sp = stress_push (stress_keep[KEEP_LONG_TREE]);
	populate (long_lived, sp);
	stress_pop_to (sp);
	stress_keep[KEEP_ARRAY] = new_bytes (array_bytes, rng);

	for (int d = min_depth; d <= max_depth; d += 2) {
		uint64_t iters = 2 * tree_size (stretch) / tree_size (d) * (uint64_t) p->scale;
		for (uint64_t i = 0; i < iters; i++) {
			sp = stress_push (new_node ());
			populate (d, sp);
			if (i % 8 == 0)
				check_full_tree (stress_stack[sp], d, "top-down tree");
			stress_stack[sp] = make_tree (d);
			if (i % 8 == 1)
				check_full_tree (stress_stack[sp], d, "bottom-up tree");
			stress_pop_to (sp);
			stress_sample (NULL);
		}
		stress_sample ("gcbench-depth");
	}
	check_full_tree (stress_keep[KEEP_LONG_TREE], long_lived, "long-lived tree");
	stress_check (stress_keep[KEEP_ARRAY]);
}

/* ---- churn ---- */

#define CHURN_SLOTS 4096

static void
run_churn (const StressParams *p, TestRng *rng)
{
	stress_keep[KEEP_TABLE] = new_refs (CHURN_SLOTS);
	uint64_t steps = 60000 * (uint64_t) p->scale;
	for (uint64_t step = 0; step < steps; step++) {
		uint64_t kind = test_rng_next (rng) % 10;
		SgenObject *obj;
		if (kind < 6) {
			StressObj *o = (StressObj *) sgen_alloc_obj (&stress_obj_vt);
			if (!o)
				stress_oom ("a churn object");
			o->data[0] = test_rng_next (rng);
			o->data[1] = step;
			stress_seal (&o->header);
			obj = &o->header;
		} else if (kind < 9) {
			obj = new_bytes (test_rng_range (rng, 8, 256), rng);
		} else {
			obj = new_bytes (test_rng_range (rng, 1024, 6000), rng);
		}
		SgenObject *table = stress_keep[KEEP_TABLE];
		SgenObject **slots = (SgenObject **) sgen_array_refs (table);
		size_t idx = test_rng_next (rng) % CHURN_SLOTS;
		stress_check (slots[idx]);
		set_ref (table, &slots[idx], obj);
		if (sgen_obj_vtable (obj) == &stress_obj_vt) {
			for (int r = 0; r < 3; r++) {
				if (test_rng_next (rng) & 1)
					set_ref (obj, &((StressObj *) obj)->refs[r], slots[test_rng_next (rng) % CHURN_SLOTS]);
			}
		}
		/* An older object now refers to the new one, one time in four. */
		SgenObject *older = slots[test_rng_next (rng) % CHURN_SLOTS];
		if (older && older != obj && sgen_obj_vtable (older) == &stress_obj_vt && test_rng_next (rng) % 4 == 0)
			set_ref (older, &((StressObj *) older)->refs[test_rng_next (rng) % 3], obj);
		/* Visit a random path now and then. */
		if (step % 512 == 0) {
			SgenObject *cur = slots[test_rng_next (rng) % CHURN_SLOTS];
			for (int hop = 0; cur && hop < 16; hop++) {
				stress_check (cur);
				cur = sgen_obj_vtable (cur) == &stress_obj_vt ? ((StressObj *) cur)->refs[hop % 3] : NULL;
			}
		}
		stress_sample (NULL);
	}
	stress_sample ("churn");
}

/* ---- large ---- */

#define WINDOW 16

static void
run_large (const StressParams *p, TestRng *rng)
{
	stress_keep[KEEP_WINDOW] = new_refs (WINDOW);
	uint64_t n = 300 * (uint64_t) p->scale;
	for (uint64_t i = 0; i < n; i++) {
		/* Sizes spread over 9 KiB .. 512 KiB, smaller ones more often. */
		size_t size = (size_t) 9000 << test_rng_range (rng, 0, 5);
		size += test_rng_next (rng) % size;
		SgenObject *obj;
		if (test_rng_next (rng) % 4) {
			obj = new_bytes (size, rng);
		} else {
			obj = new_refs (size / sizeof (void *) / 8);
			SgenObject *window = stress_keep[KEEP_WINDOW];
			SgenObject **refs = (SgenObject **) sgen_array_refs (obj);
			for (uint32_t k = 0; k < obj->length; k += 97)
				set_ref (obj, &refs[k], sgen_array_refs (window)[k % WINDOW]);
		}
		SgenObject *window = stress_keep[KEEP_WINDOW];
		SgenObject **slot = (SgenObject **) &sgen_array_refs (window)[i % WINDOW];
		stress_check (*slot);
		set_ref (window, slot, obj);
		stress_sample (NULL);
	}
	stress_sample ("large");
}

/* ---- fill, drop, refill ---- */

#define HOLDER_LEN 1000

/* growth-heavy's amounts (times --scale). */
#define GROWTH_SMALL ((uint64_t) 96 << 20)    /* 64 .. 4000 bytes: promoted into major blocks */
#define GROWTH_LARGE ((uint64_t) 160 << 20)   /* 64 KiB .. 2 MiB: the large object space */
#define GROWTH_REFILL ((uint64_t) 160 << 20)  /* large objects again, once most is dropped */
#define GROWTH_KEEP 8                         /* one object in this many survives the drop */

typedef enum {
	FILL_SMALL,       /* 16 .. 2000 bytes, filled with a pattern */
	FILL_LARGE,       /* 20 .. 200 KB, filled with a pattern */
	FILL_STARTUP,     /* 1000 .. 8000 bytes, left zero and checked: the GC's own work stays
			   * small next to the page layer's (the startup benchmark) */
	FILL_GROWTH,      /* growth-heavy: small (64 .. 4000 bytes) and large (64 KiB .. 2 MiB) ones in
			   * the ratio of GROWTH_SMALL to GROWTH_LARGE bytes, filled a word at a time */
	FILL_GROWTH_LARGE, /* growth-heavy's refill: 64 KiB .. 2 MiB, a word at a time */
} FillKind;

static SgenObject *startup_bytes (size_t len, TestRng *rng);

/* The smallest object of a kind: it sizes the list of holders. */
static uint64_t
fill_min_size (FillKind kind)
{
	switch (kind) {
	case FILL_SMALL: return 16;
	case FILL_LARGE: return 20000;
	case FILL_STARTUP: return 1000;
	case FILL_GROWTH: return 64;
	case FILL_GROWTH_LARGE: return 64 * 1024;
	}
	return 16;
}

/* One object of a fill; `small_done` and `large_done` keep growth-heavy's mix in its ratio. */
static SgenObject *
fill_object (FillKind kind, TestRng *rng, uint64_t *small_done, uint64_t *large_done, size_t *size)
{
	switch (kind) {
	case FILL_STARTUP:
		*size = test_rng_range (rng, 1000, 8000);
		return new_zero_bytes (*size);
	case FILL_SMALL:
	case FILL_LARGE:
		*size = kind == FILL_SMALL ? test_rng_range (rng, 16, 2000) : test_rng_range (rng, 20000, 200000);
		return new_bytes (*size, rng);
	case FILL_GROWTH:
		if (*large_done * (GROWTH_SMALL >> 20) <= *small_done * (GROWTH_LARGE >> 20)) {
			*size = test_rng_range (rng, 64 * 1024, 2 * 1024 * 1024);
			*large_done += *size;
		} else {
			*size = test_rng_range (rng, 64, 4000);
			*small_done += *size;
		}
		return startup_bytes (*size, rng);
	case FILL_GROWTH_LARGE:
		*size = test_rng_range (rng, 64 * 1024, 2 * 1024 * 1024);
		return startup_bytes (*size, rng);
	}
	return NULL;
}

/* Fills to `bytes` with byte arrays of `kind`, all kept alive under stress_keep[KEEP_FILL]. */
static void
fill (uint64_t bytes, FillKind kind, TestRng *rng)
{
	/* Holders for the smallest sizes: the list can never run short. */
	uint64_t per_holder = fill_min_size (kind) * (uint64_t) HOLDER_LEN;
	uint64_t small_done = 0, large_done = 0;
	stress_keep[KEEP_FILL] = new_refs ((size_t) (bytes / per_holder + 2));
	uint64_t done = 0;
	size_t h = 0, k = HOLDER_LEN;
	while (done < bytes) {
		if (k == HOLDER_LEN) {
			SgenObject *holder = new_refs (HOLDER_LEN);
			SgenObject *list = stress_keep[KEEP_FILL];
			if (h == list->length)
				break;
			set_ref (list, (SgenObject **) &sgen_array_refs (list)[h++], holder);
			k = 0;
		}
		size_t size;
		SgenObject *obj = fill_object (kind, rng, &small_done, &large_done, &size);
		SgenObject *holder = sgen_array_refs (stress_keep[KEEP_FILL])[h - 1];
		set_ref (holder, (SgenObject **) &sgen_array_refs (holder)[k++], obj);
		done += size;
		stress_sample (NULL);
	}
}

static void
check_fill (void)
{
	SgenObject *list = stress_keep[KEEP_FILL];
	for (uint32_t h = 0; list && h < list->length; h++) {
		SgenObject *holder = sgen_array_refs (list)[h];
		for (uint32_t k = 0; holder && k < holder->length; k++)
			stress_check (sgen_array_refs (holder)[k]);
	}
}

static void
fill_drop_refill (const StressParams *p, TestRng *rng, bool small_first)
{
	uint64_t target = (uint64_t) 24 * 1024 * 1024 * (uint64_t) p->scale;
	fill (target, small_first ? FILL_SMALL : FILL_LARGE, rng);
	stress_sample (small_first ? "fdr-filled-small" : "fdr-filled-large");
	sgen_collect (SGEN_COLLECT_MAJOR);
	check_fill ();
	stress_keep[KEEP_FILL] = NULL;
	sgen_collect (SGEN_COLLECT_MAJOR);
	stress_sample ("fdr-dropped");
	fill (target, small_first ? FILL_LARGE : FILL_SMALL, rng);
	stress_sample (small_first ? "fdr-refilled-large" : "fdr-refilled-small");
	sgen_collect (SGEN_COLLECT_MAJOR);
	check_fill ();
	stress_keep[KEEP_FILL] = NULL;
	sgen_collect (SGEN_COLLECT_MAJOR);
	stress_sample ("fdr-dropped-again");
}

static void
run_fdr (const StressParams *p, TestRng *rng)
{
	fill_drop_refill (p, rng, true);
}

static void
run_fdr_reverse (const StressParams *p, TestRng *rng)
{
	fill_drop_refill (p, rng, false);
}

/* ---- startup: shaped like a runtime's start ---- */

#define STARTUP_TABLE 8192    /* long-lived objects: a ref array of 32 KiB (wasm), in the LOS */
#define STARTUP_ASSEMBLIES 6  /* large byte arrays kept to the end */

/* A byte array filled the way a runtime fills strings and loaded data, with whole words (as a
 * memcpy does), not byte by byte: the start's mutator work stays what a runtime's is. */
static SgenObject *
startup_bytes (size_t len, TestRng *rng)
{
	SgenObject *a = alloc_array (&stress_bytes_vt, len, "a byte array");
	uint64_t x = test_rng_next (rng) | 1;
	uint8_t *b = sgen_array_bytes (a);
	size_t i = 0;
	for (; i + 8 <= len; i += 8, x += 0x9e3779b97f4a7c15ull)
		memcpy (b + i, &x, 8);
	for (; i < len; i++)
		b[i] = (uint8_t) (x >> (8 * (i % 8)));
	stress_seal (a);
	return a;
}

/* One object of the start's traffic, by share of objects: 90% short-lived small ones (dropped
 * at once), 2% short-lived buffers of 1000-8000 bytes, 8% kept in the table (replacing an older
 * one, which dies), most of them medium. About a sixth of the bytes survive their nursery.
 * Returns its size. */
static size_t
startup_object (TestRng *rng)
{
	uint64_t r = test_rng_below (rng, 100);
	if (r < 40) {
		new_node ();
		return sizeof (StressNode);
	}
	if (r < 90 || (r >= 97 && r < 99)) {
		size_t size = r < 90 ? test_rng_range (rng, 16, 512) : test_rng_range (rng, 1000, 8000);
		startup_bytes (size, rng);
		return size;
	}
	size_t size = r < 97 ? test_rng_range (rng, 24, 600) : test_rng_range (rng, 1000, 8000);
	SgenObject *obj = startup_bytes (size, rng);
	SgenObject *table = stress_keep[KEEP_STARTUP];
	SgenObject **slot = (SgenObject **) &sgen_array_refs (table)[test_rng_below (rng, STARTUP_TABLE)];
	if (*slot)
		stress_check (*slot);
	set_ref (table, slot, obj);
	return size;
}

static void
run_startup (const StressParams *p, TestRng *rng)
{
	uint64_t total = (uint64_t) 32 * 1024 * 1024 * (uint64_t) p->scale, done = 0;
	stress_keep[KEEP_STARTUP] = new_refs (STARTUP_TABLE);
	stress_keep[KEEP_ASSEMBLIES] = new_refs (STARTUP_ASSEMBLIES);
	for (int a = 0; done < total; a++) {
		/* An assembly loaded at each sixth of the way: 256 KiB to 2 MiB. */
		if (a < STARTUP_ASSEMBLIES && done >= total / STARTUP_ASSEMBLIES * (uint64_t) a) {
			size_t size = test_rng_range (rng, 256 * 1024, 2 * 1024 * 1024);
			SgenObject *asm_bytes = startup_bytes (size, rng);
			SgenObject *list = stress_keep[KEEP_ASSEMBLIES];
			set_ref (list, (SgenObject **) &sgen_array_refs (list)[a], asm_bytes);
			done += size;
		}
		for (int i = 0; i < 256; i++)
			done += startup_object (rng);
		stress_sample (NULL);
	}
	stress_sample ("startup-done");
}

static void
run_startup_heavy (const StressParams *p, TestRng *rng)
{
	fill ((uint64_t) 64 * 1024 * 1024 * (uint64_t) p->scale, FILL_STARTUP, rng);
	stress_sample ("startup-filled");
	check_fill ();
	stress_keep[KEEP_FILL] = NULL;
}

/* ---- growth-heavy: the heap grows far, most of it is dropped, large objects refill it ---- */


/* Drops all but one in GROWTH_KEEP of the objects under stress_keep[KEEP_FILL] (a scattered
 * eighth stays: major blocks stay partly live, large objects leave holes between survivors). */
static void
thin_fill (void)
{
	SgenObject *list = stress_keep[KEEP_FILL];
	uint64_t n = 0;
	for (uint32_t h = 0; list && h < list->length; h++) {
		SgenObject *holder = sgen_array_refs (list)[h];
		for (uint32_t k = 0; holder && k < holder->length; k++, n++) {
			SgenObject **slot = (SgenObject **) &sgen_array_refs (holder)[k];
			if (n % GROWTH_KEEP)
				set_ref (holder, slot, NULL);
		}
	}
}

static void
run_growth_heavy (const StressParams *p, TestRng *rng)
{
	uint64_t scale = (uint64_t) p->scale;
	for (int round = 0; round < 2; round++) {
		fill (GROWTH_SMALL * scale + GROWTH_LARGE * scale, FILL_GROWTH, rng);
		stress_sample ("growth-filled");
		thin_fill ();
		sgen_collect (SGEN_COLLECT_MAJOR);
		check_fill ();
		stress_keep[KEEP_GROWTH] = stress_keep[KEEP_FILL];
		stress_sample ("growth-dropped");
		fill (GROWTH_REFILL * scale, FILL_GROWTH_LARGE, rng);
		stress_sample ("growth-refilled");
		check_fill ();
		stress_keep[KEEP_FILL] = stress_keep[KEEP_GROWTH] = NULL;
		sgen_collect (SGEN_COLLECT_MAJOR);
		stress_sample ("growth-emptied");
	}
}

const StressWorkload stress_workloads[] = {
	{ "gcbench", "GCBench binary trees (Boehm and Ellis)", run_gcbench, true },
	{ "churn", "random object graph churn across generations", run_churn, true },
	{ "large", "large byte and reference arrays (LOS)", run_large, true },
	{ "fdr", "fill with small objects, drop, refill with large ones", run_fdr, true },
	{ "fdr-reverse", "fill with large objects, drop, refill with small ones", run_fdr_reverse, true },
	{ "startup", "a runtime's start: 32 MiB allocated, a sixth surviving the nursery, about 7 MiB live (not in 'all')",
	  run_startup, false },
	{ "startup-heavy", "64 MiB of small objects kept alive (not in 'all')", run_startup_heavy, false },
	{ "growth-heavy", "the heap grows to about 290 MiB, seven eighths dropped, refilled with large objects, twice "
	  "(not in 'all')", run_growth_heavy, false },
};
const int stress_workload_count = sizeof (stress_workloads) / sizeof (stress_workloads[0]);

/* ---- the final check ---- */

typedef struct {
	uint64_t objects, digest;
} Digest;

static void
digest_one (SgenObject *obj, void *ctx)
{
	Digest *d = ctx;
	stress_check (obj);
	d->objects++;
	d->digest += (uint64_t) obj->aux * 0x9e3779b97f4a7c15ull + obj->length;
}

uint64_t
stress_check_reachable (uint64_t *objects)
{
	Digest d = { 0, 0 };
	sgen_walk_reachable (digest_one, &d);
	*objects = d.objects;
	return d.digest;
}

/*
 * sgen-object.c: vtable checks, and the registry of accepted vtables that lets the verifier
 * recognise a vtable pointer without reading through a possibly corrupted one.
 */
#include "sgen-internal.h"

#include <stdio.h>

/* Vtables are made before the GC starts (and outlive it), so their registry is a fixed table,
 * not GC metadata: a runtime has a few hundred types at start, a test a handful. */
#define SGEN_MAX_VTABLES 1024

static struct {
	const SgenVTable *items[SGEN_MAX_VTABLES];
	size_t count;
} vtables;

int
sgen_vtable_init (SgenVTable *vt, SgenKind kind, const char *name, uint32_t instance_size,
		  const uint32_t *ref_offsets, uint32_t ref_count, char *err, size_t errlen)
{
	if ((uintptr_t) vt & SGEN_FLAG_MASK) {
		snprintf (err, errlen, "vtable %s is not 8-byte aligned", name);
		return -1;
	}
	if (kind == SGEN_KIND_OBJECT) {
		if (instance_size < SGEN_HEADER_SIZE || instance_size > SGEN_MAX_OBJECT_FIELDS_SIZE) {
			snprintf (err, errlen, "vtable %s: size %u outside [%u, %u]", name, instance_size,
				  SGEN_HEADER_SIZE, SGEN_MAX_OBJECT_FIELDS_SIZE);
			return -1;
		}
		if (ref_count && !ref_offsets) {
			snprintf (err, errlen, "vtable %s: %u references but no offsets", name, ref_count);
			return -1;
		}
		for (uint32_t i = 0; i < ref_count; i++) {
			uint32_t off = ref_offsets[i];
			/* In this order, without a sum that could wrap (off + 4 is 0 for 0xFFFFFFFC on wasm32). */
			if (off < SGEN_HEADER_SIZE || off % sizeof (void *) || off > instance_size ||
			    instance_size - off < sizeof (void *)) {
				snprintf (err, errlen, "vtable %s: reference offset %u must be pointer-aligned, "
					  "past the header and inside the %u-byte object", name, off, instance_size);
				return -1;
			}
		}
	} else if (kind == SGEN_KIND_REF_ARRAY || kind == SGEN_KIND_BYTE_ARRAY) {
		if (instance_size || ref_count) {
			snprintf (err, errlen, "vtable %s: arrays take no size or offsets", name);
			return -1;
		}
		instance_size = SGEN_HEADER_SIZE;
		ref_offsets = NULL;
	} else {
		snprintf (err, errlen, "vtable %s: unknown kind %d", name, (int) kind);
		return -1;
	}
	*vt = (SgenVTable) {
		.magic = SGEN_VTABLE_MAGIC, .kind = kind, .name = name, .instance_size = instance_size,
		.ref_count = ref_count, .ref_offsets = ref_offsets,
	};
	for (size_t i = 0; i < vtables.count; i++) {
		if (vtables.items[i] == vt)
			return 0;
	}
	if (vtables.count == SGEN_MAX_VTABLES) {
		snprintf (err, errlen, "vtable %s: the registry holds %d vtables already", name, SGEN_MAX_VTABLES);
		vt->magic = 0;
		return -1;
	}
	vtables.items[vtables.count++] = vt;
	return 0;
}

bool
_sgen_vtable_is_known (const SgenVTable *vt)
{
	for (size_t i = 0; i < vtables.count; i++) {
		if (vtables.items[i] == vt)
			return vt->magic == SGEN_VTABLE_MAGIC;
	}
	return false;
}

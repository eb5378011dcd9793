/*
 * sgen-object.h: the object model. Every object starts with a 16-byte header; its vtable says
 * how big the object is and where its references are.
 *
 *   offset 0                  sizeof(uintptr_t)   +4 (wasm) / +8 (native)     16
 *   +------------------------+-------------------+---------------------------+----------...
 *   | vtword: vtable | flags | length            | aux                       | fields / elements
 *   +------------------------+-------------------+---------------------------+----------...
 *
 * vtword holds the vtable pointer (vtables are 8-byte aligned) and three flag bits:
 *   bit 0  FORWARDED: a nursery object already copied; the rest of vtword is the new address.
 *   bit 1  MARKED: reached by the running major collection (cleared by the sweep).
 *   bit 2  VISITED: reached by the running heap verification (cleared before it returns).
 * length is the element count of an array and 0 for other objects. aux is never read by the
 * GC and moves with the object (a runtime keeps its hash there; sgen-stress its checksum).
 *
 * Invariants:
 *   object address % SGEN_ALIGN == 0 and object size % SGEN_ALIGN == 0;
 *   size = vt->instance_size                              for SGEN_KIND_OBJECT,
 *          SGEN_HEADER_SIZE + length * sizeof(void *)     for SGEN_KIND_REF_ARRAY,
 *          SGEN_HEADER_SIZE + length                      for SGEN_KIND_BYTE_ARRAY,
 *          each rounded up to SGEN_ALIGN;
 *   every reference slot holds NULL or the address of the header of a live object.
 */
#ifndef MONO_SGEN_OBJECT_H
#define MONO_SGEN_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#define SGEN_ALIGN 8
#define SGEN_HEADER_SIZE 16
#define SGEN_VTABLE_MAGIC 0x56544231u /* "VTB1" */

enum {
	SGEN_FLAG_FORWARDED = 1,
	SGEN_FLAG_MARKED = 2,
	SGEN_FLAG_VISITED = 4,
	SGEN_FLAG_MASK = 7,
};

typedef enum {
	SGEN_KIND_OBJECT,     /* fixed size, references at ref_offsets */
	SGEN_KIND_REF_ARRAY,  /* length references after the header */
	SGEN_KIND_BYTE_ARRAY, /* length bytes after the header, no references */
} SgenKind;

typedef struct SgenVTable {
	uint32_t magic;               /* SGEN_VTABLE_MAGIC once sgen_vtable_init accepted it */
	SgenKind kind;
	const char *name;
	uint32_t instance_size;       /* OBJECT: bytes including the header; arrays: the header */
	uint32_t ref_count;           /* OBJECT: number of reference slots */
	const uint32_t *ref_offsets;  /* OBJECT: byte offsets of the slots from the header */
} __attribute__ ((aligned (8))) SgenVTable;

typedef struct {
	uintptr_t vtword;
	uint32_t length;
	uint32_t aux;
} __attribute__ ((aligned (8))) SgenObject;

_Static_assert (sizeof (SgenObject) == SGEN_HEADER_SIZE, "the header is 16 bytes on every target");
_Static_assert (SGEN_HEADER_SIZE % sizeof (void *) == 0, "reference slots follow the header aligned");

/*
 * Fills *vt and checks it: size at least the header and at most SGEN_MAX_OBJECT_FIELDS_SIZE,
 * each offset pointer-aligned, inside the object and past the header. Arrays take size 0 and no
 * offsets. Returns 0, or -1 with a reason in err (vt unusable).
 */
int sgen_vtable_init (SgenVTable *vt, SgenKind kind, const char *name, uint32_t instance_size,
		      const uint32_t *ref_offsets, uint32_t ref_count, char *err, size_t errlen);

/* Largest SGEN_KIND_OBJECT instance (bigger data belongs in arrays). */
#define SGEN_MAX_OBJECT_FIELDS_SIZE 4096u

static inline const SgenVTable *
sgen_obj_vtable (const SgenObject *obj)
{
	return (const SgenVTable *) (obj->vtword & ~(uintptr_t) SGEN_FLAG_MASK);
}

static inline uintptr_t
sgen_align_up (uintptr_t v, uintptr_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Object size for a vtable and array length; 0 when it overflows `limit`. */
static inline size_t
sgen_size_for (const SgenVTable *vt, size_t length, size_t limit)
{
	size_t elem;
	switch (vt->kind) {
	case SGEN_KIND_OBJECT:
		return sgen_align_up (vt->instance_size, SGEN_ALIGN);
	case SGEN_KIND_REF_ARRAY:
		elem = sizeof (void *);
		break;
	default:
		elem = 1;
		break;
	}
	if (length > (limit - SGEN_HEADER_SIZE - SGEN_ALIGN) / elem)
		return 0;
	return sgen_align_up (SGEN_HEADER_SIZE + length * elem, SGEN_ALIGN);
}

static inline size_t
sgen_obj_size (const SgenObject *obj)
{
	return sgen_size_for (sgen_obj_vtable (obj), obj->length, SIZE_MAX);
}

static inline void **
sgen_array_refs (SgenObject *obj)
{
	return (void **) ((char *) obj + SGEN_HEADER_SIZE);
}

static inline uint8_t *
sgen_array_bytes (SgenObject *obj)
{
	return (uint8_t *) obj + SGEN_HEADER_SIZE;
}

static inline void **
sgen_field_slot (SgenObject *obj, uint32_t offset)
{
	return (void **) ((char *) obj + offset);
}

/* Runs `body` with `slot_var` (void **) set to each reference slot of obj in turn. */
#define SGEN_FOREACH_REF(obj, slot_var, body)                                                   \
	do {                                                                                    \
		const SgenVTable *fe_vt_ = sgen_obj_vtable (obj);                               \
		if (fe_vt_->kind == SGEN_KIND_OBJECT) {                                         \
			for (uint32_t fe_i_ = 0; fe_i_ < fe_vt_->ref_count; fe_i_++) {          \
				void **slot_var = sgen_field_slot ((obj), fe_vt_->ref_offsets[fe_i_]); \
				body                                                            \
			}                                                                       \
		} else if (fe_vt_->kind == SGEN_KIND_REF_ARRAY) {                               \
			void **fe_refs_ = sgen_array_refs (obj);                                \
			for (uint32_t fe_i_ = 0; fe_i_ < (obj)->length; fe_i_++) {              \
				void **slot_var = &fe_refs_[fe_i_];                             \
				body                                                            \
			}                                                                       \
		}                                                                               \
	} while (0)

#endif

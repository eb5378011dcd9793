/*
 * dropin-model.h: a model-based random test of the drop-in's anonymous mappings (mwpm-mmap.h),
 * through their public calls only, natively (ASan/UBSan, the fuzzer) and on wasm.
 *
 * The model keeps, per unit of the address space (the drop-in's unit: the larger of 64 KiB and
 * mwpm's page), what the program knows: mapped by the drop-in (with canaries), unmapped by it,
 * held by another user of mwpm (the model allocates them from mwpm itself, as malloc or a GC
 * would), another sbrk caller's memory, static data below mwpm's memory, or never seen. From
 * that alone it says what each call must do: where a mapping may go, which MAP_FIXED must
 * replace and which must be refused, what munmap and madvise may touch, which errors lengths
 * near SIZE_MAX and unaligned addresses get. After each call it checks the answer, the canaries
 * around, mwpm's count of pages in use against its own, and every few calls the drop-in's M1
 * and mwpm's invariants.
 */
#ifndef TESTS_DROPIN_MODEL_H
#define TESTS_DROPIN_MODEL_H

#include "mwpm-model.h"

typedef struct {
	uint64_t maps, hinted, at_hint, fixed, fixed_replaced, fixed_refused, noreplace_eexist;
	uint64_t unmaps, unmap_partial, dontneed, protects, bad_calls, wraps, others, foreign, checks;
} DropinCounts;

/* Runs the model (cfg->memory_max is ignored: the whole space); 0 when every check held, else 1
 * after printing the seed, the operation and what failed. */
int dropin_model_run (ModelSource *src, const ModelConfig *cfg, DropinCounts *counts);

#endif

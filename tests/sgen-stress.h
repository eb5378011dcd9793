/*
 * sgen-stress.h: what the parts of sgen-stress share (sgen-stress.c: options, run, report;
 * sgen-stress-work.c: the GC workloads; sgen-stress-threads.c: the mmap-layer threads).
 *
 * Object rules of the workloads: every object carries a checksum in its header's aux word,
 * computed from its contents when it is made (stress_seal) and checked whenever a workload
 * visits it and at the end for everything reachable (stress_check). A local variable never
 * holds an object across an allocation: objects live in the shadow stack (a registered root
 * range) or in other objects, and are read back after every allocation.
 */
#ifndef TESTS_SGEN_STRESS_H
#define TESTS_SGEN_STRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "sgen-gc.h"
#include "test-rng.h"


/* ---- object types (sgen-stress-work.c) ---- */
typedef struct {
	SgenObject header;
	SgenObject *left, *right;
	uint64_t id;
} StressNode;

typedef struct {
	SgenObject header;
	SgenObject *refs[3];
	uint64_t data[2];
} StressObj;

extern SgenVTable stress_node_vt, stress_obj_vt, stress_refs_vt, stress_bytes_vt;
int stress_types_init (char *err, size_t errlen);

/* Sets the checksum of obj from its contents / checks it (false: corrupted). */
void stress_seal (SgenObject *obj);
bool stress_check (SgenObject *obj);

/* ---- shadow stack ---- */
#define STRESS_STACK 8192
extern void *stress_stack[STRESS_STACK];
extern int stress_sp;

static inline int
stress_push (void *obj)
{
	stress_stack[stress_sp] = obj;
	return stress_sp++;
}

static inline void
stress_pop_to (int sp)
{
	while (stress_sp > sp)
		stress_stack[--stress_sp] = NULL;
}

/* ---- the run (sgen-stress.c) ---- */
typedef struct {
	uint64_t seed;
	int64_t scale;
	bool corrupt;            /* test-only: damage one object to prove the checks fail */
} StressParams;

/* Records a sample of the memory time series (and the linear memory peak) at a phase. */
void stress_sample (const char *phase);
/* Counts a checksum or structure problem found by a workload. */
void stress_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* An allocation failed: prints sgen's reason and exits (status 3). */
_Noreturn void stress_oom (const char *what);

/* ---- workloads (sgen-stress-work.c) ---- */
typedef struct {
	const char *name;
	const char *about;
	void (*run) (const StressParams *p, TestRng *rng);
	bool in_all;   /* part of --workloads=all (the startups and growth-heavy run on their own) */
} StressWorkload;

extern const StressWorkload stress_workloads[];
extern const int stress_workload_count;

/* Checks every reachable object; returns a digest of the graph (independent of addresses). */
uint64_t stress_check_reachable (uint64_t *objects);
/* Long-lived data the workloads leave for the final check (dropped at the end). */
extern void *stress_keep[64];

/* ---- mmap-layer threads (sgen-stress-threads.c) ---- */
typedef struct {
	uint64_t ops, allocs, partial_frees, errors, bytes;
	uint64_t ops_while_gc; /* operations done while the GC workloads ran */
} StressThreadReport;

/* Starts n threads (0: none); -1 with a message when threads are unavailable. */
int stress_threads_start (int n, uint64_t seed, char *err, size_t errlen);
/* Marks the start/end of the GC workloads (for ops_while_gc). */
void stress_threads_gc_phase (bool running);
/* Stops and joins them; fills reports (n entries). */
void stress_threads_stop (StressThreadReport *reports);

#endif

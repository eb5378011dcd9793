/*
 * pool-lock.h: the pool malloc's lock (pthreads builds), given to dlmalloc as its user-defined
 * lock (USE_LOCKS 2, pool-dlmalloc-config.h).
 *
 * Recursive, because one call may re-enter on the same thread: malloc -> MMAP -> mwpm -> the
 * grow hook -> a collection -> malloc/free (pool-dlmalloc-config.h says why that is safe).
 *
 * And it refreshes the holder's view of the memory. In pthreads builds a thread's engine bounds
 * bulk memory operations (memset, memcpy: memory.fill, memory.copy) by the memory size it last
 * saw and traps on memory another thread has just grown (docs/mwpm.md, "Threads"); dlmalloc
 * memsets (calloc) and copies (realloc) blocks of segments any thread may have mapped, and its
 * callers memset what they get. Every block dlmalloc can hand out while the lock is held lies
 * below the memory size read once the lock is taken (segments are only made under the lock),
 * so bringing the thread's view up to that size on the first acquisition covers all of them.
 * The common case costs one memory.size and one thread-local compare.
 */
#ifndef MONO_POOL_LOCK_H
#define MONO_POOL_LOCK_H

#include "mwpm-platform.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct {
	atomic_int held;
	atomic_uintptr_t owner;  /* pthread_self() of the holder, 0 when free */
	unsigned count;          /* acquisitions by the holder */
} PoolLock;

#define POOL_LOCK_INIT { 0, 0, 0 }

static inline int
pool_lock_acquire (PoolLock *lk)
{
	uintptr_t me = (uintptr_t)pthread_self ();
	if (atomic_load_explicit (&lk->owner, memory_order_relaxed) == me) {
		lk->count++;
		return 0;
	}
	for (unsigned spins = 0; atomic_exchange_explicit (&lk->held, 1, memory_order_acquire); spins++) {
		if (spins > 64)
			sched_yield ();
	}
	atomic_store_explicit (&lk->owner, me, memory_order_relaxed);
	lk->count = 1;
	mono_bulk_ready (mwpm_platform_memory_bytes ());
	return 0;
}

static inline void
pool_lock_release (PoolLock *lk)
{
	if (--lk->count == 0) {
		atomic_store_explicit (&lk->owner, 0, memory_order_relaxed);
		atomic_store_explicit (&lk->held, 0, memory_order_release);
	}
}

static inline int
pool_lock_try (PoolLock *lk)
{
	uintptr_t me = (uintptr_t)pthread_self ();
	if (atomic_load_explicit (&lk->owner, memory_order_relaxed) == me) {
		lk->count++;
		return 1;
	}
	if (atomic_exchange_explicit (&lk->held, 1, memory_order_acquire))
		return 0;
	atomic_store_explicit (&lk->owner, me, memory_order_relaxed);
	lk->count = 1;
	mono_bulk_ready (mwpm_platform_memory_bytes ());
	return 1;
}

#endif

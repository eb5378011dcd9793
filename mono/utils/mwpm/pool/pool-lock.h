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
#include "mono-spin-lock.h"

#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct {
	atomic_int held;
	atomic_uintptr_t owner;  /* pool_lock_self () of the holder, 0 when free */
	unsigned count;          /* acquisitions by the holder */
} PoolLock;

#define POOL_LOCK_INIT { 0, 0, 0 }

/*
 * The holder's identity. pthread_self() is 0 in an emscripten worker once the thread has left
 * its thread state (pthread_exit clears it before the last frees of the thread's data), which is
 * also the "free" value of `owner`: taken as is, such a thread would see itself as the holder of
 * a free lock and walk in without taking it. It gets POOL_NO_THREAD instead, which is never taken
 * for the holder: it takes the lock as any other thread does, and never re-enters (only the GC's
 * grow hook re-enters, on a thread of its own).
 */
#define POOL_NO_THREAD (~(uintptr_t)0)

static inline uintptr_t
pool_lock_self (void)
{
	uintptr_t me = (uintptr_t)pthread_self ();
	return me ? me : POOL_NO_THREAD;
}

static inline bool
pool_lock_mine (PoolLock *lk, uintptr_t me)
{
	return me != POOL_NO_THREAD && atomic_load_explicit (&lk->owner, memory_order_relaxed) == me;
}

static inline int
pool_lock_acquire (PoolLock *lk)
{
	uintptr_t me = pool_lock_self ();
	if (pool_lock_mine (lk, me)) {
		lk->count++;
		return 0;
	}
	for (unsigned spins = 0; atomic_exchange_explicit (&lk->held, 1, memory_order_acquire); spins++) {
		if (spins > 64)
			mono_spin_pause ();
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
	uintptr_t me = pool_lock_self ();
	if (pool_lock_mine (lk, me)) {
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

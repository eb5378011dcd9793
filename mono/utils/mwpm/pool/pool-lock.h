/*
 * pool-lock.h: the pool malloc's lock (pthreads builds), given to dlmalloc as its user-defined
 * lock (USE_LOCKS 2, pool-dlmalloc-config.h).
 *
 * A pthread mutex, as emscripten's own malloc takes: a waiter sleeps in the futex instead of
 * spinning, which matters with more threads than cores. Recursive in the shared-pool build,
 * where one call may re-enter on the same thread (malloc -> MMAP -> mwpm -> the grow hook ->
 * sgen gives blocks back -> the mmap layer mallocs: pool-dlmalloc-config.h says why that is
 * safe); a plain one in libmwpm-pool.a, which registers no grow hook (a program that registers
 * one must not malloc in it). Measured with mimalloc's test-stress (4 threads, plain malloc over
 * libmwpm-pool.a, 2 cores, MMAP_CLEARS 1 for the first two): 5.6-5.9 s with a spin lock,
 * 4.6-5.0 s with a recursive mutex; with MMAP_CLEARS 0, 4.2-4.3 s recursive, 3.8-4.0 s plain,
 * against 3.65-3.7 s for emscripten's own malloc in the same run.
 *
 * And it refreshes the holder's view of the memory. In pthreads builds a thread's engine bounds
 * bulk memory operations (memset, memcpy: memory.fill, memory.copy) by the memory size it last
 * saw and traps on memory another thread has just grown (docs/mwpm.md, "Threads"); dlmalloc
 * memsets (calloc) and copies (realloc) blocks of segments any thread may have mapped, and its
 * callers memset what they get. Every block dlmalloc can hand out while the lock is held lies
 * below the memory size read once the lock is taken (segments are only made under the lock),
 * so bringing the thread's view up to that size on each acquisition covers all of them. The
 * common case costs one memory.size and one compare.
 */
#ifndef MONO_POOL_LOCK_H
#define MONO_POOL_LOCK_H

#include "mwpm-platform.h"

#include <pthread.h>

typedef struct {
	pthread_mutex_t mutex;
} PoolLock;

/* dlmalloc's global lock guards its one-time setup only: it never re-enters. */
#define POOL_LOCK_INIT { PTHREAD_MUTEX_INITIALIZER }

#define POOL_LOCK_TYPE (MONO_CONFIG_SHARED_POOL ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL)

static inline int
pool_lock_init (PoolLock *lk)
{
	pthread_mutexattr_t attr;
	if (pthread_mutexattr_init (&attr) || pthread_mutexattr_settype (&attr, POOL_LOCK_TYPE) ||
	    pthread_mutex_init (&lk->mutex, &attr))
		return 1;
	return pthread_mutexattr_destroy (&attr) != 0;
}

static inline int
pool_lock_acquire (PoolLock *lk)
{
	if (pthread_mutex_lock (&lk->mutex))
		return 1;
	mono_bulk_ready (mwpm_platform_memory_bytes ());
	return 0;
}

static inline void
pool_lock_release (PoolLock *lk)
{
	pthread_mutex_unlock (&lk->mutex);
}

/* 1 when taken, as dlmalloc's TRY_LOCK wants. */
static inline int
pool_lock_try (PoolLock *lk)
{
	if (pthread_mutex_trylock (&lk->mutex))
		return 0;
	mono_bulk_ready (mwpm_platform_memory_bytes ());
	return 1;
}

#endif

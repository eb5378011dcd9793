/*
 * pool-lock.h: the pool malloc's lock (pthreads builds), given to dlmalloc as its user-defined
 * lock (USE_LOCKS 2, pool-dlmalloc-config.h).
 *
 * A futex lock of its own, in the manner of Drepper's "Futexes Are Tricky" (word: 0 free,
 * 1 held, 2 held with waiters): a waiter spins briefly, then sleeps in emscripten_futex_wait,
 * which matters with more threads than cores (measured with mimalloc's test-stress, 4 threads,
 * over libmwpm-pool.a, 2 cores: 5.6-5.9 s with a spin lock, 3.8-4.0 s with a pthread mutex).
 *
 * Not a pthread mutex, because of threads without thread state: an emscripten worker's
 * pthread_self() is 0 once its thread has ended (pthread_exit clears it before the thread's last
 * frees), and musl's mutexes read and write the caller's thread structure through it: a
 * recursive mutex compares its owner with self->tid (read at address 0 + offset: 0, the "owner"
 * of a free mutex, so such a thread walked into a free or held lock as if it held it), and a
 * waiter's cancellation state is written there. This lock reads no thread structure: its waits
 * are emscripten_futex_wait (memory.atomic.wait32 on a worker, a busy wait on the browser's main
 * thread, which may not block), and it knows its holder by pool_lock_self ().
 *
 * Recursive in the shared-pool build, where one call may re-enter on the same thread (malloc ->
 * MMAP -> mwpm -> the grow hook -> sgen gives blocks back -> the mmap layer mallocs:
 * pool-dlmalloc-config.h says why that is safe); not in libmwpm-pool.a, which registers no grow
 * hook (a program that registers one must not malloc in it). A thread without thread state is
 * never taken for the holder: it takes the lock as any other thread does and never re-enters
 * (only the GC's grow hook re-enters, on a thread with state).
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

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* emscripten/threading.h's futex calls (the pool's dlmalloc is compiled with __EMSCRIPTEN__
 * undefined, so the header is not included). */
int emscripten_futex_wait (volatile void *addr, uint32_t val, double max_wait_ms);
int emscripten_futex_wake (volatile void *addr, int count);

typedef struct {
	atomic_int word;         /* 0 free, 1 held, 2 held and someone may wait */
	atomic_uintptr_t owner;  /* pool_lock_self () of the holder, 0 when free */
	unsigned count;          /* acquisitions by the holder (recursive build) */
} PoolLock;

#define POOL_LOCK_INIT { 0, 0, 0 }
#define POOL_LOCK_RECURSIVE MONO_CONFIG_SHARED_POOL

/* The holder's identity: pthread_self (), or POOL_NO_THREAD for a thread without thread state,
 * which is never the holder of a lock it did not take in this very call. */
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
	return POOL_LOCK_RECURSIVE && me != POOL_NO_THREAD && atomic_load_explicit (&lk->owner, memory_order_relaxed) == me;
}

static inline int
pool_lock_init (PoolLock *lk)
{
	atomic_init (&lk->word, 0);
	atomic_init (&lk->owner, 0);
	lk->count = 0;
	return 0;
}

/* The lock is this thread's now: note it, and make its view of the memory current. */
static inline void
pool_lock_taken (PoolLock *lk, uintptr_t me)
{
	atomic_store_explicit (&lk->owner, me, memory_order_relaxed);
	lk->count = 1;
	mono_bulk_ready (mwpm_platform_memory_bytes ());
}

/* Reads of a held lock before sleeping on it. A malloc or a free holds the lock for a few
 * hundred nanoseconds; a sleep and its wake cost futex calls and a context switch, some
 * microseconds: so a waiter first watches the word for about as long as a sleep would cost
 * (1000 reads), unless others sleep on it already (2: it queues behind
 * them). mimalloc's test-stress over libmwpm-pool.a, 4 threads on 2 cores, alternated rounds
 * (medians of 7): 3.09 s sleeping at once, 2.93 s after 100 reads (musl's mutexes spin that
 * long), 2.77 s after 1000; emscripten's own malloc 2.85 s. Counting the sleepers instead of
 * the state 2, so that a release wakes only when one sleeps (musl's way), was slower: 3.1-4.4 s. */
#define POOL_LOCK_SPINS 1000

/* true when the spinning took the lock; otherwise *c is the word last seen (0 after a weak
 * compare-exchange failed spuriously, 1 or 2): the caller's exchange settles it. */
static inline bool
pool_lock_spin (PoolLock *lk, int *c)
{
	for (int i = 0; i < POOL_LOCK_SPINS && *c != 2; i++) {
		*c = atomic_load_explicit (&lk->word, memory_order_relaxed);
		if (*c == 0 && atomic_compare_exchange_weak_explicit (&lk->word, c, 1, memory_order_acquire, memory_order_relaxed))
			return true;
	}
	return false;
}

static inline int
pool_lock_acquire (PoolLock *lk)
{
	uintptr_t me = pool_lock_self ();
	if (pool_lock_mine (lk, me)) {
		lk->count++;
		return 0;
	}
	int c = 0;
	if (!atomic_compare_exchange_strong_explicit (&lk->word, &c, 1, memory_order_acquire, memory_order_relaxed) &&
	    !pool_lock_spin (lk, &c)) {
		/* Held: say that someone waits (2), and sleep until the word changes. */
		if (c != 2)
			c = atomic_exchange_explicit (&lk->word, 2, memory_order_acquire);
		while (c != 0) {
			emscripten_futex_wait (&lk->word, 2, INFINITY);
			c = atomic_exchange_explicit (&lk->word, 2, memory_order_acquire);
		}
	}
	pool_lock_taken (lk, me);
	return 0;
}

static inline void
pool_lock_release (PoolLock *lk)
{
	if (POOL_LOCK_RECURSIVE && --lk->count)
		return;
	atomic_store_explicit (&lk->owner, 0, memory_order_relaxed);
	if (atomic_exchange_explicit (&lk->word, 0, memory_order_release) == 2)
		emscripten_futex_wake (&lk->word, 1);
}

/* 1 when taken, as dlmalloc's TRY_LOCK wants. */
static inline int
pool_lock_try (PoolLock *lk)
{
	uintptr_t me = pool_lock_self ();
	if (pool_lock_mine (lk, me)) {
		lk->count++;
		return 1;
	}
	int c = 0;
	if (!atomic_compare_exchange_strong_explicit (&lk->word, &c, 1, memory_order_acquire, memory_order_relaxed))
		return 0;
	pool_lock_taken (lk, me);
	return 1;
}

#endif

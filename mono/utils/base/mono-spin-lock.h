/*
 * mono-spin-lock.h: the spin lock of mwpm, the mmap layer and the drop-in mmap, and the check
 * that a function is called with it held.
 *
 * A test-and-test-and-set spin lock on one atomic word: it needs no initialisation call (mwpm
 * can be entered before anything else runs), no thread-local storage and no malloc, and it works
 * on the browser's main thread, where blocking waits are not allowed. Critical sections are
 * short (mwpm neither prints nor, as a rule, memsets inside), so spinning, then yielding, is
 * enough. It is not recursive.
 *
 * The contract "lock held" is a check, not a comment: MONO_ASSERT_LOCK_HELD (lock) at the top
 * of every function that needs it. It is compiled always and active at check level 1 and above
 * (MONO_CONFIG_CHECK_LEVEL: 1 in the test builds, 0 in release builds), where the lock records
 * its owner: the thread's pthread_self() in pthreads builds, a flag in single-threaded builds,
 * where the lock itself is no more than that flag. A failed check writes which lock and which
 * function to stderr without stdio and traps.
 */
#ifndef MONO_UTILS_MONO_SPIN_LOCK_H
#define MONO_UTILS_MONO_SPIN_LOCK_H

#include "mono-config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#if MONO_CONFIG_THREADS
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct {
	atomic_int held;
	atomic_uintptr_t owner; /* pthread_self () of the holder at check level >= 1, else 0 */
} MonoSpinLock;

#define MONO_SPIN_LOCK_INIT { 0, 0 }

/*
 * What a waiting thread does after spinning a while. Natively it yields the processor. On
 * emscripten it spins on: emscripten's sched_yield runs the thread's queue of proxied calls
 * (emscripten_current_thread_process_queued_calls), which takes a global pthread mutex and
 * writes thread-local storage, from inside our wait, where the waiter may hold another of these
 * locks (the pool malloc waits for mwpm's holding its own) or may have no thread-local storage
 * yet or any more (a thread mallocs its TLS block when it starts and frees it when it ends).
 * Measured with mimalloc's test-stress (4 threads, scale 200, 20 iterations, plain malloc over
 * libmwpm-pool.a, and the same over the shared-pool build's malloc): with the yield 23 of 43
 * runs reported corrupted blocks or hung; without it 16 of 16 passed, as did the same malloc
 * with a pthread mutex (16 of 16) or a plain spin lock that never yields (10 of 10). No holder of these locks waits for another
 * thread's queue (they make no proxied call: no printing, no file access), so spinning on cannot
 * deadlock. The pool's dlmalloc includes this header with __EMSCRIPTEN__ undefined: the test is
 * the configuration's.
 */
static inline void
mono_spin_pause (void)
{
	/* The configuration, not __EMSCRIPTEN__: the pool's dlmalloc, which takes this lock's
	 * sibling (pool-lock.h), is compiled with __EMSCRIPTEN__ undefined. */
	if (!MONO_CONFIG_EMSCRIPTEN)
		sched_yield ();
}

static inline uintptr_t
mono_spin_lock_self (void)
{
	return (uintptr_t)pthread_self ();
}

/* Takes the lock; returns true when it was contended (the caller counts it once it holds it). */
static inline bool
mono_spin_lock (MonoSpinLock *lock)
{
	bool contended = false;
	if (atomic_exchange_explicit (&lock->held, 1, memory_order_acquire)) {
		contended = true;
		for (unsigned spins = 0;; spins++) {
			if (!atomic_load_explicit (&lock->held, memory_order_relaxed) &&
			    !atomic_exchange_explicit (&lock->held, 1, memory_order_acquire))
				break;
			if (spins > 64)
				mono_spin_pause ();
		}
	}
	if (MONO_CONFIG_CHECK_LEVEL >= 1)
		atomic_store_explicit (&lock->owner, mono_spin_lock_self (), memory_order_relaxed);
	return contended;
}

static inline void
mono_spin_unlock (MonoSpinLock *lock)
{
	if (MONO_CONFIG_CHECK_LEVEL >= 1)
		atomic_store_explicit (&lock->owner, 0, memory_order_relaxed);
	atomic_store_explicit (&lock->held, 0, memory_order_release);
}

/* Held by the calling thread? Only known at check level >= 1 (true otherwise). The lock must be
 * held at all, not only recorded for this thread: an emscripten worker whose thread has ended has
 * pthread_self () 0, the owner a free lock records, and would otherwise pass for its holder.
 * (Two such threads cannot be told apart: one of them holding the lock passes the other's check.) */
static inline bool
mono_spin_lock_held (MonoSpinLock *lock)
{
	return MONO_CONFIG_CHECK_LEVEL < 1 ||
	       (atomic_load_explicit (&lock->held, memory_order_relaxed) &&
		atomic_load_explicit (&lock->owner, memory_order_relaxed) == mono_spin_lock_self ());
}

#else

typedef struct {
	bool held;
} MonoSpinLock;

#define MONO_SPIN_LOCK_INIT { false }

static inline bool
mono_spin_lock (MonoSpinLock *lock)
{
	lock->held = true;
	return false;
}

static inline void
mono_spin_unlock (MonoSpinLock *lock)
{
	lock->held = false;
}

static inline bool
mono_spin_lock_held (MonoSpinLock *lock)
{
	return MONO_CONFIG_CHECK_LEVEL < 1 || lock->held;
}

#endif

/* Reports a function that needs `what` held, called without it, and traps. */
static inline _Noreturn void
mono_spin_lock_not_held (const char *what, const char *func)
{
	static const char a[] = "fatal: ", b[] = " must be held by the caller of ", c[] = "()\n";
	if (write (2, a, sizeof a - 1) < 0 || write (2, what, strlen (what)) < 0 || write (2, b, sizeof b - 1) < 0 ||
	    write (2, func, strlen (func)) < 0 || write (2, c, sizeof c - 1) < 0)
		__builtin_trap ();
	__builtin_trap ();
}

#define MONO_ASSERT_LOCK_HELD(lock)                                                   \
	do {                                                                          \
		if (MONO_CONFIG_CHECK_LEVEL >= 1 && !mono_spin_lock_held (lock))      \
			mono_spin_lock_not_held (#lock, __func__);                    \
	} while (0)

#endif

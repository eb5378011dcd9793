/*
 * mwpm-lock.h: the spin lock of mwpm (also used by the mmap layer and the drop-in mmap).
 *
 * A test-and-test-and-set spin lock on one atomic word: it needs no initialisation call (so
 * mwpm can be entered before anything else runs), no thread-local storage and no malloc, and it
 * works on the browser's main thread, where blocking waits are not allowed. Critical sections
 * are short (mwpm neither prints nor, as a rule, memsets inside), so spinning, then yielding,
 * is enough. It is not recursive. Single-threaded builds (MONO_CONFIG_THREADS == 0) compile it
 * away.
 */
#ifndef MWPM_LOCK_H
#define MWPM_LOCK_H

#include "mono-config.h"

#include <stdbool.h>

#if MONO_CONFIG_THREADS
#include <sched.h>
#include <stdatomic.h>

typedef struct {
	atomic_int held;
} MwpmLock;

#define MWPM_LOCK_INIT { 0 }

/* Returns true when the lock was contended (the caller counts it once it holds the lock). */
static inline bool
mwpm_lock (MwpmLock *lock)
{
	if (!atomic_exchange_explicit (&lock->held, 1, memory_order_acquire))
		return false;
	for (unsigned spins = 0;; spins++) {
		if (!atomic_load_explicit (&lock->held, memory_order_relaxed) &&
		    !atomic_exchange_explicit (&lock->held, 1, memory_order_acquire))
			return true;
		if (spins > 64)
			sched_yield ();
	}
}

static inline void
mwpm_unlock (MwpmLock *lock)
{
	atomic_store_explicit (&lock->held, 0, memory_order_release);
}

#else

typedef struct {
	int unused;
} MwpmLock;

#define MWPM_LOCK_INIT { 0 }

static inline bool
mwpm_lock (MwpmLock *lock)
{
	(void)lock;
	return false;
}

static inline void
mwpm_unlock (MwpmLock *lock)
{
	(void)lock;
}

#endif
#endif

/*
 * test-lock-contract.c: "lock held" is a check, not a comment (mono-spin-lock.h). A function of
 * mwpm that needs its lock, called without it, must stop the program at check level 1 (the test
 * builds) with a message naming the lock and the function.
 *
 * Natively a child process makes the call and the parent checks how it died and what it said
 * (TAP). On wasm there is no fork: the program makes the call itself, and meson expects it to
 * fail (tests/meson.build: should_fail).
 */
#include "mono-config.h"
#include "mwpm-test-hooks.h"
#include "tap.h"

#if !MONO_CONFIG_WASM
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int
case_unlocked_call_stops (void)
{
	int fds[2];
	T_CHECK (pipe (fds) == 0, "pipe");
	fflush (stdout);
	pid_t pid = fork ();
	T_CHECK (pid >= 0, "fork");
	if (pid == 0) {
		dup2 (fds[1], 2);
		mwpm_test_break_lock_contract ();
		_exit (0); /* the check did not stop the call */
	}
	close (fds[1]);
	char text[512] = "";
	ssize_t n, used = 0;
	while ((n = read (fds[0], text + used, sizeof text - 1 - (size_t)used)) > 0)
		used += n;
	close (fds[0]);
	int status = 0;
	waitpid (pid, &status, 0);
	T_CHECK (WIFSIGNALED (status), "the child was not stopped (status %d)", status);
	T_CHECK (strstr (text, "_mwpm.lock must be held by the caller of _mwpm_stats_locked()") != NULL,
		 "message: %s", text);
	return 0;
}
#endif

#if MONO_CONFIG_EMSCRIPTEN && MONO_CONFIG_THREADS
#include <emscripten.h>
#include <emscripten/threading.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* emscripten's own (system/lib/pthread/emscripten_thread_state.S), what pthread_exit calls to
 * leave a worker without thread state. */
void __set_thread_state (pthread_t ptr, int is_main, int is_runtime, int can_block);

/* The call without the lock, from a thread whose pthread_self () reads 0, as an emscripten
 * worker's does once its thread has ended: 0 is also what a free lock records as its owner, so a
 * check that compares owners only would let the call through. */
static atomic_int returned;

static void *
call_without_thread_state (void *arg)
{
	(void)arg;
	pthread_t self = pthread_self ();
	__set_thread_state (0, 0, 0, 1);
	mwpm_test_break_lock_contract ();
	__set_thread_state (self, 0, 0, 1); /* not stopped: end the thread as usual */
	atomic_store (&returned, 1);
	return NULL;
}
#endif

int
main (int argc, char **argv)
{
	(void)argc;
	(void)argv;
#if MONO_CONFIG_WASM
#if MONO_CONFIG_EMSCRIPTEN && MONO_CONFIG_THREADS
	if (argc > 1 && !strcmp (argv[1], "--without-thread-state")) {
		/* A trap in a worker ends the program on emscripten 3.1.6 and leaves the main thread
		 * waiting on 6.0.5: the main thread waits for the call to return, for 10 s at most,
		 * serving the worker's proxied calls meanwhile (its write of the message). */
		pthread_t t;
		if (pthread_create (&t, NULL, call_without_thread_state, NULL) != 0)
			return 2;
		double t0 = emscripten_get_now ();
		while (!atomic_load (&returned) && emscripten_get_now () - t0 < 10000)
			emscripten_main_thread_process_queued_calls ();
		if (!atomic_load (&returned)) {
			fprintf (stderr, "the call without the lock did not return: stopped\n");
			_exit (3);
		}
		pthread_join (t, NULL);
		return 0; /* reached only if the check did not stop the call */
	}
#endif
	mwpm_test_break_lock_contract ();
	return 0; /* reached only if the check did not stop the call: meson counts it a failure */
#else
	tap_case ("a locked helper called without the lock stops the program", case_unlocked_call_stops);
	return tap_done ();
#endif
}

/*
 * mono-problem-log.h: what a consistency check found, gathered in a fixed buffer while a lock is
 * held and printed after it is released (printing may allocate or block; the checkers' locks
 * must not be held then). No malloc: mwpm uses it.
 */
#ifndef MONO_UTILS_MONO_PROBLEM_LOG_H
#define MONO_UTILS_MONO_PROBLEM_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
	int count;
	size_t used;
	char text[2048];  /* what does not fit is counted but not kept */
} MonoProblemLog;

static inline void mono_problem (MonoProblemLog *log, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static inline void
mono_problem (MonoProblemLog *log, const char *fmt, ...)
{
	log->count++;
	if (log->used >= sizeof log->text)
		return;
	va_list ap;
	va_start (ap, fmt);
	int k = vsnprintf (log->text + log->used, sizeof log->text - log->used, fmt, ap);
	va_end (ap);
	if (k > 0)
		log->used += (size_t)k;
}

/* Prints the log under a title when it holds problems; returns their number. */
static inline int
mono_problem_log_print (const MonoProblemLog *log, const char *title)
{
	if (log->count)
		fprintf (stderr, "%s: %d problem(s)\n%.*s", title, log->count, (int)sizeof log->text, log->text);
	return log->count;
}

#endif

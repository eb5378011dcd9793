/*
 * mono-wasm-exports.c: what a web page reads from a running wasm program (emscripten only).
 *
 *   mono_wasm_stats_json ()      mwpm's stats as one JSON object (mwpm_stats_to_json)
 *   mono_wasm_page_runs_json ()  the page table from page 0 to the end of mwpm's span, as runs
 *                                of equal state (mwpm_walk_runs):
 *       {"page_size":P,"table_pages":T,"end_page":E,"runs":[state,first,count, ...]}
 *     states are MwpmPageState values; the runs cover [0, E) in address order without gaps.
 *
 * Both return a string owned by this file, valid until the next call of the same function.
 * Call them from the page's main thread only (the buffers are not locked); mwpm itself may be
 * in use by other threads meanwhile (the walk is then a snapshot per piece, see
 * mwpm_walk_runs).
 *
 * At exit: every program this file is linked into calls the page's hook
 * Module.monoWasmAtExit() from a C atexit handler, while the runtime is still alive, so the
 * page can read the final stats through the two functions above. Without the hook (node) it
 * does nothing.
 */
#include "mono-wasm-pagemgr.h"

#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char *buf;
	size_t len, cap;
	size_t items; /* runs written so far */
	int failed;   /* out of memory: the result is replaced by an error object */
} JsonBuf;

static void
json_append (JsonBuf *j, const char *text, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 4096;
		while (j->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc (j->buf, cap);
		if (!p) {
			j->failed = 1;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy (j->buf + j->len, text, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void
json_append_run (const MwpmRun *run, void *ctx)
{
	JsonBuf *j = ctx;
	char item[64];
	int n = snprintf (item, sizeof item, "%s%d,%zu,%zu", j->items++ ? "," : "", (int)run->state,
			  run->first_page, run->page_count);
	json_append (j, item, (size_t)n);
}

EMSCRIPTEN_KEEPALIVE const char *
mono_wasm_stats_json (void)
{
	static char json[2048];
	MwpmStats s;
	mwpm_get_stats (&s);
	int n = mwpm_stats_to_json (&s, json, sizeof json);
	if (n < 0 || (size_t)n >= sizeof json)
		snprintf (json, sizeof json, "{\"error\":\"stats do not fit in %zu bytes\"}", sizeof json);
	return json;
}

EMSCRIPTEN_KEEPALIVE const char *
mono_wasm_page_runs_json (void)
{
	static JsonBuf j;
	MwpmStats s;
	char head[160];
	mwpm_get_stats (&s);
	j.len = j.items = 0;
	j.failed = 0;
	int n = snprintf (head, sizeof head, "{\"page_size\":%zu,\"table_pages\":%zu,\"end_page\":%zu,\"runs\":[",
			  s.page_size, mwpm_table_pages (), s.span_end_page);
	json_append (&j, head, (size_t)n);
	if (s.span_end_page > 0)
		mwpm_walk_runs (0, s.span_end_page, json_append_run, &j);
	json_append (&j, "]}", 2);
	if (j.failed)
		return "{\"error\":\"out of memory while listing the page runs\"}";
	return j.buf;
}

static void
notify_page_at_exit (void)
{
	MAIN_THREAD_EM_ASM ({
		if (typeof Module === 'object' && typeof Module['monoWasmAtExit'] === 'function')
			Module['monoWasmAtExit']();
	});
}

__attribute__ ((constructor)) static void
register_exit_notice (void)
{
	atexit (notify_page_at_exit);
}

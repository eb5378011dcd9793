/*
 * mwpm-dump.c: snapshots of the page table for pictures (tools/pagemap) and reports.
 *
 * One snapshot is one line of JSON:
 *   {"label":"...","page_size":65536,"memory_pages":N,"stats":{...mwpm_stats_to_json...},
 *    "runs":[[first_page,page_count,state],...]}
 * runs cover pages 0 .. max(span end, memory_pages) in address order; state is the MwpmPageState
 * number (0 not ours, 1 foreign, 2 free-zeroed, 3 free-dirty, 4 in use).
 */
#include "mono-wasm-pagemgr.h"
#include "mwpm-platform.h"

#include <stdio.h>

typedef struct {
	FILE *out;
	size_t count;
} DumpCtx;

static void
emit_run (const MwpmRun *run, void *ctx)
{
	DumpCtx *d = ctx;
	fprintf (d->out, "%s[%zu,%zu,%d]", d->count ? "," : "", run->first_page, run->page_count, (int)run->state);
	d->count++;
}

int
mwpm_dump (FILE *out, const char *label)
{
	MwpmStats s;
	mwpm_get_stats (&s);
	char stats[2048];
	mwpm_stats_to_json (&s, stats, sizeof (stats));
	size_t memory_pages = (size_t)(mwpm_platform_memory_bytes () / MWPM_PAGE_SIZE);
	size_t end = s.span_end_page > memory_pages ? s.span_end_page : memory_pages;
	fputs ("{\"label\":\"", out);
	for (const char *c = label ? label : ""; *c; c++) {
		if (*c == '"' || *c == '\\')
			fputc ('\\', out);
		if ((unsigned char)*c >= 0x20)
			fputc (*c, out);
	}
	fprintf (out, "\",\"page_size\":%zu,\"memory_pages\":%zu,\"stats\":%s,\"runs\":[", (size_t)MWPM_PAGE_SIZE, memory_pages, stats);
	DumpCtx d = { out, 0 };
	mwpm_walk_runs (0, end, emit_run, &d);
	fputs ("]}\n", out);
	fflush (out);
	return ferror (out) ? -1 : 0;
}

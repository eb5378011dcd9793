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

/* A label as JSON string content in plain ASCII: quote and backslash escaped, every other byte
 * outside 0x20..0x7e as \u00XX (a byte is taken as the code point of the same value), so that
 * the line is valid UTF-8 JSON whatever bytes the label holds. */
static void
write_json_text (FILE *out, const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf (out, "\\%c", *c);
		else if (*c < 0x20 || *c > 0x7e)
			fprintf (out, "\\u%04x", *c);
		else
			fputc (*c, out);
	}
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
	write_json_text (out, label ? label : "");
	fprintf (out, "\",\"page_size\":%zu,\"memory_pages\":%zu,\"stats\":%s,\"runs\":[", (size_t)MWPM_PAGE_SIZE, memory_pages, stats);
	DumpCtx d = { out, 0 };
	mwpm_walk_runs (0, end, emit_run, &d);
	fputs ("]}\n", out);
	fflush (out);
	return ferror (out) ? -1 : 0;
}

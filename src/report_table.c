/* SPDX-License-Identifier: MIT */
/* The default report's table of top sites (see report_table.h). A site that ranks high on
 * several lists (live bytes, allocations, bytes allocated, temporary, the peak) is one row,
 * with every figure in its columns, and its stack is printed once, after the table. The
 * rows are in the order of live bytes, then bytes at the peak, bytes allocated, allocations.
 * The lists one by one are behind --sort KEY (report_body.c). */
#include "report_table.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "report_time.h"
#include "sites.h"
#include "snapshot_format.h"
#include "text_out.h"

struct row {
	const mp_snap_trace_t *trace;
	uint64_t peak_bytes; /* its bytes at the peak, from the PEAK section; 0 if not there */
};

static int by_importance(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	uint64_t ka[4] = { mp_trace_live_bytes(a->trace), a->peak_bytes, a->trace->bytes_allocated, a->trace->allocs };
	uint64_t kb[4] = { mp_trace_live_bytes(b->trace), b->peak_bytes, b->trace->bytes_allocated, b->trace->allocs };

	for (int i = 0; i < 4; i++)
		if (ka[i] != kb[i])
			return ka[i] < kb[i] ? 1 : -1;
	return (a->trace->id > b->trace->id) - (a->trace->id < b->trace->id);
}

/* Adds t to rows unless it is there already (chosen: a flag per trace of the snapshot). */
static void choose(mp_report_t *r, const mp_snap_trace_t *t, bool *chosen, struct row *rows, size_t *n)
{
	size_t i = (size_t)(t - r->snap->traces);

	if (!chosen[i]) {
		chosen[i] = true;
		rows[(*n)++] = (struct row){ t, 0 };
	}
}

/* The rows: the r->top first sites of every list, once each. */
static size_t gather(mp_report_t *r, struct row *rows, bool *chosen, const mp_snap_peak_site_t **peak,
		     size_t n_peak)
{
	size_t n = 0;

	for (size_t k = 0; k < sizeof(mp_site_tables) / sizeof(mp_site_tables[0]); k++) {
		size_t ranked = mp_report_rank(r, &mp_site_tables[k]);
		for (size_t i = 0; i < ranked && i < r->top; i++)
			choose(r, r->ranked[i], chosen, rows, &n);
	}
	for (size_t i = 0; i < n_peak && i < r->top; i++)
		choose(r, mp_snapshot_trace(r->snap, peak[i]->trace_id), chosen, rows, &n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n_peak; j++)
			if (peak[j]->trace_id == rows[i].trace->id)
				rows[i].peak_bytes = peak[j]->live_bytes;
	qsort(rows, n, sizeof(*rows), by_importance);
	return n;
}

/* The columns before the site's name: "#1", live bytes and blocks, share of the peak,
 * allocations, bytes allocated, frees. */
#define HEAD_FMT "%-3s %10s %7s %4s %9s %10s %9s  "
#define HEAD_COLS 60

static void print_row(mp_report_t *r, size_t rank, const struct row *row, size_t name_cols)
{
	const mp_snap_trace_t *t = row->trace;
	char num[24], live[16], allocated[16], blocks[MP_FMT_U64_BYTES], allocs[MP_FMT_U64_BYTES],
		frees[MP_FMT_U64_BYTES], peak[16], name[256];

	snprintf(num, sizeof(num), "#%zu", rank);
	mp_fmt_bytes_short(mp_trace_live_bytes(t), live, sizeof(live));
	mp_fmt_bytes_short(t->bytes_allocated, allocated, sizeof(allocated));
	if (r->snap->has_peak && r->snap->peak_bytes)
		snprintf(peak, sizeof(peak), "%.0f%%", 100.0 * (double)row->peak_bytes / (double)r->snap->peak_bytes);
	else
		snprintf(peak, sizeof(peak), "-");
	/* With its file and line when they fit, else the function alone (the stack follows). */
	mp_site_label(r, t, name, sizeof(name));
	if (mp_text_cols(name) > name_cols)
		mp_site_name(r, t, name, sizeof(name));
	mp_text_fit(name, name_cols);
	printf(HEAD_FMT, num, live, mp_fmt_u64(mp_trace_live_blocks(t), blocks), peak, mp_fmt_u64(t->allocs, allocs),
	       allocated, mp_fmt_u64(t->frees, frees));
	mp_put_sanitized(name, strlen(name));
	putchar('\n');
}

void mp_print_site_table(mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	size_t cap = s->n_traces ? s->n_traces : 1, n_peak = 0, n;
	struct row *rows = calloc(cap, sizeof(*rows));
	bool *chosen = calloc(cap, sizeof(*chosen));
	const mp_snap_peak_site_t **peak = calloc(s->n_peak_sites ? s->n_peak_sites : 1, sizeof(*peak));
	unsigned width = mp_report_width(r);
	size_t name_cols = width > HEAD_COLS + 12 ? width - HEAD_COLS : 12;

	mp_title(r, "TOP SITES (each once; --sort KEY for one list)");
	if (!rows || !chosen || !peak) {
		printf("    (out of memory)\n");
		goto out;
	}
	if (s->has_peak)
		n_peak = mp_report_peak_sites(r, peak);
	n = gather(r, rows, chosen, peak, n_peak);
	if (n == 0) {
		printf("    (none)\n");
		goto out;
	}
	printf(HEAD_FMT "%s\n", "", "live", "blocks", "peak", "allocs", "allocated", "frees", "site");
	for (size_t i = 0; i < n; i++)
		print_row(r, i + 1, &rows[i], name_cols);
	for (size_t i = 0; i < n; i++) {
		char name[256];
		mp_site_label(r, rows[i].trace, name, sizeof(name));
		printf("\n#%zu ", i + 1);
		mp_put_sanitized(name, strlen(name));
		putchar('\n');
		mp_print_frames(r, rows[i].trace);
	}
	size_t sites = 0;
	for (size_t i = 0; i < r->n_kept; i++)
		sites += r->kept[i]->allocs > 0;
	if (n < sites)
		printf("\n... %zu more site%s, in no list's first %" PRIu64 " (--top, --sort)\n", sites - n,
		       sites - n == 1 ? "" : "s", r->top);
out:
	free(rows);
	free(chosen);
	free(peak);
}

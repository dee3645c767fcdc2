/* SPDX-License-Identifier: MIT */
/* The time parts of memprof report: the heap over time chart drawn from the TIMELINE section
 * (in the spirit of valgrind's ms_print) and the sites that held the memory at the peak, from
 * the PEAK section. The chart fits in the report's width (80 columns unless the terminal or
 * $COLUMNS says otherwise). */
#include "report_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "sites.h"
#include "text_out.h"

#define CHART_LABEL_COLS 10 /* the y axis labels, then " |" */
#define CHART_COLS 64       /* at 80 columns: one per 1/64 of the run; more or fewer in another width */
#define MAX_CHART_COLS 1000
#define CHART_ROWS 12

/* A time with the unit that suits the whole axis (`scale_ns`, its largest value):
 * "750 ms", "1.5 s", "12 min", "3.25 h". */
static void fmt_time(uint64_t t_ns, uint64_t scale_ns, char *buf, size_t buf_bytes)
{
	double t = (double)t_ns, v;
	const char *unit;

	if (scale_ns < 1000000000ull)
		v = t / 1e6, unit = "ms";
	else if (scale_ns < 120 * 1000000000ull)
		v = t / 1e9, unit = "s";
	else if (scale_ns < 7200 * 1000000000ull)
		v = t / 60e9, unit = "min";
	else
		v = t / 3600e9, unit = "h";
	/* Three significant digits, but %.3g would write 999.7 as "1e+03": from 100 on, whole
	 * numbers. */
	snprintf(buf, buf_bytes, v < 99.95 ? "%.3g %s" : "%.0f %s", v, unit);
}

/* Rows (0..CHART_ROWS) a value fills on a scale whose top row is `max`, rounded. */
static int rows_of(uint64_t v, uint64_t max)
{
	int n = (int)((double)v * CHART_ROWS / (double)max + 0.5);

	return n > CHART_ROWS ? CHART_ROWS : n;
}

/* What one column of the chart shows. */
struct column {
	bool drawn;         /* at or after the first point */
	uint64_t live, max, rss;
};

static int column_of(uint64_t t_ns, uint64_t end_ns, int ncols)
{
	uint64_t c = end_ns ? (uint64_t)((double)t_ns * ncols / (double)end_ns) : 0;

	return c >= (uint64_t)ncols ? ncols - 1 : (int)c;
}

/* Writes `s` into line at column `at`, clipped to the line's `width`. */
static void place(char *line, size_t width, size_t at, const char *s)
{
	for (size_t i = 0; s[i] && at + i < width; i++)
		line[at + i] = s[i];
}

/* Fills the chart's columns from the TIMELINE points; returns the height of the chart in
 * bytes: the peak, or a higher column's top or RSS. */
static uint64_t fill_columns(const mp_snapshot_t *s, uint64_t end_ns, struct column *col, int ncols)
{
	const mp_snap_point_t *p = s->timeline;
	uint64_t top = s->totals.peak_bytes;

	for (size_t i = 0; i < s->n_timeline; i++) {
		struct column *c = &col[column_of(p[i].time_ns, end_ns, ncols)];
		uint64_t hi = p[i].max_live_bytes > p[i].live_bytes ? p[i].max_live_bytes : p[i].live_bytes;

		/* The last point of a column gives its live bytes and RSS, the highest of its
		 * points the top of the ':' part. */
		c->max = c->drawn && c->max > hi ? c->max : hi;
		c->live = p[i].live_bytes;
		c->rss = p[i].rss_bytes;
		c->drawn = true;
	}
	/* A column without a point of its own holds the previous point's values. */
	for (int i = 1; i < ncols; i++)
		if (!col[i].drawn && col[i - 1].drawn) {
			col[i] = col[i - 1];
			col[i].max = col[i].live;
		}
	for (int i = 0; i < ncols; i++) {
		if (col[i].max > top)
			top = col[i].max;
		if (col[i].rss > top)
			top = col[i].rss;
	}
	return top ? top : 1;
}

/* The chart's rows, top first, each with its bytes label on the left. */
static void print_rows(const struct column *col, int ncols, uint64_t top, int peak_col, int peak_row)
{
	char label[64], line[CHART_LABEL_COLS + 2 + MAX_CHART_COLS + 1];

	for (int row = CHART_ROWS; row >= 1; row--) {
		size_t n = 0;

		label[0] = '\0';
		if (row == CHART_ROWS)
			mp_fmt_bytes_short(top, label, sizeof(label));
		else if (row == CHART_ROWS / 2)
			mp_fmt_bytes_short(top / 2, label, sizeof(label));
		n = (size_t)snprintf(line, sizeof(line), "%*s |", CHART_LABEL_COLS, label);
		for (int i = 0; i < ncols; i++) {
			const struct column *c = &col[i];
			char ch = ' ';

			if (i == peak_col && row == peak_row)
				ch = '@';
			else if (c->drawn && row <= rows_of(c->live, top))
				ch = '#';
			else if (c->drawn && row <= rows_of(c->max, top))
				ch = ':';
			else if (c->drawn && c->rss && row == (rows_of(c->rss, top) ? rows_of(c->rss, top) : 1))
				ch = '-';
			else if (c->drawn && c->live && row == 1)
				ch = '.'; /* less than half a row, but not nothing */
			line[n++] = ch;
		}
		while (n && line[n - 1] == ' ')
			n--;
		line[n] = '\0';
		puts(line);
	}
}

/* The time axis, '^' under the peak, and the time labels under the first, middle and last
 * columns. */
static void print_time_axis(int peak_col, uint64_t end_ns, int ncols)
{
	size_t width = CHART_LABEL_COLS + 2 + (size_t)ncols + 4, len;
	char label[64], line[CHART_LABEL_COLS + 2 + MAX_CHART_COLS + 4 + 1];

	printf("%*s +", CHART_LABEL_COLS, "0 B");
	for (int i = 0; i < ncols; i++)
		putchar(i == peak_col ? '^' : '-');
	putchar('\n');

	memset(line, ' ', sizeof(line));
	place(line, width, CHART_LABEL_COLS + 2, "0");
	fmt_time(end_ns / 2, end_ns, label, sizeof(label));
	len = strlen(label);
	place(line, width, CHART_LABEL_COLS + 2 + (size_t)ncols / 2 - len / 2, label);
	fmt_time(end_ns, end_ns, label, sizeof(label));
	len = strlen(label);
	place(line, width, CHART_LABEL_COLS + 2 + (size_t)ncols - len, label);
	while (width && line[width - 1] == ' ')
		width--;
	line[width] = '\0';
	puts(line);
}

void mp_print_timeline_chart(mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	/* The columns of the time axis: 64 at 80 columns, give or take the width's difference. */
	int want = CHART_COLS + (int)mp_report_width(r) - 80;
	int ncols = want < 16 ? 16 : want > MAX_CHART_COLS ? MAX_CHART_COLS : want;
	struct column col[MAX_CHART_COLS] = { { 0 } };
	uint64_t end_ns = s->meta.run_time_ns, top;
	int peak_col = -1, peak_row = 0;
	char label[64], a[MP_FMT_U64_BYTES];

	/* No TIMELINE section at all (an older writer): nothing to draw. */
	if (!s->timeline)
		return;
	mp_title(r, "HEAP OVER TIME");
	if (s->n_timeline == 0) {
		printf("    (no points)\n");
		return;
	}
	if (s->timeline[s->n_timeline - 1].time_ns > end_ns)
		end_ns = s->timeline[s->n_timeline - 1].time_ns;
	top = fill_columns(s, end_ns, col, ncols);
	if (s->totals.peak_bytes) {
		peak_col = column_of(s->totals.peak_time_ns, end_ns, ncols);
		peak_row = rows_of(s->totals.peak_bytes, top);
	}
	if (mp_report_width(r) >= 80)
		printf("  # live bytes (. less than half a row), : highest since the previous point,\n"
		       "  - RSS, @ peak\n");
	else
		printf("  # live bytes (. less than half a row),\n"
		       "  : highest since the previous point,\n"
		       "  - RSS, @ peak\n");
	print_rows(col, ncols, top, peak_col, peak_row);
	print_time_axis(peak_col, end_ns, ncols);
	fmt_time(s->totals.peak_time_ns, end_ns, label, sizeof(label));
	printf("  %zu point%s; peak (^) %s bytes at %s\n", s->n_timeline, s->n_timeline == 1 ? "" : "s",
	       mp_fmt_u64(s->totals.peak_bytes, a), label);
}

static int by_peak_bytes(const void *pa, const void *pb)
{
	const mp_snap_peak_site_t *a = *(const mp_snap_peak_site_t *const *)pa;
	const mp_snap_peak_site_t *b = *(const mp_snap_peak_site_t *const *)pb;

	if (a->live_bytes != b->live_bytes)
		return a->live_bytes > b->live_bytes ? -1 : 1;
	if (a->live_blocks != b->live_blocks)
		return a->live_blocks > b->live_blocks ? -1 : 1;
	return (a->trace_id > b->trace_id) - (a->trace_id < b->trace_id);
}

size_t mp_report_peak_sites(const mp_report_t *r, const mp_snap_peak_site_t **out)
{
	const mp_snapshot_t *s = r->snap;
	size_t n = 0;

	for (size_t i = 0; i < s->n_peak_sites; i++) {
		const mp_snap_trace_t *t = mp_snapshot_trace(s, s->peak_sites[i].trace_id);

		/* The reader guarantees every peak site names a trace of the snapshot. */
		if (t && mp_report_keeps(r, t))
			out[n++] = &s->peak_sites[i];
	}
	qsort(out, n, sizeof(*out), by_peak_bytes);
	return n;
}

void mp_print_peak_sites(mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	const mp_snap_peak_site_t **sites;
	uint64_t blocks = 0;
	size_t n, shown;
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES], when[64];

	if (!s->has_peak) {
		/* Asked for by --sort peak: say why there is no list. */
		if (r->sort == MP_SORT_PEAK) {
			mp_title(r, "TOP SITES AT THE PEAK");
			printf("    (the snapshot has no PEAK section)\n");
		}
		return;
	}
	sites = malloc((s->n_peak_sites ? s->n_peak_sites : 1) * sizeof(*sites));
	mp_title(r, "TOP SITES AT THE PEAK");
	if (!sites) {
		printf("    (out of memory)\n");
		return;
	}
	for (size_t i = 0; i < s->n_peak_sites; i++)
		blocks = mp_sat_add(blocks, s->peak_sites[i].live_blocks);
	printf("peak captured at %s: %s bytes in %s blocks\n",
	       mp_fmt_duration(s->peak_time_ns, when, sizeof(when)), mp_fmt_u64(s->peak_bytes, a),
	       mp_fmt_u64(blocks, b));
	if (s->peak_bytes < s->totals.peak_bytes)
		printf("note: %s bytes below the highest peak (%s bytes at %s): a new\n"
		       "      capture needs the heap to grow by a margin\n",
		       mp_fmt_u64(s->totals.peak_bytes - s->peak_bytes, a), mp_fmt_u64(s->totals.peak_bytes, b),
		       mp_fmt_duration(s->totals.peak_time_ns, when, sizeof(when)));
	n = mp_report_peak_sites(r, sites);
	shown = n < r->top ? n : (size_t)r->top;
	if (n == 0)
		printf("    (none)\n");
	for (size_t i = 0; i < shown; i++) {
		const mp_snap_trace_t *t = mp_snapshot_trace(s, sites[i]->trace_id);
		double share = s->peak_bytes ? 100.0 * (double)sites[i]->live_bytes / (double)s->peak_bytes : 0;

		printf("\n#%zu %s bytes in %s blocks (%.1f%% of the peak), live now %s bytes\n", i + 1,
		       mp_fmt_u64(sites[i]->live_bytes, a), mp_fmt_u64(sites[i]->live_blocks, b), share,
		       mp_fmt_u64(mp_trace_live_bytes(t), c));
		mp_print_frames(r, t);
	}
	if (shown < n)
		printf("\n... %zu more site%s (--top)\n", n - shown, n - shown == 1 ? "" : "s");
	free(sites);
}

/* SPDX-License-Identifier: MIT */
/* The ASCII charts of memprof report: live bytes of the top sites, and the histogram of
 * allocation sizes from the SIZES section. Every line fits in the report's width (80
 * columns unless the terminal or $COLUMNS says otherwise): the bars take what is left. */
#include "report_chart.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "numfmt.h"
#include "sites.h"
#include "snapshot_format.h"
#include "text_out.h"

/* At 80 columns; a wider or narrower report gives or takes the difference. */
#define NAME_COLS 30
#define LIVE_BAR_COLS 30
#define SIZE_LABEL_COLS 15
#define SIZE_BAR_COLS 36
#define MIN_BAR_COLS 8

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void put_bar(uint64_t v, uint64_t max, int cols)
{
	int n = max ? (int)((double)v * cols / (double)max + 0.5) : 0;

	if (v && n == 0)
		n = 1;
	for (int i = 0; i < cols; i++)
		putchar(i < n ? '#' : ' ');
}

void mp_print_live_chart(mp_report_t *r)
{
	size_t n = mp_report_rank(r, &mp_site_tables[0]);
	size_t shown = n < r->top ? n : (size_t)r->top;
	uint64_t max = shown ? mp_trace_live_bytes(r->ranked[0]) : 0;
	char name[256], value[32];
	int extra = (int)mp_report_width(r) - 80;
	/* Half of a difference goes to the names (12 to 60 columns), the rest to the bars. */
	int name_cols = clamp(NAME_COLS + extra / 2, 12, 60);
	int bar_cols = clamp(LIVE_BAR_COLS + extra - (name_cols - NAME_COLS), MIN_BAR_COLS, 1000);

	mp_title(r, "LIVE BYTES BY SITE");
	if (shown == 0)
		printf("    (none)\n");
	for (size_t i = 0; i < shown; i++) {
		mp_site_name(r, r->ranked[i], name, sizeof(name));
		/* Long (C++) names keep their start, which says the most. */
		mp_text_fit(name, (size_t)name_cols);
		printf("  ");
		mp_put_sanitized(name, strlen(name));
		printf("%*s |", name_cols - (int)mp_text_cols(name), "");
		put_bar(mp_trace_live_bytes(r->ranked[i]), max, bar_cols);
		mp_fmt_bytes_short(mp_trace_live_bytes(r->ranked[i]), value, sizeof(value));
		printf(" %s\n", value);
	}
}

void mp_size_class_range(size_t i, uint64_t *lo, uint64_t *hi)
{
	*lo = i == 0 ? 0 : 1ull << (i - 1);
	*hi = i == 0 ? 0 : i >= 64 ? UINT64_MAX : (1ull << i) - 1;
}

/* "0 B", "16-31 B", then from 64 KiB on "64-127 KiB" (each class from a power of two to just
 * under the next). */
static void size_label(size_t i, char *buf, size_t buf_bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	uint64_t lo, hi;
	size_t u = 0;

	mp_size_class_range(i, &lo, &hi);
	if (i == 0) {
		snprintf(buf, buf_bytes, "0 B");
		return;
	}
	if (lo == hi) {
		snprintf(buf, buf_bytes, "%" PRIu64 " B", lo);
		return;
	}
	while (lo >= 65536) {
		lo >>= 10;
		hi >>= 10;
		u++;
	}
	snprintf(buf, buf_bytes, "%" PRIu64 "-%" PRIu64 " %s", lo, hi, units[u]);
}

void mp_print_size_histogram(mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	size_t first = s->n_size_classes, last = 0;
	uint64_t max = 0;
	char label[64], count[MP_FMT_U64_BYTES];

	for (size_t i = 0; i < s->n_size_classes; i++) {
		if (!s->size_classes[i])
			continue;
		if (first == s->n_size_classes)
			first = i;
		last = i;
		if (s->size_classes[i] > max)
			max = s->size_classes[i];
	}
	mp_title(r, "ALLOCATION SIZES (all sites)");
	if (first == s->n_size_classes) {
		printf("    (none)\n");
		return;
	}
	for (size_t i = first; i <= last; i++) {
		size_label(i, label, sizeof(label));
		printf("%*s |", SIZE_LABEL_COLS, label);
		put_bar(s->size_classes[i], max, clamp(SIZE_BAR_COLS + (int)mp_report_width(r) - 80, MIN_BAR_COLS, 1000));
		printf(" %s\n", mp_fmt_u64(s->size_classes[i], count));
	}
}

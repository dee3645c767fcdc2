/* SPDX-License-Identifier: MIT */
/* memprof trend S1 ... Sn: the sites whose live memory grows steadily across a series of
 * snapshots of one running process, ranked by growth rate: leak suspects in a process that
 * has not exited. */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compare.h"
#include "json_out.h"
#include "site_match.h"
#include "sites.h"
#include "text_out.h"

#define MIN_SNAPSHOTS 3
#define TABLE_ROWS 12 /* snapshots listed in the heap table before eliding the middle */

const char mp_trend_help[] =
	"Usage: memprof trend [OPTIONS] SNAPSHOT...\n"
	"Find the sites whose live memory grows steadily across snapshots of one process\n"
	"(memprof run --interval or --signal, memprof_snapshot()), ranked by growth\n"
	"rate in bytes per second (least squares over the snapshots' run times): the leak\n"
	"suspects of a process that has not exited. A site grows steadily when its live\n"
	"bytes grew overall with a positive slope, grew in at least half of the intervals\n"
	"between snapshots, and never fell by more than a quarter of their range (memory\n"
	"that is released later is not flagged). Snapshots are taken in time order whatever\n"
	"the order given; at least 3 are needed, all of one process. A SNAPSHOT with * ? or\n"
	"[ that names no file is expanded as a glob: memprof trend 'app.1234.*.gz'.\n"
	"\n"
	"Options:\n"
	"  --top N            show the N fastest-growing sites (default 10)\n"
	"  --frames N         show at most N frames of each site's stack (default 12),\n"
	"                     inlined calls included\n"
	MP_BELOW_MAIN_HELP
	MP_FULL_NAMES_HELP
	MP_FULL_STACKS_HELP
	"  --no-symbols       show frames as module+offset, without reading any module\n"
	"  --no-color         no bold titles, even on a terminal\n"
	"  --format FORMAT    text (default) or json\n"
	"  -h, --help         show this help and exit\n"
	"\n"
	"Exit status: 0, 1 if the output could not be written, 2 on a usage error, an\n"
	"unreadable snapshot, fewer than 3 snapshots or snapshots of different processes.\n";

/* What the series says about one site. */
struct fit {
	const mp_site_series_t *site;
	double bytes_per_s, blocks_per_s;
	size_t intervals_grew;
	bool steady;
};

/* Least-squares slope of y over x (per second), 0 when every x is the same. */
static double slope(const double *x, const uint64_t *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0;

	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += (double)y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * ((double)y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
	}
	return sxx > 0 ? sxy / sxx : 0;
}

/* The rule of the help text and memprof(1). */
static void fit_site(struct fit *f, const mp_site_series_t *s, const double *x, size_t n)
{
	const uint64_t *y = s->live_bytes;
	uint64_t lo = y[0], hi = y[0], running_max = y[0], largest_drop = 0;

	f->site = s;
	f->bytes_per_s = slope(x, y, n);
	f->blocks_per_s = slope(x, s->live_blocks, n);
	f->intervals_grew = 0;
	for (size_t i = 1; i < n; i++) {
		f->intervals_grew += y[i] > y[i - 1];
		if (y[i] < lo)
			lo = y[i];
		if (y[i] > hi)
			hi = y[i];
		if (y[i] > running_max)
			running_max = y[i];
		else if (running_max - y[i] > largest_drop)
			largest_drop = running_max - y[i];
	}
	f->steady = f->bytes_per_s > 0 && y[n - 1] > y[0] && 2 * f->intervals_grew >= n - 1 &&
		    largest_drop <= (hi - lo) / 4; /* 4 * largest_drop could wrap */
}

static int by_rate(const void *pa, const void *pb)
{
	const struct fit *a = pa, *b = pb;

	if (a->bytes_per_s != b->bytes_per_s)
		return a->bytes_per_s > b->bytes_per_s ? -1 : 1;
	return (a->site->index > b->site->index) - (a->site->index < b->site->index);
}

/* "+1,234" for 100 and more, "+12.5" or "-0.25" below. */
static char *fmt_rate(double v, char *buf, size_t buf_bytes)
{
	char digits[MP_FMT_U64_BYTES];
	double mag = v < 0 ? -v : v;

	if (mag >= 100 && mag < 1e19)
		snprintf(buf, buf_bytes, "%s%s", v < 0 ? "-" : "+", mp_fmt_u64((uint64_t)(mag + 0.5), digits));
	else
		snprintf(buf, buf_bytes, "%+.3g", v);
	return buf;
}

static int by_time(const void *pa, const void *pb)
{
	const mp_snapshot_t *a = *(const mp_snapshot_t *const *)pa, *b = *(const mp_snapshot_t *const *)pb;

	if (a->meta.run_time_ns != b->meta.run_time_ns)
		return a->meta.run_time_ns < b->meta.run_time_ns ? -1 : 1;
	return (a->meta.seq > b->meta.seq) - (a->meta.seq < b->meta.seq);
}

/* Puts c's snapshots (and their paths and report contexts) in time order, the new i-th
 * being the old from[i]; checks that they are of one process and distinct. Needs only their
 * META. Returns 0 or MP_EXIT_USAGE after an error message. */
static int order_series(mp_compare_t *c, size_t *from)
{
	size_t n = c->n_snaps;
	const mp_snapshot_t **order = malloc(n * sizeof(*order));
	mp_snapshot_t *snaps = malloc(n * sizeof(*snaps));
	char **paths = malloc(n * sizeof(*paths));
	int rc = 0;

	if (!order || !snaps || !paths) {
		mp_error("trend: out of memory");
		rc = MP_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 1; i < n && rc == 0; i++) {
		const mp_snap_meta_t *a = &c->snaps[0].meta, *b = &c->snaps[i].meta;

		if (a->pid != b->pid || a->start_realtime_ns != b->start_realtime_ns) {
			mp_error("trend: %s (pid %" PRIu32 "%s) is of another process than %s (pid %" PRIu32
				 "); trend follows one process, memprof diff compares two runs",
				 c->paths[i], b->pid, a->pid == b->pid ? ", started at another time" : "",
				 c->paths[0], a->pid);
			rc = MP_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &c->snaps[i];
	qsort(order, n, sizeof(*order), by_time);
	for (size_t i = 0; i < n; i++) {
		from[i] = (size_t)(order[i] - c->snaps);
		snaps[i] = c->snaps[from[i]];
		paths[i] = c->paths[from[i]];
	}
	for (size_t i = 1; i < n && rc == 0; i++)
		if (by_time(&order[i - 1], &order[i]) == 0) {
			mp_error("trend: %s and %s are the same snapshot (give each once)", paths[i - 1], paths[i]);
			rc = MP_EXIT_USAGE;
		}
	memcpy(c->snaps, snaps, n * sizeof(*snaps));
	memcpy(c->paths, paths, n * sizeof(*paths));
	for (size_t i = 0; i < n; i++) {
		c->reports[i].snap = &c->snaps[i];
		c->reports[i].path = c->paths[i];
	}
out:
	free(order);
	free(snaps);
	free(paths);
	return rc;
}

/* The report context of the last snapshot that has site s, and s's trace there. */
static const mp_snap_trace_t *site_trace(mp_compare_t *c, const mp_site_series_t *s, mp_report_t **r)
{
	const mp_snap_trace_t *t;

	*r = mp_compare_report(c, s->last);
	t = mp_snapshot_trace((*r)->snap, s->trace_ids[s->last]);
	if (!t) { /* only when the file was replaced by another snapshot of the same moment */
		mp_error("%s: %s changed while it was being read", c->cmd, c->paths[s->last]);
		exit(MP_EXIT_USAGE);
	}
	return t;
}

static void table_row(const mp_compare_t *c, size_t i)
{
	const mp_snapshot_t *s = &c->snaps[i];
	char when[64], a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];

	printf("  %10s %15s %12s  ", mp_fmt_duration(s->meta.run_time_ns, when, sizeof(when)),
	       mp_fmt_u64(s->totals.live_bytes, a), mp_fmt_u64(s->totals.live_blocks, b));
	mp_put_sanitized(c->paths[i], strlen(c->paths[i]));
	putchar('\n');
}

static void print_text(mp_compare_t *c, const struct fit *fits, size_t n_steady, size_t n_other,
		       double heap_rate)
{
	const mp_snap_meta_t *m = &c->snaps[0].meta;
	size_t n = c->n_snaps, shown = n_steady < c->top ? n_steady : (size_t)c->top;
	char rate[64], rate2[64], a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];

	printf("memprof trend of %zu snapshots of ", n);
	mp_put_sanitized(m->exe, strlen(m->exe));
	printf(" (pid %" PRIu32 ")\n", m->pid);
	mp_title(&c->reports[0], "HEAP ACROSS THE SNAPSHOTS");
	printf("  %10s %15s %12s  %s\n", "run time", "live bytes", "live blocks", "snapshot");
	for (size_t i = 0; i < n; i++) {
		if (n > TABLE_ROWS && i == TABLE_ROWS / 2) {
			printf("  ... %zu more\n", n - TABLE_ROWS);
			i = n - TABLE_ROWS / 2;
		}
		table_row(c, i);
	}
	printf("  live bytes change by %s bytes/s (least squares)\n", fmt_rate(heap_rate, rate, sizeof(rate)));
	mp_title(&c->reports[0], "LEAK SUSPECTS (sites whose live bytes grow steadily), fastest first");
	if (n_steady == 0)
		printf("    (none)\n");
	for (size_t i = 0; i < shown; i++) {
		const mp_site_series_t *s = fits[i].site;
		mp_report_t *r;
		const mp_snap_trace_t *t = site_trace(c, s, &r);

		if (i)
			putchar('\n');
		printf("#%zu %s bytes/s, %s blocks/s, grew in %zu of %zu intervals: %s -> %s bytes\n", i + 1,
		       fmt_rate(fits[i].bytes_per_s, rate, sizeof(rate)),
		       fmt_rate(fits[i].blocks_per_s, rate2, sizeof(rate2)), fits[i].intervals_grew, n - 1,
		       mp_fmt_u64(s->live_bytes[0], a), mp_fmt_u64(s->live_bytes[n - 1], b));
		mp_print_frames(r, t);
	}
	if (shown < n_steady)
		printf("\n... %zu more site%s (--top)\n", n_steady - shown, n_steady == shown + 1 ? "" : "s");
	if (n_other)
		printf("\n%zu other site%s grew from the first snapshot to the last, not steadily\n", n_other,
		       n_other == 1 ? "" : "s");
}

static void put_json_u64s(const char *name, const uint64_t *v, size_t n)
{
	printf(",\"%s\":[", name);
	for (size_t i = 0; i < n; i++)
		printf("%s%" PRIu64, i ? "," : "", v[i]);
	putchar(']');
}

static void print_json(mp_compare_t *c, const struct fit *fits, size_t n_steady, size_t n_other,
		       double heap_rate)
{
	size_t n = c->n_snaps, shown = n_steady < c->top ? n_steady : (size_t)c->top;

	printf("{\"pid\":%" PRIu32 ",\"exe\":", c->snaps[0].meta.pid);
	mp_put_json_string(c->snaps[0].meta.exe);
	printf(",\n\"snapshots\":[");
	for (size_t i = 0; i < n; i++) {
		const mp_snapshot_t *s = &c->snaps[i];

		printf("%s\n  {\"snapshot\":", i ? "," : "");
		mp_put_json_string(c->paths[i]);
		printf(",\"seq\":%" PRIu32 ",\"run_time_ns\":%" PRIu64 ",\"live_bytes\":%" PRIu64
		       ",\"live_blocks\":%" PRIu64 "}",
		       s->meta.seq, s->meta.run_time_ns, s->totals.live_bytes, s->totals.live_blocks);
	}
	printf("],\n\"live_bytes_per_second\":%.17g,\"total_suspects\":%zu,\"other_sites_grew\":%zu,"
	       "\n\"suspects\":[",
	       heap_rate, n_steady, n_other);
	for (size_t i = 0; i < shown; i++) {
		const mp_site_series_t *s = fits[i].site;
		mp_report_t *r;
		const mp_snap_trace_t *t = site_trace(c, s, &r);
		char name[256];

		mp_site_name(r, t, name, sizeof(name));
		printf("%s\n  {\"name\":", i ? "," : "");
		mp_put_json_string(name);
		printf(",\"bytes_per_second\":%.17g,\"blocks_per_second\":%.17g,\"intervals_grew\":%zu,"
		       "\"intervals\":%zu",
		       fits[i].bytes_per_s, fits[i].blocks_per_s, fits[i].intervals_grew, n - 1);
		put_json_u64s("live_bytes", s->live_bytes, n);
		put_json_u64s("live_blocks", s->live_blocks, n);
		printf(",\"n_frames\":%" PRIu32 ",\"frames\":", t->n_frames);
		mp_put_json_frames(r, t);
		putchar('}');
	}
	printf("]}\n");
}

static bool is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* The operands, each glob that names no file expanded (sorted), into a new array. */
static int expand(char **args, size_t n_args, char ***out, size_t *n_out)
{
	char **paths = NULL;
	size_t n = 0;

	for (size_t i = 0; i < n_args; i++) {
		glob_t g = { 0 };
		size_t add = 1;
		char **grown;

		if (is_glob(args[i]) && access(args[i], F_OK) != 0) {
			if (glob(args[i], 0, NULL, &g) != 0) {
				globfree(&g);
				mp_error("trend: no file matches '%s'", args[i]);
				goto fail;
			}
			add = g.gl_pathc;
		}
		grown = realloc(paths, (n + add) * sizeof(*paths));
		if (!grown) {
			globfree(&g);
			mp_error("trend: out of memory");
			goto fail;
		}
		paths = grown;
		for (size_t j = 0; j < add; j++) {
			paths[n] = strdup(g.gl_pathc ? g.gl_pathv[j] : args[i]);
			if (!paths[n]) {
				globfree(&g);
				mp_error("trend: out of memory");
				goto fail;
			}
			n++;
		}
		globfree(&g);
	}
	*out = paths;
	*n_out = n;
	return 0;
fail:
	while (n)
		free(paths[--n]);
	free(paths);
	return MP_EXIT_USAGE;
}

/* The analysis and the output, from the sites of c's snapshots (in time order). */
static int trend_of_sites(mp_compare_t *c, mp_site_set_t *sites)
{
	size_t n = c->n_snaps, n_steady = 0, n_other = 0;
	double *x = malloc(n * sizeof(*x));
	uint64_t *heap = malloc(n * sizeof(*heap));
	struct fit *fits = NULL;
	mp_site_set_t set = *sites;
	double heap_rate;
	int rc;

	if (!x || !heap || !(fits = calloc(set.n_sites ? set.n_sites : 1, sizeof(*fits)))) {
		mp_error("trend: out of memory");
		rc = MP_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)c->snaps[i].meta.run_time_ns / 1e9;
		heap[i] = c->snaps[i].totals.live_bytes;
	}
	heap_rate = slope(x, heap, n);
	for (size_t i = 0; i < set.n_sites; i++) {
		struct fit f;

		fit_site(&f, set.sites[i], x, n);
		if (f.steady)
			fits[n_steady++] = f;
		else
			n_other += set.sites[i]->live_bytes[n - 1] > set.sites[i]->live_bytes[0];
	}
	qsort(fits, n_steady, sizeof(*fits), by_rate);
	if (c->json)
		print_json(c, fits, n_steady, n_other, heap_rate);
	else
		print_text(c, fits, n_steady, n_other, heap_rate);
	rc = mp_compare_flush(c->cmd);
out:
	free(x);
	free(heap);
	free(fits);
	return rc;
}

int mp_trend_series(mp_compare_t *c)
{
	mp_site_set_t set;
	int rc;

	if (mp_site_set_build(&set, c->snaps, c->n_snaps) < 0) {
		mp_error("trend: out of memory");
		return MP_EXIT_USAGE;
	}
	rc = trend_of_sites(c, &set);
	mp_site_set_free(&set);
	return rc;
}

/* Reads the snapshots one at a time, each freed but for its META and TOTALS once its sites
 * are in the set: memory grows with the sites and the number of snapshots, not with the
 * snapshots themselves (248 snapshots of a real server held 1.3 GB when kept whole). Then
 * puts them in time order and analyses them. */
static int trend_streamed(mp_compare_t *c, char **paths, size_t n)
{
	mp_site_set_t set;
	size_t *from = malloc(n * sizeof(*from));
	char err[512];
	int rc = 0;

	c->paths = paths;
	c->stripped = true;
	c->reloaded = SIZE_MAX;
	c->snaps = calloc(n, sizeof(*c->snaps));
	c->reports = calloc(n, sizeof(*c->reports));
	mp_site_set_init(&set, n);
	if (!from || !c->snaps || !c->reports) {
		mp_error("trend: out of memory");
		rc = MP_EXIT_USAGE;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (mp_snapshot_read(paths[i], &c->snaps[i], err, sizeof(err)) < 0) {
			mp_error("%s", err);
			rc = MP_EXIT_USAGE;
			break;
		}
		c->n_snaps = i + 1;
		c->reports[i] = (mp_report_t){ .top = c->top, .frames = c->frames, .sort = MP_SORT_ALL,
					       .color = c->color, .below_main = c->below_main,
					       .full_names = c->full_names, .full_stacks = c->full_stacks,
					       .width = mp_output_width() };
		if (mp_site_set_add(&set, &c->snaps[i], i) < 0) {
			mp_error("trend: out of memory");
			rc = MP_EXIT_USAGE;
		}
		mp_compare_strip(&c->snaps[i]);
	}
	if (rc == 0 && (rc = order_series(c, from)) == 0) {
		if (mp_site_set_reorder(&set, from) < 0) {
			mp_error("trend: out of memory");
			rc = MP_EXIT_USAGE;
		} else {
			rc = trend_of_sites(c, &set);
		}
	}
	mp_site_set_free(&set);
	free(from);
	return rc;
}

int mp_cmd_trend(int argc, char **argv)
{
	mp_compare_t c = { .cmd = "trend" };
	char **paths = NULL;
	size_t n = 0;
	int rc = mp_compare_options(&c, argc, argv, mp_trend_help);

	if (rc >= 0)
		return rc;
	if (argc == optind) {
		mp_error("trend: no snapshot given (usage: memprof trend [OPTIONS] SNAPSHOT...)");
		return MP_EXIT_USAGE;
	}
	if ((rc = expand(argv + optind, (size_t)(argc - optind), &paths, &n)) != 0)
		return rc;
	if (n < MIN_SNAPSHOTS) {
		mp_error("trend: needs at least %d snapshots of one process, got %zu%s", MIN_SNAPSHOTS, n,
			 n == 2 ? " (memprof diff compares two)" : "");
		rc = MP_EXIT_USAGE;
	} else {
		rc = trend_streamed(&c, paths, n);
	}
	mp_compare_free(&c);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

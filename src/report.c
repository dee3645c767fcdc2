/* SPDX-License-Identifier: MIT */
/* memprof report: the header, heap summary and top allocation sites of one snapshot, with
 * its options; charts are in report_chart.c and the JSON output in report_json.c. */
#include "report.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "numfmt.h"
#include "snapshot_format.h"
#include "snapshot_read.h"
#include "symbolize.h"

#define DEFAULT_TOP 10
#define DEFAULT_FRAMES 12

const char mp_report_help[] =
	"Usage: memprof report [OPTIONS] SNAPSHOT\n"
	"Print the heap summary of SNAPSHOT (a file written by libmemprof.so), its top\n"
	"allocation sites by live bytes, by number of allocations, by bytes allocated,\n"
	"the temporary ones (every block freed) and the sites at the peak, a chart of live\n"
	"bytes by site, the heap over time and a histogram of allocation sizes. Frames are\n"
	"symbolized from the modules' files.\n"
	"When a leak check ran, its loss records and LEAK SUMMARY come first, in memcheck's\n"
	"words.\n"
	"\n"
	"Options:\n"
	"  --top N            show the N biggest sites of each list (default 10)\n"
	"  --sort KEY         show only one list: live, allocs, bytes, temporary or peak\n"
	"  --frames N         show at most N frames of each site's stack (default 12)\n"
	"  --filter PATTERN   keep only sites with a frame whose function, source file or\n"
	"                     module contains PATTERN\n"
	"  --no-symbols       show frames as module+offset, without reading any module\n"
	"  --no-color         no bold titles, even on a terminal\n"
	"  --format FORMAT    text (default) or json\n"
	"  --show-leak-kinds SET  list the loss records of these kinds: definite,\n"
	"                     indirect, possible, reachable (comma-separated), all or\n"
	"                     none (default definite,possible)\n"
	"  --suppressions FILE  leave out the loss records that FILE's suppressions\n"
	"                     match (memcheck's or LeakSanitizer's format); repeatable\n"
	"  --gen-suppressions print a memcheck suppression after each loss record\n"
	"  --since OLD        OLD is an earlier leak check of the same process: list only\n"
	"                     the loss records that are new or grew since, with their\n"
	"                     growth, as memcheck's leak_check increased\n"
	"  -h, --help         show this help and exit\n"
	"\n"
	"Exit status: 0, 1 if the output could not be written, 2 on a usage error or an\n"
	"unreadable snapshot.\n";

void mp_put_sanitized(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		putchar(ch < 0x20 || ch == 0x7f ? '?' : ch);
	}
}

void mp_title(const mp_report_t *r, const char *title)
{
	printf(r->color ? "\n\033[1m%s:\033[0m\n" : "\n%s:\n", title);
}

static bool needs_quotes(const char *arg, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
			    arg[i]))
			return true;
	return false;
}

/* Prints the NUL-separated command line as a shell would need it typed. */
void mp_print_cmdline(const mp_snap_meta_t *m)
{
	size_t n = m->cmdline_bytes, start = 0;

	/* A writer copying /proc/PID/cmdline leaves a NUL after the last argument too. */
	if (n && m->cmdline[n - 1] == '\0')
		n--;
	while (start <= n && n) {
		const char *arg = m->cmdline + start;
		size_t len = strnlen(arg, n - start);

		if (start)
			putchar(' ');
		if (needs_quotes(arg, len)) {
			putchar('\'');
			for (size_t i = 0; i < len; i++) {
				if (arg[i] == '\'')
					fputs("'\\''", stdout);
				else
					mp_put_sanitized(arg + i, 1);
			}
			putchar('\'');
		} else {
			mp_put_sanitized(arg, len);
		}
		start += len + 1;
	}
}

static void print_header(const char *path, const mp_snapshot_t *s)
{
	const mp_snap_meta_t *m = &s->meta;
	char buf[64];
	time_t when = (time_t)(m->snapshot_realtime_ns / 1000000000u);
	struct tm tm;

	fputs("memprof report of ", stdout);
	mp_put_sanitized(path, strlen(path));
	fputs("\nprogram:  ", stdout);
	mp_put_sanitized(m->exe, strlen(m->exe));
	fputs("\ncommand:  ", stdout);
	mp_print_cmdline(m);
	printf("\npid:      %" PRIu32, m->pid);
	if (m->flags & MP_META_FORK_CHILD)
		printf(" (fork child of %" PRIu32 ")", m->ppid);
	else
		printf(" (parent %" PRIu32 ")", m->ppid);
	printf("\nrun time: %s\n", mp_fmt_duration(m->run_time_ns, buf, sizeof(buf)));
	printf("reason:   %s", mp_snap_reason_name(m->reason));
	if (m->reason == MP_REASON_FATAL_SIGNAL && m->label[0]) {
		fputs(" (killed by ", stdout);
		mp_put_sanitized(m->label, strlen(m->label));
		putchar(')');
	}
	if (m->seq)
		printf(" (snapshot %" PRIu32 " of this process)", m->seq + 1);
	putchar('\n');
	if (localtime_r(&when, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		printf("date:     %s\n", buf);
	if (m->label[0] && m->reason != MP_REASON_FATAL_SIGNAL) {
		fputs("label:    ", stdout);
		mp_put_sanitized(m->label, strlen(m->label));
		putchar('\n');
	}
}

static void print_summary(const mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	const mp_snap_totals_t *t = &s->totals;
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES];
	/* Only a snapshot taken as the process ends shows what it leaked "at exit". */
	bool at_exit = s->meta.reason == MP_REASON_EXIT || s->meta.reason == MP_REASON_UNDERSCORE_EXIT ||
		       s->meta.reason == MP_REASON_FATAL_SIGNAL;

	mp_title(r, "HEAP SUMMARY");
	printf("    in use at %s: %s bytes in %s blocks\n", at_exit ? "exit" : "snapshot",
	       mp_fmt_u64(t->live_bytes, a), mp_fmt_u64(t->live_blocks, b));
	printf("  total heap usage: %s allocs, %s frees, %s bytes allocated\n",
	       mp_fmt_u64(t->allocs, a), mp_fmt_u64(t->frees, b), mp_fmt_u64(t->bytes_allocated, c));
	printf("\nallocs=%" PRIu64 " frees=%" PRIu64 " peak=%" PRIu64 "\n", t->allocs, t->frees,
	       t->peak_bytes);
	if (t->untracked_frees)
		printf("warning: %s frees of blocks allocated before profiling started or never seen\n",
		       mp_fmt_u64(t->untracked_frees, a));
	if (t->lost_allocs)
		printf("warning: %s allocations were recorded without a stack trace\n",
		       mp_fmt_u64(t->lost_allocs, a));
}

static int by_live_bytes(const void *pa, const void *pb)
{
	const mp_snap_trace_t *a = *(const mp_snap_trace_t *const *)pa;
	const mp_snap_trace_t *b = *(const mp_snap_trace_t *const *)pb;
	uint64_t x = mp_trace_live_bytes(a), y = mp_trace_live_bytes(b);

	if (x != y)
		return x > y ? -1 : 1;
	x = mp_trace_live_blocks(a);
	y = mp_trace_live_blocks(b);
	if (x != y)
		return x > y ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static int by_allocs(const void *pa, const void *pb)
{
	const mp_snap_trace_t *a = *(const mp_snap_trace_t *const *)pa;
	const mp_snap_trace_t *b = *(const mp_snap_trace_t *const *)pb;

	if (a->allocs != b->allocs)
		return a->allocs > b->allocs ? -1 : 1;
	if (a->bytes_allocated != b->bytes_allocated)
		return a->bytes_allocated > b->bytes_allocated ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static int by_bytes_allocated(const void *pa, const void *pb)
{
	const mp_snap_trace_t *a = *(const mp_snap_trace_t *const *)pa;
	const mp_snap_trace_t *b = *(const mp_snap_trace_t *const *)pb;

	if (a->bytes_allocated != b->bytes_allocated)
		return a->bytes_allocated > b->bytes_allocated ? -1 : 1;
	return by_allocs(pa, pb);
}

static bool has_live_blocks(const mp_snap_trace_t *t) { return mp_trace_live_blocks(t) != 0; }
static bool has_allocs(const mp_snap_trace_t *t) { return t->allocs != 0; }
/* Short-lived: allocated more than once and every block already freed. */
static bool is_temporary(const mp_snap_trace_t *t) { return t->allocs >= 2 && t->frees == t->allocs; }

const mp_site_table_t mp_site_tables[4] = {
	{ MP_SORT_LIVE, "live", "TOP SITES BY LIVE BYTES", has_live_blocks, by_live_bytes },
	{ MP_SORT_ALLOCS, "allocs", "TOP SITES BY NUMBER OF ALLOCATIONS", has_allocs, by_allocs },
	{ MP_SORT_BYTES, "bytes", "TOP SITES BY BYTES ALLOCATED", has_allocs, by_bytes_allocated },
	{ MP_SORT_TEMPORARY, "temporary", "TOP TEMPORARY SITES (ALL BLOCKS FREED)", is_temporary, by_allocs },
};

size_t mp_report_rank(mp_report_t *r, const mp_site_table_t *t)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_kept; i++)
		if (t->includes(r->kept[i]))
			r->ranked[n++] = r->kept[i];
	qsort(r->ranked, n, sizeof(*r->ranked), t->compare);
	return n;
}

void mp_print_frames(mp_report_t *r, const mp_snap_trace_t *t)
{
	char frame[1024];
	uint32_t shown = t->n_frames < r->frames ? t->n_frames : (uint32_t)r->frames;

	if (t->n_frames == 0)
		printf("    (no stack trace)\n");
	for (uint32_t i = 0; i < shown; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		/* One line per function: inlined calls first, then the function they are in. */
		for (uint32_t j = 0; j < f->n_lines; j++) {
			mp_frame_format(r->snap, f, j, frame, sizeof(frame));
			printf("    at 0x%" PRIx64 ": ", t->frames[i]);
			mp_put_sanitized(frame, strlen(frame));
			putchar('\n');
		}
	}
	if (shown < t->n_frames)
		printf("    ... %" PRIu32 " more frame%s (--frames)\n", t->n_frames - shown,
		       t->n_frames - shown == 1 ? "" : "s");
}

static void print_site(mp_report_t *r, size_t rank, const mp_snap_trace_t *t)
{
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES], d[MP_FMT_U64_BYTES];

	printf("#%zu live %s bytes in %s blocks, %s allocs (%s bytes) total\n", rank,
	       mp_fmt_u64(mp_trace_live_bytes(t), a), mp_fmt_u64(mp_trace_live_blocks(t), b),
	       mp_fmt_u64(t->allocs, c), mp_fmt_u64(t->bytes_allocated, d));
	mp_print_frames(r, t);
}

/* Prints the r->top first sites of table `t`. */
static void print_sites(mp_report_t *r, const mp_site_table_t *t)
{
	size_t n = mp_report_rank(r, t);
	size_t shown = n < r->top ? n : (size_t)r->top;

	mp_title(r, t->title);
	if (n == 0)
		printf("    (none)\n");
	for (size_t i = 0; i < shown; i++) {
		if (i)
			putchar('\n');
		print_site(r, i + 1, r->ranked[i]);
	}
	if (shown < n)
		printf("\n... %zu more site%s (--top)\n", n - shown, n - shown == 1 ? "" : "s");
}

bool mp_report_keeps(const mp_report_t *r, const mp_snap_trace_t *t)
{
	size_t lo = 0, hi = r->n_kept;

	/* kept is in the snapshot's order of traces, which is by id. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->kept[mid]->id == t->id)
			return r->kept[mid] == t;
		if (r->kept[mid]->id < t->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool contains(const char *s, const char *pattern) { return s && strstr(s, pattern); }

/* Whether any frame of t names the filter pattern in its function, file or module path. */
static bool matches_filter(mp_report_t *r, const mp_snap_trace_t *t)
{
	for (uint32_t i = 0; i < t->n_frames; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		if (f->module && contains(mp_module_path(r->snap, f->module), r->filter))
			return true;
		for (uint32_t j = 0; j < f->n_lines; j++)
			if (contains(f->lines[j].function, r->filter) || contains(f->lines[j].file, r->filter))
				return true;
	}
	return false;
}

static void print_text(mp_report_t *r)
{
	print_header(r->path, r->snap);
	print_summary(r);
	mp_print_loss_records(r);
	mp_print_leak_summary(r);
	if (r->filter) {
		printf("\nsites whose stack contains '");
		mp_put_sanitized(r->filter, strlen(r->filter));
		printf("': %zu of %zu\n", r->n_kept, r->snap->n_traces);
	}
	for (size_t i = 0; i < sizeof(mp_site_tables) / sizeof(mp_site_tables[0]); i++)
		if (r->sort == MP_SORT_ALL || r->sort == mp_site_tables[i].sort)
			print_sites(r, &mp_site_tables[i]);
	if (r->sort == MP_SORT_ALL || r->sort == MP_SORT_PEAK)
		mp_print_peak_sites(r);
	mp_print_live_chart(r);
	mp_print_timeline_chart(r);
	mp_print_size_histogram(r);
}

int mp_report_snapshot(mp_report_t *r, const mp_snapshot_t *snap, bool json, bool symbols)
{
	size_t n_traces = snap->n_traces ? snap->n_traces : 1;
	int rc;

	r->snap = snap;
	r->kept = malloc(n_traces * sizeof(*r->kept));
	r->ranked = malloc(n_traces * sizeof(*r->ranked));
	r->sym = mp_symbolizer_new(snap, symbols);
	if (!r->kept || !r->ranked || !r->sym) {
		mp_error("%s: out of memory", r->path);
		rc = MP_EXIT_USAGE;
		goto out;
	}
	r->n_kept = 0;
	for (size_t i = 0; i < snap->n_traces; i++)
		if (!r->filter || matches_filter(r, &snap->traces[i]))
			r->kept[r->n_kept++] = &snap->traces[i];
	if (mp_leak_records_build(r) < 0) {
		mp_error("%s: out of memory", r->path);
		rc = MP_EXIT_USAGE;
		goto out;
	}
	if (json)
		mp_print_json(r);
	else
		print_text(r);
	rc = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mp_error("cannot write the report: %m");
		rc = 1;
	}
out:
	mp_leak_records_free(r);
	mp_symbolizer_free(r->sym);
	free(r->kept);
	free(r->ranked);
	r->sym = NULL;
	r->kept = r->ranked = NULL;
	return rc;
}

/* --since OLD: a leak check of the same process (same pid and start time) taken before. */
static int check_since(const char *old_path, const mp_snapshot_t *old, const char *path,
		       const mp_snapshot_t *now)
{
	if (!old->has_leaks || !now->has_leaks) {
		const mp_snapshot_t *s = !old->has_leaks ? old : now;

		mp_error("report: --since compares two leak checks, and %s %s", s == old ? old_path : path,
			 s->leaks_flags & MP_LEAKS_UNDECIDED ? "holds a scan that gave no verdict" : "has no leak scan");
		return -1;
	}
	if (old->meta.pid != now->meta.pid || old->meta.start_realtime_ns != now->meta.start_realtime_ns) {
		mp_error("report: --since wants an earlier snapshot of the same process: %s is of pid %u, "
			 "%s of pid %u started at another time", old_path, old->meta.pid, path, now->meta.pid);
		return -1;
	}
	if (old->meta.run_time_ns > now->meta.run_time_ns) {
		mp_error("report: --since wants the earlier snapshot first: %s was taken after %s", old_path, path);
		return -1;
	}
	return 0;
}

static int report(mp_report_t *r, bool json, bool symbols, const char *since_path)
{
	mp_snapshot_t snap, old = { 0 };
	char err[512];
	int rc = mp_snapshot_read(r->path, &snap, err, sizeof(err));

	if (rc < 0) {
		mp_error("%s", err);
		return MP_EXIT_USAGE;
	}
	if (since_path) {
		if (mp_snapshot_read(since_path, &old, err, sizeof(err)) < 0) {
			mp_error("%s", err);
			mp_snapshot_free(&snap);
			return MP_EXIT_USAGE;
		}
		if (check_since(since_path, &old, r->path, &snap) < 0) {
			mp_snapshot_free(&old);
			mp_snapshot_free(&snap);
			return MP_EXIT_USAGE;
		}
		r->since = &old;
	}
	rc = mp_report_snapshot(r, &snap, json, symbols);
	r->since = NULL;
	mp_snapshot_free(&old);
	mp_snapshot_free(&snap);
	return rc;
}

int mp_report_file(const char *path, bool color)
{
	mp_report_t r = {
		.path = path,
		.top = DEFAULT_TOP,
		.frames = DEFAULT_FRAMES,
		.sort = MP_SORT_ALL,
		.color = color,
		.show_leak_kinds = MP_LEAK_KINDS_DEFAULT,
	};

	return report(&r, false, true, NULL);
}

int mp_cmd_report(int argc, char **argv)
{
	enum {
		OPT_TOP = 256, OPT_FRAMES, OPT_SORT, OPT_FILTER, OPT_NO_SYMBOLS, OPT_NO_COLOR, OPT_FORMAT,
		OPT_SHOW_LEAK_KINDS, OPT_SUPPRESSIONS, OPT_GEN_SUPPRESSIONS, OPT_SINCE,
	};
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, OPT_TOP },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "show-leak-kinds", required_argument, NULL, OPT_SHOW_LEAK_KINDS },
		{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
		{ "gen-suppressions", no_argument, NULL, OPT_GEN_SUPPRESSIONS },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *since_path = NULL;
	mp_report_t r = {
		.top = DEFAULT_TOP,
		.frames = DEFAULT_FRAMES,
		.sort = MP_SORT_ALL,
		.show_leak_kinds = MP_LEAK_KINDS_DEFAULT,
	};
	mp_supp_set_t supps = { 0 };
	const char **supp_paths = calloc((size_t)argc + 1, sizeof(*supp_paths));
	size_t n_supp_paths = 0;
	bool json = false, symbols = true, color = true;
	char err[512];
	int c, rc;

	if (!supp_paths) {
		mp_error("report: out of memory");
		return MP_EXIT_USAGE;
	}

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TOP:
			if (mp_parse_uint(optarg, 1, 1000000, &r.top) < 0) {
				mp_error("report: --top wants a number from 1 to 1000000, not '%s'", optarg);
				rc = MP_EXIT_USAGE;
				goto done;
			}
			break;
		case OPT_FRAMES:
			if (mp_parse_uint(optarg, 0, MP_SNAP_MAX_FRAMES, &r.frames) < 0) {
				mp_error("report: --frames wants a number from 0 to %u, not '%s'",
					 MP_SNAP_MAX_FRAMES, optarg);
				rc = MP_EXIT_USAGE;
				goto done;
			}
			break;
		case OPT_SORT:
			r.sort = strcmp(optarg, "peak") == 0 ? MP_SORT_PEAK : MP_SORT_ALL;
			for (size_t i = 0; i < sizeof(mp_site_tables) / sizeof(mp_site_tables[0]); i++)
				if (strcmp(optarg, mp_site_tables[i].key) == 0)
					r.sort = mp_site_tables[i].sort;
			if (r.sort == MP_SORT_ALL) {
				mp_error("report: --sort wants live, allocs, bytes, temporary or peak, not '%s'", optarg);
				rc = MP_EXIT_USAGE;
				goto done;
			}
			break;
		case OPT_FILTER:
			if (!optarg[0]) {
				mp_error("report: --filter wants a non-empty pattern");
				rc = MP_EXIT_USAGE;
				goto done;
			}
			r.filter = optarg;
			break;
		case OPT_NO_SYMBOLS:
			symbols = false;
			break;
		case OPT_NO_COLOR:
			color = false;
			break;
		case OPT_SHOW_LEAK_KINDS:
			if (mp_parse_leak_kinds(optarg, &r.show_leak_kinds) < 0) {
				mp_error("report: --show-leak-kinds wants definite, indirect, possible, reachable "
					 "(comma-separated), all or none, not '%s'", optarg);
				rc = MP_EXIT_USAGE;
				goto done;
			}
			break;
		case OPT_SUPPRESSIONS:
			supp_paths[n_supp_paths++] = optarg;
			break;
		case OPT_GEN_SUPPRESSIONS:
			r.gen_suppressions = true;
			break;
		case OPT_SINCE:
			since_path = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				mp_error("report: --format wants text or json, not '%s'", optarg);
				rc = MP_EXIT_USAGE;
				goto done;
			}
			json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			fputs(mp_report_help, stdout);
			rc = 0;
			goto done;
		default:
			rc = mp_bad_option("report", c, argv);
			goto done;
		}
	}
	if (argc - optind != 1) {
		mp_error("report: %s (usage: memprof report [OPTIONS] SNAPSHOT)",
			 argc == optind ? "no snapshot given" : "give exactly one snapshot");
		rc = MP_EXIT_USAGE;
		goto done;
	}
	r.path = argv[optind];
	/* Bold titles only for a person at a terminal; NO_COLOR (no-color.org) turns them off too. */
	r.color = color && !json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	for (size_t i = 0; i < n_supp_paths; i++)
		if (mp_supp_load(&supps, supp_paths[i], err, sizeof(err)) < 0) {
			mp_error("%s", err);
			rc = MP_EXIT_USAGE;
			goto done;
		}
	r.supps = &supps;
	if (since_path && json) {
		mp_error("report: --since prints text only (its deltas are memcheck's)");
		rc = MP_EXIT_USAGE;
		goto done;
	}
	rc = report(&r, json, symbols, since_path);
done:
	mp_supp_free(&supps);
	free(supp_paths);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/* Prints one snapshot's report: the header, heap summary, loss records and top allocation
 * sites as text, in their order, or the JSON document; reads the snapshots it is given. */
#include "report_body.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "numfmt.h"
#include "report_chart.h"
#include "report_json.h"
#include "report_leaks.h"
#include "report_table.h"
#include "report_time.h"
#include "sites.h"
#include "snapshot_format.h"
#include "snapshot_read.h"
#include "symbolize.h"
#include "text_out.h"

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

static void print_text(mp_report_t *r)
{
	print_header(r->path, r->snap);
	print_summary(r);
	mp_print_loss_records(r);
	mp_print_leak_summary(r);
	if (r->sort == MP_SORT_LEAKS) {
		if (!r->snap->has_leaks && !(r->snap->leaks_flags & MP_LEAKS_UNDECIDED)) {
			mp_title(r, "LEAK SUMMARY");
			puts("   no leak check: this snapshot was written without one");
		}
		return;
	}
	if (r->filter) {
		printf("\nsites whose stack contains '");
		mp_put_sanitized(r->filter, strlen(r->filter));
		printf("': %zu of %zu\n", r->n_kept, r->snap->n_traces);
	}
	if (r->sort == MP_SORT_ALL && r->top)
		mp_print_site_table(r);
	for (size_t i = 0; i < sizeof(mp_site_tables) / sizeof(mp_site_tables[0]) && r->top; i++)
		if (r->sort == mp_site_tables[i].sort)
			print_sites(r, &mp_site_tables[i]);
	if (r->sort == MP_SORT_PEAK && r->top)
		mp_print_peak_sites(r);
	if (r->top) /* --top 0: no sites, in a list or a chart */
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
	mp_report_keep_sites(r);
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

int mp_report_path(mp_report_t *r, bool json, bool symbols, const char *since_path)
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

int mp_report_file(const char *path, bool color, uint32_t show_leak_kinds, bool leaks_only)
{
	mp_report_t r = {
		.path = path,
		.top = MP_REPORT_DEFAULT_TOP,
		.frames = MP_REPORT_DEFAULT_FRAMES,
		.sort = leaks_only ? MP_SORT_LEAKS : MP_SORT_ALL,
		.color = color,
		.show_leak_kinds = show_leak_kinds,
		.width = mp_output_width(),
	};

	return mp_report_path(&r, false, true, NULL);
}

/* SPDX-License-Identifier: MIT */
/* memprof report: the header, heap summary and top allocation sites of one snapshot. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "numfmt.h"
#include "snapshot_format.h"
#include "snapshot_read.h"
#include "symbolize.h"

#define DEFAULT_TOP 10
#define DEFAULT_FRAMES 12

const char mp_report_help[] =
	"Usage: memprof report [OPTIONS] SNAPSHOT\n"
	"Print the heap summary of SNAPSHOT (a file written by libmemprof.so) and its top\n"
	"allocation sites, by live bytes and by number of allocations.\n"
	"\n"
	"Options:\n"
	"  --top N        show the N biggest sites of each list (default 10)\n"
	"  --frames N     show at most N frames of each site's stack (default 12)\n"
	"  -h, --help     show this help and exit\n"
	"\n"
	"Exit status: 0, or 2 on a usage error or an unreadable snapshot.\n";

struct report_options {
	uint64_t top;
	uint64_t frames;
	mp_symbolize_fn *symbolize;
};

/* Writes bytes from the snapshot with control characters replaced, so that a crafted
 * file cannot drive the terminal. */
static void put_sanitized(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		putchar(ch < 0x20 || ch == 0x7f ? '?' : ch);
	}
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
static void print_cmdline(const mp_snap_meta_t *m)
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
					put_sanitized(arg + i, 1);
			}
			putchar('\'');
		} else {
			put_sanitized(arg, len);
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
	put_sanitized(path, strlen(path));
	fputs("\nprogram:  ", stdout);
	put_sanitized(m->exe, strlen(m->exe));
	fputs("\ncommand:  ", stdout);
	print_cmdline(m);
	printf("\npid:      %" PRIu32, m->pid);
	if (m->flags & MP_META_FORK_CHILD)
		printf(" (fork child of %" PRIu32 ")", m->ppid);
	else
		printf(" (parent %" PRIu32 ")", m->ppid);
	printf("\nrun time: %s\n", mp_fmt_duration(m->run_time_ns, buf, sizeof(buf)));
	printf("reason:   %s", mp_snap_reason_name(m->reason));
	if (m->seq)
		printf(" (snapshot %" PRIu32 " of this process)", m->seq + 1);
	putchar('\n');
	if (localtime_r(&when, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		printf("date:     %s\n", buf);
	if (m->label[0]) {
		fputs("label:    ", stdout);
		put_sanitized(m->label, strlen(m->label));
		putchar('\n');
	}
}

static void print_summary(const mp_snapshot_t *s)
{
	const mp_snap_totals_t *t = &s->totals;
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES];
	/* Only a snapshot taken as the process ends shows what it leaked "at exit". */
	bool at_exit = s->meta.reason == MP_REASON_EXIT || s->meta.reason == MP_REASON_UNDERSCORE_EXIT ||
		       s->meta.reason == MP_REASON_SIGNAL;

	printf("\nHEAP SUMMARY:\n");
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

static void print_site(const mp_snapshot_t *s, const struct report_options *o, size_t rank,
		       const mp_snap_trace_t *t)
{
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES], d[MP_FMT_U64_BYTES];
	char frame[512];
	uint32_t shown = t->n_frames < o->frames ? t->n_frames : (uint32_t)o->frames;

	printf("#%zu live %s bytes in %s blocks, %s allocs (%s bytes) total\n", rank,
	       mp_fmt_u64(mp_trace_live_bytes(t), a), mp_fmt_u64(mp_trace_live_blocks(t), b),
	       mp_fmt_u64(t->allocs, c), mp_fmt_u64(t->bytes_allocated, d));
	if (t->n_frames == 0)
		printf("    (no stack trace)\n");
	for (uint32_t i = 0; i < shown; i++) {
		o->symbolize(s, t->frames[i], frame, sizeof(frame));
		printf("    at 0x%" PRIx64 ": ", t->frames[i]);
		put_sanitized(frame, strlen(frame));
		putchar('\n');
	}
	if (shown < t->n_frames)
		printf("    ... %" PRIu32 " more frame%s (--frames)\n", t->n_frames - shown,
		       t->n_frames - shown == 1 ? "" : "s");
}

/* Prints the o->top first sites of `sites` (n of them) after sorting with `compare`. */
static void print_sites(const mp_snapshot_t *s, const struct report_options *o, const char *title,
			const mp_snap_trace_t **sites, size_t n, int (*compare)(const void *, const void *))
{
	size_t shown = n < o->top ? n : (size_t)o->top;

	qsort(sites, n, sizeof(*sites), compare);
	printf("\n%s:\n", title);
	if (n == 0)
		printf("    (none)\n");
	for (size_t i = 0; i < shown; i++) {
		if (i)
			putchar('\n');
		print_site(s, o, i + 1, sites[i]);
	}
	if (shown < n)
		printf("\n... %zu more site%s (--top)\n", n - shown, n - shown == 1 ? "" : "s");
}

static int report(const char *path, const struct report_options *o)
{
	mp_snapshot_t snap;
	char err[512];
	const mp_snap_trace_t **sites;
	size_t n;
	int rc = mp_snapshot_read(path, &snap, err, sizeof(err));

	if (rc < 0) {
		mp_error("%s", err);
		return MP_EXIT_USAGE;
	}
	sites = malloc((snap.n_traces ? snap.n_traces : 1) * sizeof(*sites));
	if (!sites) {
		mp_error("%s: out of memory", path);
		mp_snapshot_free(&snap);
		return MP_EXIT_USAGE;
	}
	print_header(path, &snap);
	print_summary(&snap);

	n = 0;
	for (size_t i = 0; i < snap.n_traces; i++)
		if (mp_trace_live_blocks(&snap.traces[i]))
			sites[n++] = &snap.traces[i];
	print_sites(&snap, o, "TOP SITES BY LIVE BYTES", sites, n, by_live_bytes);

	n = 0;
	for (size_t i = 0; i < snap.n_traces; i++)
		if (snap.traces[i].allocs)
			sites[n++] = &snap.traces[i];
	print_sites(&snap, o, "TOP SITES BY NUMBER OF ALLOCATIONS", sites, n, by_allocs);

	free(sites);
	mp_snapshot_free(&snap);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mp_error("cannot write the report: %m");
		return 1;
	}
	return 0;
}

int mp_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 't' },
		{ "frames", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_options o = {
		.top = DEFAULT_TOP,
		.frames = DEFAULT_FRAMES,
		.symbolize = mp_symbolize_module_offset,
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (mp_parse_uint(optarg, 1, 1000000, &o.top) < 0) {
				mp_error("report: --top wants a number from 1 to 1000000, not '%s'", optarg);
				return MP_EXIT_USAGE;
			}
			break;
		case 'f':
			if (mp_parse_uint(optarg, 0, MP_SNAP_MAX_FRAMES, &o.frames) < 0) {
				mp_error("report: --frames wants a number from 0 to %u, not '%s'",
					 MP_SNAP_MAX_FRAMES, optarg);
				return MP_EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(mp_report_help, stdout);
			return 0;
		default:
			return mp_bad_option("report", c, argv);
		}
	}
	if (argc - optind != 1) {
		mp_error("report: %s (usage: memprof report [OPTIONS] SNAPSHOT)",
			 argc == optind ? "no snapshot given" : "give exactly one snapshot");
		return MP_EXIT_USAGE;
	}
	return report(argv[optind], &o);
}

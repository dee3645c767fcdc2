/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the snapshot reader and the report printers: `make fuzz` runs it for
 * long, tests/torture/test-fuzz-snapshot-reader-short.sh for about 25 seconds.
 *
 * An input that starts with the gzip magic (1f 8b) is a snapshot file and is read as is. Any
 * other input is an uncompressed snapshot stream: it is gzip-compressed here first, so that
 * mutations reach the section parsers instead of dying in zlib's CRC check. Both kinds go
 * through mp_snapshot_read_mem(), i.e. the memfd and gzdopen() path `memprof report` uses.
 * A snapshot that reads is then printed as text (default options, then one list with a filter
 * and tiny limits) and as JSON, all with symbolization off and stdout sent to /dev/null, with
 * every loss record listed, a suppression generated for each, and a memcheck and an LSan
 * suppression that match some of them; and its sites are matched against themselves as
 * memprof diff does, and its module index checked against a search of every module.
 * memprof export (folded, massif), check (text, JSON, JUnit, against
 * itself as baseline) and diff (of the input with itself) then run on the input as a file,
 * and memprof trend's analysis on three copies of it with grown traces.
 *
 * The seeds in tests/fuzz-corpus/ are every case of tests/progs/mksnap.c, gzip'd (CASE.gz), plus
 * the valid one uncompressed (valid.raw):
 *   for c in $(build/tests/mksnap list); do build/tests/mksnap $c | gzip -9n >tests/fuzz-corpus/$c.gz; done
 * (then git add -f: the top .gitignore ignores *.gz). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "cli.h"
#include "compare.h"
#include "report.h"
#include "site_match.h"
#include "snapshot_read.h"
#include "symbolize.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void load_suppressions(void);

/* The input as a file for the commands that take paths (export, check, diff): a memfd,
 * opened through /proc/self/fd. */
static int input_fd = -1;
static char input_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!freopen("/dev/null", "w", stdout)) {
		perror("fuzz-snapshot-reader: /dev/null");
		exit(1);
	}
	load_suppressions();
	input_fd = memfd_create("fuzz-input", 0);
	if (input_fd < 0) {
		perror("fuzz-snapshot-reader: memfd_create");
		exit(1);
	}
	snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
	return 0;
}

/* A gzip member holding the n bytes at data, in a malloc'd buffer; NULL if zlib fails. */
static uint8_t *gzip_bytes(const uint8_t *data, size_t n, size_t *out_bytes)
{
	z_stream z = { 0 };
	size_t cap;
	uint8_t *out;

	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, n) + 64;
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_bytes = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* Suppressions of both formats for the loss records of the reports below. */
static mp_supp_set_t supps;

static void load_suppressions(void)
{
	static const char memcheck[] = "{\n reachable-in-leaky\n Memcheck:Leak\n"
				       " match-leak-kinds: reachable\n fun:malloc\n obj:*leaky\n ...\n}\n";
	static const char lsan[] = "leak:libc.so\n";
	char err[256];

	if (mp_supp_parse(&supps, "memcheck.supp", memcheck, sizeof(memcheck) - 1, err, sizeof(err)) < 0 ||
	    mp_supp_parse(&supps, "lsan.supp", lsan, sizeof(lsan) - 1, err, sizeof(err)) < 0)
		abort();
}

static void print_report(const mp_snapshot_t *snap, bool json, enum mp_sort sort, const char *filter,
			 uint64_t top, uint64_t frames)
{
	mp_report_t r = {
		.path = "fuzz.gz", .top = top, .frames = frames, .sort = sort, .filter = filter,
		/* Every loss record listed, with its suppression, some matched by one. */
		.show_leak_kinds = MP_LEAK_KINDS_ALL, .gen_suppressions = true, .supps = &supps,
	};

	/* A suppression's counts are per report. */
	for (size_t i = 0; i < supps.n_supps; i++)
		supps.supps[i].n_records = supps.supps[i].bytes = supps.supps[i].blocks = 0;
	mp_report_snapshot(&r, snap, json, false);
}

/* The site matching of memprof diff and trend, of the snapshot with itself: every site must
 * match its own copy. */
static void match_sites(const mp_snapshot_t *snap)
{
	mp_snapshot_t two[2] = { *snap, *snap };
	mp_site_set_t set;

	if (mp_site_set_build(&set, two, 2) < 0)
		return;
	for (size_t i = 0; i < set.n_sites; i++)
		if (set.sites[i]->n_present != 2 || set.sites[i]->live_bytes[0] != set.sites[i]->live_bytes[1])
			abort();
	mp_site_set_free(&set);
}

/* The reader's module index finds what a search of every module finds, for every module
 * boundary, the addresses next to them and every frame. */
static void check_module_index(const mp_snapshot_t *snap)
{
	mp_snapshot_t linear = *snap;

	linear.module_bounds = NULL;
	for (size_t i = 0; i < snap->n_modules; i++) {
		uint64_t at[] = { snap->modules[i].start, snap->modules[i].start - 1, snap->modules[i].end,
				  snap->modules[i].end - 1 };

		for (size_t k = 0; k < 4; k++)
			if (mp_find_module(snap, at[k]) != mp_find_module(&linear, at[k]))
				abort();
	}
	for (size_t i = 0; i < snap->n_traces; i++)
		for (uint32_t f = 0; f < snap->traces[i].n_frames; f++)
			if (mp_find_module(snap, snap->traces[i].frames[f]) !=
			    mp_find_module(&linear, snap->traces[i].frames[f]))
				abort();
}

/* memprof trend of three copies of the snapshot, 1 s apart, each trace's live bytes grown
 * by a different amount per copy (saturated where it would not fit). */
static void trend_of_copies(const mp_snapshot_t *snap)
{
	mp_snapshot_t snaps[3];
	mp_report_t reports[3] = { { 0 } };
	char *paths[3] = { "a.gz", "b.gz", "c.gz" };
	mp_snap_trace_t *traces[3] = { NULL, NULL, NULL };
	mp_compare_t c = { .cmd = "trend", .top = 3, .frames = 4, .n_snaps = 3, .paths = paths,
			   .snaps = snaps, .reports = reports };

	for (size_t k = 0; k < 3; k++) {
		snaps[k] = *snap;
		snaps[k].meta.run_time_ns = snap->meta.run_time_ns / 4 + k * 1000000000ull;
		traces[k] = malloc((snap->n_traces ? snap->n_traces : 1) * sizeof(*traces[k]));
		if (!traces[k])
			goto out;
		for (size_t i = 0; i < snap->n_traces; i++) {
			mp_snap_trace_t *t = &traces[k][i];
			uint64_t add = (i % 3 == k ? 1 : k) * (snap->traces[i].allocs + 1) * 16;

			*t = snap->traces[i];
			t->bytes_allocated = t->bytes_allocated > UINT64_MAX - add ? UINT64_MAX : t->bytes_allocated + add;
		}
		snaps[k].traces = traces[k];
		reports[k] = (mp_report_t){ .path = paths[k], .snap = &snaps[k], .top = 3, .frames = 4,
					    .sort = MP_SORT_ALL };
	}
	c.json = false;
	mp_trend_series(&c);
	c.json = true;
	mp_trend_series(&c);
out:
	for (size_t k = 0; k < 3; k++) {
		mp_symbolizer_free(reports[k].sym);
		free(traces[k]);
	}
}

/* The commands that take snapshot paths, on the input as a file; symbolization off. */
static void run_commands(const uint8_t *data, size_t n, const mp_snapshot_t *snap)
{
	char *p = input_path;
	char *fail_on = snap->has_leaks ? "all" : "none";

	if (ftruncate(input_fd, 0) < 0 || pwrite(input_fd, data, n, 0) != (ssize_t)n)
		abort();
#define RUN(cmd, ...)                                                     \
	do {                                                              \
		char *argv[] = { __VA_ARGS__, NULL };                     \
		cmd((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);     \
	} while (0)
	RUN(mp_cmd_export, "export", "--format", "folded", "--no-symbols", p);
	RUN(mp_cmd_export, "export", "--format", "massif", "--no-symbols", p);
	if (snap->has_leaks)
		RUN(mp_cmd_export, "export", "--format", "folded", "--value", "leaked", "--no-symbols", p);
	RUN(mp_cmd_check, "check", "--no-symbols", "--fail-on", fail_on, "--max-peak", "1K",
	    "--max-in-use", "1", "--baseline", p, "--max-growth", "0", p);
	RUN(mp_cmd_check, "check", "--no-symbols", "--format", "json", "--fail-on", fail_on,
	    "--max-leaked", "1", p);
	RUN(mp_cmd_check, "check", "--no-symbols", "--format", "junit", "--fail-on", fail_on,
	    "--max-peak", "1", p);
	RUN(mp_cmd_diff, "diff", "--no-symbols", "--top", "3", p, p);
	RUN(mp_cmd_diff, "diff", "--no-symbols", "--format", "json", p, p);
#undef RUN
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *packed = NULL;
	mp_snapshot_t snap;
	char err[512];
	size_t n = size;

	if (size > 1 << 20)
		return 0; /* not worth the time */
	if (!(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
		packed = gzip_bytes(data, size, &n);
		if (!packed)
			return 0;
		data = packed;
	}
	if (mp_snapshot_read_mem(data, n, "fuzz.gz", &snap, err, sizeof(err)) == 0) {
		print_report(&snap, false, MP_SORT_ALL, NULL, 10, 12);
		print_report(&snap, false, MP_SORT_TEMPORARY, "lib", 1, 1);
		print_report(&snap, true, MP_SORT_ALL, NULL, 3, 4);
		match_sites(&snap);
		check_module_index(&snap);
		trend_of_copies(&snap);
		run_commands(data, n, &snap);
		mp_snapshot_free(&snap);
	} else if (!memchr(err, '\0', sizeof(err)) || !strstr(err, "fuzz.gz")) {
		abort(); /* every failure leaves a message naming the input */
	}
	free(packed);
	return 0;
}

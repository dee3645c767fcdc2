/* SPDX-License-Identifier: MIT */
/* What the parts of memprof report share: options, the site tables, charts and JSON output. */
#ifndef MEMPROF_REPORT_H
#define MEMPROF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot_format.h"
#include "snapshot_read.h"
#include "suppress.h"
#include "symbolize.h"

/* MP_SORT_PEAK is the list of sites at the peak (report_time.c), not a table of traces. */
enum mp_sort { MP_SORT_ALL, MP_SORT_LIVE, MP_SORT_ALLOCS, MP_SORT_BYTES, MP_SORT_TEMPORARY, MP_SORT_PEAK };

/* One ranking of allocation sites: which sites it includes and in which order. */
typedef struct mp_site_table {
	enum mp_sort sort;
	const char *key;   /* --sort value and JSON name: "live", "allocs", ... */
	const char *title; /* "TOP SITES BY LIVE BYTES" */
	bool (*includes)(const mp_snap_trace_t *t);
	int (*compare)(const void *a, const void *b); /* on const mp_snap_trace_t ** */
} mp_site_table_t;

extern const mp_site_table_t mp_site_tables[4];

/* One loss record of the LEAKS section with what the report decided about it. */
typedef struct mp_loss_record {
	const mp_snap_leak_t *leak;
	const mp_snap_trace_t *trace;
	size_t number;            /* 1..n_records, in memcheck's order (by total bytes) */
	mp_supp_t *suppressed_by; /* the first suppression that matches it, or NULL */
	bool listed;              /* its kind is shown (--show-leak-kinds), its site kept (--filter) */
	const mp_snap_leak_t *old; /* with --since: the same trace and kind in the earlier check */
} mp_loss_record_t;

typedef struct mp_report {
	const char *path;
	const mp_snapshot_t *snap;
	mp_symbolizer_t *sym;
	uint64_t top, frames;
	enum mp_sort sort;
	const char *filter; /* NULL: every site */
	bool color;
	uint32_t show_leak_kinds; /* MP_LEAK_KIND_BIT()s: the kinds whose loss records are listed */
	bool gen_suppressions;    /* a memcheck suppression after each loss record listed */
	mp_supp_set_t *supps;     /* --suppressions; NULL: none */
	/* --since: an earlier leak check of the same process. Only the loss records that are new
	 * or grew since are listed, with memcheck's "(+N)" deltas (its leak_check increased). */
	const mp_snapshot_t *since;
	/* The loss records but MP_LEAK_INTERNAL ones, in memcheck's order. */
	mp_loss_record_t *records;
	size_t n_records;
	/* The traces that pass the filter, and room for one ranking of them. */
	const mp_snap_trace_t **kept, **ranked;
	size_t n_kept;
} mp_report_t;

/* Prints the report of `snap` on stdout as r's options (path, top, frames, sort, filter,
 * color) say, symbolized or not; r's site arrays and symbolizer are its own. Returns 0,
 * 1 if stdout could not be written, or MP_EXIT_USAGE when out of memory. */
int mp_report_snapshot(mp_report_t *r, const mp_snapshot_t *snap, bool json, bool symbols);

/* Fills r->ranked with the kept sites table `t` includes, sorted; returns how many. */
size_t mp_report_rank(mp_report_t *r, const mp_site_table_t *t);

/* A short name for a site: the function (or module+offset) of its innermost frame outside
 * the C and C++ runtime libraries and the loader, or of frame 0 when all are there. */
void mp_site_name(mp_report_t *r, const mp_snap_trace_t *t, char *buf, size_t buf_bytes);

/* Prints the first r->frames frames of t, one line per function ("    at 0x...: main
 * (prog.c:12)"), then how many more there are; "(no stack trace)" for none. */
void mp_print_frames(mp_report_t *r, const mp_snap_trace_t *t);

/* Whether t is one of r's kept sites (those that pass --filter). */
bool mp_report_keeps(const mp_report_t *r, const mp_snap_trace_t *t);

/* Lowest and highest size of SIZES class i (floor(log2(size)) + 1 == i). */
void mp_size_class_range(size_t i, uint64_t *lo, uint64_t *hi);

/* The two charts of the text report, each at most 80 columns wide. */
void mp_print_live_chart(mp_report_t *r);
void mp_print_size_histogram(mp_report_t *r);

/* report_time.c: the heap over time chart of the TIMELINE section and the list of sites at
 * the peak from the PEAK section; each prints nothing when its section is absent. */
void mp_print_timeline_chart(mp_report_t *r);
void mp_print_peak_sites(mp_report_t *r);

/* The peak sites that pass --filter, largest first, into `out` (room for snap->n_peak_sites);
 * returns how many. */
size_t mp_report_peak_sites(const mp_report_t *r, const mp_snap_peak_site_t **out);

/* "1023 B", "1.5 KiB", "12.0 MiB": at most 10 characters. */
void mp_fmt_bytes_short(uint64_t v, char *buf, size_t buf_bytes);

/* The whole report as one JSON document on stdout (schema in memprof(1)). */
void mp_print_json(mp_report_t *r);

/* JSON pieces the other commands share: a string (null for NULL), valid JSON for any bytes;
 * the array of the lines of t's first r->frames frames, as in "sites" of memprof(1). */
void mp_put_json_string(const char *s);
void mp_put_json_frames(mp_report_t *r, const mp_snap_trace_t *t);

/* Prints the frames of t as the site lists do ("    at 0x401234: main (leak.c:12)"), at most
 * r->frames of them. */
void mp_print_frames(mp_report_t *r, const mp_snap_trace_t *t);

/* report_leaks.c: the LEAKS section. */

/* Bytes and blocks per enum mp_leak_kind (index MP_LEAK_INTERNAL included) of the records
 * no suppression matched, and of those one did. */
typedef struct mp_leak_sums {
	uint64_t bytes[MP_LEAK_INTERNAL + 1], blocks[MP_LEAK_INTERNAL + 1];
	uint64_t suppressed_bytes, suppressed_blocks;
} mp_leak_sums_t;

/* Fills r->records from r->snap (sorted, numbered, matched against r->supps, each
 * suppression's counts added up) once r->kept is set. Returns 0 or -ENOMEM. */
int mp_leak_records_build(mp_report_t *r);
void mp_leak_records_free(mp_report_t *r);
void mp_leak_sums(const mp_report_t *r, mp_leak_sums_t *sums);

/* Writes the memcheck suppression that matches `rec`, as valgrind --gen-suppressions=all
 * does, to out; false (and nothing written) when its site has no stack to name. */
bool mp_write_suppression(mp_report_t *r, const mp_loss_record_t *rec, FILE *out);

/* The text report's loss records ("... are definitely lost in loss record 3 of 7"), and its
 * LEAK SUMMARY; nothing when the snapshot has no LEAKS section. */
void mp_print_loss_records(mp_report_t *r);
void mp_print_leak_summary(const mp_report_t *r);

/* The program's arguments as a shell would need them (quoted where they must be), with
 * control characters replaced: the report's "command:" line. */
void mp_print_cmdline(const mp_snap_meta_t *m);

/* Writes s with control characters replaced by '?', so that a crafted file cannot drive the
 * terminal. */
void mp_put_sanitized(const char *s, size_t n);

/* Starts and ends a section title, bold when colour is on. */
void mp_title(const mp_report_t *r, const char *title);

#endif

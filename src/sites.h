/* SPDX-License-Identifier: MIT */
/* Which allocation sites a report shows and in which order: the site tables (their sort
 * orders and what each includes), the --filter, ranking, and a site's short name. */
#ifndef MEMPROF_SITES_H
#define MEMPROF_SITES_H

#include <stdbool.h>
#include <stddef.h>

#include "report_types.h"

/* One ranking of allocation sites: which sites it includes and in which order. */
typedef struct mp_site_table {
	enum mp_sort sort;
	const char *key;   /* --sort value and JSON name: "live", "allocs", ... */
	const char *title; /* "TOP SITES BY LIVE BYTES" */
	bool (*includes)(const mp_snap_trace_t *t);
	int (*compare)(const void *a, const void *b); /* on const mp_snap_trace_t ** */
} mp_site_table_t;

extern const mp_site_table_t mp_site_tables[4];

/* Fills r->kept with the traces of r->snap that pass r->filter (every one without a filter),
 * in the snapshot's order; r->kept has room for all of them. */
void mp_report_keep_sites(mp_report_t *r);

/* Whether t is one of r's kept sites (those that pass --filter). */
bool mp_report_keeps(const mp_report_t *r, const mp_snap_trace_t *t);

/* Fills r->ranked with the kept sites table `t` includes, sorted; returns how many. */
size_t mp_report_rank(mp_report_t *r, const mp_site_table_t *t);

/* A short name for a site: the function (or module+offset) of its innermost frame outside
 * the C and C++ runtime libraries and the loader, or of frame 0 when all are there. */
void mp_site_name(mp_report_t *r, const mp_snap_trace_t *t, char *buf, size_t buf_bytes);
/* Whether line j of f is inside the allocator, the C or C++ runtime or the loader (its
 * module is one of theirs, or it is std:: code inlined into the program's). */
bool mp_line_is_runtime(const mp_report_t *r, const mp_frame_info_t *f, uint32_t j);
/* The same with the file and line when they are known: "add_record (parser.c:75)". */
void mp_site_label(mp_report_t *r, const mp_snap_trace_t *t, char *buf, size_t buf_bytes);

#endif

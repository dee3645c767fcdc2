/* SPDX-License-Identifier: MIT */
/* Which allocation sites a report shows and in which order: the site tables, the --filter,
 * ranking, and a site's short name. */
#include "sites.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "short_name.h"
#include "snapshot_format.h"
#include "symbolize.h"

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

void mp_report_keep_sites(mp_report_t *r)
{
	r->n_kept = 0;
	for (size_t i = 0; i < r->snap->n_traces; i++)
		if (!r->filter || matches_filter(r, &r->snap->traces[i]))
			r->kept[r->n_kept++] = &r->snap->traces[i];
}

/* Module basenames whose frames say little about who allocated: the allocator's callers
 * inside the C and C++ runtimes and the loader. */
static bool is_runtime_module(const char *base)
{
	static const char *const prefixes[] = { "libc.so", "libc-", "libstdc++", "libgcc_s", "ld-linux",
						"libmemprof", NULL };

	for (size_t i = 0; prefixes[i]; i++)
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* A function of the C++ standard library or its runtime, inlined into the program's code
 * (std::vector<…>::push_back, an allocator's allocate): it names no site either. Judged by
 * its short name, which has no return type in front. */
static bool is_runtime_function(const char *fn)
{
	static const char *const prefixes[] = { "std::", "__gnu_cxx::", "__cxa", "operator new", "operator delete",
						NULL };
	char name[256];

	mp_short_name(fn, name, sizeof(name));
	for (size_t i = 0; prefixes[i]; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Line j of f as a site's name: its function (short unless --full-names), else as a frame. */
static void line_name(mp_report_t *r, const mp_frame_info_t *f, uint32_t j, char *buf, size_t buf_bytes)
{
	const char *fn = f->lines[j].function;

	if ((f->kind == MP_FRAME_SOURCE || f->kind == MP_FRAME_SYMBOL) && fn) {
		if (r->full_names)
			snprintf(buf, buf_bytes, "%s", fn);
		else
			mp_short_name(fn, buf, buf_bytes);
		return;
	}
	mp_frame_format(r->snap, f, j, !r->full_names, buf, buf_bytes);
}

bool mp_line_is_runtime(const mp_report_t *r, const mp_frame_info_t *f, uint32_t j)
{
	if (!f->module || is_runtime_module(mp_module_basename(r->snap, f->module)))
		return true;
	return f->lines[j].function && is_runtime_function(f->lines[j].function);
}

/* The line of t that names its site: the first, inlined calls included, in the program's
 * own code; else frame 0's first. */
static void naming_line(mp_report_t *r, const mp_snap_trace_t *t, const mp_frame_info_t **fo, uint32_t *jo)
{
	for (uint32_t i = 0; i < t->n_frames; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		for (uint32_t j = 0; j < f->n_lines; j++)
			if (!mp_line_is_runtime(r, f, j)) {
				*fo = f;
				*jo = j;
				return;
			}
	}
	*fo = mp_symbolize(r->sym, t->frames[0]);
	*jo = 0;
}

void mp_site_name(mp_report_t *r, const mp_snap_trace_t *t, char *buf, size_t buf_bytes)
{
	const mp_frame_info_t *f;
	uint32_t j;

	if (t->n_frames == 0) {
		snprintf(buf, buf_bytes, "(no stack trace)");
		return;
	}
	naming_line(r, t, &f, &j);
	line_name(r, f, j, buf, buf_bytes);
}

void mp_site_label(mp_report_t *r, const mp_snap_trace_t *t, char *buf, size_t buf_bytes)
{
	const mp_frame_info_t *f;
	uint32_t j;

	mp_site_name(r, t, buf, buf_bytes);
	if (t->n_frames == 0)
		return;
	naming_line(r, t, &f, &j);
	const mp_frame_line_t *l = &f->lines[j];
	if (f->kind == MP_FRAME_SOURCE && l->file && l->function) {
		const char *base = strrchr(l->file, '/');
		size_t n = strlen(buf);
		snprintf(buf + n, buf_bytes - n, " (%s:%" PRIu32 ")", base ? base + 1 : l->file, l->line);
	}
}

/* SPDX-License-Identifier: MIT */
/* memprof report --format json: the report's content as one JSON document (schema in
 * memprof(1)): meta, totals, the leak check's loss records, the site tables as lists of site
 * ids, the sites with their symbolized frames, and the allocation size classes. */
#include "report_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "report_chart.h"
#include "report_leaks.h"
#include "report_time.h"
#include "sites.h"
#include "snapshot_format.h"

static void put_meta(const mp_report_t *r)
{
	const mp_snap_meta_t *m = &r->snap->meta;
	size_t n = m->cmdline_bytes, start = 0;
	bool first = true;

	printf("\"meta\":{\"pid\":%" PRIu32 ",\"ppid\":%" PRIu32 ",\"fork_child\":%s,\"exe\":", m->pid,
	       m->ppid, (m->flags & MP_META_FORK_CHILD) ? "true" : "false");
	mp_put_json_string(m->exe);
	printf(",\"cmdline\":[");
	if (n && m->cmdline[n - 1] == '\0')
		n--;
	while (n && start <= n) {
		size_t len = strnlen(m->cmdline + start, n - start);

		printf("%s", first ? "" : ",");
		mp_put_json_string_n(m->cmdline + start, len);
		first = false;
		start += len + 1;
	}
	printf("],\"reason\":\"%s\",\"seq\":%" PRIu32 ",\"start_realtime_ns\":%" PRIu64
	       ",\"snapshot_realtime_ns\":%" PRIu64 ",\"run_time_ns\":%" PRIu64 ",\"max_frames\":%" PRIu32
	       ",\"label\":",
	       mp_snap_reason_name(m->reason), m->seq, m->start_realtime_ns, m->snapshot_realtime_ns,
	       m->run_time_ns, m->max_frames);
	mp_put_json_string(m->label[0] ? m->label : NULL);
	putchar('}');
}

static void put_totals(const mp_snap_totals_t *t)
{
	printf("\"totals\":{\"allocs\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes_allocated\":%" PRIu64
	       ",\"bytes_freed\":%" PRIu64 ",\"live_bytes\":%" PRIu64 ",\"live_blocks\":%" PRIu64
	       ",\"peak_bytes\":%" PRIu64 ",\"peak_time_ns\":%" PRIu64 ",\"untracked_frees\":%" PRIu64
	       ",\"lost_allocs\":%" PRIu64 "}",
	       t->allocs, t->frees, t->bytes_allocated, t->bytes_freed, t->live_bytes, t->live_blocks,
	       t->peak_bytes, t->peak_time_ns, t->untracked_frees, t->lost_allocs);
}


static void put_site(mp_report_t *r, const mp_snap_trace_t *t)
{
	char name[256];

	mp_site_name(r, t, name, sizeof(name));
	printf("{\"id\":%" PRIu32 ",\"name\":", t->id);
	mp_put_json_string(name);
	printf(",\"live_bytes\":%" PRIu64 ",\"live_blocks\":%" PRIu64 ",\"allocs\":%" PRIu64
	       ",\"frees\":%" PRIu64 ",\"bytes_allocated\":%" PRIu64 ",\"bytes_freed\":%" PRIu64
	       ",\"n_frames\":%" PRIu32 ",\"frames\":",
	       mp_trace_live_bytes(t), mp_trace_live_blocks(t), t->allocs, t->frees, t->bytes_allocated,
	       t->bytes_freed, t->n_frames);
	mp_put_json_frames(r, t);
	putchar('}');
}

static void put_bytes_blocks(const char *key, uint64_t bytes, uint64_t blocks)
{
	printf("\"%s\":{\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 "}", key, bytes, blocks);
}

static void put_supp_ref(const mp_supp_t *s)
{
	printf("{\"name\":");
	mp_put_json_string(s->name);
	printf(",\"file\":");
	mp_put_json_string(s->path);
	printf(",\"line\":%" PRIu32, s->line);
}

static void put_leak_record(mp_report_t *r, const mp_loss_record_t *rec)
{
	const mp_snap_leak_t *l = rec->leak;

	printf("{\"record\":%zu,\"kind\":\"%s\",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64
	       ",\"indirect_bytes\":%" PRIu64 ",\"indirect_blocks\":%" PRIu64 ",\"site_id\":%" PRIu32
	       ",\"suppressed_by\":",
	       rec->number, mp_leak_kind_keyword(l->kind), l->bytes, l->blocks, l->indirect_bytes,
	       l->indirect_blocks, l->trace_id);
	if (rec->suppressed_by) {
		put_supp_ref(rec->suppressed_by);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	if (r->gen_suppressions) {
		char *text = NULL;
		size_t n = 0;
		FILE *mem = open_memstream(&text, &n);
		bool written = mem && mp_write_suppression(r, rec, mem);

		if (mem)
			fclose(mem);
		printf(",\"suppression\":");
		if (written && text)
			mp_put_json_string_n(text, n);
		else
			fputs("null", stdout);
		free(text);
	}
	printf(",\"frames\":");
	mp_put_json_frames(r, rec->trace);
	putchar('}');
}

/* The LEAKS section: the scan, the summary, the listed loss records, the suppressions used. */
static void put_leaks(mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	mp_leak_sums_t sums;
	bool first = true;

	printf("\"leaks\":");
	if (!s->has_leaks) {
		fputs(s->leaks_flags & MP_LEAKS_UNDECIDED ? "{\"undecided\":true}" : "null", stdout);
		return;
	}
	mp_leak_sums(r, &sums);
	printf("{\"threads_stopped\":%s,\"at_exit\":%s,\"scan_time_ns\":%" PRIu64
	       ",\"root_bytes\":%" PRIu64 ",\"show_leak_kinds\":[",
	       (s->leaks_flags & MP_LEAKS_THREADS_STOPPED) ? "true" : "false",
	       (s->leaks_flags & MP_LEAKS_AT_EXIT) ? "true" : "false", s->leaks_scan_time_ns,
	       s->leaks_root_bytes);
	for (uint32_t k = MP_LEAK_DEFINITE; k >= MP_LEAK_REACHABLE; k--)
		if (r->show_leak_kinds & MP_LEAK_KIND_BIT(k)) {
			printf("%s\"%s\"", first ? "" : ",", mp_leak_kind_keyword(k));
			first = false;
		}
	printf("],\n  \"summary\":{");
	put_bytes_blocks("definite", sums.bytes[MP_LEAK_DEFINITE], sums.blocks[MP_LEAK_DEFINITE]);
	putchar(',');
	put_bytes_blocks("indirect", sums.bytes[MP_LEAK_INDIRECT], sums.blocks[MP_LEAK_INDIRECT]);
	putchar(',');
	put_bytes_blocks("possible", sums.bytes[MP_LEAK_POSSIBLE], sums.blocks[MP_LEAK_POSSIBLE]);
	putchar(',');
	put_bytes_blocks("reachable", sums.bytes[MP_LEAK_REACHABLE], sums.blocks[MP_LEAK_REACHABLE]);
	putchar(',');
	put_bytes_blocks("suppressed", sums.suppressed_bytes, sums.suppressed_blocks);
	putchar(',');
	put_bytes_blocks("internal", sums.bytes[MP_LEAK_INTERNAL], sums.blocks[MP_LEAK_INTERNAL]);
	printf("},\n  \"n_records\":%zu,\"records\":[", r->n_records);
	first = true;
	for (size_t i = 0; i < r->n_records; i++) {
		if (!r->records[i].listed)
			continue;
		printf("%s\n  ", first ? "" : ",");
		put_leak_record(r, &r->records[i]);
		first = false;
	}
	printf("],\n  \"suppressions_used\":[");
	first = true;
	for (size_t i = 0; r->supps && i < r->supps->n_supps; i++) {
		const mp_supp_t *sp = &r->supps->supps[i];

		if (!sp->n_records)
			continue;
		printf("%s", first ? "" : ",");
		put_supp_ref(sp);
		printf(",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 "}",
		       sp->n_records, sp->bytes, sp->blocks);
		first = false;
	}
	printf("]}");
}

static int by_id(const void *pa, const void *pb)
{
	const mp_snap_trace_t *a = *(const mp_snap_trace_t *const *)pa;
	const mp_snap_trace_t *b = *(const mp_snap_trace_t *const *)pb;

	return (a->id > b->id) - (a->id < b->id);
}

/* The PEAK section's first r->top sites that pass the filter; their traces join `listed`. */
static void put_peak(mp_report_t *r, const mp_snap_trace_t **listed, size_t *n_listed)
{
	const mp_snapshot_t *s = r->snap;
	const mp_snap_peak_site_t **sites;
	size_t n, shown;

	if (!s->has_peak || !(sites = malloc((s->n_peak_sites ? s->n_peak_sites : 1) * sizeof(*sites)))) {
		fputs("null", stdout);
		return;
	}
	n = mp_report_peak_sites(r, sites);
	shown = r->sort == MP_SORT_LEAKS ? 0 : n < r->top ? n : (size_t)r->top;
	printf("{\"peak_bytes\":%" PRIu64 ",\"peak_time_ns\":%" PRIu64 ",\"total_sites\":%zu,\"sites\":[",
	       s->peak_bytes, s->peak_time_ns, n);
	for (size_t i = 0; i < shown; i++) {
		const mp_snap_trace_t *t = mp_snapshot_trace(s, sites[i]->trace_id);
		bool seen = false;

		printf("%s{\"id\":%" PRIu32 ",\"live_bytes\":%" PRIu64 ",\"live_blocks\":%" PRIu64 "}",
		       i ? "," : "", sites[i]->trace_id, sites[i]->live_bytes, sites[i]->live_blocks);
		for (size_t j = 0; j < *n_listed && !seen; j++)
			seen = listed[j] == t;
		if (!seen)
			listed[(*n_listed)++] = t;
	}
	printf("]}");
	free(sites);
}

static void put_timeline(const mp_snapshot_t *s)
{
	if (!s->timeline) {
		fputs("null", stdout);
		return;
	}
	putchar('[');
	for (size_t i = 0; i < s->n_timeline; i++) {
		const mp_snap_point_t *p = &s->timeline[i];

		printf("%s\n  {\"time_ns\":%" PRIu64 ",\"live_bytes\":%" PRIu64 ",\"max_live_bytes\":%" PRIu64
		       ",\"rss_bytes\":%" PRIu64 ",\"allocs\":%" PRIu64 ",\"frees\":%" PRIu64 "}",
		       i ? "," : "", p->time_ns, p->live_bytes, p->max_live_bytes, p->rss_bytes, p->allocs,
		       p->frees);
	}
	putchar(']');
}

void mp_print_json(mp_report_t *r)
{
	const size_t n_tables = sizeof(mp_site_tables) / sizeof(mp_site_tables[0]);
	const mp_snap_trace_t **listed = calloc(r->n_kept ? r->n_kept : 1, sizeof(*listed));
	size_t n_listed = 0;
	bool first = true;

	r->full_names = true; /* JSON is read by programs: names stay whole */

	if (!listed) {
		fputs("{\"error\":\"out of memory\"}\n", stdout);
		return;
	}
	printf("{\"snapshot\":");
	mp_put_json_string(r->path);
	printf(",\"version\":%" PRIu32 ",\n", r->snap->version);
	put_meta(r);
	printf(",\n");
	put_totals(&r->snap->totals);
	printf(",\n");
	put_leaks(r);
	printf(",\n\"filter\":");
	mp_put_json_string(r->filter);
	printf(",\n\"tables\":{");
	for (size_t k = 0; k < n_tables; k++) {
		const mp_site_table_t *t = &mp_site_tables[k];
		size_t n, shown;

		if (r->sort != MP_SORT_ALL && r->sort != t->sort)
			continue;
		n = mp_report_rank(r, t);
		shown = n < r->top ? n : (size_t)r->top;
		printf("%s\"%s\":{\"total_sites\":%zu,\"site_ids\":[", first ? "" : ",", t->key, n);
		first = false;
		for (size_t i = 0; i < shown; i++) {
			bool seen = false;

			printf("%s%" PRIu32, i ? "," : "", r->ranked[i]->id);
			for (size_t j = 0; j < n_listed && !seen; j++)
				seen = listed[j] == r->ranked[i];
			if (!seen)
				listed[n_listed++] = r->ranked[i];
		}
		printf("]}");
	}
	printf("},\n\"peak\":");
	put_peak(r, listed, &n_listed);
	printf(",\n\"timeline\":");
	put_timeline(r->snap);
	printf(",\n\"sites\":[");
	qsort(listed, n_listed, sizeof(*listed), by_id);
	for (size_t i = 0; i < n_listed; i++) {
		printf("%s\n  ", i ? "," : "");
		put_site(r, listed[i]);
	}
	printf("],\n\"size_classes\":[");
	first = true;
	for (size_t i = 0; i < r->snap->n_size_classes; i++) {
		uint64_t lo, hi;

		if (!r->snap->size_classes[i])
			continue;
		mp_size_class_range(i, &lo, &hi);
		printf("%s{\"min_bytes\":%" PRIu64 ",\"max_bytes\":%" PRIu64 ",\"allocs\":%" PRIu64 "}",
		       first ? "" : ",", lo, hi, r->snap->size_classes[i]);
		first = false;
	}
	printf("]}\n");
	free(listed);
}

/* SPDX-License-Identifier: MIT */
/* The leak part of `memprof report`: what the reachability scan of the LEAKS section found,
 * in memcheck's words: loss records with their stacks, suppressions, the LEAK SUMMARY. */
#include "report_leaks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "snapshot_format.h"
#include "suppress.h"
#include "text_out.h"

/* memcheck's order of states when two records have the same total size. */
static int memcheck_state(uint32_t kind)
{
	switch (kind) {
	case MP_LEAK_DEFINITE: return 0;
	case MP_LEAK_INDIRECT: return 1;
	case MP_LEAK_POSSIBLE: return 2;
	default: return 3;
	}
}

static uint64_t total_bytes(const mp_snap_leak_t *l) { return l->bytes + l->indirect_bytes; }

/* memcheck's order: total bytes (direct plus indirect), state, blocks, ascending; then the
 * trace id, where memcheck compares the addresses of its stack records. */
static int by_memcheck_order(const void *pa, const void *pb)
{
	const mp_loss_record_t *a = pa, *b = pb;
	uint64_t x = total_bytes(a->leak), y = total_bytes(b->leak);
	int sa = memcheck_state(a->leak->kind), sb = memcheck_state(b->leak->kind);

	if (x != y)
		return x < y ? -1 : 1;
	if (sa != sb)
		return sa - sb;
	if (a->leak->blocks != b->leak->blocks)
		return a->leak->blocks < b->leak->blocks ? -1 : 1;
	return (a->leak->trace_id > b->leak->trace_id) - (a->leak->trace_id < b->leak->trace_id);
}

static int by_address(const void *pa, const void *pb)
{
	const mp_snap_trace_t *a = *(const mp_snap_trace_t *const *)pa;
	const mp_snap_trace_t *b = *(const mp_snap_trace_t *const *)pb;

	return (a > b) - (a < b);
}

/* The frames of t as suppressions see them: one per line of each symbolized address. */
static mp_supp_frame_t *supp_frames(mp_report_t *r, const mp_snap_trace_t *t, size_t *n_out)
{
	size_t n = 0, cap = t->n_frames ? t->n_frames : 1;
	mp_supp_frame_t *frames = malloc(cap * sizeof(*frames));

	for (uint32_t i = 0; frames && i < t->n_frames; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		for (uint32_t j = 0; j < f->n_lines; j++) {
			const mp_frame_line_t *l = &f->lines[j];

			if (n == cap) {
				mp_supp_frame_t *p = realloc(frames, 2 * cap * sizeof(*frames));

				if (!p) {
					free(frames);
					return NULL;
				}
				frames = p;
				cap *= 2;
			}
			frames[n++] = (mp_supp_frame_t){
				.function = l->linkage_name,
				.demangled = l->function,
				.file = l->file,
				.line = l->line,
				.module = f->module ? mp_module_path(r->snap, f->module) : NULL,
			};
		}
	}
	*n_out = n;
	return frames;
}

/* With --since: a record is shown when it is new or holds more than it did, as memcheck's
 * "increased": more direct bytes, more indirect bytes or more blocks. */
static bool grew(const mp_loss_record_t *rec)
{
	return !rec->old || rec->leak->bytes > rec->old->bytes ||
	       rec->leak->indirect_bytes > rec->old->indirect_bytes || rec->leak->blocks > rec->old->blocks;
}

int mp_leak_records_build(mp_report_t *r)
{
	const mp_snapshot_t *s = r->snap;
	size_t n = 0;

	r->records = calloc(s->n_leaks ? s->n_leaks : 1, sizeof(*r->records));
	r->n_records = 0;
	if (!r->records)
		return -ENOMEM;
	/* memcheck frees glibc's own blocks before its scan: they are in no loss record. */
	for (size_t i = 0; i < s->n_leaks; i++) {
		if (s->leaks[i].kind == MP_LEAK_INTERNAL)
			continue;
		r->records[n].leak = &s->leaks[i];
		r->records[n].trace = mp_snapshot_trace(s, s->leaks[i].trace_id);
		n++;
	}
	qsort(r->records, n, sizeof(*r->records), by_memcheck_order);
	r->n_records = n;
	for (size_t i = 0; i < n; i++) {
		mp_loss_record_t *rec = &r->records[i];
		const mp_snap_trace_t *t = rec->trace;
		bool kept = !r->filter || bsearch(&t, r->kept, r->n_kept, sizeof(*r->kept), by_address);

		rec->number = i + 1;
		rec->listed = kept && rec->leak->kind < 32 &&
			      (r->show_leak_kinds & MP_LEAK_KIND_BIT(rec->leak->kind));
		if (r->since) {
			rec->old = mp_snapshot_leak(r->since, rec->leak->trace_id, rec->leak->kind);
			rec->listed = rec->listed && grew(rec);
		}
		if (r->supps && r->supps->n_supps) {
			size_t n_frames;
			mp_supp_frame_t *frames = supp_frames(r, t, &n_frames);

			if (!frames)
				return -ENOMEM;
			rec->suppressed_by = mp_supp_match(r->supps, rec->leak->kind, frames, n_frames);
			free(frames);
			if (rec->suppressed_by) {
				rec->suppressed_by->n_records++;
				rec->suppressed_by->bytes = mp_sat_add(rec->suppressed_by->bytes, rec->leak->bytes);
				rec->suppressed_by->blocks = mp_sat_add(rec->suppressed_by->blocks, rec->leak->blocks);
			}
		}
	}
	return 0;
}

void mp_leak_records_free(mp_report_t *r)
{
	free(r->records);
	r->records = NULL;
	r->n_records = 0;
}

/* Sums of a crafted file's records may pass 2^64: they stop there instead of wrapping. */

void mp_leak_sums(const mp_report_t *r, mp_leak_sums_t *sums)
{
	const mp_snapshot_t *s = r->snap;

	memset(sums, 0, sizeof(*sums));
	for (size_t i = 0; i < s->n_leaks; i++)
		if (s->leaks[i].kind == MP_LEAK_INTERNAL) {
			sums->bytes[MP_LEAK_INTERNAL] = mp_sat_add(sums->bytes[MP_LEAK_INTERNAL], s->leaks[i].bytes);
			sums->blocks[MP_LEAK_INTERNAL] = mp_sat_add(sums->blocks[MP_LEAK_INTERNAL], s->leaks[i].blocks);
		}
	/* A suppressed record's direct bytes move to "suppressed"; the blocks that hang off it
	 * stay indirectly lost unless their own records are suppressed too (as in memcheck). */
	for (size_t i = 0; i < r->n_records; i++) {
		const mp_snap_leak_t *l = r->records[i].leak;

		if (r->records[i].suppressed_by) {
			sums->suppressed_bytes = mp_sat_add(sums->suppressed_bytes, l->bytes);
			sums->suppressed_blocks = mp_sat_add(sums->suppressed_blocks, l->blocks);
		} else {
			sums->bytes[l->kind] = mp_sat_add(sums->bytes[l->kind], l->bytes);
			sums->blocks[l->kind] = mp_sat_add(sums->blocks[l->kind], l->blocks);
		}
	}
}

static void put_sanitized(FILE *out, const char *s)
{
	for (; *s; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

bool mp_write_suppression(mp_report_t *r, const mp_loss_record_t *rec, FILE *out)
{
	const mp_snap_trace_t *t = rec->trace;
	/* The frames the record shows, but at least one: a suppression needs a line. */
	uint32_t n = t->n_frames < r->frames ? t->n_frames : (uint32_t)r->frames;

	if (t->n_frames == 0)
		return false;
	if (n == 0)
		n = 1;
	fprintf(out, "{\n   <insert_a_suppression_name_here>\n   Memcheck:Leak\n   match-leak-kinds: %s\n",
		mp_leak_kind_keyword(rec->leak->kind));
	for (uint32_t i = 0; i < n; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		for (uint32_t j = 0; j < f->n_lines; j++) {
			const mp_frame_line_t *l = &f->lines[j];

			/* As memcheck: the function's name as in the module, else the module's path;
			 * "?" for a control character is a wildcard for it. */
			if (l->linkage_name) {
				fputs("   fun:", out);
				put_sanitized(out, l->linkage_name);
			} else if (f->module) {
				fputs("   obj:", out);
				put_sanitized(out, mp_module_path(r->snap, f->module));
			} else {
				fputs("   obj:*", out);
			}
			putc('\n', out);
			/* Frames below main are the C library's start-up code, which memcheck does not
			 * show either: leaving them out keeps the suppression valid across libc versions. */
			if (l->linkage_name && !l->inlined && strcmp(l->linkage_name, "main") == 0)
				n = i + 1;
		}
	}
	fputs("}\n", out);
	return true;
}

/* " (+N)" or " (-N)": how far now is from before, as memcheck's leak_check increased prints
 * it; "" without --since. */
#define DELTA_BYTES (MP_FMT_U64_BYTES + 8)
static const char *delta(const mp_report_t *r, uint64_t now, uint64_t before, char *buf)
{
	char n[MP_FMT_U64_BYTES];

	if (!r->since)
		return "";
	snprintf(buf, DELTA_BYTES, " (%c%s)", now >= before ? '+' : '-',
		 mp_fmt_u64(now >= before ? now - before : before - now, n));
	return buf;
}

/* The kind's words, coloured for a person at a terminal (r->color): lost red, possibly lost
 * yellow, still reachable as it is. */
static const char *kind_words(const mp_report_t *r, uint32_t kind, char *buf, size_t cap)
{
	const char *name = mp_leak_kind_name(kind);
	const char *on = kind == MP_LEAK_DEFINITE || kind == MP_LEAK_INDIRECT ? "\033[31m"
			 : kind == MP_LEAK_POSSIBLE                             ? "\033[33m"
										: NULL;

	if (!r->color || !on)
		return name;
	snprintf(buf, cap, "%s%s\033[0m", on, name);
	return buf;
}

static void print_record(mp_report_t *r, const mp_loss_record_t *rec)
{
	const mp_snap_leak_t *l = rec->leak, zero = { 0 }, *o = rec->old ? rec->old : &zero;
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES], d[MP_FMT_U64_BYTES];
	char x[MP_FMT_U64_BYTES], y[MP_FMT_U64_BYTES];
	char da[DELTA_BYTES], db[DELTA_BYTES], dc[DELTA_BYTES], dd[DELTA_BYTES], kw[64];
	const char *kind = kind_words(r, l->kind, kw, sizeof(kw));

	if (l->indirect_bytes)
		printf("%s%s (%s%s direct, %s%s indirect) bytes in %s%s blocks are %s in loss record %s of %s\n",
		       mp_fmt_u64(total_bytes(l), a), delta(r, total_bytes(l), total_bytes(o), da),
		       mp_fmt_u64(l->bytes, b), delta(r, l->bytes, o->bytes, db),
		       mp_fmt_u64(l->indirect_bytes, c), delta(r, l->indirect_bytes, o->indirect_bytes, dc),
		       mp_fmt_u64(l->blocks, d), delta(r, l->blocks, o->blocks, dd), kind,
		       mp_fmt_u64(rec->number, x), mp_fmt_u64(r->n_records, y));
	else
		printf("%s%s bytes in %s%s blocks are %s in loss record %s of %s\n", mp_fmt_u64(l->bytes, a),
		       delta(r, l->bytes, o->bytes, da), mp_fmt_u64(l->blocks, b), delta(r, l->blocks, o->blocks, db),
		       kind, mp_fmt_u64(rec->number, x), mp_fmt_u64(r->n_records, y));
	mp_print_frames(r, rec->trace);
	if (r->gen_suppressions)
		mp_write_suppression(r, rec, stdout);
}

void mp_print_loss_records(mp_report_t *r)
{
	bool first = true;

	for (size_t i = 0; i < r->n_records; i++) {
		const mp_loss_record_t *rec = &r->records[i];

		if (!rec->listed || rec->suppressed_by)
			continue;
		if (first)
			mp_title(r, "LOSS RECORDS");
		else
			putchar('\n');
		first = false;
		print_record(r, rec);
	}
}

/* The earlier check's sums, by the same rules and suppressions as the report's own (the
 * suppressions' own counts, which the report prints, are left as they were). */
static void since_sums(const mp_report_t *r, mp_leak_sums_t *sums)
{
	mp_report_t old = *r;
	size_t n_supps = r->supps ? r->supps->n_supps : 0;
	uint64_t(*saved)[3] = calloc(n_supps ? n_supps : 1, sizeof(*saved));

	memset(sums, 0, sizeof(*sums));
	old.snap = r->since;
	old.since = NULL;
	old.filter = NULL;
	for (size_t i = 0; saved && i < n_supps; i++) {
		const mp_supp_t *sp = &r->supps->supps[i];

		saved[i][0] = sp->n_records;
		saved[i][1] = sp->bytes;
		saved[i][2] = sp->blocks;
	}
	if (saved && mp_leak_records_build(&old) == 0)
		mp_leak_sums(&old, sums);
	mp_leak_records_free(&old);
	for (size_t i = 0; saved && i < n_supps; i++) {
		mp_supp_t *sp = &r->supps->supps[i];

		sp->n_records = saved[i][0];
		sp->bytes = saved[i][1];
		sp->blocks = saved[i][2];
	}
	free(saved);
}

void mp_print_leak_summary(const mp_report_t *r)
{
	static const struct {
		int kind;
		const char *label;
	} rows[] = {
		{ MP_LEAK_DEFINITE, "   definitely lost" },
		{ MP_LEAK_INDIRECT, "   indirectly lost" },
		{ MP_LEAK_POSSIBLE, "     possibly lost" },
		{ MP_LEAK_REACHABLE, "   still reachable" },
	};
	const mp_snapshot_t *s = r->snap;
	mp_leak_sums_t sums;
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];
	bool reachable_hidden = false;

	mp_leak_sums_t before = { 0 };
	char da[DELTA_BYTES], db[DELTA_BYTES];

	if (!s->has_leaks) {
		if (s->leaks_flags & MP_LEAKS_UNDECIDED) {
			mp_title(r, "LEAK SUMMARY");
			puts("   no verdict: the leak scan could not tell all of the profiler's memory from "
			     "the program's");
		}
		return;
	}
	mp_leak_sums(r, &sums);
	if (r->since)
		since_sums(r, &before);
	mp_title(r, "LEAK SUMMARY");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int k = rows[i].kind;

		printf("%s: %s%s bytes in %s%s blocks\n", rows[i].label, mp_fmt_u64(sums.bytes[k], a),
		       delta(r, sums.bytes[k], before.bytes[k], da), mp_fmt_u64(sums.blocks[k], b),
		       delta(r, sums.blocks[k], before.blocks[k], db));
	}
	printf("        suppressed: %s%s bytes in %s%s blocks\n", mp_fmt_u64(sums.suppressed_bytes, a),
	       delta(r, sums.suppressed_bytes, before.suppressed_bytes, da), mp_fmt_u64(sums.suppressed_blocks, b),
	       delta(r, sums.suppressed_blocks, before.suppressed_blocks, db));
	if (r->since)
		printf("(+N) and (-N): the change since the leak check at %s ms of the run; only the loss "
		       "records that are new or grew are listed\n",
		       mp_fmt_u64(r->since->meta.run_time_ns / 1000000, a));
	if (sums.blocks[MP_LEAK_INTERNAL])
		printf("  not counted: %s bytes in %s blocks (glibc's and ld.so's own)\n",
		       mp_fmt_u64(sums.bytes[MP_LEAK_INTERNAL], a), mp_fmt_u64(sums.blocks[MP_LEAK_INTERNAL], b));
	if (!(s->leaks_flags & MP_LEAKS_THREADS_STOPPED))
		puts("warning: not every thread could be stopped during the scan; "
		     "the figures may be off");
	for (size_t i = 0; i < r->n_records; i++)
		reachable_hidden |= r->records[i].leak->kind == MP_LEAK_REACHABLE && !r->records[i].suppressed_by;
	if (reachable_hidden && !(r->show_leak_kinds & MP_LEAK_KIND_BIT(MP_LEAK_REACHABLE)))
		puts("Reachable blocks (those to which a pointer was found) are not shown.\n"
		     "To see them, rerun with: --show-leak-kinds=all");
	/* As valgrind -v: which suppressions were used, and for what. */
	for (size_t i = 0; r->supps && i < r->supps->n_supps; i++) {
		const mp_supp_t *sp = &r->supps->supps[i];

		if (!sp->n_records)
			continue;
		printf("used_suppression: %6" PRIu64 " ", sp->n_records);
		put_sanitized(stdout, sp->name);
		putchar(' ');
		put_sanitized(stdout, sp->path);
		printf(":%" PRIu32 " suppressed: %s bytes in %s blocks\n", sp->line, mp_fmt_u64(sp->bytes, a),
		       mp_fmt_u64(sp->blocks, b));
	}
}

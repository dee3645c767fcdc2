/* SPDX-License-Identifier: MIT */
/* memprof diff OLD NEW: the sites whose live bytes or blocks changed between two snapshots,
 * of one process or of two runs, largest change first, with their stacks. */
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
#include "symbolize.h"
#include "text_out.h"

const char mp_diff_help[] =
	"Usage: memprof diff [OPTIONS] OLD NEW\n"
	"Compare two snapshots, of one process or of two runs of a program: the sites whose\n"
	"live bytes or blocks grew or shrank from OLD to NEW, largest change in live bytes\n"
	"first, with their stacks, and the change of the totals. Sites are matched by their\n"
	"frames (module build-id or path, and offset), so addresses may differ (ASLR).\n"
	"\n"
	"Options:\n"
	"  --top N            show the N largest changes (default 10)\n"
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
	"Exit status: 0, 1 if the output could not be written, 2 on a usage error or an\n"
	"unreadable snapshot.\n";

/* A site whose live bytes or blocks changed. */
struct change {
	const mp_site_series_t *site;
	uint64_t bytes_change, blocks_change; /* magnitudes */
	bool grew;
};

static int by_change(const void *pa, const void *pb)
{
	const struct change *a = pa, *b = pb;

	if (a->bytes_change != b->bytes_change)
		return a->bytes_change > b->bytes_change ? -1 : 1;
	if (a->blocks_change != b->blocks_change)
		return a->blocks_change > b->blocks_change ? -1 : 1;
	if (a->grew != b->grew)
		return a->grew ? -1 : 1;
	/* The order in which the sites were first seen: stable across runs of the command. */
	return (a->site->index > b->site->index) - (a->site->index < b->site->index);
}

static const char *status(const struct change *ch)
{
	if (ch->site->n_present == 1)
		return ch->site->last == 1 ? "new" : "gone";
	return ch->grew ? "grew" : "shrank";
}

static void snapshot_line(const char *what, const mp_compare_t *c, size_t i)
{
	const mp_snap_meta_t *m = &c->snaps[i].meta;
	char when[64];

	printf("%s: ", what);
	mp_put_sanitized(c->paths[i], strlen(c->paths[i]));
	printf(" (");
	mp_put_sanitized(m->exe, strlen(m->exe));
	printf(", pid %" PRIu32 ", %s, at %s)\n", m->pid, mp_snap_reason_name(m->reason),
	       mp_fmt_duration(m->run_time_ns, when, sizeof(when)));
}

/* Frames of a module match only within one build of it: says which modules OLD and NEW have
 * at the same path with different build-ids. */
static void note_rebuilt_modules(const mp_compare_t *c)
{
	const mp_snapshot_t *o = &c->snaps[0], *w = &c->snaps[1];

	for (size_t i = 0; i < o->n_modules; i++) {
		const mp_snap_module_t *a = &o->modules[i];
		const char *path = mp_module_path(o, a);

		if (!a->build_id_bytes)
			continue;
		for (size_t j = 0; j < w->n_modules; j++) {
			const mp_snap_module_t *b = &w->modules[j];

			if (!b->build_id_bytes || strcmp(path, mp_module_path(w, b)) != 0)
				continue;
			if (a->build_id_bytes != b->build_id_bytes ||
			    memcmp(a->build_id, b->build_id, a->build_id_bytes) != 0) {
				printf("note: ");
				mp_put_sanitized(path, strlen(path));
				printf(" has another build-id in NEW (rebuilt): its sites do not match\n");
				break;
			}
		}
	}
}

static void print_text(mp_compare_t *c, const struct change *ch, size_t n, size_t n_grew,
		       size_t n_unchanged)
{
	const mp_snap_totals_t *o = &c->snaps[0].totals, *w = &c->snaps[1].totals;
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], d[MP_FMT_CHANGE_BYTES];
	size_t shown = n < c->top ? n : (size_t)c->top;

	printf("memprof diff\n");
	snapshot_line("old", c, 0);
	snapshot_line("new", c, 1);
	mp_title(&c->reports[0], "CHANGE IN LIVE MEMORY");
	printf("  live bytes:  %s -> %s (%s)\n", mp_fmt_u64(o->live_bytes, a), mp_fmt_u64(w->live_bytes, b),
	       mp_fmt_change(o->live_bytes, w->live_bytes, d));
	printf("  live blocks: %s -> %s (%s)\n", mp_fmt_u64(o->live_blocks, a),
	       mp_fmt_u64(w->live_blocks, b), mp_fmt_change(o->live_blocks, w->live_blocks, d));
	printf("  sites: %zu grew, %zu shrank, %zu unchanged\n", n_grew, n - n_grew, n_unchanged);
	note_rebuilt_modules(c);
	mp_title(&c->reports[0], "SITES THAT CHANGED (largest change in live bytes first)");
	if (n == 0)
		printf("    (none)\n");
	for (size_t i = 0; i < shown; i++) {
		const mp_site_series_t *s = ch[i].site;
		char e[MP_FMT_U64_BYTES], f[MP_FMT_U64_BYTES], g[MP_FMT_CHANGE_BYTES];
		const char *st = status(&ch[i]);

		if (i)
			putchar('\n');
		printf("#%zu %s bytes, %s blocks: %s -> %s bytes, %s -> %s blocks", i + 1,
		       mp_fmt_change(s->live_bytes[0], s->live_bytes[1], d),
		       mp_fmt_change(s->live_blocks[0], s->live_blocks[1], g), mp_fmt_u64(s->live_bytes[0], a),
		       mp_fmt_u64(s->live_bytes[1], b), mp_fmt_u64(s->live_blocks[0], e),
		       mp_fmt_u64(s->live_blocks[1], f));
		if (strcmp(st, "new") == 0)
			printf(" (new site)");
		else if (strcmp(st, "gone") == 0)
			printf(" (not in NEW)");
		putchar('\n');
		mp_print_frames(mp_compare_report(c, s->last), s->trace);
	}
	if (shown < n)
		printf("\n... %zu more site%s (--top)\n", n - shown, n - shown == 1 ? "" : "s");
}

/* ,"NAME":CHANGE, exact: a change of more than 2^63 does not fit in an int64_t. */
static void put_json_change(const char *name, uint64_t from, uint64_t to)
{
	printf(",\"%s\":%s%" PRIu64, name, to < from ? "-" : "", to < from ? from - to : to - from);
}

static void print_json(mp_compare_t *c, const struct change *ch, size_t n, size_t n_grew,
		       size_t n_unchanged)
{
	const mp_snap_totals_t *o = &c->snaps[0].totals, *w = &c->snaps[1].totals;
	size_t shown = n < c->top ? n : (size_t)c->top;

	printf("{\"old\":");
	mp_put_json_string(c->paths[0]);
	printf(",\"new\":");
	mp_put_json_string(c->paths[1]);
	printf(",\n\"totals\":{\"old_live_bytes\":%" PRIu64 ",\"new_live_bytes\":%" PRIu64, o->live_bytes,
	       w->live_bytes);
	put_json_change("live_bytes_change", o->live_bytes, w->live_bytes);
	printf(",\"old_live_blocks\":%" PRIu64 ",\"new_live_blocks\":%" PRIu64, o->live_blocks, w->live_blocks);
	put_json_change("live_blocks_change", o->live_blocks, w->live_blocks);
	printf("},\n");
	printf("\"sites_grew\":%zu,\"sites_shrank\":%zu,\"sites_unchanged\":%zu,\n\"sites\":[", n_grew,
	       n - n_grew, n_unchanged);
	for (size_t i = 0; i < shown; i++) {
		const mp_site_series_t *s = ch[i].site;
		mp_report_t *r = mp_compare_report(c, s->last);
		char name[256];

		mp_site_name(r, s->trace, name, sizeof(name));
		printf("%s\n  {\"name\":", i ? "," : "");
		mp_put_json_string(name);
		printf(",\"status\":\"%s\",\"old_live_bytes\":%" PRIu64 ",\"new_live_bytes\":%" PRIu64,
		       status(&ch[i]), s->live_bytes[0], s->live_bytes[1]);
		put_json_change("live_bytes_change", s->live_bytes[0], s->live_bytes[1]);
		printf(",\"old_live_blocks\":%" PRIu64 ",\"new_live_blocks\":%" PRIu64, s->live_blocks[0],
		       s->live_blocks[1]);
		put_json_change("live_blocks_change", s->live_blocks[0], s->live_blocks[1]);
		printf(",\"n_frames\":%" PRIu32 ",\"frames\":", s->trace->n_frames);
		mp_put_json_frames(r, s->trace);
		putchar('}');
	}
	printf("]}\n");
}

int mp_cmd_diff(int argc, char **argv)
{
	mp_compare_t c = { .cmd = "diff" };
	mp_site_set_t set;
	struct change *ch = NULL;
	size_t n = 0, n_grew = 0, n_unchanged = 0;
	int rc = mp_compare_options(&c, argc, argv, mp_diff_help);

	if (rc >= 0)
		return rc;
	if (argc - optind != 2) {
		mp_error("diff: %s (usage: memprof diff [OPTIONS] OLD NEW)",
			 argc - optind < 2 ? "give two snapshots, OLD and NEW" : "give exactly two snapshots");
		return MP_EXIT_USAGE;
	}
	if ((rc = mp_compare_read(&c, argv + optind, 2)) != 0) {
		mp_compare_free(&c);
		return rc;
	}
	if (mp_site_set_build(&set, c.snaps, 2) < 0 ||
	    !(ch = calloc(set.n_sites ? set.n_sites : 1, sizeof(*ch)))) {
		mp_error("diff: out of memory");
		mp_site_set_free(&set);
		mp_compare_free(&c);
		return MP_EXIT_USAGE;
	}
	for (size_t i = 0; i < set.n_sites; i++) {
		const mp_site_series_t *s = set.sites[i];
		uint64_t b0 = s->live_bytes[0], b1 = s->live_bytes[1];
		uint64_t k0 = s->live_blocks[0], k1 = s->live_blocks[1];

		if (b0 == b1 && k0 == k1) {
			n_unchanged++;
			continue;
		}
		ch[n] = (struct change){
			.site = s,
			.bytes_change = b1 > b0 ? b1 - b0 : b0 - b1,
			.blocks_change = k1 > k0 ? k1 - k0 : k0 - k1,
			.grew = b1 != b0 ? b1 > b0 : k1 > k0,
		};
		n_grew += ch[n].grew;
		n++;
	}
	qsort(ch, n, sizeof(*ch), by_change);
	if (c.json)
		print_json(&c, ch, n, n_grew, n_unchanged);
	else
		print_text(&c, ch, n, n_grew, n_unchanged);
	rc = mp_compare_flush(c.cmd);
	free(ch);
	mp_site_set_free(&set);
	mp_compare_free(&c);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/* memprof export: a snapshot in the formats other tools read.
 *
 *   folded  one line per call stack, "outermost;...;innermost VALUE", for flamegraph.pl and
 *           speedscope; identical stacks after symbolization are merged.
 *   massif  valgrind massif's out-file format, for ms_print and massif-visualizer: one
 *           snapshot per TIMELINE point, the PEAK sites as massif's peak snapshot and the
 *           live blocks at the end as a detailed snapshot (heap trees keyed by code address,
 *           allocation site at the top as massif draws them).
 *   json    the report's JSON document with every site and every frame. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report_body.h"
#include "snapshot_format.h"
#include "snapshot_read.h"
#include "symbolize.h"
#include "text_out.h"

const char mp_export_help[] =
	"Usage: memprof export --format FORMAT [OPTIONS] SNAPSHOT\n"
	"Write a snapshot on standard output in a format other tools read.\n"
	"\n"
	"Formats:\n"
	"  folded      folded stacks for flamegraph.pl and speedscope\n"
	"  massif      valgrind massif's format, for ms_print and massif-visualizer\n"
	"  json        every site with every frame, symbolized (schema in memprof(1))\n"
	"\n"
	"Options:\n"
	"  --format FORMAT    folded, massif or json (required)\n"
	"  --value VALUE      folded: live (bytes in use, the default), allocated (bytes\n"
	"                     allocated), allocs (number of allocations) or leaked (bytes\n"
	"                     definitely and indirectly lost; needs a leak scan)\n"
	"  --no-symbols       module+offset frames; read no debug information\n"
	"  -h, --help         show this help and exit\n"
	"\n"
	"Exit status: 0, 1 if the output could not be written, 2 on a usage error or an\n"
	"unreadable snapshot.\n";

enum value { VALUE_LIVE, VALUE_ALLOCATED, VALUE_ALLOCS, VALUE_LEAKED };

struct exporter {
	const mp_snapshot_t *snap;
	mp_symbolizer_t *sym;
	enum value value;
	uint64_t *leaked; /* per trace index: definitely + indirectly lost bytes */
};

/* ---- folded ---- */

struct line {
	char *stack;
	uint64_t value;
};

/* Appends s to the growing buffer; in a name (not `raw`), the format's frame separator ';'
 * and control characters are replaced. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, bool raw)
{
	size_t n = strlen(s);

	if (*len + n + 2 > *cap) {
		size_t want = (*len + n + 2) * 2;
		char *p = realloc(*buf, want);

		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = want;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		(*buf)[(*len)++] = raw ? (char)c : c == ';' ? ':' : c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	(*buf)[*len] = '\0';
	return 0;
}

/* One frame line as "function" (or the report's module+offset text when unknown). */
static void frame_name(const struct exporter *e, const mp_frame_info_t *f, uint32_t j, char *buf,
		       size_t buf_bytes)
{
	if (f->lines[j].function)
		snprintf(buf, buf_bytes, "%s", f->lines[j].function);
	else
		mp_frame_format(e->snap, f, j, false, buf, buf_bytes);
}

static char *folded_stack(const struct exporter *e, const mp_snap_trace_t *t)
{
	char *buf = NULL, name[512];
	size_t len = 0, cap = 0;
	bool first = true;

	if (t->n_frames == 0)
		return append(&buf, &len, &cap, "[unknown]", true) < 0 ? NULL : buf;
	for (uint32_t i = t->n_frames; i-- > 0;) {
		const mp_frame_info_t *f = mp_symbolize(e->sym, t->frames[i]);

		/* lines[] is innermost first: the outermost (non-inlined) function comes last. */
		for (uint32_t j = f->n_lines; j-- > 0;) {
			frame_name(e, f, j, name, sizeof(name));
			if ((!first && append(&buf, &len, &cap, ";", true) < 0) ||
			    append(&buf, &len, &cap, name, false) < 0) {
				free(buf);
				return NULL;
			}
			first = false;
		}
	}
	return buf;
}

static uint64_t trace_value(const struct exporter *e, size_t i)
{
	const mp_snap_trace_t *t = &e->snap->traces[i];

	switch (e->value) {
	case VALUE_ALLOCATED: return t->bytes_allocated;
	case VALUE_ALLOCS: return t->allocs;
	case VALUE_LEAKED: return e->leaked[i];
	default: return mp_trace_live_bytes(t);
	}
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

static int export_folded(struct exporter *e)
{
	const mp_snapshot_t *s = e->snap;
	struct line *lines = calloc(s->n_traces ? s->n_traces : 1, sizeof(*lines));
	size_t n = 0;
	int rc = 0;

	if (!lines)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_traces && rc == 0; i++) {
		uint64_t v = trace_value(e, i);

		if (!v)
			continue;
		lines[n].stack = folded_stack(e, &s->traces[i]);
		lines[n].value = v;
		if (!lines[n].stack)
			rc = -ENOMEM;
		else
			n++;
	}
	qsort(lines, n, sizeof(*lines), by_stack);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t v = lines[i].value;

		while (i + 1 < n && strcmp(lines[i].stack, lines[i + 1].stack) == 0)
			v = mp_sat_add(v, lines[++i].value);
		printf("%s %" PRIu64 "\n", lines[i].stack, v);
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i].stack);
	free(lines);
	return rc;
}

/* ---- massif ---- */

/* A site of a heap tree: a trace and the bytes it holds in that snapshot. */
struct site {
	const mp_snap_trace_t *t;
	uint64_t bytes;
};

/* Sites sorted by their frames from frames[0] outward, so that sites sharing the first d
 * frames are neighbours at every depth d. */
static int by_frames(const void *pa, const void *pb)
{
	const mp_snap_trace_t *a = ((const struct site *)pa)->t, *b = ((const struct site *)pb)->t;
	uint32_t n = a->n_frames < b->n_frames ? a->n_frames : b->n_frames;

	for (uint32_t i = 0; i < n; i++)
		if (a->frames[i] != b->frames[i])
			return a->frames[i] < b->frames[i] ? -1 : 1;
	return (a->n_frames > b->n_frames) - (a->n_frames < b->n_frames);
}

struct group {
	size_t first, count;
	uint64_t bytes;
};

static int by_bytes_desc(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return (a->first > b->first) - (a->first < b->first);
}

/* Prints the children of the node at `depth` made of sites[first .. first+count): one child
 * per distinct frames[depth], largest first; sites with no frame at this depth end here. An
 * address whose calls were inlined is a chain of nodes, one per line, each the caller of the
 * one before (the inlined function first); `indent` is the tree depth of the first. */
static int massif_children(struct exporter *e, const struct site *sites, size_t first,
			   size_t count, uint32_t depth, int indent)
{
	struct group *groups;
	size_t n_groups = 0;
	char label[512];

	groups = calloc(count ? count : 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	for (size_t i = first; i < first + count; i++) {
		if (sites[i].t->n_frames <= depth)
			continue;
		if (n_groups && sites[groups[n_groups - 1].first].t->frames[depth] == sites[i].t->frames[depth]) {
			groups[n_groups - 1].count++;
			groups[n_groups - 1].bytes = mp_sat_add(groups[n_groups - 1].bytes, sites[i].bytes);
		} else
			groups[n_groups++] = (struct group){ i, 1, sites[i].bytes };
	}
	qsort(groups, n_groups, sizeof(*groups), by_bytes_desc);
	for (size_t g = 0; g < n_groups; g++) {
		const struct group *gr = &groups[g];
		uint64_t addr = sites[gr->first].t->frames[depth];
		const mp_frame_info_t *f = mp_symbolize(e->sym, addr);
		size_t n_children = 0;
		int rc;

		for (size_t i = gr->first; i < gr->first + gr->count; i++)
			if (sites[i].t->n_frames > depth + 1 &&
			    (i == gr->first || sites[i - 1].t->n_frames <= depth + 1 ||
			     sites[i - 1].t->frames[depth + 1] != sites[i].t->frames[depth + 1]))
				n_children++;
		for (uint32_t j = 0; j < f->n_lines; j++) {
			mp_frame_format(e->snap, f, j, false, label, sizeof(label));
			for (char *c = label; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = '?';
			printf("%*sn%zu: %" PRIu64 " 0x%" PRIx64 ": %s\n", indent + (int)j + 1, "",
			       j + 1 < f->n_lines ? (size_t)1 : n_children, gr->bytes, addr, label);
		}
		rc = massif_children(e, sites, gr->first, gr->count, depth + 1, indent + (int)f->n_lines);
		if (rc < 0) {
			free(groups);
			return rc;
		}
	}
	free(groups);
	return 0;
}

/* One massif snapshot: time in ms, heap bytes, and a heap tree ("empty", "detailed" or
 * "peak") of `sites` when n_sites is not 0 or the tree is wanted. */
static int massif_snapshot(struct exporter *e, unsigned *num, uint64_t time_ns, uint64_t heap_bytes,
			   const char *tree, struct site *sites, size_t n_sites)
{
	size_t roots = 0;
	uint64_t total = 0;
	bool empty = strcmp(tree, "empty") == 0;

	if (!empty) {
		qsort(sites, n_sites, sizeof(*sites), by_frames);
		for (size_t i = 0; i < n_sites; i++) {
			total = mp_sat_add(total, sites[i].bytes);
			if (sites[i].t->n_frames > 0 &&
			    (i == 0 || sites[i - 1].t->n_frames == 0 ||
			     sites[i - 1].t->frames[0] != sites[i].t->frames[0]))
				roots++;
		}
	}
	/* ms_print stops at a tree node larger than mem_heap_B: when the sites hold more than
	 * the heap figure says (PEAK's sites against its peak_bytes, the traces against
	 * TOTALS' live bytes, of a snapshot taken while threads ran), the sites win. */
	if (total > heap_bytes)
		heap_bytes = total;
	printf("#-----------\nsnapshot=%u\n#-----------\n", (*num)++);
	printf("time=%" PRIu64 "\nmem_heap_B=%" PRIu64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
	       time_ns / 1000000, heap_bytes);
	printf("heap_tree=%s\n", tree);
	if (empty)
		return 0;
	printf("n%zu: %" PRIu64 " (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n",
	       roots, total);
	return massif_children(e, sites, 0, n_sites, 0, 0);
}

static void put_cmdline(const mp_snapshot_t *s)
{
	if (s->meta.cmdline_bytes)
		mp_print_cmdline(&s->meta);
	else
		mp_put_sanitized(s->meta.exe, strlen(s->meta.exe));
}

static int export_massif(struct exporter *e)
{
	const mp_snapshot_t *s = e->snap;
	size_t cap = s->n_traces > s->n_peak_sites ? s->n_traces : s->n_peak_sites;
	struct site *sites = calloc(cap ? cap : 1, sizeof(*sites));
	unsigned num = 0;
	bool peak_done = !s->has_peak;
	size_t n = 0;
	int rc = 0;

	if (!sites)
		return -ENOMEM;
	printf("desc: memprof %s snapshot, pid %" PRIu32 "\ncmd: ", mp_snap_reason_name(s->meta.reason),
	       s->meta.pid);
	put_cmdline(s);
	printf("\ntime_unit: ms\n");
	if (!s->n_timeline || s->timeline[0].time_ns > 0)
		massif_snapshot(e, &num, 0, 0, "empty", NULL, 0);
	for (size_t i = 0; i <= s->n_timeline && rc == 0; i++) {
		uint64_t t = i < s->n_timeline ? s->timeline[i].time_ns : s->meta.run_time_ns;

		/* A capture stamped after the run time (by another clock) comes last, at t. */
		if (!peak_done && (s->peak_time_ns <= t || i == s->n_timeline)) {
			for (size_t k = 0; k < s->n_peak_sites; k++)
				sites[k] = (struct site){ mp_snapshot_trace(s, s->peak_sites[k].trace_id),
							  s->peak_sites[k].live_bytes };
			rc = massif_snapshot(e, &num, s->peak_time_ns < t ? s->peak_time_ns : t,
					     s->peak_bytes, "peak", sites, s->n_peak_sites);
			peak_done = true;
		}
		if (rc == 0 && i < s->n_timeline)
			rc = massif_snapshot(e, &num, t, s->timeline[i].live_bytes, "empty", NULL, 0);
	}
	for (size_t i = 0; i < s->n_traces; i++)
		if (mp_trace_live_bytes(&s->traces[i]))
			sites[n++] = (struct site){ &s->traces[i], mp_trace_live_bytes(&s->traces[i]) };
	if (rc == 0)
		rc = massif_snapshot(e, &num, s->meta.run_time_ns, s->totals.live_bytes, "detailed", sites, n);
	free(sites);
	return rc;
}

/* ---- the command ---- */

static int leaked_per_trace(struct exporter *e)
{
	const mp_snapshot_t *s = e->snap;

	e->leaked = calloc(s->n_traces ? s->n_traces : 1, sizeof(*e->leaked));
	if (!e->leaked)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_leaks; i++) {
		const mp_snap_leak_t *l = &s->leaks[i];
		const mp_snap_trace_t *t = mp_snapshot_trace(s, l->trace_id);

		if (l->kind == MP_LEAK_DEFINITE || l->kind == MP_LEAK_INDIRECT)
			e->leaked[t - s->traces] = mp_sat_add(e->leaked[t - s->traces], l->bytes);
	}
	return 0;
}

/* What parse_options() returns when the command is to go on. */
#define KEEP_GOING (-1)

/* Reads the options and checks the operands: sets *format, e->value and *symbols; returns
 * KEEP_GOING, or the command's exit status when it ends here (--help, a usage error). */
static int parse_options(int argc, char **argv, const char **format, struct exporter *e, bool *symbols)
{
	enum { OPT_FORMAT = 256, OPT_VALUE, OPT_NO_SYMBOLS };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "value", required_argument, NULL, OPT_VALUE },
		{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const values[] = { "live", "allocated", "allocs", "leaked" };
	const char *value = NULL;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "folded") && strcmp(optarg, "massif") && strcmp(optarg, "json")) {
				mp_error("export: --format wants folded, massif or json, not '%s'", optarg);
				return MP_EXIT_USAGE;
			}
			*format = optarg;
			break;
		case OPT_VALUE:
			value = optarg;
			for (c = 0; c < 4 && strcmp(optarg, values[c]); c++)
				;
			if (c == 4) {
				mp_error("export: --value wants live, allocated, allocs or leaked, not '%s'", optarg);
				return MP_EXIT_USAGE;
			}
			e->value = (enum value)c;
			break;
		case OPT_NO_SYMBOLS:
			*symbols = false;
			break;
		case 'h':
			fputs(mp_export_help, stdout);
			return 0;
		default:
			return mp_bad_option("export", c, argv, longopts);
		}
	}
	if (!*format) {
		mp_error("export: --format is required (folded, massif or json)");
		return MP_EXIT_USAGE;
	}
	if (value && strcmp(*format, "folded") != 0) {
		mp_error("export: --value applies to --format folded only");
		return MP_EXIT_USAGE;
	}
	if (argc - optind != 1) {
		mp_error("export: %s (usage: memprof export --format FORMAT SNAPSHOT)",
			 argc == optind ? "no snapshot given" : "give exactly one snapshot");
		return MP_EXIT_USAGE;
	}
	return KEEP_GOING;
}

/* Writes the snapshot at `path` in `format` (e->value set); returns the exit status. */
static int export_path(const char *path, const char *format, struct exporter *e, bool symbols)
{
	mp_snapshot_t snap;
	char err[512];
	int rc;

	if (mp_snapshot_read(path, &snap, err, sizeof(err)) < 0) {
		mp_error("%s", err);
		return MP_EXIT_USAGE;
	}
	if (strcmp(format, "json") == 0) {
		mp_report_t r = {
			.path = path,
			.top = UINT64_MAX,
			.frames = MP_SNAP_MAX_FRAMES,
			.sort = MP_SORT_ALL,
			.show_leak_kinds = MP_LEAK_KINDS_ALL, /* every loss record too */
		};

		rc = mp_report_snapshot(&r, &snap, true, symbols);
		mp_snapshot_free(&snap);
		return rc;
	}
	e->snap = &snap;
	if (e->value == VALUE_LEAKED && !snap.has_leaks) {
		mp_error("export: %s has no leak scan (snapshots taken at exit or by "
			 "memprof_leak_check() have one)", path);
		mp_snapshot_free(&snap);
		return MP_EXIT_USAGE;
	}
	e->sym = mp_symbolizer_new(&snap, symbols);
	rc = e->sym ? leaked_per_trace(e) : -ENOMEM;
	if (rc == 0)
		rc = strcmp(format, "folded") == 0 ? export_folded(e) : export_massif(e);
	mp_symbolizer_free(e->sym);
	free(e->leaked);
	mp_snapshot_free(&snap);
	if (rc < 0) {
		mp_error("export: out of memory");
		return MP_EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mp_error("export: cannot write the output: %m");
		return 1;
	}
	return 0;
}

int mp_cmd_export(int argc, char **argv)
{
	const char *format = NULL;
	struct exporter e = { .value = VALUE_LIVE };
	bool symbols = true;
	int rc = parse_options(argc, argv, &format, &e, &symbols);

	if (rc != KEEP_GOING)
		return rc;
	return export_path(argv[optind], format, &e, symbols);
}

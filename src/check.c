/* SPDX-License-Identifier: MIT */
/* memprof check: a leak and memory-budget gate for CI. Each snapshot is checked against the
 * rules given (leak kinds that must not appear beyond a tolerance, limits on the peak and on
 * what is in use, growth against a baseline snapshot); the exit status says whether every
 * rule held, and the output names the rule that broke and the loss records or sites that
 * broke it, as text, JSON or JUnit XML. `memprof run --check` runs the same gate on the
 * snapshots of the program it ran. */
#include "check.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "numfmt.h"
#include "json_out.h"
#include "report_leaks.h"
#include "report_time.h"
#include "sites.h"
#include "snapshot_format.h"
#include "suppress.h"
#include "text_out.h"

const char mp_check_help[] =
	"Usage: memprof check [OPTIONS] SNAPSHOT...\n"
	"Check snapshots against leak and memory rules, for CI: exit 0 when every rule\n"
	"holds for every snapshot, 1 (or --error-exitcode) when one fails (printing which,\n"
	"and the loss records or sites responsible), 2 on a usage error or an unreadable\n"
	"snapshot.\n"
	"\n"
	"Options:\n"
	MP_CHECK_RULES_HELP
	"  --format FORMAT        text (default), json or junit (JUnit XML: one test case\n"
	"                         per snapshot, one failure per broken rule)\n"
	"  --frames N             frames shown per loss record or site (default 8)\n"
	MP_BELOW_MAIN_HELP
	MP_FULL_NAMES_HELP
	MP_FULL_STACKS_HELP
	"  --no-symbols           module+offset frames; read no debug information\n"
	"  --error-exitcode N     exit status when a rule fails, 1 to 255 (default 1)\n"
	"  -h, --help             show this help and exit\n"
	"\n"
	"valgrind's --errors-for-leak-kinds=KINDS is --fail-on KINDS.\n"
	"\n"
	"Sizes take a K, M or G suffix (powers of 1024): --max-peak 64M.\n";

/* ---- rules ---- */

int mp_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	/* strtoull() would skip blanks and take a sign: " -1" would be 2^64 - 1. */
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: break;
	}
	if (mul > 1 && *end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return -EINVAL;
	*out = (uint64_t)v * mul;
	return 0;
}

void mp_check_rules_init(mp_check_rules_t *rules)
{
	memset(rules, 0, sizeof(*rules));
	rules->fail_on = MP_LEAK_KIND_BIT(MP_LEAK_DEFINITE) | MP_LEAK_KIND_BIT(MP_LEAK_INDIRECT);
	rules->frames = 8;
	rules->symbols = true;
}

int mp_check_rule_option(mp_check_rules_t *rules, const char *cmd, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case MP_CHECK_OPT_FAIL_ON:
		if (mp_parse_leak_kinds(arg, &rules->fail_on) < 0) {
			mp_error("%s: --fail-on wants all, none or a comma list of definite, indirect, "
				 "possible, reachable, not '%s'", cmd, arg);
			return -1;
		}
		rules->fail_on_given = true;
		return 0;
	case MP_CHECK_OPT_MAX_LEAKED:
	case MP_CHECK_OPT_MAX_PEAK:
	case MP_CHECK_OPT_MAX_IN_USE:
		if (mp_parse_size(arg, &v) < 0) {
			mp_error("%s: %s wants a size in bytes (with K, M or G), not '%s'", cmd,
				 opt == MP_CHECK_OPT_MAX_LEAKED ? "--max-leaked" :
				 opt == MP_CHECK_OPT_MAX_PEAK ? "--max-peak" : "--max-in-use", arg);
			return -1;
		}
		if (opt == MP_CHECK_OPT_MAX_LEAKED)
			rules->max_leaked = v;
		else if (opt == MP_CHECK_OPT_MAX_PEAK)
			rules->max_peak = v, rules->has_max_peak = true;
		else
			rules->max_in_use = v, rules->has_max_in_use = true;
		return 0;
	case MP_CHECK_OPT_BASELINE:
		rules->baseline = arg;
		return 0;
	case MP_CHECK_OPT_MAX_GROWTH: {
		char *end;
		double pct;

		errno = 0;
		pct = strtod(arg, &end);
		if (errno || end == arg || (*end && strcmp(end, "%") != 0) || !(pct >= 0) || pct > 1e9) {
			mp_error("%s: --max-growth wants a percentage (0 or more), not '%s'", cmd, arg);
			return -1;
		}
		rules->max_growth_pct = pct;
		rules->has_max_growth = true;
		return 0;
	}
	case MP_CHECK_OPT_SUPPRESSIONS: {
		char err[512];

		if (mp_supp_load(&rules->supps, arg, err, sizeof(err)) < 0) {
			mp_error("%s", err);
			return -1;
		}
		return 0;
	}
	default:
		return 1;
	}
}

int mp_check_rules_validate(const mp_check_rules_t *rules, const char *cmd)
{
	if (rules->has_max_growth != (rules->baseline != NULL)) {
		mp_error("%s: --baseline and --max-growth go together", cmd);
		return -1;
	}
	return 0;
}

void mp_check_rules_free(mp_check_rules_t *rules)
{
	mp_supp_free(&rules->supps);
}

/* ---- evaluation ---- */

enum rule_id { RULE_LEAKS, RULE_IN_USE, RULE_PEAK, RULE_GROWTH_IN_USE, RULE_GROWTH_PEAK };

static const char *const rule_names[] = {
	[RULE_LEAKS] = "leaks",
	[RULE_IN_USE] = "max-in-use",
	[RULE_PEAK] = "max-peak",
	[RULE_GROWTH_IN_USE] = "growth-in-use",
	[RULE_GROWTH_PEAK] = "growth-peak",
};

struct result {
	enum rule_id rule;
	bool passed;
	uint64_t value, limit;
	char message[256];
};

struct checked {
	const char *path;
	bool skipped; /* taken while the program ran, and the rules are for the end of a run */
	bool killed;  /* skipped too: memprof run's program ended, this process died of a signal */
	char *name;   /* the test case's name (JUnit, JSON): the file's, or the program's */
	mp_snapshot_t snap;
	mp_report_t r;
	struct result results[5];
	size_t n_results;
	bool passed;
	char *out; /* this snapshot's part of the output, written once it is checked */
};

static void add_result(struct checked *c, enum rule_id rule, uint64_t value, uint64_t limit,
		       const char *what)
{
	struct result *res = &c->results[c->n_results++];
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];

	res->rule = rule;
	res->value = value;
	res->limit = limit;
	res->passed = value <= limit;
	snprintf(res->message, sizeof(res->message), "%s: %s bytes (limit %s)", what,
		 mp_fmt_u64(value, a), mp_fmt_u64(limit, b));
	if (!res->passed)
		c->passed = false;
}

/* base plus pct percent of it, rounded down. Only the growth goes through a double: base
 * itself stays exact above 2^53, so --max-growth 0 lets the same bytes pass. */
static uint64_t grown_limit(uint64_t base, double pct)
{
	double growth = (double)base * (pct / 100.0);
	uint64_t g = growth >= 1.8e19 ? UINT64_MAX : (uint64_t)growth;

	return mp_sat_add(base, g);
}

/* The loss records that broke the leak rule: unsuppressed, of a --fail-on kind. */
static bool record_counts(const mp_check_rules_t *rules, const mp_loss_record_t *rec)
{
	return !rec->suppressed_by && rec->leak->kind < 32 &&
	       (rules->fail_on & MP_LEAK_KIND_BIT(rec->leak->kind));
}

/* The i-th loss record that broke the leak rule, in memcheck's order of kinds (definitely
 * lost first, then indirectly, possibly, still reachable: a definite record before the
 * indirect ones it owns), the largest first within a kind; NULL past the last. The records
 * are in memcheck's order, ascending by size. */
static const mp_loss_record_t *culprit(const mp_check_rules_t *rules, const mp_report_t *r, size_t i)
{
	for (uint32_t k = MP_LEAK_DEFINITE; k >= MP_LEAK_REACHABLE; k--) {
		for (size_t j = r->n_records; j-- > 0;) {
			const mp_loss_record_t *rec = &r->records[j];

			if (rec->leak->kind == k && record_counts(rules, rec) && i-- == 0)
				return rec;
		}
	}
	return NULL;
}

/* Reads one snapshot and evaluates every rule; 0, or -1 after printing why it could not. */
static int check_one(const mp_check_rules_t *rules, const mp_snapshot_t *base, struct checked *c)
{
	char err[512];
	mp_snap_totals_t *t = &c->snap.totals;

	if (mp_snapshot_read(c->path, &c->snap, err, sizeof(err)) < 0) {
		mp_error("%s", err);
		return -1;
	}
	c->passed = true;
	if (rules->final_only &&
	    (c->snap.meta.reason == MP_REASON_INTERVAL || c->snap.meta.reason == MP_REASON_REQUEST ||
	     c->snap.meta.reason == MP_REASON_SIGNAL)) {
		c->skipped = true;
		return 0;
	}
	if (rules->final_only && c->snap.meta.reason == MP_REASON_FATAL_SIGNAL) {
		/* Under memprof run, whose program exited (it does not judge a killed one): a child
		 * that died of a signal left no leak scan. It is named, and the gate judges the
		 * others, as the program's own status would. */
		c->skipped = c->killed = true;
		return 0;
	}
	c->r = (mp_report_t){
		.path = c->path,
		.snap = &c->snap,
		.top = 5,
		.frames = rules->frames,
		.below_main = rules->below_main,
		.width = mp_output_width(),
		.full_names = rules->full_names,
		.full_stacks = rules->full_stacks,
		.sort = MP_SORT_ALL,
		.show_leak_kinds = rules->fail_on,
		.supps = (mp_supp_set_t *)&rules->supps,
	};
	c->r.kept = malloc((c->snap.n_traces ? c->snap.n_traces : 1) * sizeof(*c->r.kept));
	c->r.ranked = malloc((c->snap.n_traces ? c->snap.n_traces : 1) * sizeof(*c->r.ranked));
	c->r.sym = mp_symbolizer_new(&c->snap, rules->symbols);
	if (!c->r.kept || !c->r.ranked || !c->r.sym) {
		mp_error("%s: out of memory", c->path);
		return -1;
	}
	for (size_t i = 0; i < c->snap.n_traces; i++)
		c->r.kept[c->r.n_kept++] = &c->snap.traces[i];
	if (rules->fail_on) {
		uint64_t leaked = 0;
		char kinds[64] = "";

		if (!c->snap.has_leaks && (c->snap.leaks_flags & MP_LEAKS_UNDECIDED)) {
			mp_error("%s: the leak scan gave no verdict (it could not tell all of the "
				 "profiler's memory from the program's)", c->path);
			return -1;
		}
		if (!c->snap.has_leaks) {
			mp_error("%s: no leak scan in this snapshot (%s); use --fail-on none to check "
				 "sizes only", c->path,
				 c->snap.meta.reason == MP_REASON_FATAL_SIGNAL
					 ? "the program died of a signal"
					 : "taken while the program ran, or with MEMPROF_LEAK_CHECK=0");
			return -1;
		}
		if (mp_leak_records_build(&c->r) < 0) {
			mp_error("%s: out of memory", c->path);
			return -1;
		}
		/* Saturating: a sum that wrapped around past 2^64 would pass any limit. */
		for (size_t i = 0; i < c->r.n_records; i++)
			if (record_counts(rules, &c->r.records[i]))
				leaked = mp_sat_add(leaked, c->r.records[i].leak->bytes);
		for (uint32_t k = MP_LEAK_DEFINITE; k >= MP_LEAK_REACHABLE; k--)
			if (rules->fail_on & MP_LEAK_KIND_BIT(k)) {
				snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s",
					 kinds[0] ? "+" : "", mp_leak_kind_keyword(k));
			}
		add_result(c, RULE_LEAKS, leaked, rules->max_leaked, kinds);
	}
	if (rules->has_max_in_use)
		add_result(c, RULE_IN_USE, t->live_bytes, rules->max_in_use, "in use");
	if (rules->has_max_peak)
		add_result(c, RULE_PEAK, t->peak_bytes, rules->max_peak, "peak");
	if (base) {
		add_result(c, RULE_GROWTH_IN_USE, t->live_bytes,
			   grown_limit(base->totals.live_bytes, rules->max_growth_pct), "in use vs baseline");
		add_result(c, RULE_GROWTH_PEAK, t->peak_bytes,
			   grown_limit(base->totals.peak_bytes, rules->max_growth_pct), "peak vs baseline");
	}
	return 0;
}

/* c's test case name for the JSON and JUnit output, made unique among the first i (by " #2",
 * " #3": processes of one command line in the order they wrote). */
static int name_case(const mp_check_rules_t *rules, struct checked *all, size_t i)
{
	struct checked *c = &all[i];
	const mp_snap_meta_t *m = &c->snap.meta;
	char *base = NULL, *name = NULL;
	size_t len = 0;
	FILE *f;

	if (!rules->name_by_program)
		return (c->name = strdup(c->path)) ? 0 : -1;
	if (c->skipped && !c->killed)
		return 0; /* run's snapshots taken while the program ran are no test case of theirs */
	if (!(f = open_memstream(&base, &len)))
		return -1;
	if (rules->name)
		fputs(rules->name, f);
	for (size_t k = 0; !rules->name && k < m->cmdline_bytes; k++)
		fputc(m->cmdline[k] ? m->cmdline[k] : ' ', f);
	if (m->flags & MP_META_FORK_CHILD)
		fputs(" (fork child)", f);
	if (fclose(f) != 0 || !base) {
		free(base);
		return -1;
	}
	for (unsigned dup = 1;; dup++) {
		bool taken = false;

		free(name);
		if (dup == 1 ? !(name = strdup(base)) : asprintf(&name, "%s #%u", base, dup) < 0) {
			free(base);
			return -1;
		}
		for (size_t j = 0; j < i && !taken; j++)
			taken = all[j].name && strcmp(all[j].name, name) == 0;
		if (!taken)
			break;
	}
	free(base);
	c->name = name;
	return 0;
}

static void free_checked(struct checked *c)
{
	mp_leak_records_free(&c->r);
	mp_symbolizer_free(c->r.sym);
	free(c->r.kept);
	free(c->r.ranked);
	mp_snapshot_free(&c->snap);
}

static void print_record_line(FILE *out, const mp_loss_record_t *rec)
{
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES], c[MP_FMT_U64_BYTES], d[MP_FMT_U64_BYTES];
	const mp_snap_leak_t *l = rec->leak;

	if (l->indirect_bytes)
		fprintf(out, "%s (%s direct, %s indirect) bytes in %s blocks are %s\n",
			mp_fmt_u64(l->bytes + l->indirect_bytes, a), mp_fmt_u64(l->bytes, b),
			mp_fmt_u64(l->indirect_bytes, c), mp_fmt_u64(l->blocks, d),
			mp_leak_kind_name(l->kind));
	else
		fprintf(out, "%s bytes in %s blocks are %s\n", mp_fmt_u64(l->bytes, a),
			mp_fmt_u64(l->blocks, b), mp_leak_kind_name(l->kind));
}

/* Prints what broke `res`: loss records, or the top sites by live bytes or at the peak. */
static void print_culprits(const mp_check_rules_t *rules, struct checked *c, const struct result *res)
{
	mp_report_t *r = &c->r;

	if (res->rule == RULE_LEAKS) {
		const mp_loss_record_t *rec;

		for (size_t i = 0; (rec = culprit(rules, r, i)); i++) {
			print_record_line(stdout, rec);
			mp_print_frames(r, rec->trace);
		}
		return;
	}
	size_t n;

	/* A peak too high is the doing of the sites that held the memory then, which may have
	 * freed it all by the end. */
	if ((res->rule == RULE_PEAK || res->rule == RULE_GROWTH_PEAK) && c->snap.has_peak) {
		const mp_snap_peak_site_t **sites = malloc((c->snap.n_peak_sites ? c->snap.n_peak_sites : 1) *
							    sizeof(*sites));

		if (!sites)
			return;
		n = mp_report_peak_sites(r, sites);
		printf("largest sites at the peak:\n");
		for (size_t i = 0; i < n && i < 3; i++) {
			char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];

			printf("%s bytes in %s blocks\n", mp_fmt_u64(sites[i]->live_bytes, a),
			       mp_fmt_u64(sites[i]->live_blocks, b));
			mp_print_frames(r, mp_snapshot_trace(&c->snap, sites[i]->trace_id));
		}
		free(sites);
		return;
	}
	n = mp_report_rank(r, &mp_site_tables[0]);
	printf("largest sites by live bytes at the end:\n");
	for (size_t i = 0; i < n && i < 3; i++) {
		char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];

		printf("%s bytes in %s blocks\n", mp_fmt_u64(mp_trace_live_bytes(r->ranked[i]), a),
		       mp_fmt_u64(mp_trace_live_blocks(r->ranked[i]), b));
		mp_print_frames(r, r->ranked[i]);
	}
}

/* ---- output ----
 * Each snapshot's part of the output is written as soon as it is checked (into c->out), and
 * the snapshot freed: a symbolizer keeps its module files open, and the snapshots of a long
 * --interval run outnumber the descriptors a process may have. */

/* PASS green, FAIL red, NOTE yellow, for a person at a terminal. */
static const char *verdict(const mp_check_rules_t *rules, const char *word)
{
	if (!rules->color)
		return word;
	return word[0] == 'P' ? "\033[32mPASS\033[0m" : word[0] == 'F' ? "\033[1;31mFAIL\033[0m"
								  : "\033[33mNOTE\033[0m";
}

static void text_part(const mp_check_rules_t *rules, struct checked *c)
{
	if (c->killed) {
		printf("%s ", verdict(rules, "NOTE"));
		mp_put_sanitized(c->path, strlen(c->path));
		printf(": not checked: process %" PRIu32 " was killed by ", c->snap.meta.pid);
		mp_put_sanitized(c->snap.meta.label, strlen(c->snap.meta.label));
		putchar('\n');
	}
	if (c->skipped)
		return;
	for (size_t k = 0; k < c->n_results; k++) {
		const struct result *res = &c->results[k];

		printf("%s ", verdict(rules, res->passed ? "PASS" : "FAIL"));
		mp_put_sanitized(c->path, strlen(c->path));
		printf(" %s: %s\n", rule_names[res->rule], res->message);
		if (!res->passed)
			print_culprits(rules, c, res);
	}
	if (!c->n_results) {
		printf("%s ", verdict(rules, "PASS"));
		mp_put_sanitized(c->path, strlen(c->path));
		printf(": no rule to check\n");
	}
}

static void print_text(struct checked *all, size_t n)
{
	size_t failed = 0, skipped = 0, killed = 0;

	for (size_t i = 0; i < n; i++) {
		failed += !all[i].passed;
		skipped += all[i].skipped;
		killed += all[i].killed;
		fputs(all[i].out, stdout);
	}
	printf("memprof check: %zu of %zu snapshots passed", n - failed - skipped, n - skipped);
	if (skipped - killed)
		printf(" (%zu taken while the program ran not checked)", skipped - killed);
	if (killed)
		printf(" (%zu of processes killed by a signal, not checked)", killed);
	putchar('\n');
}

static void json_part(const mp_check_rules_t *rules, struct checked *c)
{
	if (!c->name)
		return;
	printf("\n {\"path\":");
	mp_put_json_string(c->path);
	printf(",\"name\":");
	mp_put_json_string(c->name);
	if (c->killed) {
		printf(",\"killed_by\":");
		mp_put_json_string(c->snap.meta.label);
	}
	printf(",\"passed\":%s,\"rules\":[", c->passed ? "true" : "false");
	for (size_t k = 0; k < c->n_results; k++) {
		const struct result *res = &c->results[k];

		printf("%s{\"rule\":\"%s\",\"passed\":%s,\"value\":%" PRIu64 ",\"limit\":%" PRIu64
		       ",\"message\":",
		       k ? "," : "", rule_names[res->rule], res->passed ? "true" : "false",
		       res->value, res->limit);
		mp_put_json_string(res->message);
		if (res->rule == RULE_LEAKS) {
			const mp_loss_record_t *rec;
			bool first = true;

			printf(",\"loss_records\":[");
			for (size_t j = 0; (rec = culprit(rules, &c->r, j)); j++) {
				char name[256];

				mp_site_name(&c->r, rec->trace, name, sizeof(name));
				printf("%s{\"kind\":\"%s\",\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64
				       ",\"indirect_bytes\":%" PRIu64 ",\"trace_id\":%" PRIu32 ",\"site\":",
				       first ? "" : ",", mp_leak_kind_keyword(rec->leak->kind),
				       rec->leak->bytes, rec->leak->blocks, rec->leak->indirect_bytes,
				       rec->trace->id);
				mp_put_json_string(name);
				putchar('}');
				first = false;
			}
			putchar(']');
		}
		putchar('}');
	}
	printf("]}");
}

static void print_json(struct checked *all, size_t n)
{
	bool passed = true;

	for (size_t i = 0; i < n; i++)
		passed = passed && all[i].passed;
	printf("{\"passed\":%s,\"snapshots\":[", passed ? "true" : "false");
	for (size_t i = 0, first = 1; i < n; i++) {
		if (!all[i].out[0])
			continue;
		printf("%s%s", first ? "" : ",", all[i].out);
		first = 0;
	}
	printf("]}\n");
}

static void xml_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '&': fputs("&amp;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		default:
			/* XML 1.0 allows no control characters but tab and newline. */
			putchar(*p < 0x20 && *p != '\t' && *p != '\n' ? '?' : *p);
		}
	}
}

void mp_check_print_unchecked(const char *name, const char *why, enum mp_check_format format)
{
	if (format == MP_CHECK_JSON) {
		printf("{\"passed\":false,\"error\":");
		mp_put_json_string(why);
		printf(",\"name\":");
		mp_put_json_string(name);
		printf(",\"snapshots\":[]}\n");
		return;
	}
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	printf("<testsuites name=\"memprof check\" tests=\"1\" failures=\"1\">\n");
	printf("  <testsuite name=\"memprof check\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">\n");
	printf("    <testcase classname=\"memprof\" name=\"");
	xml_text(name);
	printf("\">\n      <failure type=\"not-checked\" message=\"");
	xml_text(why);
	printf("\"/>\n    </testcase>\n  </testsuite>\n</testsuites>\n");
}

/* The culprits of a failed rule as plain text, for the body of a JUnit <failure>. */
static void junit_details(const mp_check_rules_t *rules, struct checked *c, const struct result *res)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	FILE *saved = stdout;

	if (!mem)
		return;
	/* The frame printers write to stdout: point it at the memory stream meanwhile. */
	fflush(stdout);
	stdout = mem;
	print_culprits(rules, c, res);
	fflush(mem);
	stdout = saved;
	fclose(mem);
	if (text)
		xml_text(text);
	free(text);
}

static void junit_part(const mp_check_rules_t *rules, struct checked *c)
{
	if (!c->name)
		return;
	printf("    <testcase classname=\"memprof\" name=\"");
	xml_text(c->name);
	printf("\">\n");
	if (c->killed) {
		printf("      <skipped message=\"killed by ");
		xml_text(c->snap.meta.label);
		printf("; not checked\"/>\n");
	}
	for (size_t k = 0; k < c->n_results; k++) {
		const struct result *res = &c->results[k];

		if (res->passed)
			continue;
		printf("      <failure type=\"%s\" message=\"", rule_names[res->rule]);
		xml_text(res->message);
		printf("\">");
		junit_details(rules, c, res);
		printf("</failure>\n");
	}
	printf("    </testcase>\n");
}

static void print_junit(struct checked *all, size_t n)
{
	size_t failures = 0, skipped = 0, tests = 0;

	for (size_t i = 0; i < n; i++) {
		failures += !all[i].passed;
		skipped += all[i].killed;
		tests += all[i].out[0] != '\0';
	}
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	printf("<testsuites name=\"memprof check\" tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
	printf("  <testsuite name=\"memprof check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	       "skipped=\"%zu\">\n", tests, failures, skipped);
	for (size_t i = 0; i < n; i++)
		fputs(all[i].out, stdout);
	printf("  </testsuite>\n</testsuites>\n");
}

/* Writes snapshot i's part of the output into c->out; 0, or -1 when out of memory. */
static int render_part(const mp_check_rules_t *rules, struct checked *c,
		       enum mp_check_format format)
{
	size_t len = 0;
	FILE *mem = open_memstream(&c->out, &len);
	FILE *saved = stdout;

	if (!mem)
		return -1;
	/* The frame printers write to stdout: point it at the memory stream meanwhile. */
	fflush(stdout);
	stdout = mem;
	if (format == MP_CHECK_JSON)
		json_part(rules, c);
	else if (format == MP_CHECK_JUNIT)
		junit_part(rules, c);
	else
		text_part(rules, c);
	stdout = saved;
	if (fclose(mem) != 0 || !c->out)
		return -1;
	return 0;
}

int mp_check_snapshots(const mp_check_rules_t *rules, char *const *paths, size_t n,
		       enum mp_check_format format)
{
	struct checked *all = calloc(n ? n : 1, sizeof(*all));
	mp_snapshot_t base = { 0 };
	bool have_base = false, passed = true;
	int rc = 0;

	if (!all) {
		mp_error("check: out of memory");
		return MP_EXIT_USAGE;
	}
	if (rules->baseline) {
		char err[512];

		if (mp_snapshot_read(rules->baseline, &base, err, sizeof(err)) < 0) {
			mp_error("%s", err);
			free(all);
			return MP_EXIT_USAGE;
		}
		have_base = true;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		all[i].path = paths[i];
		if (check_one(rules, have_base ? &base : NULL, &all[i]) < 0)
			rc = MP_EXIT_USAGE;
		else if (name_case(rules, all, i) < 0 || render_part(rules, &all[i], format) < 0) {
			mp_error("check: out of memory");
			rc = MP_EXIT_USAGE;
		}
		passed = passed && all[i].passed;
		free_checked(&all[i]);
	}
	size_t checked = 0;

	for (size_t i = 0; i < n; i++)
		checked += !all[i].skipped;
	if (rc == 0 && checked == 0) {
		/* run --check after a program that only left snapshots taken while it ran (it
		 * exec'd another program, for one): nothing says how the run ended. */
		mp_error("check: no snapshot taken as the program ended, only while it ran");
		rc = MP_EXIT_USAGE;
	}
	if (rc == 0) {
		if (format == MP_CHECK_JSON)
			print_json(all, n);
		else if (format == MP_CHECK_JUNIT)
			print_junit(all, n);
		else
			print_text(all, n);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			mp_error("check: cannot write the output: %m");
			rc = MP_EXIT_USAGE;
		} else
			rc = passed ? 0 : 1;
	}
	for (size_t i = 0; i < n; i++) {
		free(all[i].out);
		free(all[i].name);
	}
	free(all);
	if (have_base)
		mp_snapshot_free(&base);
	return rc;
}

int mp_cmd_check(int argc, char **argv)
{
	enum { OPT_FORMAT = MP_CHECK_OPT_LAST + 1, OPT_FRAMES, OPT_NO_SYMBOLS, OPT_ERROR_EXITCODE, OPT_BELOW_MAIN, OPT_FULL_NAMES, OPT_FULL_STACKS };
	static const struct option longopts[] = {
		MP_CHECK_LONGOPTS,
		{ "error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "show-below-main", optional_argument, NULL, OPT_BELOW_MAIN },
		{ "full-names", no_argument, NULL, OPT_FULL_NAMES },
		{ "full-stacks", no_argument, NULL, OPT_FULL_STACKS },
		{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum mp_check_format format = MP_CHECK_TEXT;
	mp_check_rules_t rules;
	uint64_t error_exitcode = 1;
	int c, rc;

	mp_check_rules_init(&rules);
	rules.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				format = MP_CHECK_TEXT;
			else if (strcmp(optarg, "json") == 0)
				format = MP_CHECK_JSON;
			else if (strcmp(optarg, "junit") == 0)
				format = MP_CHECK_JUNIT;
			else {
				mp_error("check: --format wants text, json or junit, not '%s'", optarg);
				goto usage;
			}
			break;
		case OPT_FULL_NAMES:
			rules.full_names = true;
			break;
		case OPT_FULL_STACKS:
			rules.full_stacks = true;
			break;
		case OPT_BELOW_MAIN:
			if (mp_parse_below_main("check", optarg, &rules.below_main) < 0)
				goto usage;
			break;
		case OPT_FRAMES:
			if (mp_parse_uint(optarg, 0, MP_SNAP_MAX_FRAMES, &rules.frames) < 0) {
				mp_error("check: --frames wants a number from 0 to %u, not '%s'",
					 MP_SNAP_MAX_FRAMES, optarg);
				goto usage;
			}
			break;
		case OPT_NO_SYMBOLS:
			rules.symbols = false;
			break;
		case OPT_ERROR_EXITCODE:
			if (mp_parse_uint(optarg, 1, 255, &error_exitcode) < 0) {
				mp_error("check: --error-exitcode wants a number from 1 to 255, not '%s'", optarg);
				goto usage;
			}
			break;
		case 'h':
			fputs(mp_check_help, stdout);
			mp_check_rules_free(&rules);
			return 0;
		default:
			rc = mp_check_rule_option(&rules, "check", c, optarg);
			if (rc < 0)
				goto usage;
			if (rc > 0) {
				mp_check_rules_free(&rules);
				return mp_bad_option("check", c, argv, longopts);
			}
		}
	}
	if (mp_check_rules_validate(&rules, "check") < 0)
		goto usage;
	if (optind == argc) {
		mp_error("check: no snapshot given (usage: memprof check [OPTIONS] SNAPSHOT...)");
		goto usage;
	}
	rc = mp_check_snapshots(&rules, argv + optind, (size_t)(argc - optind), format);
	mp_check_rules_free(&rules);
	return rc == 1 ? (int)error_exitcode : rc;
usage:
	mp_check_rules_free(&rules);
	return MP_EXIT_USAGE;
}

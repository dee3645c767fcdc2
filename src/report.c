/* SPDX-License-Identifier: MIT */
/* memprof report: parses the command's options and hands them to report_body.c, which
 * prints the report. */
#include "report.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report_body.h"
#include "sites.h"
#include "snapshot_format.h"
#include "suppress.h"
#include "text_out.h"

const char mp_report_help[] =
	"Usage: memprof report [OPTIONS] SNAPSHOT\n"
	"Print the heap summary of SNAPSHOT (a file written by libmemprof.so), one table of\n"
	"its top allocation sites (the first of each list: live bytes, allocations, bytes\n"
	"allocated, temporary ones with every block freed, the peak; each site once, with\n"
	"its stack), a chart of live bytes by site, the heap over time and a histogram of\n"
	"allocation sizes. Frames are symbolized from the modules' files.\n"
	"When a leak check ran, its loss records and LEAK SUMMARY come first, in memcheck's\n"
	"words.\n"
	"\n"
	"Options:\n"
	"  --top N            show the N biggest sites of each list (default 10; 0: no\n"
	"                     lists of sites)\n"
	"  --sort KEY         show only one list: live, allocs, bytes, temporary or peak;\n"
	"                     leaks: the same as --leaks\n"
	"  --leaks            print only the summaries and the loss records (for CI logs)\n"
	"  --frames N         show at most N frames of each site's stack (default 12),\n"
	"                     inlined calls included\n"
	MP_BELOW_MAIN_HELP
	MP_FULL_NAMES_HELP
	MP_FULL_STACKS_HELP
	"  --filter PATTERN   keep only sites with a frame whose function, source file or\n"
	"                     module contains PATTERN\n"
	"  --no-symbols       show frames as module+offset, without reading any module\n"
	"  --no-color         no bold titles, even on a terminal\n"
	"  --format FORMAT    text (default) or json\n"
	"  --show-leak-kinds SET  list the loss records of these kinds: definite,\n"
	"                     indirect, possible, reachable (comma-separated), all or\n"
	"                     none (default definite,possible)\n"
	"  --suppressions FILE  leave out the loss records that FILE's suppressions\n"
	"                     match (memcheck's or LeakSanitizer's format); repeatable\n"
	"  --gen-suppressions[=all|yes|no]  print a memcheck suppression after each loss\n"
	"                     record (all and yes: print them; no: do not)\n"
	"  --leak-check=full|summary  summary: list no loss records, only the LEAK\n"
	"                     SUMMARY (unless --show-leak-kinds says otherwise)\n"
	"  --num-callers N    valgrind's name for --frames\n"
	"  --since OLD        OLD is an earlier leak check of the same process: list only\n"
	"                     the loss records that are new or grew since, with their\n"
	"                     growth, as memcheck's leak_check increased\n"
	"  -h, --help         show this help and exit\n"
	"\n"
	"Exit status: 0, 1 if the output could not be written, 2 on a usage error or an\n"
	"unreadable snapshot.\n";

enum {
	OPT_TOP = 256, OPT_FRAMES, OPT_SORT, OPT_FILTER, OPT_NO_SYMBOLS, OPT_NO_COLOR, OPT_FORMAT,
	OPT_SHOW_LEAK_KINDS, OPT_SUPPRESSIONS, OPT_GEN_SUPPRESSIONS, OPT_SINCE, OPT_LEAK_CHECK, OPT_LEAKS,
	OPT_BELOW_MAIN, OPT_FULL_NAMES, OPT_FULL_STACKS,
};

static const struct option longopts[] = {
	{ "top", required_argument, NULL, OPT_TOP },
	{ "frames", required_argument, NULL, OPT_FRAMES },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "leaks", no_argument, NULL, OPT_LEAKS },
	{ "show-below-main", optional_argument, NULL, OPT_BELOW_MAIN },
	{ "full-names", no_argument, NULL, OPT_FULL_NAMES },
	{ "full-stacks", no_argument, NULL, OPT_FULL_STACKS },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "show-leak-kinds", required_argument, NULL, OPT_SHOW_LEAK_KINDS },
	{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
	{ "gen-suppressions", optional_argument, NULL, OPT_GEN_SUPPRESSIONS },
	{ "num-callers", required_argument, NULL, OPT_FRAMES }, /* valgrind's name */
	{ "leak-check", required_argument, NULL, OPT_LEAK_CHECK },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What the options asked for: the report's own settings and what the command does with the
 * rest (suppression files to load, an earlier snapshot, the output format). */
struct report_args {
	mp_report_t r;
	const char **supp_paths; /* room for one per argument */
	size_t n_supp_paths;
	const char *since_path;
	bool json, symbols, color;
	bool leak_summary, kinds_given; /* --leak-check=summary; --show-leak-kinds given */
};

/* What parse_option() returns when the next option is to be read. */
#define KEEP_PARSING (-1)

static int parse_sort(const char *arg, enum mp_sort *sort)
{
	*sort = strcmp(arg, "peak") == 0 ? MP_SORT_PEAK : strcmp(arg, "leaks") == 0 ? MP_SORT_LEAKS : MP_SORT_ALL;
	for (size_t i = 0; i < sizeof(mp_site_tables) / sizeof(mp_site_tables[0]); i++)
		if (strcmp(arg, mp_site_tables[i].key) == 0)
			*sort = mp_site_tables[i].sort;
	if (*sort == MP_SORT_ALL) {
		mp_error("report: --sort wants live, allocs, bytes, temporary, peak or leaks, not '%s'", arg);
		return MP_EXIT_USAGE;
	}
	return KEEP_PARSING;
}

/* Takes the option getopt_long() returned as c (its argument in optarg); returns
 * KEEP_PARSING, or the command's exit status when it ends here (--help, a bad value). */
static int parse_option(struct report_args *a, int c, char **argv)
{
	switch (c) {
	case OPT_TOP:
		if (mp_parse_uint(optarg, 0, 1000000, &a->r.top) < 0) {
			mp_error("report: --top wants a number from 0 to 1000000, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		return KEEP_PARSING;
	case OPT_FRAMES:
		if (mp_parse_uint(optarg, 0, MP_SNAP_MAX_FRAMES, &a->r.frames) < 0) {
			mp_error("report: --frames wants a number from 0 to %u, not '%s'", MP_SNAP_MAX_FRAMES,
				 optarg);
			return MP_EXIT_USAGE;
		}
		return KEEP_PARSING;
	case OPT_SORT:
		return parse_sort(optarg, &a->r.sort);
	case OPT_LEAKS:
		a->r.sort = MP_SORT_LEAKS;
		return KEEP_PARSING;
	case OPT_FULL_NAMES:
		a->r.full_names = true;
		return KEEP_PARSING;
	case OPT_FULL_STACKS:
		a->r.full_stacks = true;
		return KEEP_PARSING;
	case OPT_BELOW_MAIN:
		return mp_parse_below_main("report", optarg, &a->r.below_main) < 0 ? MP_EXIT_USAGE : KEEP_PARSING;
	case OPT_FILTER:
		if (!optarg[0]) {
			mp_error("report: --filter wants a non-empty pattern");
			return MP_EXIT_USAGE;
		}
		a->r.filter = optarg;
		return KEEP_PARSING;
	case OPT_NO_SYMBOLS:
		a->symbols = false;
		return KEEP_PARSING;
	case OPT_NO_COLOR:
		a->color = false;
		return KEEP_PARSING;
	case OPT_SHOW_LEAK_KINDS:
		a->kinds_given = true;
		if (mp_parse_leak_kinds(optarg, &a->r.show_leak_kinds) < 0) {
			mp_error("report: --show-leak-kinds wants definite, indirect, possible, reachable "
				 "(comma-separated), all or none, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		return KEEP_PARSING;
	case OPT_SUPPRESSIONS:
		a->supp_paths[a->n_supp_paths++] = optarg;
		return KEEP_PARSING;
	case OPT_GEN_SUPPRESSIONS:
		/* valgrind's values: all, yes (which asks each time there; here it is all) or no. */
		if (optarg && strcmp(optarg, "all") && strcmp(optarg, "yes") && strcmp(optarg, "no")) {
			mp_error("report: --gen-suppressions wants all, yes or no, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		a->r.gen_suppressions = !optarg || strcmp(optarg, "no") != 0;
		return KEEP_PARSING;
	case OPT_LEAK_CHECK:
		/* valgrind's: summary lists no loss records (unless --show-leak-kinds says). */
		if (strcmp(optarg, "full") && strcmp(optarg, "summary")) {
			mp_error("report: --leak-check wants full or summary, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		a->leak_summary = optarg[0] == 's';
		return KEEP_PARSING;
	case OPT_SINCE:
		a->since_path = optarg;
		return KEEP_PARSING;
	case OPT_FORMAT:
		if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
			mp_error("report: --format wants text or json, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		a->json = strcmp(optarg, "json") == 0;
		return KEEP_PARSING;
	case 'h':
		fputs(mp_report_help, stdout);
		return 0;
	default:
		return mp_bad_option("report", c, argv, longopts);
	}
}

/* Once the options are read: checks the operands and the options that go together, loads
 * the suppressions into supps and prints the report. */
static int run_report(struct report_args *a, int argc, char **argv, mp_supp_set_t *supps)
{
	char err[512];

	if (argc - optind != 1) {
		mp_error("report: %s (usage: memprof report [OPTIONS] SNAPSHOT)",
			 argc == optind ? "no snapshot given" : "give exactly one snapshot");
		return MP_EXIT_USAGE;
	}
	a->r.path = argv[optind];
	a->r.width = mp_output_width();
	if (a->leak_summary && !a->kinds_given)
		a->r.show_leak_kinds = 0;
	/* Bold titles only for a person at a terminal; NO_COLOR (no-color.org) turns them off too. */
	a->r.color = a->color && !a->json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	for (size_t i = 0; i < a->n_supp_paths; i++)
		if (mp_supp_load(supps, a->supp_paths[i], err, sizeof(err)) < 0) {
			mp_error("%s", err);
			return MP_EXIT_USAGE;
		}
	a->r.supps = supps;
	if (a->since_path && a->json) {
		mp_error("report: --since prints text only (its deltas are memcheck's)");
		return MP_EXIT_USAGE;
	}
	return mp_report_path(&a->r, a->json, a->symbols, a->since_path);
}

int mp_cmd_report(int argc, char **argv)
{
	struct report_args a = {
		.r = {
			.top = MP_REPORT_DEFAULT_TOP,
			.frames = MP_REPORT_DEFAULT_FRAMES,
			.sort = MP_SORT_ALL,
			.show_leak_kinds = MP_LEAK_KINDS_DEFAULT,
		},
		.supp_paths = calloc((size_t)argc + 1, sizeof(const char *)),
		.symbols = true,
		.color = true,
	};
	mp_supp_set_t supps = { 0 };
	int c, rc = KEEP_PARSING;

	if (!a.supp_paths) {
		mp_error("report: out of memory");
		return MP_EXIT_USAGE;
	}
	opterr = 0;
	optind = 1;
	while (rc == KEEP_PARSING && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
		rc = parse_option(&a, c, argv);
	if (rc == KEEP_PARSING)
		rc = run_report(&a, argc, argv, &supps);
	mp_supp_free(&supps);
	free(a.supp_paths);
	return rc;
}

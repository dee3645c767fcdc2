/* SPDX-License-Identifier: MIT */
/* The leak and memory gate shared by `memprof check` and `memprof run --check`. */
#ifndef MEMPROF_CHECK_H
#define MEMPROF_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "suppress.h"

typedef struct mp_check_rules {
	uint32_t fail_on;        /* MP_LEAK_KIND_BIT()s; default definite and indirect */
	bool fail_on_given;
	uint64_t max_leaked;     /* bytes of the fail_on kinds tolerated (default 0) */
	uint64_t max_peak, max_in_use;
	bool has_max_peak, has_max_in_use;
	const char *baseline;    /* snapshot to compare peak and in-use with */
	double max_growth_pct;
	bool has_max_growth;
	mp_supp_set_t supps;
	uint64_t frames;         /* frames shown per culprit */
	bool below_main;         /* --show-below-main */
	bool full_names;         /* --full-names */
	bool full_stacks;        /* --full-stacks */
	bool final_only;         /* skip snapshots taken while the program ran (run --check) */
	bool symbols;
	/* run: JSON and JUnit name each process from this (--name) or from its command line,
	 * never from the file name, which holds the pid; a CI server's history keeps. */
	bool name_by_program;
	const char *name;
	bool color;              /* text: PASS, FAIL and NOTE coloured (a terminal, no NO_COLOR) */
} mp_check_rules_t;

enum mp_check_format { MP_CHECK_TEXT, MP_CHECK_JSON, MP_CHECK_JUNIT };

/* memprof run's --junit and --json when nothing could be checked (the program was killed,
 * could not run, or left no snapshot): one failed test case `name`, for `why`, on stdout, so
 * that no file of an earlier run is left to pass for this one's. */
void mp_check_print_unchecked(const char *name, const char *why, enum mp_check_format format);

/* getopt_long values of the rule options, which `run` accepts too. */
enum {
	MP_CHECK_OPT_FAIL_ON = 512,
	MP_CHECK_OPT_MAX_LEAKED,
	MP_CHECK_OPT_MAX_PEAK,
	MP_CHECK_OPT_MAX_IN_USE,
	MP_CHECK_OPT_BASELINE,
	MP_CHECK_OPT_MAX_GROWTH,
	MP_CHECK_OPT_SUPPRESSIONS,
	MP_CHECK_OPT_LAST = MP_CHECK_OPT_SUPPRESSIONS,
};

#define MP_CHECK_LONGOPTS                                                                      \
	{ "fail-on", required_argument, NULL, MP_CHECK_OPT_FAIL_ON },                          \
	{ "max-leaked", required_argument, NULL, MP_CHECK_OPT_MAX_LEAKED },                    \
	{ "max-peak", required_argument, NULL, MP_CHECK_OPT_MAX_PEAK },                        \
	{ "max-in-use", required_argument, NULL, MP_CHECK_OPT_MAX_IN_USE },                    \
	{ "baseline", required_argument, NULL, MP_CHECK_OPT_BASELINE },                        \
	{ "max-growth", required_argument, NULL, MP_CHECK_OPT_MAX_GROWTH },                    \
	{ "suppressions", required_argument, NULL, MP_CHECK_OPT_SUPPRESSIONS },                \
	{ "errors-for-leak-kinds", required_argument, NULL, MP_CHECK_OPT_FAIL_ON }

#define MP_CHECK_RULES_HELP                                                                    \
	"  --fail-on KINDS        fail on loss records of these kinds: a comma list of\n"      \
	"                         definite, indirect, possible, reachable, or all, none\n"     \
	"                         (default definite,indirect)\n"                               \
	"  --max-leaked BYTES     tolerate up to BYTES of those kinds (default 0)\n"            \
	"  --max-peak BYTES       fail if the heap peaked above BYTES\n"                       \
	"  --max-in-use BYTES     fail if more than BYTES were in use at the snapshot\n"       \
	"  --baseline OLD         compare peak and in-use with snapshot OLD ...\n"             \
	"  --max-growth PCT       ... and fail if either grew by more than PCT percent\n"      \
	"  --suppressions FILE    leak suppressions, memcheck's or LSan's format (repeatable)\n" \
	"  --errors-for-leak-kinds KINDS  valgrind's name for --fail-on\n"

void mp_check_rules_init(mp_check_rules_t *rules);
/* Applies one rule option; 0 done, -1 bad value (error printed), 1 not a rule option. */
int mp_check_rule_option(mp_check_rules_t *rules, const char *cmd, int opt, const char *arg);
/* Checks the rules fit together; -1 with an error printed if not. */
int mp_check_rules_validate(const mp_check_rules_t *rules, const char *cmd);
void mp_check_rules_free(mp_check_rules_t *rules);

/* Checks each snapshot and prints the outcome on stdout; returns 0 when every rule held for
 * every snapshot, 1 when one failed, MP_EXIT_USAGE when a snapshot could not be read. */
int mp_check_snapshots(const mp_check_rules_t *rules, char *const *paths, size_t n,
		       enum mp_check_format format);

/* "64M" -> 67108864: decimal bytes with an optional K, M, G or T (powers of 1024), "KiB" and
 * "KB" spellings too. 0 or -EINVAL. */
int mp_parse_size(const char *s, uint64_t *out);

extern const char mp_check_help[];
int mp_cmd_check(int argc, char **argv);

#endif

/* SPDX-License-Identifier: MIT */
/* What the memprof subcommands share: entry points, version, option and error helpers. */
#ifndef MEMPROF_CLI_H
#define MEMPROF_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define MP_VERSION "0.1.0"

/* Exit status for usage errors and unreadable input, as documented in memprof(1). */
#define MP_EXIT_USAGE 2

/* Subcommands: argv[0] is the command name ("run"); each returns the process exit status. */
int mp_cmd_run(int argc, char **argv);
int mp_cmd_report(int argc, char **argv);
int mp_cmd_export(int argc, char **argv);
int mp_cmd_diff(int argc, char **argv);
int mp_cmd_trend(int argc, char **argv);

/* Help texts, printed by "memprof help COMMAND" and "memprof COMMAND --help". */
extern const char mp_run_help[];
extern const char mp_report_help[];
extern const char mp_export_help[];
extern const char mp_diff_help[];
extern const char mp_trend_help[];

/* Prints "memprof: <message>" as one line on stderr. */
__attribute__((format(printf, 1, 2))) void mp_error(const char *fmt, ...);

/* Parses a decimal integer in [min, max] with nothing after it; 0 or -EINVAL. */
int mp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* --show-below-main[=yes|no] (valgrind's spelling) of command cmd, its argument in arg (NULL:
 * yes), into *out; 0, or -EINVAL after a one-line error. */
#define MP_BELOW_MAIN_HELP                                                          \
	"  --show-below-main[=yes|no]  also show the frames below main (the C library's\n" \
	"                     start-up code), which stacks leave out as memcheck does\n"
int mp_parse_below_main(const char *cmd, const char *arg, bool *out);

#define MP_FULL_STACKS_HELP                                                          \
	"  --full-stacks      every frame inside the allocator and the C/C++ runtime\n"  \
	"                     (by default only the first and the last are shown)\n"
#define MP_FULL_NAMES_HELP                                                           \
	"  --full-names       C++ names with their template arguments and parameters\n" \
	"                     (shortened by default: std::vector<\u2026>::push_back)\n"

/* Reports the option getopt_long() just rejected, for subcommand `cmd`, with the nearest of
 * its longopts when an unknown one looks like a slip, and returns MP_EXIT_USAGE. Expects an
 * optstring starting with "+:" or ":" and opterr == 0. */
struct option;
int mp_bad_option(const char *cmd, int getopt_rc, char **argv, const struct option *longopts);

#endif

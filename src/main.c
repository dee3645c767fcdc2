/* SPDX-License-Identifier: MIT */
/* The memprof command: dispatches to its subcommands, prints help and the version. */
#include "check.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: memprof COMMAND [OPTIONS] [ARGUMENTS]\n"
	"A heap and leak profiler for Linux.\n"
	"\n"
	"Commands:\n"
	"  run [OPTIONS] -- PROGRAM [ARGS...]  run PROGRAM with libmemprof.so preloaded and\n"
	"                                      write a heap snapshot when it exits\n"
	"  report [OPTIONS] SNAPSHOT           print the heap summary and the top allocation\n"
	"                                      sites of a snapshot\n"
	"  check [OPTIONS] SNAPSHOT...         CI gate: exit 1 if a snapshot breaks a leak\n"
	"                                      or memory rule\n"
	"  export --format FORMAT SNAPSHOT     write a snapshot as folded stacks (flame\n"
	"                                      graphs), massif's format (ms_print) or JSON\n"
	"  diff [OPTIONS] OLD NEW              the sites whose live memory grew or shrank\n"
	"                                      between two snapshots\n"
	"  trend [OPTIONS] SNAPSHOT...         the sites whose live memory grows steadily\n"
	"                                      across snapshots of one process (leak suspects)\n"
	"  help [COMMAND]                      show this help, or the help of COMMAND\n"
	"\n"
	"Options:\n"
	"  -h, --help     show this help and exit\n"
	"  --version      show the version and exit\n"
	"\n"
	"Exit status: that of PROGRAM for run; 1 for check when a rule fails, for the\n"
	"others when the output could not be written; 0 on success, 2 on a usage error\n"
	"or an unreadable snapshot.\n"
	"See memprof(1), libmemprof(3) and memprof-snapshot(5).\n";

static int show_help(const char *command)
{
	if (!command)
		fputs(usage, stdout);
	else if (strcmp(command, "run") == 0)
		fputs(mp_run_help, stdout);
	else if (strcmp(command, "report") == 0)
		fputs(mp_report_help, stdout);
	else if (strcmp(command, "export") == 0)
		fputs(mp_export_help, stdout);
	else if (strcmp(command, "diff") == 0)
		fputs(mp_diff_help, stdout);
	else if (strcmp(command, "trend") == 0)
		fputs(mp_trend_help, stdout);
	else if (strcmp(command, "check") == 0)
		fputs(mp_check_help, stdout);
	else if (strcmp(command, "help") == 0)
		fputs(usage, stdout);
	else {
		mp_error("no help for unknown command '%s' (see 'memprof --help')", command);
		return MP_EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage, stderr);
		return MP_EXIT_USAGE;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		return show_help(NULL);
	if (strcmp(cmd, "--version") == 0) {
		printf("memprof %s\n", MP_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc > 3) {
			mp_error("help: too many arguments (usage: memprof help [COMMAND])");
			return MP_EXIT_USAGE;
		}
		return show_help(argc > 2 ? argv[2] : NULL);
	}
	if (strcmp(cmd, "run") == 0)
		return mp_cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return mp_cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return mp_cmd_export(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return mp_cmd_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "trend") == 0)
		return mp_cmd_trend(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return mp_cmd_check(argc - 1, argv + 1);
	if (cmd[0] == '-')
		mp_error("unknown option '%s' (see 'memprof --help')", cmd);
	else
		mp_error("unknown command '%s' (see 'memprof --help')", cmd);
	return MP_EXIT_USAGE;
}

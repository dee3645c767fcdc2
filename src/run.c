/* SPDX-License-Identifier: MIT */
/* memprof run: runs a program with libmemprof.so preloaded and reports its snapshots.
 *
 * The library learns where to announce snapshots from MEMPROF_MANIFEST: the path of an
 * empty file created here, to which it appends the absolute path of each snapshot it
 * writes, one per line, with O_APPEND writes (several processes may share the file).
 *
 * MEMPROF_RUN_VARS names the MEMPROF_* variables set here that the user's environment did not
 * have: a library that does not follow children unsets them (and LD_PRELOAD's entry), so that
 * the programs the profiled one runs see the environment they would see without us. */
#include "cli.h"
#include "check.h"
#include "report_body.h"
#include "run_why.h"
#include "suppress.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIB_NAME "libmemprof.so"
#define MAX_DEPTH 256

const char mp_run_help[] =
	"Usage: memprof run [OPTIONS] -- PROGRAM [ARGS...]\n"
	"Run PROGRAM with " LIB_NAME " preloaded; it writes a heap snapshot when PROGRAM\n"
	"exits, and memprof run prints where, or why there is none. Read it with\n"
	"'memprof report SNAPSHOT'.\n"
	"\n"
	"Options:\n"
	"  -o, --output PATTERN  snapshot file name pattern, relative to the current\n"
	"                      directory (sets MEMPROF_OUTPUT; see libmemprof(3) for the\n"
	"                      % sequences it expands)\n"
	"  --depth N           record at most N stack frames per allocation, 1 to 256\n"
	"                      (sets MEMPROF_DEPTH); valgrind's --num-callers N too\n"
	"  --follow-children   also profile the programs PROGRAM starts in other\n"
	"                      processes (sets MEMPROF_FOLLOW_CHILDREN=1); an exec in\n"
	"                      place is followed unless MEMPROF_FOLLOW_EXEC=0;\n"
	"                      valgrind's --trace-children=yes|no too\n"
	"  --interval DURATION also write a snapshot every DURATION while PROGRAM runs,\n"
	"                      such as 500ms, 10s, 2m or 1h (sets MEMPROF_INTERVAL)\n"
	"  --signal SIGNAL     also write a snapshot whenever PROGRAM receives SIGNAL, such\n"
	"                      as USR2 or RTMIN+3 (sets MEMPROF_SIGNAL)\n"
	"  --report            when PROGRAM ends, print the report of each snapshot on\n"
	"                      standard error, as 'memprof report SNAPSHOT' would print it\n"
	"  --leaks             the same, but only the summaries and the loss records, as\n"
	"                      'memprof report --leaks SNAPSHOT'\n"
	"  --leak-check=full|summary|no  full (default): scan for leaks at exit;\n"
	"                      summary: --report lists no loss records; no: no scan\n"
	"                      (sets MEMPROF_LEAK_CHECK=0)\n"
	"  --show-leak-kinds SET  the loss records --report lists, as memprof report's\n"
	"                      --show-leak-kinds (default definite,possible)\n"
	"  --check             when PROGRAM ends, check its snapshots as 'memprof check'\n"
	"                      does (the outcome on standard error) and exit with\n"
	"                      --error-exitcode if a rule fails; these rules imply --check:\n"
	MP_CHECK_RULES_HELP
	"  --junit FILE        with --check (implied), also write its outcome to FILE as\n"
	"                      JUnit XML: one test case per process, named from its\n"
	"                      command line (or --name), never its pid\n"
	"  --json FILE         the same as JSON, as 'memprof check --format json'\n"
	"  --name NAME         the test cases' name, instead of the command line\n"
	"  --error-exitcode N  exit status when the check fails, 1 to 255 (default 1)\n"
	"  -h, --help          show this help and exit\n"
	"\n"
	"The library is $MEMPROF_LIB if set, else " LIB_NAME " next to the memprof\n"
	"executable, else ../lib/" LIB_NAME " relative to it.\n"
	"\n"
	"Exit status: that of PROGRAM, or --error-exitcode when --check fails; if PROGRAM is\n"
	"killed by a signal, memprof kills itself with the same signal. 127 if PROGRAM is\n"
	"not found, 126 if it cannot be executed, 2 on a usage error.\n";

/* Finds the library; 0 with its absolute path in `out`, or prints why not and returns -1. */
static int find_library(char *out, size_t out_bytes)
{
	const char *env = getenv("MEMPROF_LIB");
	char exe[PATH_MAX], tried[2][PATH_MAX + 32];
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		if (access(env, R_OK) != 0) {
			mp_error("cannot find " LIB_NAME " (looked in MEMPROF_LIB=%s: %m)", env);
			return -1;
		}
		if (!realpath(env, out)) {
			mp_error("cannot resolve MEMPROF_LIB=%s: %m", env);
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		mp_error("cannot find " LIB_NAME " (cannot read /proc/self/exe: %m; set MEMPROF_LIB)");
		return -1;
	}
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(tried[0], sizeof(tried[0]), "%s/" LIB_NAME, exe);
	snprintf(tried[1], sizeof(tried[1]), "%s/../lib/" LIB_NAME, exe);
	for (int i = 0; i < 2; i++)
		if (access(tried[i], R_OK) == 0 && realpath(tried[i], out) && strlen(out) < out_bytes)
			return 0;
	mp_error("cannot find " LIB_NAME " (looked in %s and %s; set MEMPROF_LIB)", tried[0], tried[1]);
	return -1;
}

/* Puts the library first in LD_PRELOAD, keeping what the user preloads after it. */
static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;
	int rc;

	/* ld.so splits LD_PRELOAD at spaces and colons, so such a path cannot be named. */
	if (strpbrk(lib, " :\t\n")) {
		mp_error("cannot preload %s: LD_PRELOAD cannot hold a path with a space or colon", lib);
		return -1;
	}
	if (old && old[0]) {
		if (asprintf(&value, "%s:%s", lib, old) < 0) {
			mp_error("out of memory");
			return -1;
		}
		rc = setenv("LD_PRELOAD", value, 1);
		free(value);
	} else {
		rc = setenv("LD_PRELOAD", lib, 1);
	}
	if (rc != 0) {
		mp_error("cannot set LD_PRELOAD: %m");
		return -1;
	}
	return 0;
}

/* Creates the empty manifest; returns its descriptor (close-on-exec) and fills `path`. */
static int create_manifest(char *path, size_t path_bytes)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (!dir || !dir[0])
		dir = "/tmp";
	if ((size_t)snprintf(path, path_bytes, "%s/memprof-manifest.XXXXXX", dir) >= path_bytes) {
		mp_error("cannot create a manifest in %s: %s", dir, strerror(ENAMETOOLONG));
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		mp_error("cannot create a manifest in %s: %m", dir);
		return -1;
	}
	if (setenv("MEMPROF_MANIFEST", path, 1) != 0) {
		mp_error("cannot set MEMPROF_MANIFEST: %m");
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Points stdout at descriptor fd, for the printers that write there (the report, the check);
 * returns the descriptor that keeps the old stdout, for stdout_back, or -1 (errno set). */
static int stdout_to(int fd)
{
	int saved;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0 && dup2(fd, STDOUT_FILENO) < 0) {
		int err = errno;

		close(saved);
		errno = err;
		return -1;
	}
	return saved;
}

/* stdout back to what stdout_to kept; 0, or -1 if what was printed could not be written. */
static int stdout_back(int saved)
{
	int rc = fflush(stdout) != 0 ? -1 : 0;

	dup2(saved, STDOUT_FILENO);
	close(saved);
	return rc;
}

/* Prints the report of the snapshot at `path` on stderr: the program's own output on stdout
 * stays as it was. stdout is pointed at stderr meanwhile, since the report prints there. */
static void report_to_stderr(const char *path, uint32_t show_leak_kinds, bool leaks_only)
{
	int saved = stdout_to(STDERR_FILENO);

	if (saved < 0) {
		mp_error("cannot print the report of %s: %m", path);
		return;
	}
	/* Bold titles only for a person at a terminal, as memprof report does. */
	mp_report_file(path, isatty(STDERR_FILENO) && !getenv("NO_COLOR"), show_leak_kinds, leaks_only);
	stdout_back(saved);
}

/* Lines of the manifest: the snapshots the program wrote (for --check), or its events. */
/* What memprof run prints of each snapshot when the program ends: nothing, the report
 * (--report) or its leak part (--leaks). */
enum run_report { RUN_REPORT_NONE, RUN_REPORT_FULL, RUN_REPORT_LEAKS };

struct paths {
	char **v;
	size_t n;
};

static void keep(struct paths *p, const char *line)
{
	char **v = realloc(p->v, (p->n + 1) * sizeof(*v));

	if (v && (v[p->n] = strdup(line)))
		p->n++;
	if (v)
		p->v = v;
}

static void drop_all(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* Prints one "snapshot written to" line per snapshot in the manifest, each followed by the
 * snapshot's report if `report` (listing the loss records of report_kinds), and adds it to
 * `paths` (if not NULL); the event lines ('#', see preload/manifest.c) go to `events`.
 * Returns how many snapshots. Reads through the descriptor, so it works even if the program
 * removed the file. */
static size_t announce_snapshots(int fd, enum run_report report, uint32_t report_kinds, struct paths *paths,
				 struct paths *events)
{
	int copy = dup(fd);
	FILE *f = copy >= 0 ? fdopen(copy, "r") : NULL;
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t len;

	if (!f) {
		mp_error("cannot read the snapshot manifest: %m");
		if (copy >= 0)
			close(copy);
		return 0;
	}
	rewind(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (line[0] == '#') {
			keep(events, line + 1);
			continue;
		}
		mp_error("snapshot written to %s", line);
		if (report != RUN_REPORT_NONE)
			report_to_stderr(line, report_kinds, report == RUN_REPORT_LEAKS);
		if (paths)
			keep(paths, line);
		count++;
	}
	free(line);
	fclose(f);
	return count;
}

static void signal_name(int sig, char *buf, size_t buf_bytes)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, buf_bytes, "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, buf_bytes, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, buf_bytes, "unknown signal");
}

/* Dies of `sig` so that our parent sees what the program did; exits 128+sig if it cannot. */
static void die_of_signal(int sig)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t set;

	fflush(NULL);
	/* The program dumped core if it was going to; a core of memprof would only mislead. */
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

enum leak_check { LEAK_CHECK_FULL, LEAK_CHECK_SUMMARY, LEAK_CHECK_NO };

struct run_options {
	const char *output;
	const char *interval; /* NULL: not given */
	const char *signal;   /* NULL: not given */
	uint64_t depth; /* 0: the library's default */
	bool follow_children;
	enum run_report report; /* the report of each snapshot to print when the program ends */
	enum leak_check leak_check;  /* --leak-check: no sets MEMPROF_LEAK_CHECK=0 */
	const char *junit, *json;    /* --junit FILE, --json FILE: the check's outcome there too */
	const char *name;            /* --name: the test cases' name */
	const char *program;         /* PROGRAM, for a test case when nothing was checked */
	bool checked;                /* the check ran (and wrote --junit and --json) */
	uint32_t show_leak_kinds;    /* the loss records --report lists */
	bool show_leak_kinds_given;
	bool check;  /* check the snapshots against `rules` when the program ends */
	mp_check_rules_t rules;
	uint64_t error_exitcode;
};

/* A duration as MEMPROF_INTERVAL takes it (libmemprof(3)): a positive whole number, then ms,
 * s, m or h (nothing: seconds). */
static bool is_duration(const char *s)
{
	static const char *const units[] = { "ms", "s", "m", "h", "" };
	char *end;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || n > 1000000000ull)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i]) == 0)
			return true;
	}
	return false;
}

/* A signal as MEMPROF_SIGNAL takes it: a name with or without SIG, RTMIN+n or RTMAX-n, or a
 * number; one that can be caught and does not report a fault. */
static bool is_snapshot_signal(const char *s)
{
	const char *name = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
	char *end;
	long sig = 0;

	if (*name >= '0' && *name <= '9') {
		sig = strtol(name, &end, 10);
		if (*end)
			return false;
	} else if (strncmp(name, "RTMIN", 5) == 0 || strncmp(name, "RTMAX", 5) == 0) {
		long off = 0;
		if (name[5]) {
			if ((name[5] != '+' && name[5] != '-') || name[6] < '0' || name[6] > '9')
				return false;
			off = strtol(name + 5, &end, 10);
			if (*end)
				return false;
		}
		sig = (name[4] == 'N' ? SIGRTMIN : SIGRTMAX) + off;
		if (sig < SIGRTMIN)
			return false;
	} else {
		for (int i = 1; i < SIGRTMIN; i++) {
			const char *abbrev = sigabbrev_np(i);
			if (abbrev && strcmp(abbrev, name) == 0)
				sig = i;
		}
	}
	if (sig < 1 || sig > SIGRTMAX)
		return false;
	switch (sig) {
	case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
	case SIGABRT: case SIGSYS:
		return false;
	}
	return true;
}

enum { OPT_TRACE_CHILDREN = 256, OPT_LEAK_CHECK, OPT_SHOW_LEAK_KINDS, OPT_JUNIT, OPT_JSON, OPT_NAME };

/* valgrind's spellings ride along where the meaning is the same: --num-callers is --depth,
 * -o is --output, --trace-children=yes is --follow-children, --errors-for-leak-kinds is
 * --fail-on (MP_CHECK_LONGOPTS); --leak-check and --show-leak-kinds are valgrind's own. */
static const struct option run_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "depth", required_argument, NULL, 'd' },
	{ "num-callers", required_argument, NULL, 'd' },
	{ "follow-children", no_argument, NULL, 'F' },
	{ "trace-children", required_argument, NULL, OPT_TRACE_CHILDREN },
	{ "interval", required_argument, NULL, 'i' },
	{ "signal", required_argument, NULL, 's' },
	{ "report", no_argument, NULL, 'r' },
	{ "leaks", no_argument, NULL, 'L' },
	{ "leak-check", required_argument, NULL, OPT_LEAK_CHECK },
	{ "show-leak-kinds", required_argument, NULL, OPT_SHOW_LEAK_KINDS },
	{ "check", no_argument, NULL, 'c' },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "error-exitcode", required_argument, NULL, 'e' },
	MP_CHECK_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* valgrind's yes/no option values. */
static int parse_yes_no(const char *arg, bool *out)
{
	if (strcmp(arg, "yes") == 0)
		*out = true;
	else if (strcmp(arg, "no") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* The options valgrind users bring, and the CI files' (parse_run_option's part, same
 * returns): 1 when c is none of them. */
static int parse_run_option_more(struct run_options *o, int c)
{
	switch (c) {
	case OPT_TRACE_CHILDREN:
		if (parse_yes_no(optarg, &o->follow_children) < 0) {
			mp_error("run: --trace-children wants yes or no, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		return -1;
	case OPT_LEAK_CHECK:
		/* full and summary: the scan; summary lists no loss records in --report's output. */
		if (strcmp(optarg, "full") && strcmp(optarg, "summary") && strcmp(optarg, "no")) {
			mp_error("run: --leak-check wants full, summary or no, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		o->leak_check = optarg[0] == 'n' ? LEAK_CHECK_NO : optarg[0] == 's' ? LEAK_CHECK_SUMMARY
										  : LEAK_CHECK_FULL;
		return -1;
	case OPT_SHOW_LEAK_KINDS:
		if (mp_parse_leak_kinds(optarg, &o->show_leak_kinds) < 0) {
			mp_error("run: --show-leak-kinds wants definite, indirect, possible, reachable "
				 "(comma-separated), all or none, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		o->show_leak_kinds_given = true;
		return -1;
	case OPT_JUNIT:
	case OPT_JSON:
	case OPT_NAME:
		if (!optarg[0]) {
			mp_error("run: --%s wants a non-empty value",
				 c == OPT_NAME ? "name" : c == OPT_JUNIT ? "junit" : "json");
			return MP_EXIT_USAGE;
		}
		*(c == OPT_JUNIT ? &o->junit : c == OPT_JSON ? &o->json : &o->name) = optarg;
		o->check = o->check || c != OPT_NAME;
		return -1;
	default:
		return 1;
	}
}

/* Takes the option getopt_long() returned as c (its argument in optarg) into o; returns -1,
 * or the command's exit status when it ends here (--help, a bad value). */
static int parse_run_option(struct run_options *o, int c, char **argv)
{
	int rc;

	switch (c) {
	case 'o':
		if (!optarg[0]) {
			mp_error("run: --output wants a non-empty file name pattern");
			return MP_EXIT_USAGE;
		}
		o->output = optarg;
		return -1;
	case 'd':
		if (mp_parse_uint(optarg, 1, MAX_DEPTH, &o->depth) < 0) {
			mp_error("run: --depth wants a number from 1 to %d, not '%s'", MAX_DEPTH, optarg);
			return MP_EXIT_USAGE;
		}
		return -1;
	case 'F':
		o->follow_children = true;
		return -1;
	case 'i':
		if (!is_duration(optarg)) {
			mp_error("run: --interval wants a duration such as 500ms, 10s, 2m or 1h, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		o->interval = optarg;
		return -1;
	case 's':
		if (!is_snapshot_signal(optarg)) {
			mp_error("run: --signal wants a signal that can be caught, such as USR2 or RTMIN+3, not '%s'",
				 optarg);
			return MP_EXIT_USAGE;
		}
		o->signal = optarg;
		return -1;
	case 'r':
		o->report = RUN_REPORT_FULL;
		return -1;
	case 'L':
		o->report = RUN_REPORT_LEAKS;
		return -1;
	case 'c':
		o->check = true;
		return -1;
	case 'e':
		if (mp_parse_uint(optarg, 1, 255, &o->error_exitcode) < 0) {
			mp_error("run: --error-exitcode wants a number from 1 to 255, not '%s'", optarg);
			return MP_EXIT_USAGE;
		}
		return -1;
	case 'h':
		fputs(mp_run_help, stdout);
		return 0;
	default:
		rc = parse_run_option_more(o, c);
		if (rc != 1)
			return rc;
		rc = mp_check_rule_option(&o->rules, "run", c, optarg);
		if (rc < 0)
			return MP_EXIT_USAGE;
		if (rc > 0)
			return mp_bad_option("run", c, argv, run_longopts);
		o->check = true;
		return -1;
	}
}

static int parse_run_options(int argc, char **argv, struct run_options *o)
{
	int c, rc;

	opterr = 0;
	optind = 1;
	/* "+": options end at PROGRAM, so that its own options are left alone. */
	while ((c = getopt_long(argc, argv, "+:ho:", run_longopts, NULL)) != -1) {
		rc = parse_run_option(o, c, argv);
		if (rc != -1)
			return rc;
	}
	/* valgrind's --leak-check=no asks for no leak errors: no leak rule, unless one is given. */
	if (o->leak_check == LEAK_CHECK_NO && !o->rules.fail_on_given)
		o->rules.fail_on = 0;
	if (mp_check_rules_validate(&o->rules, "run") < 0)
		return MP_EXIT_USAGE;
	if (optind >= argc) {
		mp_error("run: no program given (usage: memprof run [OPTIONS] -- PROGRAM [ARGS...])");
		return MP_EXIT_USAGE;
	}
	return -1;
}

/* The snapshot pattern, absolute: a relative one resolves against the directory memprof run
 * started in, whatever directory the program (or a program it execs) writes from. A
 * MEMPROF_OUTPUT of the user's own (no --output) stays as it is: the program sees it, and the
 * library resolves it against its own starting directory. */
static int set_output_env(const char *pattern)
{
	char cwd[PATH_MAX], *abs;
	int rc;

	if (!pattern || !pattern[0]) {
		const char *user = getenv("MEMPROF_OUTPUT");
		if (user && user[0])
			return 0; /* the user's own, which the program sees as it is: left alone */
		pattern = "memprof.%e.%p.gz"; /* the library's default */
	}
	if (pattern[0] == '/')
		return setenv("MEMPROF_OUTPUT", pattern, 1);
	if (!getcwd(cwd, sizeof(cwd))) {
		mp_error("cannot find the working directory for the snapshot's path: %m");
		return -1;
	}
	if (asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", pattern) < 0)
		return -1;
	rc = setenv("MEMPROF_OUTPUT", abs, 1);
	free(abs);
	return rc;
}

static int set_options_env(const struct run_options *o)
{
	char depth[24];

	if (set_output_env(o->output) != 0)
		goto fail;
	snprintf(depth, sizeof(depth), "%" PRIu64, o->depth);
	if (o->depth && setenv("MEMPROF_DEPTH", depth, 1) != 0)
		goto fail;
	if (o->follow_children && setenv("MEMPROF_FOLLOW_CHILDREN", "1", 1) != 0)
		goto fail;
	if (o->interval && setenv("MEMPROF_INTERVAL", o->interval, 1) != 0)
		goto fail;
	if (o->signal && setenv("MEMPROF_SIGNAL", o->signal, 1) != 0)
		goto fail;
	if (o->leak_check == LEAK_CHECK_NO && setenv("MEMPROF_LEAK_CHECK", "0", 1) != 0)
		goto fail;
	return 0;
fail:
	mp_error("cannot set the environment: %m");
	return -1;
}

/* Starts argv[0] and waits for it, ignoring SIGINT and SIGQUIT meanwhile as system() does
 * so that Ctrl-C reaches the program alone. Returns its wait status, or -1 with
 * *exec_errno set if it could not be executed, or -2 on a failure already reported. */
static int spawn_and_wait(char **argv, int *exec_errno, pid_t *child)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, default_action = { .sa_handler = SIG_DFL };
	struct sigaction old_int, old_quit, old_chld;
	int pipefd[2], status, err = 0;
	ssize_t got;
	pid_t pid;

	/* The child reports a failed exec through a close-on-exec pipe: a successful exec
	 * closes it with nothing written. */
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		mp_error("cannot create a pipe: %m");
		return -2;
	}
	sigemptyset(&ignore.sa_mask);
	sigemptyset(&default_action.sa_mask);
	sigaction(SIGINT, &ignore, &old_int);
	sigaction(SIGQUIT, &ignore, &old_quit);
	/* With SIGCHLD ignored (inherited from our caller) the kernel would reap the child
	 * and waitpid() could not tell its status. */
	sigaction(SIGCHLD, &default_action, &old_chld);
	pid = fork();
	*child = pid;
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		sigaction(SIGCHLD, &old_chld, NULL);
		close(pipefd[0]);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(pipefd[1], &err, sizeof(err));
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		mp_error("cannot fork: %m");
		close(pipefd[0]);
		status = -2;
		goto out;
	}
	do
		got = read(pipefd[0], &err, sizeof(err));
	while (got < 0 && errno == EINTR);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			mp_error("cannot wait for %s: %m", argv[0]);
			status = -2;
			goto out;
		}
	}
	if (got == (ssize_t)sizeof(err)) {
		*exec_errno = err;
		status = -1;
	}
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
	return status;
}

/* The check again, in `format`, into the file at `path` (--junit, --json), or, with `why`,
 * the one failed test case that says why nothing was checked; 0, or MP_EXIT_USAGE when it
 * cannot be written. */
static int check_to_file(struct run_options *o, const struct paths *paths, const char *path,
			 enum mp_check_format format, const char *why)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), saved = -1, rc;

	if (fd >= 0) {
		saved = stdout_to(fd);
		close(fd);
	}
	if (saved < 0) {
		mp_error("cannot write %s: %m", path);
		return MP_EXIT_USAGE;
	}
	o->rules.color = false;
	rc = 0;
	if (why)
		mp_check_print_unchecked(o->name ? o->name : o->program, why, format);
	else
		rc = mp_check_snapshots(&o->rules, paths->v, paths->n, format);
	if (stdout_back(saved) < 0)
		rc = MP_EXIT_USAGE;
	return rc == MP_EXIT_USAGE ? rc : 0;
}

/* Runs the gate on the program's snapshots, its outcome on stderr (and in --junit's and
 * --json's files); returns mp_check_snapshots()'s status, MP_EXIT_USAGE when there is nothing
 * to check. */
static int check_to_stderr(struct run_options *o, const struct paths *paths)
{
	int saved, rc;

	if (paths->n == 0) {
		mp_error("check: no snapshot to check");
		return MP_EXIT_USAGE;
	}
	saved = stdout_to(STDERR_FILENO);
	if (saved < 0) {
		mp_error("cannot print the check: %m");
		return MP_EXIT_USAGE;
	}
	/* The rules are about how the run ended: --interval, --signal and memprof_snapshot()
	 * files are not checked (they have no leak scan). */
	o->rules.final_only = true;
	o->rules.color = isatty(STDERR_FILENO) && !getenv("NO_COLOR");
	o->rules.name_by_program = true;
	o->rules.name = o->name;
	rc = mp_check_snapshots(&o->rules, paths->v, paths->n, MP_CHECK_TEXT);
	stdout_back(saved);
	o->checked = true;
	if (o->junit && check_to_file(o, paths, o->junit, MP_CHECK_JUNIT, NULL) == MP_EXIT_USAGE && rc == 0)
		rc = MP_EXIT_USAGE;
	if (o->json && check_to_file(o, paths, o->json, MP_CHECK_JSON, NULL) == MP_EXIT_USAGE && rc == 0)
		rc = MP_EXIT_USAGE;
	return rc;
}

/* --junit and --json when the check did not run (spawn_and_wait's status): a failed test
 * case each, named as a process's would be (its command line, or --name), saying why. */
static void write_unchecked(struct run_options *o, char **prog, int status, int exec_errno)
{
	char *cmd = NULL, why[PATH_MAX + 128], sig[32];
	size_t len = 0;
	FILE *f = open_memstream(&cmd, &len);

	for (size_t i = 0; f && prog[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", prog[i]);
	if (!f || fclose(f) != 0 || !cmd) {
		free(cmd);
		return;
	}
	if (status == -1)
		snprintf(why, sizeof(why), "cannot run %s: %s", prog[0], strerror(exec_errno));
	else if (status >= 0 && WIFSIGNALED(status)) {
		signal_name(WTERMSIG(status), sig, sizeof(sig));
		snprintf(why, sizeof(why), "%s was killed by signal %d (%s)", prog[0], WTERMSIG(status), sig);
	} else
		snprintf(why, sizeof(why), "no snapshot to check");
	o->program = cmd;
	if (o->junit)
		check_to_file(o, NULL, o->junit, MP_CHECK_JUNIT, why);
	if (o->json)
		check_to_file(o, NULL, o->json, MP_CHECK_JSON, why);
	o->program = NULL;
	free(cmd);
}

/* The variables memprof run may set for the program, besides LD_PRELOAD. */
static const char *const run_vars[] = { "MEMPROF_OUTPUT", "MEMPROF_DEPTH", "MEMPROF_FOLLOW_CHILDREN",
					"MEMPROF_INTERVAL", "MEMPROF_SIGNAL", "MEMPROF_MANIFEST",
					"MEMPROF_LEAK_CHECK" };
#define N_RUN_VARS (sizeof(run_vars) / sizeof(run_vars[0]))

/* MEMPROF_RUN_VARS: those of run_vars set now that were not before (had[i] says). */
static int set_run_vars(const bool *had)
{
	char list[256] = "";

	for (size_t i = 0; i < N_RUN_VARS; i++) {
		if (had[i] || !getenv(run_vars[i]))
			continue;
		if (list[0])
			strcat(list, ":");
		strcat(list, run_vars[i]);
	}
	if (list[0] && setenv("MEMPROF_RUN_VARS", list, 1) != 0) {
		mp_error("cannot set the environment: %m");
		return -1;
	}
	return 0;
}

int mp_cmd_run(int argc, char **argv)
{
	struct run_options o = { .error_exitcode = 1, .show_leak_kinds = MP_LEAK_KINDS_DEFAULT };
	struct paths paths = { 0 }, events = { 0 };
	char lib[PATH_MAX], manifest[PATH_MAX];
	char **prog;
	int rc, fd, status, exec_errno = 0;
	pid_t pid = 0;

	mp_check_rules_init(&o.rules);
	rc = parse_run_options(argc, argv, &o);
	if (rc >= 0) {
		mp_check_rules_free(&o.rules);
		return rc;
	}
	prog = argv + optind;
	bool had[N_RUN_VARS];
	for (size_t i = 0; i < N_RUN_VARS; i++)
		had[i] = getenv(run_vars[i]) != NULL;
	if (find_library(lib, sizeof(lib)) < 0 || set_preload(lib) < 0 || set_options_env(&o) < 0 ||
	    (fd = create_manifest(manifest, sizeof(manifest))) < 0) {
		mp_check_rules_free(&o.rules);
		return MP_EXIT_USAGE;
	}
	if (set_run_vars(had) < 0) {
		close(fd);
		unlink(manifest);
		mp_check_rules_free(&o.rules);
		return MP_EXIT_USAGE;
	}

	status = spawn_and_wait(prog, &exec_errno, &pid);
	if (status == -1) {
		mp_error("cannot run %s: %s", prog[0], strerror(exec_errno));
		rc = exec_errno == ENOENT ? 127 : 126;
	} else if (status == -2) {
		rc = MP_EXIT_USAGE;
	} else {
		bool summary = o.leak_check == LEAK_CHECK_SUMMARY && !o.show_leak_kinds_given;
		uint32_t kinds = summary ? 0 : o.show_leak_kinds;
		if (announce_snapshots(fd, o.report, kinds, o.check ? &paths : NULL, &events) == 0)
			mp_run_explain(prog[0], pid, status, events.v, events.n);
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		/* A gate that could not check (no snapshot, an unreadable one) did not pass. */
		if (o.check && WIFEXITED(status) && check_to_stderr(&o, &paths) != 0)
			rc = (int)o.error_exitcode;
	}
	if (o.check && !o.checked && (o.junit || o.json))
		write_unchecked(&o, prog, status, exec_errno);
	close(fd);
	unlink(manifest);
	mp_check_rules_free(&o.rules);
	drop_all(&paths);
	drop_all(&events);
	if (status >= 0 && WIFSIGNALED(status)) {
		char name[32];

		signal_name(WTERMSIG(status), name, sizeof(name));
		mp_error("%s killed by signal %d (%s)", prog[0], WTERMSIG(status), name);
		die_of_signal(WTERMSIG(status));
	}
	return rc;
}

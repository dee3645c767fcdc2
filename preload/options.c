/* SPDX-License-Identifier: MIT */
/* The MEMPROF_* environment variables, read once when recording starts (getenv is safe from
 * the first hook call on), the process facts a snapshot needs (program name, command line,
 * working directory), and the constructor's edits of the environment the program's children
 * inherit. */
#include "options.h"

#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mp_options mp_opt;

static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* s equals word (lower case), ignoring the case of ASCII letters only (no locale). */
static int is_word(const char *s, const char *word)
{
	for (; *word; s++, word++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		if (c != *word)
			return 0;
	}
	return *s == '\0';
}

int mp_env_bool(const char *name, int dflt)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (is_word(v, yes[i]))
			return 1;
		if (is_word(v, no[i]))
			return 0;
	}
	mp_log(name, dflt ? " wants 1, yes, on or true, or 0, no, off or false; on (the default), not "
			  : " wants 1, yes, on or true, or 0, no, off or false; off (the default), not ", v);
	return dflt;
}

static void read_cmdline(void)
{
	ssize_t n = mp_read_small("/proc/self/cmdline", mp_opt.cmdline, sizeof(mp_opt.cmdline));
	mp_opt.cmdline_len = n > 0 ? (size_t)n : 0;
	/* Drop the trailing NUL: the format separates arguments, it does not end them. */
	if (mp_opt.cmdline_len && mp_opt.cmdline[mp_opt.cmdline_len - 1] == '\0')
		mp_opt.cmdline_len--;
}

/* The C library's setenv and unsetenv, looked up past the program: a program may define its
 * own, as bash does (they edit its shell variables, which do not exist yet while constructors
 * run, so the environment it later imports from main's envp would still hold ours). */
static int (*libc_setenv)(const char *, const char *, int);
static int (*libc_unsetenv)(const char *);

static void find_libc_env_functions(void)
{
	libc_setenv = (int (*)(const char *, const char *, int))dlsym(RTLD_NEXT, "setenv");
	libc_unsetenv = (int (*)(const char *))dlsym(RTLD_NEXT, "unsetenv");
	if (!libc_setenv)
		libc_setenv = setenv;
	if (!libc_unsetenv)
		libc_unsetenv = unsetenv;
}

/* Notes our own entry of LD_PRELOAD (for exec.c) and, with `edit`, removes it so that the
 * programs this one starts are not profiled (as
 * valgrind without --trace-children); the loader has already read it. Nothing left: the
 * variable goes, as it would be without us (an empty LD_PRELOAD= is still a difference a
 * program can see). The new value is set with the C library's setenv rather than written over the old one,
 * which is the process's original environment block (/proc/self/environ) and stays as it
 * was, except for a value too long for our buffer (then edited in place). Called by the
 * constructor, with the guard set. */
static void strip_ld_preload(int edit)
{
	static char buf[4096];
	char *v = getenv("LD_PRELOAD");
	if (!v)
		return;
	int in_place = strlen(v) >= sizeof(buf);
	char *dst = in_place ? v : buf, *out = dst;
	int changed = 0;
	for (char *p = v; *p;) {
		size_t len = strcspn(p, ": ");
		int ours = len >= 13 && memcmp(p + len - 13, "libmemprof.so", 13) == 0;
		if (ours && !changed && len < sizeof(mp_opt.preload_entry)) {
			memcpy(mp_opt.preload_entry, p, len);
			mp_opt.preload_entry[len] = '\0';
		}
		changed |= ours;
		/* Following children (!edit): the entry noted, nothing taken out. */
		if (edit && !ours) {
			if (out != dst)
				*out++ = ':';
			memmove(out, p, len);
			out += len;
		}
		p += len;
		while (*p == ':' || *p == ' ')
			p++;
	}
	if (!edit)
		return;
	*out = '\0';
	if (!changed)
		return;
	if (!dst[0])
		libc_unsetenv("LD_PRELOAD");
	else if (!in_place && libc_setenv("LD_PRELOAD", buf, 1) != 0)
		mp_log("cannot take libmemprof.so out of LD_PRELOAD: the programs this one runs are profiled too",
		       NULL, NULL);
}

/* NAME=value into mp_opt.carry, for an exec in place; said once when it does not fit (the
 * exec'd image then lacks it, as without memprof run). */
static void keep_for_exec(const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value), at = mp_opt.carry_len;
	if (at + n + v + 2 > sizeof(mp_opt.carry)) {
		mp_log("too long to keep for an exec in place: ", name, NULL);
		return;
	}
	memcpy(mp_opt.carry + at, name, n);
	mp_opt.carry[at + n] = '=';
	memcpy(mp_opt.carry + at + n + 1, value, v + 1);
	mp_opt.carry_len = at + n + v + 2;
}

/* memprof run names in MEMPROF_RUN_VARS (colon-separated) the MEMPROF_* variables it added
 * for this process, which the user's own environment did not have: they go, with
 * MEMPROF_RUN_VARS itself, so that the programs this one runs see the environment they
 * would see without memprof run (an exec in place puts them back). Only MEMPROF_* names are
 * taken from it. */
static void unset_run_variables(int unset)
{
	const char *v = getenv("MEMPROF_RUN_VARS");
	if (!v)
		return;
	char name[64];
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ":");
		if (len > 8 && len < sizeof(name) && memcmp(p, "MEMPROF_", 8) == 0) {
			memcpy(name, p, len);
			name[len] = '\0';
			const char *value = getenv(name);
			if (value)
				keep_for_exec(name, value);
			if (unset)
				libc_unsetenv(name);
		}
		p += len;
		while (*p == ':')
			p++;
	}
	keep_for_exec("MEMPROF_RUN_VARS", v); /* before unsetenv: v is its value */
	if (unset)
		libc_unsetenv("MEMPROF_RUN_VARS");
}

/* MEMPROF_INTERVAL: a positive whole number with a unit, ms, s, m or h (a bare number is
 * seconds); "0" or empty: off. Anything else: one warning, off. */
static void read_interval(void)
{
	const char *v = getenv("MEMPROF_INTERVAL");
	if (!v || !*v || strcmp(v, "0") == 0)
		return;
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "ms", 1000000ull }, { "s", 1000000000ull }, { "", 1000000000ull },
		{ "m", 60000000000ull }, { "h", 3600000000000ull },
	};
	char *end;
	errno = 0;
	unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
	if (n && !errno) {
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcmp(end, units[i].unit) == 0 && n <= UINT64_MAX / units[i].ns) {
				mp_opt.interval_ns = n * units[i].ns;
				return;
			}
		}
	}
	mp_log("MEMPROF_INTERVAL wants a duration such as 500ms, 10s, 2m or 1h; no periodic snapshots, not ",
	       v, NULL);
}

/* MEMPROF_SIGNAL and MEMPROF_LEAK_SIGNAL: a signal name (USR2, SIGUSR2, RTMIN+3) or number;
 * "0" or empty: off (0). Signals that cannot be caught or that report faults are refused. */
static int read_signal(const char *var)
{
	const char *v = getenv(var);
	if (!v || !*v || strcmp(v, "0") == 0)
		return 0;
	const char *name = strncmp(v, "SIG", 3) == 0 ? v + 3 : v;
	int sig = 0;
	char *end;
	if (name[0] >= '0' && name[0] <= '9') {
		long n = strtol(name, &end, 10);
		sig = *end || n < 1 || n > SIGRTMAX ? 0 : (int)n;
	} else if (strncmp(name, "RTMIN", 5) == 0 || strncmp(name, "RTMAX", 5) == 0) {
		long off = 0;
		if (name[5] == '+' || name[5] == '-') {
			off = strtol(name + 5, &end, 10);
			if (*end || end == name + 6)
				off = 1000;
		} else if (name[5]) {
			off = 1000;
		}
		sig = (name[4] == 'N' ? SIGRTMIN : SIGRTMAX) + (int)off;
		if (off == 1000 || sig < SIGRTMIN || sig > SIGRTMAX)
			sig = 0;
	} else {
		for (int s = 1; s < SIGRTMIN; s++) {
			const char *abbrev = sigabbrev_np(s);
			if (abbrev && strcmp(abbrev, name) == 0) {
				sig = s;
				break;
			}
		}
	}
	switch (sig) {
	case 0:
		mp_log(var, " wants a signal name such as USR2 or a number; none used, not ", v);
		return 0;
	case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP:
	case SIGABRT: case SIGSYS:
		mp_log(var, " cannot be a signal that stops, kills or reports a fault; none used, not ", v);
		return 0;
	default:
		return sig;
	}
}

/* With MEMPROF_FOLLOW_CHILDREN the first profiled process leaves its process ID in the
 * environment. A program exec'd later in another process (fork, then exec; posix_spawn) finds a
 * different ID there: it is a child, and like a fork child must not write over its ancestor's
 * file when the pattern has no %p. An exec in the first process itself keeps its name. */
static void mark_exec_child(void)
{
	char num[24];
	const char *root = getenv("MEMPROF_ROOT_PID");
	if (root && *root) {
		mp_utoa((uint64_t)getpid(), num);
		mp_opt.exec_child = strcmp(root, num) != 0;
		return;
	}
	mp_utoa((uint64_t)getpid(), num);
	libc_setenv("MEMPROF_ROOT_PID", num, 1); /* the constructor's guard sends its malloc past us */
}

void mp_options_init(void)
{
	const char *v = getenv("MEMPROF_OUTPUT");
	copy(mp_opt.output, sizeof(mp_opt.output), v && *v ? v : "memprof.%e.%p.gz");
	v = getenv("MEMPROF_MANIFEST");
	copy(mp_opt.manifest, sizeof(mp_opt.manifest), v ? v : "");
	mp_opt.max_depth = MP_DEFAULT_DEPTH;
	v = getenv("MEMPROF_DEPTH");
	if (v && *v) {
		char *end;
		unsigned long d = strtoul(v, &end, 10);
		if (*end || d < 1 || d > MP_MAX_DEPTH)
			mp_log("MEMPROF_DEPTH must be a number from 1 to 256; using 64, not ", v, NULL);
		else
			mp_opt.max_depth = (unsigned)d;
	}
	mp_opt.follow_children = mp_env_bool("MEMPROF_FOLLOW_CHILDREN", 0);
	mp_opt.follow_exec = mp_env_bool("MEMPROF_FOLLOW_EXEC", 1);
	v = getenv("MEMPROF_SEQ");
	mp_opt.first_seq = v && *v ? (uint32_t)strtoul(v, NULL, 10) : 0;
	mp_opt.verify_traces = mp_env_bool("MEMPROF_VERIFY_TRACES", 0);
	read_interval();
	mp_opt.snapshot_signal = read_signal("MEMPROF_SIGNAL");
	mp_opt.leak_signal = read_signal("MEMPROF_LEAK_SIGNAL");
	if (mp_opt.leak_signal && mp_opt.leak_signal == mp_opt.snapshot_signal) {
		mp_log("MEMPROF_LEAK_SIGNAL and MEMPROF_SIGNAL name the same signal; it writes plain snapshots",
		       NULL, NULL);
		mp_opt.leak_signal = 0;
	}
	v = getenv("MEMPROF_TEST_MAPS_MAX");
	if (v && *v)
		mp_maps_limit_for_test(strtoul(v, NULL, 10));
	mp_opt.leak_check = mp_env_bool("MEMPROF_LEAK_CHECK", 1);
	mp_opt.fatal_signals = mp_env_bool("MEMPROF_FATAL_SIGNALS", 1);
	if (!getcwd(mp_opt.cwd, sizeof(mp_opt.cwd)))
		mp_opt.cwd[0] = '\0';
	ssize_t n = readlink("/proc/self/exe", mp_opt.exe_path, sizeof(mp_opt.exe_path) - 1);
	mp_opt.exe_path[n > 0 ? n : 0] = '\0';
	extern char *program_invocation_short_name;
	copy(mp_opt.exe, sizeof(mp_opt.exe),
	     program_invocation_short_name && *program_invocation_short_name
		     ? program_invocation_short_name : "unknown");
	read_cmdline();
}

void mp_options_init_environment(void)
{
	find_libc_env_functions();
	libc_unsetenv("MEMPROF_SEQ"); /* this image's alone (exec.c) */
	/* Noted either way, for an exec in place to put back (exec.c); taken out only when the
	 * programs this one starts are not followed. */
	strip_ld_preload(!mp_opt.follow_children);
	unset_run_variables(!mp_opt.follow_children);
	if (mp_opt.follow_children)
		mark_exec_child();
}

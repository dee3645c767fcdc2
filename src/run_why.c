/* SPDX-License-Identifier: MIT */
/* Why a memprof run wrote no snapshot. The library says what it did in the manifest (started
 * recording, exec'd in place, exec'd in a child it does not follow, could not write); what
 * it cannot say, because it never ran, is read from the program's file: no ELF interpreter
 * (statically linked: LD_PRELOAD reaches only programs that ld.so starts), set-user-ID or
 * set-group-ID for another user, or file capabilities (ld.so's secure mode ignores such a
 * path in LD_PRELOAD). A script is judged by its interpreter. */
#include "run_why.h"

#include "cli.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PREFIX "no snapshot was written: "

/* `name` as execvp finds it, into out; 0, or -1 if it is nowhere. */
static int resolve(const char *name, char *out, size_t cap)
{
	if (strchr(name, '/'))
		return (size_t)snprintf(out, cap, "%s", name) < cap ? 0 : -1;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/bin:/usr/bin";
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, ":");
		if ((size_t)snprintf(out, cap, "%.*s%s%s", (int)len, p, len ? "/" : "", name) < cap &&
		    access(out, X_OK) == 0)
			return 0;
		p += len;
		if (*p == ':')
			p++;
	}
	return -1;
}

/* The interpreter a "#!" line names, into out; 0, or -1 if the file has none. */
static int script_interpreter(const char *path, char *out, size_t cap)
{
	char line[PATH_MAX + 3];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return -1;
	line[n] = '\0';
	char *p = line + 2 + strspn(line + 2, " \t");
	size_t len = strcspn(p, " \t\n");
	if (!len || len >= cap)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* 1 if `path` is an ELF executable without PT_INTERP (64-bit, the only kind memprof runs). */
static int is_static_elf(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC), is_static = 0;
	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 4096 &&
	    (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
		is_static = 1;
		for (unsigned i = 0; i < eh.e_phnum && is_static; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
				is_static = 0; /* unreadable: say nothing */
			else if (ph.p_type == PT_INTERP)
				is_static = 0;
		}
		/* A shared library without an interpreter is not a program: not judged. */
		if (is_static && eh.e_type == ET_DYN) {
			struct stat st;
			is_static = fstat(fd, &st) == 0 && (st.st_mode & 0111);
		}
	}
	close(fd);
	return is_static;
}

/* Why ld.so would not preload into the program at `path`, or NULL if it would. */
static const char *refusal(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid())
		return "is set-user-ID, and ld.so ignores LD_PRELOAD for such a program";
	if ((st.st_mode & S_ISGID) && st.st_gid != getgid())
		return "is set-group-ID, and ld.so ignores LD_PRELOAD for such a program";
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "has file capabilities, and ld.so ignores LD_PRELOAD for such a program";
	if (is_static_elf(path))
		return "is statically linked, and LD_PRELOAD reaches only dynamically linked programs";
	return NULL;
}

/* The library's reading of a yes/no variable (preload/options.c, mp_env_bool). */
static int is_word_of(const char *v, const char *const words[4])
{
	for (int i = 0; v && i < 4; i++) {
		if (!strcasecmp(v, words[i]))
			return 1;
	}
	return 0;
}

static int is_on(const char *v)
{
	static const char *const yes[4] = { "1", "yes", "on", "true" };
	return is_word_of(v, yes);
}

static int is_off(const char *v)
{
	static const char *const no[4] = { "0", "no", "off", "false" };
	return is_word_of(v, no);
}

/* Says why the library never started in `name` (which `parent` exec'd, if not NULL). */
static void never_loaded(const char *parent, const char *name)
{
	char path[PATH_MAX], interp[PATH_MAX];
	const char *why = NULL, *who = name;
	if (resolve(name, path, sizeof(path)) == 0) {
		why = refusal(path);
		if (!why && script_interpreter(path, interp, sizeof(interp)) == 0 && (why = refusal(interp)))
			who = interp;
	}
	char lead[PATH_MAX + 16] = "";
	if (parent)
		snprintf(lead, sizeof(lead), "%s exec'd ", parent);
	if (why && who != name)
		mp_error(PREFIX "%s%s%s a script for %s, which %s", lead, name, parent ? "," : " is", who, why);
	else if (why)
		mp_error(PREFIX "%s%s%s %s", lead, name, parent ? ", which" : "", why);
	else if (parent)
		mp_error(PREFIX "%s%s, which never loaded libmemprof.so", lead, name);
	else
		mp_error(PREFIX "%s never loaded libmemprof.so: LD_PRELOAD was taken out of its "
			 "environment", name);
}

/* The event's kind and process: "KIND PID TEXT"; the text, or NULL if the line is not one. */
static const char *parse(const char *ev, char *kind, size_t cap, long *pid)
{
	size_t k = strcspn(ev, " ");
	if (!k || k >= cap || ev[k] != ' ')
		return NULL;
	memcpy(kind, ev, k);
	kind[k] = '\0';
	char *end;
	*pid = strtol(ev + k + 1, &end, 10);
	return *end == ' ' ? end + 1 : NULL;
}

void mp_run_explain(const char *program, pid_t pid, int status, char *const *events, size_t n_events)
{
	const char *last = NULL, *child_exec = NULL; /* the root's last start or exec event */
	int errors = 0;
	for (size_t i = 0; i < n_events; i++) {
		char kind[16];
		long p;
		const char *text = parse(events[i], kind, sizeof(kind), &p);
		if (!text)
			continue;
		if (!strcmp(kind, "error") && !errors++)
			mp_error(PREFIX "cannot write snapshot %s", text);
		else if (!strcmp(kind, "child-exec") && !child_exec)
			child_exec = text;
		else if (p == pid && (!strcmp(kind, "start") || !strcmp(kind, "exec")))
			last = events[i];
	}
	if (errors)
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		mp_error(PREFIX "%s was killed by SIGKILL, which ends a process before it can write one", program);
	} else if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		char sig[32];
		if (abbrev)
			snprintf(sig, sizeof(sig), "SIG%s", abbrev);
		else
			snprintf(sig, sizeof(sig), "signal %d", WTERMSIG(status));
		mp_error(PREFIX "%s was killed by %s%s", program, sig,
			 is_off(getenv("MEMPROF_FATAL_SIGNALS")) ? ", and MEMPROF_FATAL_SIGNALS is off" : "");
	} else if (!last) {
		const char *v = getenv("MEMPROF_DISABLE");
		if (is_on(v))
			mp_error(PREFIX "MEMPROF_DISABLE=%s is set", v);
		else
			never_loaded(NULL, program);
	} else if (!strncmp(last, "exec ", 5)) {
		const char *target = strchr(last + 5, ' ') + 1;
		if (is_off(getenv("MEMPROF_FOLLOW_EXEC")))
			mp_error(PREFIX "%s exec'd %s, which MEMPROF_FOLLOW_EXEC=%s does not follow", program, target,
				 getenv("MEMPROF_FOLLOW_EXEC"));
		else
			never_loaded(program, target);
	} else if (child_exec) {
		mp_error(PREFIX "%s ran %s in a child process, which is not followed without --follow-children",
			 program, child_exec);
	} else {
		mp_error(PREFIX "%s ended without writing one (see the library's messages above, if any)", program);
	}
}

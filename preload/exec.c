/* SPDX-License-Identifier: MIT */
/* The exec family, interposed so that a program that replaces itself (a shim or launcher
 * that ends in exec: pyenv, rbenv, `exec "$@"` scripts) stays profiled as the program it
 * becomes, with the same snapshot name pattern and the same memprof run. The constructor
 * took libmemprof.so out of LD_PRELOAD and memprof run's variables out of the environment
 * (options.c), so that the programs this one starts are not profiled; an exec in place puts
 * them back into the environment it passes, and only that one: a fork or vfork child's exec
 * (another process) and posix_spawn (which calls the kernel directly) get none of it, as
 * with valgrind. MEMPROF_FOLLOW_EXEC=0 turns this off, unless children are followed: then
 * nothing was taken out, but an exec in place still gets what its environment lacks (a
 * program may build one without it) and MEMPROF_SEQ.
 *
 * glibc's exec functions call its internal execve, which no interposer sees: each of them
 * is interposed here. The new environment is built in memory from mmap (the allocator may
 * not be used: vfork children share it), left for the kernel to drop when exec succeeds. */
#include "exec.h"

#include "manifest.h"
#include "options.h"
#include "snapshot.h"
#include "state.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_ARGS (1u << 20) /* execl's arguments, at most; more is E2BIG */
#define SEQ_ENTRY_BYTES 32   /* "MEMPROF_SEQ=" and a 32-bit number, with its NUL */

extern char **environ;

/* How an exec names its program: the C library's execve, execvpe or fexecve does it. */
enum how { BY_PATH, BY_SEARCH, BY_FD };
static const char *const real_names[] = { "execve", "execvpe", "fexecve" };
static _Atomic(void *) real[3];
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

/* The C library's function for `how`, looked up the first time (NULL if absent). */
static void *real_exec(enum how how)
{
	void *f = atomic_load_explicit(&real[how], memory_order_relaxed);
	if (!f) {
		f = dlsym(RTLD_NEXT, real_names[how]);
		atomic_store_explicit(&real[how], f, memory_order_relaxed);
	}
	return f;
}

void mp_exec_init(void)
{
	for (enum how how = BY_PATH; how <= BY_FD; how++)
		(void)real_exec(how);
}

/* The exec itself, through the C library: the program is `path`, or `fd` for BY_FD. */
static int call_real(enum how how, const char *path, int fd, char *const argv[], char *const envp[])
{
	void *f = real_exec(how);
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return how == BY_FD ? ((fexecve_fn)f)(fd, argv, envp) : ((execve_fn)f)(path, argv, envp);
}

/* An exec by this process, not by a fork or vfork child (whose getpid() differs). */
static int in_place(void)
{
	return !mp_is_fork_child && getpid() == mp_pid;
}

/* The length of the name of "NAME=value" (up to '='). */
static size_t name_len(const char *s)
{
	return strcspn(s, "=");
}

static int has_name(char *const *env, const char *entry)
{
	size_t n = name_len(entry);
	for (; env && *env; env++) {
		if (name_len(*env) == n && memcmp(*env, entry, n) == 0)
			return 1;
	}
	return 0;
}

/* Whether the LD_PRELOAD value `list` holds `entry` as one of its entries (split at colons
 * and spaces, as ld.so splits it). */
static int has_entry(const char *list, const char *entry)
{
	size_t n = strlen(entry);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ": ");
		if (len == n && memcmp(p, entry, n) == 0)
			return 1;
		p += len;
		p += strspn(p, ": ");
	}
	return 0;
}

/* A mapping holding env for the new image, *bytes long: MEMPROF_SEQ, so that its snapshots
 * number on from this image's (the same pattern and process ID must not name one twice),
 * libmemprof.so in LD_PRELOAD (first, unless env has it already) and every kept variable that
 * env lacks. NULL (env used as it is) when there is no memory. */
static char **carried(char *const *env, size_t *bytes)
{
	size_t n_env = 0;
	size_t text = SEQ_ENTRY_BYTES + strlen(mp_opt.preload_entry) + sizeof("LD_PRELOAD=:") +
		      mp_opt.carry_len;
	for (char *const *e = env; e && *e; e++, n_env++) {
		if (!strncmp(*e, "LD_PRELOAD=", 11))
			text += strlen(*e);
	}
	size_t n_carry = 0;
	for (size_t at = 0; at < mp_opt.carry_len; at += strlen(mp_opt.carry + at) + 1)
		n_carry++;
	*bytes = (n_env + n_carry + 3) * sizeof(char *) + text;
	char **out = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED)
		return NULL;
	char *buf = (char *)(out + n_env + n_carry + 3);
	size_t k = 0, preload_at = SIZE_MAX;
	const char *old = NULL;
	for (char *const *e = env; e && *e; e++) {
		if (!strncmp(*e, "LD_PRELOAD=", 11) && !old) {
			old = *e + 11;
			preload_at = k++; /* where the program had it, filled below */
		} else if (strncmp(*e, "MEMPROF_SEQ=", 12)) {
			out[k++] = *e;
		}
	}
	if (preload_at == SIZE_MAX)
		preload_at = k++;
	out[k++] = buf;
	buf = stpcpy(buf, "MEMPROF_SEQ=");
	buf += mp_utoa(mp_snapshot_next_seq(), buf) + 1;
	if (mp_opt.preload_entry[0] && !(old && has_entry(old, mp_opt.preload_entry))) {
		/* Ours first, as memprof run put it, then what the program preloads itself. */
		out[preload_at] = buf;
		buf = stpcpy(stpcpy(buf, "LD_PRELOAD="), mp_opt.preload_entry);
		if (old && *old)
			buf = stpcpy(stpcpy(buf, ":"), old);
		buf++;
	} else if (old) {
		out[preload_at] = (char *)old - 11;
	} else {
		out[preload_at] = out[--k]; /* no LD_PRELOAD at all: MEMPROF_SEQ into its slot */
	}
	for (size_t at = 0; at < mp_opt.carry_len; at += strlen(mp_opt.carry + at) + 1) {
		if (!has_name(env, mp_opt.carry + at))
			out[k++] = mp_opt.carry + at;
	}
	out[k] = NULL;
	return out;
}

/* Calls exec for `what` (the path or file name as given; a description for BY_FD, whose
 * program is fd), with the new image's environment when this is an exec in place that stays
 * profiled (always, when children are followed: nothing was taken out); returns what exec
 * returns (it returned: it failed), errno as exec left it. */
static int exec_with(enum how how, const char *what, int fd, char *const argv[], char *const envp[])
{
	const char *path = how == BY_FD ? NULL : what;
	if (!mp_initialized)
		return call_real(how, path, fd, argv, envp);
	/* For memprof run, to say why nothing was written if nothing is: the path as this
	 * process sees it (memprof run's working directory is another). */
	char cwd[1024];
	int relative = mp_opt.manifest[0] && what[0] != '/' && strchr(what, '/') &&
		       getcwd(cwd, sizeof(cwd)); /* no getcwd when there is no manifest to tell */
	const char *a = relative ? cwd : what, *b = relative ? "/" : NULL, *c = relative ? what : NULL;
	if (in_place())
		mp_manifest_event("exec", a, b, c);
	else if (!mp_opt.follow_children)
		mp_manifest_event("child-exec", a, b, c);
	if (!in_place() || (!mp_opt.follow_exec && !mp_opt.follow_children))
		return call_real(how, path, fd, argv, envp);
	/* No snapshot may be under way when the image goes (the helper thread's would be cut off,
	 * its temporary file left) or start between reading the sequence number and the exec (the
	 * new image would number one the same). A thread that holds a lock of ours already (an exec
	 * from a signal handler that interrupted the library) does without. */
	int locked = mp_locks_held == 0;
	if (locked)
		mp_snapshot_lock();
	size_t bytes = 0;
	char **env = carried(envp, &bytes);
	int r = call_real(how, path, fd, argv, env ? env : envp);
	int err = errno;
	if (env)
		munmap(env, bytes);
	if (locked)
		mp_snapshot_unlock();
	errno = err;
	return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return exec_with(BY_PATH, path, -1, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	return exec_with(BY_PATH, path, -1, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return exec_with(BY_SEARCH, file, -1, argv, envp);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return exec_with(BY_SEARCH, file, -1, argv, environ);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return exec_with(BY_FD, "(a file descriptor)", fd, argv, envp);
}

/* How many arguments execl's list holds, from arg0 to (not counting) the NULL that ends it. */
static size_t count_args(va_list ap)
{
	va_list count;
	va_copy(count, ap);
	size_t n = 1;
	while (va_arg(count, char *) && n < MAX_ARGS)
		n++;
	va_end(count);
	return n;
}

/* execl's arguments go into an array on the stack, as glibc's own execl puts them: a vfork
 * child shares its parent's memory, and a mapping made there would stay in the parent. */
static int exec_list(enum how how, int with_env, const char *target, const char *arg0, va_list ap)
{
	size_t n = count_args(ap);
	if (n >= MAX_ARGS) {
		errno = E2BIG;
		return -1;
	}
	char *argv[n + 1];
	char *const *envp = environ;
	argv[0] = (char *)arg0;
	for (size_t i = 1; i <= n; i++)
		argv[i] = va_arg(ap, char *); /* argv[n] is the NULL */
	if (with_env)
		envp = va_arg(ap, char *const *);
	return exec_with(how, target, -1, argv, envp);
}

EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	int r = exec_list(BY_PATH, 0, path, arg0, ap);
	va_end(ap);
	return r;
}

EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	int r = exec_list(BY_SEARCH, 0, file, arg0, ap);
	va_end(ap);
	return r;
}

EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	va_start(ap, arg0);
	int r = exec_list(BY_PATH, 1, path, arg0, ap);
	va_end(ap);
	return r;
}

/* SPDX-License-Identifier: MIT */
/* Process life: the constructor and destructor, _exit and _Exit, fork's handlers and daemon.
 * With the hooks (hooks.c) it sits on top: nothing calls into it. */
#include "lifecycle.h"

#include "bootstrap.h"
#include "exec.h"
#include "fatal.h"
#include "final.h"
#include "leakscan.h"
#include "live_table.h"
#include "manifest.h"
#include "modules.h"
#include "options.h"
#include "peak.h"
#include "periodic.h"
#include "snapshot.h"
#include "start.h"
#include "state.h"
#include "thread.h"
#include "timeline.h"
#include "trace_table.h"
#include "unwind.h"
#include "util.h"

#include "snapshot_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static MP_TLS int guard_before_fork;
/* Threads in _exit() (exit_common), which end the process once the final snapshot is written. */
static atomic_int exiting_threads;

/* After the final snapshot of exit(): a thread that called _exit() meanwhile (a signal
 * handler of the program's, say) waited for the snapshot, and without it would have ended the
 * process while this one was still in exit(): it goes first (1 s at most). */
static void let_exiting_threads_end(void)
{
	struct timespec ms = { 0, 1000 * 1000 };
	for (int i = 0; i < 1000 && atomic_load(&exiting_threads); i++)
		nanosleep(&ms, NULL);
}

__attribute__((noreturn)) static void exit_common(void (*fn)(int), int status)
{
	/* A vfork child shares this process's memory and this thread's TLS: it must leave both
	 * as they are (getpid differs there), or the parent would resume with its guard set. */
	if (mp_initialized && getpid() == mp_pid) {
		/* Without the profiler the process would end here: a signal that comes while the
		 * snapshot is written must not end it otherwise, so it stays blocked to the end. */
		sigset_t old;
		mp_final_hold_signals(&old);
		atomic_fetch_add(&exiting_threads, 1);
		int inside = mp_guard;
		mp_guard = 1;
		mp_final_snapshot_from(inside, MP_REASON_UNDERSCORE_EXIT);
	}
	if (fn)
		fn(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _exit(int status)
{
	mp_resolve();
	exit_common(mp_real.exit_, status);
}

EXPORT void _Exit(int status)
{
	mp_resolve();
	exit_common(mp_real.Exit_, status);
}

/* fork's handlers take and release our locks from one list, by rank (util.h): prepare in
 * increasing rank, parent and child in decreasing rank, so that the child finds none held.
 * What takes no lock (the trace table, the arena, taking a thread state) needs no entry: the
 * child finds each of another thread's changes done, or left where it does no harm (an id that
 * is a hole, arena space never used, a mapping not registered, see mp_maps_after_fork_child). */
static const struct fork_lock {
	void (*take)(void);
	void (*parent)(void);
	void (*child)(void);
} fork_locks[MP_RANK_COUNT] = {
	[MP_RANK_LEAKSCAN] = { mp_leakscan_lock, mp_leakscan_unlock, mp_leakscan_after_fork_child },
	[MP_RANK_UNWINDS] = { mp_unwind_hold_for_fork, mp_unwind_release_after_fork, mp_unwind_after_fork_child },
	[MP_RANK_SNAPSHOT] = { mp_snapshot_lock, mp_snapshot_unlock, mp_snapshot_unlock },
	[MP_RANK_PEAK] = { mp_peak_lock, mp_peak_unlock, mp_peak_unlock },
	[MP_RANK_TIMELINE] = { mp_timeline_lock, mp_timeline_unlock, mp_timeline_unlock },
	[MP_RANK_COUNTS] = { mp_counts_hold_for_fork, mp_counts_release_after_fork,
			     mp_threads_after_fork_child },
	[MP_RANK_MODULES] = { mp_modules_lock, mp_modules_unlock, mp_modules_unlock },
	[MP_RANK_LIVE_GROWTH] = { mp_live_lock_growth, mp_live_unlock_growth, mp_live_after_fork_child },
};

static void before_fork(void)
{
	guard_before_fork = mp_guard;
	mp_guard = 1;
	for (int r = 0; r < MP_RANK_COUNT; r++)
		fork_locks[r].take();
}

/* Set by daemon() on the calling thread: its parent side ends with glibc's internal _exit,
 * which our _exit never sees. */
static MP_TLS int in_daemon;
static sigset_t daemon_mask; /* the mask before after_fork_parent held the signals */
static MP_TLS int daemon_held;

static void after_fork_parent(void)
{
	for (int r = MP_RANK_COUNT - 1; r >= 0; r--)
		fork_locks[r].parent();
	if (in_daemon) {
		/* daemon()'s parent calls _exit(0) next (or returns -1 if fork failed: daemon()
		 * undoes this then): its final snapshot, signals held as _exit() holds them. */
		mp_final_hold_signals(&daemon_mask);
		daemon_held = 1;
		mp_final_snapshot_from(guard_before_fork, MP_REASON_UNDERSCORE_EXIT);
	}
	mp_guard = guard_before_fork;
}

static void after_fork_child(void)
{
	mp_maps_after_fork_child();
	for (int r = MP_RANK_COUNT - 1; r >= 0; r--)
		fork_locks[r].child();
	mp_periodic_after_fork_child();
	mp_fatal_after_fork_child();
	mp_is_fork_child = 1;
	mp_parent_pid = mp_pid; /* the parent's, now: getppid() says 1 once a daemon's parent exits */
	mp_pid = getpid();
	atomic_store(&mp_final_written, 0);
	mp_final_after_fork_child();
	atomic_store(&exiting_threads, 0);
	in_daemon = 0;
	mp_guard = guard_before_fork;
}

/* daemon(3): glibc's parent side ends in an internal _exit that our _exit never sees, so the
 * parent's final snapshot is written by the fork handler (after_fork_parent). */
EXPORT int daemon(int nochdir, int noclose)
{
	static int (*real_daemon)(int, int);
	mp_resolve();
	if (!real_daemon)
		real_daemon = (int (*)(int, int))dlsym(RTLD_NEXT, "daemon");
	if (!real_daemon) {
		errno = ENOSYS;
		return -1;
	}
	pid_t pid = getpid();
	in_daemon = 1;
	int r = real_daemon(nochdir, noclose);
	in_daemon = 0;
	if (daemon_held && getpid() == pid) {
		/* fork failed and the parent goes on: its snapshot is not the final one after all
		 * (the one at its real exit replaces it), and signals are its own again. */
		daemon_held = 0;
		mp_final_forget();
		mp_final_release_signals(&daemon_mask);
	}
	return r;
}

__attribute__((constructor(101))) static void mp_init(void)
{
	mp_guard = 1;
	mp_resolve();
	mp_start_recording(); /* nothing when a hook did it already */
	mp_exec_init(); /* the exec functions forward even when nothing is recorded */
	if (mp_initialized) {
		pthread_atfork(before_fork, after_fork_parent, after_fork_child);
		mp_options_init_environment();
		mp_periodic_init();
		mp_manifest_event("start", mp_opt.exe_path, NULL, NULL);
	}
	mp_guard = 0;
}

/* Runs after the program's own destructors and atexit handlers (it was initialized before
 * them); the hooks keep working after it for whatever runs later. A signal that arrives while
 * the snapshot is written waits for it (mp_final_release_signals). */
__attribute__((destructor(101))) static void mp_fini(void)
{
	int saved = mp_guard;
	sigset_t old;
	int hold = mp_initialized && getpid() == mp_pid && !atomic_load(&mp_final_written);
	if (hold)
		mp_final_hold_signals(&old);
	mp_guard = 1;
	mp_final_snapshot_from(saved, MP_REASON_EXIT);
	mp_guard = saved;
	if (hold) {
		mp_final_release_signals(&old);
		let_exiting_threads_end();
	}
}

/* SPDX-License-Identifier: MIT */
/* The final snapshot of a process, written once: at exit(), at _exit(), or when it dies of a
 * signal (for fatal.c), with the signals that arrive meanwhile held until it is written. */
#include "final.h"

#include "leakscan.h"
#include "options.h"
#include "snapshot.h"
#include "state.h"
#include "thread.h"
#include "unwind.h"
#include "util.h"

#include "snapshot_format.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void report_verify(void)
{
	if (!mp_opt.verify_traces)
		return;
	struct mp_unwind_stats st;
	char a[24], b[24], c[24], d[24], line[200];
	mp_unwind_stats(&st);
	mp_utoa(st.hits, a);
	mp_utoa(st.misses, b);
	mp_utoa(st.mismatches, c);
	mp_utoa(st.learned, d);
	line[0] = '\0';
	strcat(line, a);
	strcat(line, " hits, ");
	strcat(line, b);
	strcat(line, " misses, ");
	strcat(line, c);
	strcat(line, " mismatches, ");
	strcat(line, d);
	strcat(line, " frame sizes learned");
	mp_log("trace cache: ", line, NULL);
}

/* Set once the final snapshot is written (or failed): a fatal signal in another thread waits
 * for it. final_reason says why it is written (exit or _exit; not a fatal signal's), set
 * before it is begun. */
static atomic_int final_done;
static atomic_uint final_reason;
/* Set on the thread writing the final snapshot, for its whole length. */
static MP_TLS int writes_final;
/* A signal from outside that another thread got while the final snapshot was written and
 * holds blocked (fatal.c); the exit() path raises it again once the snapshot is written. */
static atomic_int held_signal;

/* The signals held on the thread that writes the final snapshot: every standard one but the
 * faults, which cannot wait (a fault with its signal blocked kills at once). The real-time
 * ones are left alone: the leak scan's stop signal is one, and they take its census. */
void mp_final_hold_signals(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL && sig != SIGTRAP &&
		    sig != SIGSYS)
			sigaddset(&s, sig);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

/* After the final snapshot of exit(): the program is where it was before it, in exit(), and a
 * signal that came meanwhile is taken there, as it would have been without the snapshot
 * (bare, it would have found the program in exit() just the same). */
void mp_final_release_signals(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
	int sig = atomic_exchange(&held_signal, 0);
	if (sig)
		syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

int mp_final_holds_signal(int sig)
{
	if (writes_final || !mp_initialized || getpid() != mp_pid)
		return 0;
	/* Noted first, so that the exit() path, which sets final_done before it looks, cannot
	 * miss it. */
	int expected = 0;
	int noted = atomic_compare_exchange_strong(&held_signal, &expected, sig);
	unsigned reason = atomic_load(&final_reason);
	if (reason && (!atomic_load(&final_done) || reason == MP_REASON_UNDERSCORE_EXIT))
		return 1; /* being written; or written for _exit(), which ends the process right after */
	if (noted) {
		expected = sig;
		atomic_compare_exchange_strong(&held_signal, &expected, 0);
	}
	return 0;
}

/* Another thread writes the final snapshot: wait for it (30 s at most), and, when it is for
 * _exit(), which ends the process as soon as it is written, for the end (30 s more): without
 * the profiler the process would have ended already, with that thread's status. */
static void wait_for_final(void)
{
	struct timespec ms = { 0, 1000 * 1000 };
	if (writes_final)
		return;
	for (int i = 0; i < 30 * 1000 && !atomic_load(&final_done); i++)
		nanosleep(&ms, NULL);
	for (int i = 0; i < 30 * 1000 && atomic_load(&final_reason) == MP_REASON_UNDERSCORE_EXIT; i++)
		nanosleep(&ms, NULL);
}

/* The final snapshot, once per process; called with the guard set. */
static void final_snapshot(unsigned reason)
{
	if (!mp_initialized || getpid() != mp_pid)
		return;
	if (atomic_exchange(&mp_final_written, 1)) {
		wait_for_final();
		return;
	}
	writes_final = 1;
	atomic_store(&final_reason, reason);
	struct mp_thread *th = mp_thread_get();
	if (th)
		mp_thread_flush(th);
	if (mp_opt.leak_check)
		mp_leak_check_snapshot(reason, 1);
	else
		mp_snapshot_write(reason, NULL);
	atomic_store(&final_done, 1);
	writes_final = 0;
	report_verify();
}

/* The final snapshot from exit or _exit, `inside` when this thread was inside the library
 * (a signal handler interrupted it and ends the process): if the library held one of its
 * locks there, the snapshot would wait for this thread forever, and the process ends without
 * it rather than hang. */
void mp_final_snapshot_from(int inside, unsigned reason)
{
	if (!inside || mp_locks_held <= 0) {
		final_snapshot(reason);
		return;
	}
	if (mp_initialized && getpid() == mp_pid && !atomic_exchange(&mp_final_written, 1)) {
		mp_log(reason == MP_REASON_EXIT ? "exit()" : "_exit()",
		       " from a signal handler that interrupted the profiler holding a lock: "
		       "no final snapshot", NULL);
		atomic_store(&final_done, 1); /* no thread waits for it */
	}
}

void mp_fatal_snapshot(int sig)
{
	if (!mp_initialized || getpid() != mp_pid)
		return;
	if (atomic_exchange(&mp_final_written, 1)) {
		/* Another thread is writing the final snapshot (the program is in exit()): the
		 * signal ends the process once it is written, or after 30 s. */
		struct timespec ms = { 0, 1000 * 1000 };
		for (int i = 0; i < 30 * 1000 && !atomic_load(&final_done); i++)
			nanosleep(&ms, NULL);
		return;
	}
	struct mp_thread *th = mp_thread_get();
	if (th)
		mp_thread_flush(th);
	char label[24] = "SIG";
	const char *name = sigabbrev_np(sig);
	if (name && strlen(name) < sizeof(label) - 3)
		memcpy(label + 3, name, strlen(name) + 1);
	else
		mp_utoa((uint64_t)sig, label + 3);
	mp_snapshot_write(MP_REASON_FATAL_SIGNAL, label);
	atomic_store(&final_done, 1); /* a thread in exit() or _exit() waits for it */
}

void mp_final_after_fork_child(void)
{
	atomic_store(&final_done, 0);
	atomic_store(&final_reason, 0);
	atomic_store(&held_signal, 0);
}

void mp_final_forget(void)
{
	atomic_store(&final_done, 0);
	atomic_store(&final_reason, 0);
	atomic_store(&mp_final_written, 0);
}

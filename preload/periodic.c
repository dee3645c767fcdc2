/* SPDX-License-Identifier: MIT */
/* Snapshots while the program runs: every MEMPROF_INTERVAL, when MEMPROF_SIGNAL arrives, a
 * leak check when MEMPROF_LEAK_SIGNAL arrives, and when the program calls memprof_snapshot()
 * (include/memprof.h), which reaches memprof_api_snapshot() here.
 *
 * The first three are written by a helper thread, started at the first allocation or free after
 * the constructor (and again in a fork child) only when one of them is configured. It blocks
 * every signal, sleeps on a semaphore that the signal handler posts (the handler does nothing
 * else: sem_post is async-signal-safe), takes timeline points while the program is idle, and
 * ends the process with exit(0) when it is the last thread left, as glibc does when the last
 * thread of a process returns or calls pthread_exit: it never keeps the process alive. */
#include "periodic.h"

#include "leak_stop.h"
#include "leakscan.h"
#include "options.h"
#include "snapshot.h"
#include "state.h"
#include "thread.h"
#include "timeline.h"
#include "util.h"

#include "snapshot_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
/* The helper wakes at least this often, to see whether it is the last thread. */
#define MAX_SLEEP_NS (200ull * 1000 * 1000)
#define MAX_LABEL_BYTES 1023

enum { HELPER_NONE, HELPER_STARTING, HELPER_RUNNING, HELPER_FAILED };
static atomic_int helper_state;
static sem_t wake;
static atomic_int signal_pending;
/* glibc's count of the process's threads (GLIBC_PRIVATE, looked up once; NULL if absent). */
static const volatile unsigned int *glibc_nthreads;

static atomic_int leak_check_pending;

static int is_wanted(void)
{
	return mp_opt.interval_ns || mp_opt.snapshot_signal || mp_opt.leak_signal;
}

/* Async-signal-safe: one store and sem_post, errno kept. */
static void on_snapshot_signal(int sig)
{
	int saved = errno;
	atomic_store(sig == mp_opt.leak_signal ? &leak_check_pending : &signal_pending, 1);
	sem_post(&wake);
	errno = saved;
}

static void take_signal(int sig, const char *var)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_snapshot_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		mp_log("cannot install the handler of ", var, "; nothing happens on that signal");
}

/* Set by mp_periodic_init (the constructor): recording may start earlier, from the first hook
 * call, and the helper must not start before its semaphore is set up. */
static atomic_int set_up;

void mp_periodic_init(void)
{
	if (!is_wanted())
		return;
	sem_init(&wake, 0, 0);
	atomic_store(&set_up, 1);
	if (mp_opt.snapshot_signal)
		take_signal(mp_opt.snapshot_signal, "MEMPROF_SIGNAL");
	if (mp_opt.leak_signal)
		take_signal(mp_opt.leak_signal, "MEMPROF_LEAK_SIGNAL");
}

static int is_last_thread(void)
{
	return glibc_nthreads && *glibc_nthreads == 1;
}

static void write_snapshot(unsigned reason)
{
	if (atomic_load(&mp_active))
		mp_snapshot_write(reason, NULL);
}

static void *helper_main(void *arg)
{
	(void)arg;
	mp_guard = 1; /* whatever this thread allocates is the profiler's, not the program's */
	mp_leakscan_ignore_this_thread(); /* it blocks every signal, and holds no program pointer */
	pthread_setname_np(pthread_self(), "memprof");
	glibc_nthreads = dlsym(RTLD_DEFAULT, "__nptl_nthreads");
	uint64_t next_snapshot = mp_opt.interval_ns ? mp_now_ns() + mp_opt.interval_ns : UINT64_MAX;
	while (!atomic_load(&mp_final_written)) {
		uint64_t now = mp_now_ns(), until = now + MAX_SLEEP_NS;
		if (next_snapshot < until)
			until = next_snapshot;
		if (mp_timeline_next_due_ns() < until)
			until = mp_timeline_next_due_ns();
		if (until > now) {
			struct timespec ts = { (time_t)(until / 1000000000u), (long)(until % 1000000000u) };
			(void)sem_clockwait(&wake, CLOCK_MONOTONIC, &ts);
		}
		if (atomic_load(&mp_final_written))
			break;
		if (is_last_thread()) {
			/* The program's last thread has gone: end as glibc would have, with
			 * atexit handlers and destructors (and so the final snapshot), status 0.
			 * Recorded as the program's own, like any thread's. */
			mp_guard = 0;
			exit(0);
		}
		if (atomic_exchange(&signal_pending, 0))
			write_snapshot(MP_REASON_SIGNAL);
		if (atomic_exchange(&leak_check_pending, 0))
			mp_leak_check_snapshot_from_helper();
		now = mp_now_ns();
		if (now >= next_snapshot) {
			write_snapshot(MP_REASON_INTERVAL);
			next_snapshot += mp_opt.interval_ns;
			if (next_snapshot <= now) /* writing took longer than the interval */
				next_snapshot = now + mp_opt.interval_ns;
		}
		mp_timeline_sample_if_due();
	}
	return NULL;
}

/* Called with the hook guard set, from the timeline's poll (every few dozen events). */
void mp_periodic_ensure_helper(void)
{
	if (MP_LIKELY(atomic_load_explicit(&helper_state, memory_order_relaxed) != HELPER_NONE) ||
	    !is_wanted() || !atomic_load(&set_up) || atomic_load(&mp_final_written))
		return; /* running, not wanted, or the process is ending */
	int expected = HELPER_NONE;
	if (!atomic_compare_exchange_strong(&helper_state, &expected, HELPER_STARTING))
		return;
	/* The thread starts with every signal blocked, so that no signal meant for the program
	 * is ever delivered to it (glibc keeps its own two internal signals unblocked). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_attr_t attr;
	pthread_t tid;
	int err = pthread_attr_init(&attr);
	if (!err)
		err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (!err) {
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = pthread_create(&tid, &attr, helper_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		atomic_store(&helper_state, HELPER_FAILED);
		mp_log("cannot start the helper thread; no snapshots on MEMPROF_INTERVAL, MEMPROF_SIGNAL or MEMPROF_LEAK_SIGNAL",
		       NULL, NULL);
		return;
	}
	atomic_store(&helper_state, HELPER_RUNNING);
}

/* Only the forking thread lives on in a child: the helper is started again at the child's
 * first allocation or free. */
void mp_periodic_after_fork_child(void)
{
	if (!is_wanted())
		return;
	sem_init(&wake, 0, 0);
	atomic_store(&signal_pending, 0); /* the parent's, not the child's */
	atomic_store(&leak_check_pending, 0);
	atomic_store(&helper_state, HELPER_NONE);
	struct mp_thread *th = mp_thread_self();
	if (th)
		th->tick_countdown = 0; /* at the child's first allocation or free, not 64 later */
}

/* memprof_snapshot(label) of include/memprof.h: a complete snapshot now, written by the
 * calling thread. 0 when written; -1 when not profiling, after the final snapshot, or when the
 * file cannot be written (the library then says why on standard error, once). Not
 * async-signal-safe, as the program's own allocator calls would not be. */
EXPORT int memprof_api_snapshot(const char *label)
{
	if (!atomic_load(&mp_active) || mp_guard)
		return -1;
	int saved_errno = errno;
	mp_guard = 1;
	char copy[MAX_LABEL_BYTES + 1];
	if (label) {
		size_t n = strnlen(label, MAX_LABEL_BYTES);
		memcpy(copy, label, n);
		copy[n] = '\0';
	}
	int err = mp_snapshot_write(MP_REASON_REQUEST, label ? copy : NULL);
	mp_guard = 0;
	errno = saved_errno;
	return err ? -1 : 0;
}

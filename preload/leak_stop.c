/* SPDX-License-Identifier: MIT */
/* Stopping the other threads for a leak scan (see leakscan.c's header comment): a real-time
 * signal whose handler saves the interrupted registers and waits on a futex until released.
 * The thread table, the release generation and the ignored threads are file-scope globals,
 * not in struct mp_scan: the signal handler reads them. */
#include "leak_stop.h"

#include "arch.h"
#include "leak_maps.h"
#include "thread.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define STOP_WAIT_NS 1000000000ull   /* for a thread to stop, at most */
#define BLOCKED_WAIT_NS 100000000ull  /* the same for one that blocked the signal when sent */

enum { T_SENT = 1, T_STOPPED = 2, T_DONE = 3, T_SKIPPED = 4 };
struct thread_regs {
	pid_t tid;
	_Atomic int state;
	int blocked; /* blocked the signal when it was sent: waited for briefly */
	uintptr_t sp;
	uintptr_t regs[MP_ARCH_N_GREGS]; /* of the interrupted context */
};
/* Never unmapped: a handler that runs late may still look at it. */
static struct thread_regs *threads;
static size_t threads_cap;
static _Atomic size_t n_threads;
static atomic_int release_gen; /* odd while threads are held */
static _Atomic pid_t ignored_tids[8];

void mp_leakscan_ignore_this_thread(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	for (int i = 0; i < 8; i++) {
		pid_t z = 0;
		if (atomic_compare_exchange_strong(&ignored_tids[i], &z, tid))
			return;
	}
}

static long futex(atomic_int *addr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* Saves the registers of the context to be scanned, then waits to be released. gen: the
 * release generation the stop was asked in. */
static void park(int gen, const ucontext_t *uc)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	size_t n = atomic_load(&n_threads);
	for (size_t i = 0; i < n; i++) {
		struct thread_regs *t = &threads[i];
		if (t->tid != tid || atomic_load(&t->state) != T_SENT)
			continue;
		if (atomic_load(&release_gen) != gen)
			return; /* that scan ended; the next one's signal is on its way */
		for (int r = 0; r < MP_ARCH_N_GREGS; r++)
			t->regs[r] = MP_ARCH_UCONTEXT_GREG(uc, r);
		t->sp = MP_ARCH_UCONTEXT_SP(uc);
		atomic_store(&t->state, T_STOPPED);
		/* Bounded: a scanner that never comes back must not hold this thread forever. */
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		for (int k = 0; k < 600 && atomic_load(&release_gen) == gen; k++)
			futex(&release_gen, FUTEX_WAIT_PRIVATE, gen, &ts);
		atomic_store(&t->state, T_DONE);
		break;
	}
}

/* The stop that on_stop_signal deferred, with this point's registers (a scanner that gave up
 * on this thread meanwhile has moved on: nothing to do). Every signal is blocked while the
 * thread waits, as in the signal handler: a handler of the program's that ran meanwhile could
 * allocate and free while the scanner reads the tables. */
static void stop_after_move(void)
{
	int saved = errno, gen = atomic_load(&release_gen);
	ucontext_t uc;
	sigset_t all, old;
	memset(&uc, 0, sizeof(uc)); /* getcontext leaves the scratch registers as they were */
	if (gen & 1) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (getcontext(&uc) == 0)
			park(gen, &uc);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	errno = saved;
}

MP_TLS volatile int mp_stop_deferred;

/* The stop that on_stop_signal deferred to the end of an allocator hook (hooks.c's
 * leave_hook, with the guard already clear). */
void mp_leakscan_deferred_stop(void)
{
	mp_stop_deferred = 0;
	stop_after_move();
}

/* Async-signal-safe: stops the thread (park). A thread interrupted inside an allocator hook
 * finishes the hook first and stops as it leaves (mp_leakscan_deferred_stop): between
 * realloc's removal of the old block and its insertion of the new one, or between a table
 * update and its counts, the tables do not describe the heap. A thread interrupted while it
 * moves its pending trace counts (thread.c) outside a hook finishes the move first and then
 * stops (stop_after_move): the snapshot written while the world is stopped must not find a
 * move half done. */
static void on_stop_signal(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	int saved = errno;
	int gen = atomic_load(&release_gen);
	if (si->si_pid != getpid() || !(gen & 1)) {
		errno = saved;
		return;
	}
	if (mp_guard == MP_IN_HOOK) {
		mp_stop_deferred = 1;
		errno = saved;
		return;
	}
	/* Only the move itself, not a handler of the program's that interrupted it, waits. */
	struct mp_thread *me = mp_thread_self();
	const ucontext_t *uc = ucv;
	if (me && atomic_load_explicit(&me->counts_lock, memory_order_relaxed) == 1 &&
	    mp_in_counts_move(MP_ARCH_UCONTEXT_PC(uc)))
		mp_after_move = stop_after_move;
	else
		park(gen, ucv);
	errno = saved;
}

static int is_ignored(pid_t tid)
{
	for (int i = 0; i < 8; i++) {
		if (atomic_load(&ignored_tids[i]) == tid)
			return 1;
	}
	return 0;
}

/* 1 when the thread blocks sig (from /proc/self/task/TID/status), 0 otherwise. */
static uint64_t blocked_mask(pid_t tid)
{
	char path[64] = "/proc/self/task/", buf[4096];
	size_t k = strlen(path);
	k += mp_utoa((uint64_t)tid, path + k);
	memcpy(path + k, "/status", 8);
	if (mp_read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	const char *s = strstr(buf, "SigBlk:");
	if (!s)
		return 0;
	s += 7;
	while (*s == ' ' || *s == '\t')
		s++;
	return mp_parse_hex(&s);
}

static int blocks_signal(pid_t tid, int sig)
{
	return (blocked_mask(tid) >> (sig - 1)) & 1;
}

/* The real-time signals that some thread blocks on purpose: a program that waits for a
 * signal with sigwaitinfo blocks it everywhere (a thread inside sigwaitinfo shows it as
 * unblocked, but the others, this one included, show it blocked) and would receive ours.
 * A thread that blocks every real-time signal is in a passing state (being created) and is
 * left out. */
/* Calls fn(tid, arg) for every thread of the process, from /proc/self/task read with
 * getdents64 (no allocation, no stdio); fn may be NULL. Returns how many, or -1. */
static long for_each_thread(void (*fn)(pid_t tid, void *arg), void *arg)
{
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[8192];
	long n, count = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, 2);
			const char *name = buf + off + 19;
			off += reclen;
			pid_t tid = 0;
			for (const char *c = name; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid <= 0)
				continue; /* "." and ".." */
			count++;
			if (fn)
				fn(tid, arg);
		}
	}
	close(fd);
	return count;
}

struct signals_in_use {
	pid_t self;
	uint64_t rt, used;
};

static void note_blocked(pid_t tid, void *arg)
{
	struct signals_in_use *u = arg;
	if (tid == u->self || is_ignored(tid))
		return;
	uint64_t m = blocked_mask(tid) & u->rt;
	if (m != u->rt)
		u->used |= m;
}

static uint64_t signals_in_use(pid_t self)
{
	struct signals_in_use u = { .self = self };
	sigset_t mine;
	pthread_sigmask(SIG_SETMASK, NULL, &mine);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++) {
		u.rt |= 1ull << (sig - 1);
		if (sigismember(&mine, sig))
			u.used |= 1ull << (sig - 1);
	}
	if (u.used == u.rt)
		u.used = 0;
	if (for_each_thread(note_blocked, &u) < 0)
		return 0;
	return u.used;
}

/* The table of threads is sized before any signal goes out and never moves while handlers
 * may write to it. (An old table stays mapped: a late handler may still look at it.) */
static int reserve_threads(void)
{
	long n = for_each_thread(NULL, NULL);
	size_t want = (size_t)(n > 0 ? n : 1) * 2 + 64;
	if (threads_cap >= want)
		return 0;
	size_t cap = threads_cap ? threads_cap : 256;
	while (cap < want)
		cap *= 2;
	struct thread_regs *t = mp_map(cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	threads = t;
	threads_cap = cap;
	return 0;
}

struct new_threads {
	pid_t self;
	size_t added;
	struct mp_stop *stop;
};

/* Adds one thread to the table and signals it, unless it is there already. */
static void signal_thread(pid_t tid, void *arg)
{
	struct new_threads *nt_arg = arg;
	struct mp_stop *stop = nt_arg->stop;
	if (tid == nt_arg->self || is_ignored(tid))
		return;
	size_t nt = atomic_load(&n_threads), i;
	for (i = 0; i < nt && threads[i].tid != tid; i++)
		;
	if (i < nt)
		return;
	if (nt == threads_cap) {
		stop->too_many = 1; /* started after the count: not stopped */
		return;
	}
	struct thread_regs *t = &threads[nt];
	t->tid = tid;
	t->sp = 0;
	/* A thread may block the signal for a moment (a new thread does until it is set up)
	 * or for good: it gets the signal anyway, and a shorter wait. */
	t->blocked = blocks_signal(tid, stop->sig);
	atomic_store(&t->state, T_SENT);
	atomic_store(&n_threads, nt + 1);
	nt_arg->added++;
	if (syscall(SYS_tgkill, getpid(), tid, stop->sig) != 0)
		atomic_store(&t->state, T_SKIPPED); /* gone meanwhile */
}

/* Adds threads not yet in the table and signals them. Returns how many were new. */
static size_t signal_new_threads(struct mp_stop *stop, pid_t self)
{
	struct new_threads arg = { .self = self, .stop = stop };
	for_each_thread(signal_thread, &arg);
	return arg.added;
}

static void wait_states(int from, uint64_t deadline_ns, uint64_t blocked_deadline_ns)
{
	for (size_t i = 0; i < atomic_load(&n_threads); i++) {
		uint64_t until = threads[i].blocked ? blocked_deadline_ns : deadline_ns;
		while (atomic_load(&threads[i].state) == from && mp_now_ns() < until) {
			struct timespec ts = { 0, 50 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* Returns 1 when every other thread is stopped, 0 otherwise (including no free signal). */
int mp_stop_threads(struct mp_stop *stop)
{
	atomic_store(&n_threads, 0);
	stop->sig = 0;
	/* The highest real-time signal with no handler that no thread keeps blocked; if every
	 * free one is blocked somewhere, the highest free one. */
	pid_t me = (pid_t)syscall(SYS_gettid);
	uint64_t used = signals_in_use(me);
	for (int pass = 0; pass < 2 && !stop->sig; pass++) {
		for (int s = SIGRTMAX; s >= SIGRTMIN; s--) {
			struct sigaction cur;
			if ((pass == 0 && ((used >> (s - 1)) & 1)) || sigaction(s, NULL, &cur) != 0 ||
			    (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
				continue;
			stop->sig = s;
			stop->old_action = cur;
			break;
		}
	}
	if (!stop->sig || reserve_threads() != 0) {
		stop->sig = 0;
		return 0;
	}
	stop->too_many = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(stop->sig, &sa, NULL) != 0) {
		stop->sig = 0;
		return 0;
	}
	atomic_fetch_add(&release_gen, 1); /* odd: hold */
	pid_t self = (pid_t)syscall(SYS_gettid);
	uint64_t start = mp_now_ns(), deadline = start + STOP_WAIT_NS, blocked_deadline = start + BLOCKED_WAIT_NS;
	/* Threads started by a thread not yet stopped show up in a later listing. */
	for (int round = 0; round < 8; round++) {
		if (signal_new_threads(stop, self) == 0)
			break;
		wait_states(T_SENT, deadline, blocked_deadline);
	}
	int all = !stop->too_many;
	for (size_t i = 0; i < atomic_load(&n_threads); i++) {
		if (atomic_load(&threads[i].state) != T_STOPPED)
			all = 0;
	}
	return all;
}

void mp_resume_threads(struct mp_stop *stop)
{
	if (!stop->sig)
		return;
	atomic_fetch_add(&release_gen, 1); /* even: release */
	futex(&release_gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	uint64_t deadline = mp_now_ns() + STOP_WAIT_NS;
	wait_states(T_STOPPED, deadline, deadline);
	/* SIG_IGN drops a copy still pending in a thread that blocked it; then the old action. */
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(stop->sig, &ign, NULL);
	sigaction(stop->sig, &stop->old_action, NULL);
	stop->sig = 0;
}

int mp_stop_holds_sp(uintptr_t lo, uintptr_t hi)
{
	size_t nt = atomic_load(&n_threads);
	for (size_t k = 0; k < nt; k++) {
		if (atomic_load(&threads[k].state) == T_STOPPED && threads[k].sp >= lo && threads[k].sp < hi)
			return 1;
	}
	return 0;
}

size_t mp_stop_n_threads(void)
{
	return atomic_load(&n_threads);
}

const uintptr_t *mp_stopped_regs(size_t k, uintptr_t *sp)
{
	if (atomic_load(&threads[k].state) != T_STOPPED)
		return NULL;
	*sp = threads[k].sp;
	return threads[k].regs;
}

void mp_stop_after_fork_child(void)
{
	for (int i = 0; i < 8; i++)
		atomic_store(&ignored_tids[i], 0);
	mp_stop_deferred = 0; /* a stop meant for the parent's scan */
	mp_after_move = NULL;
}

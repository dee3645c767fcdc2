/* SPDX-License-Identifier: MIT */
/* A best-effort snapshot when the program dies of a signal: a fault (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL), abort() and failed assertions (SIGABRT), and the signals that end a program from
 * outside (SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM).
 *
 * Only a signal whose action is the default one when the library starts is taken, and the
 * program is not told: sigaction() and the signal() family report SIG_DFL for it, setting
 * SIG_DFL keeps our handler, and any other action the program sets replaces it as it would
 * replace the default. After the snapshot the default action is put back and the signal
 * raised again (a fault is simply let happen again), so the program ends exactly as it would
 * have: same signal, same core dump.
 *
 * "Where it is safe": no snapshot when the signal arrived while the thread was in the
 * profiler or in the real allocator (mp_guard set: a corrupt heap's abort, say), nor in a
 * vfork child. The one exception is a signal sent from outside (kill, the terminal) that finds
 * the thread inside an allocator hook: nothing of the program's runs before the hook ends, so
 * the signal is blocked until then (leave_hook calls mp_fatal_resume) and taken there. A
 * thread inside the profiler never waits for another thread's snapshot either: it may hold a
 * lock the writer needs. The writer runs on a stack of its own, so that a thread with a small
 * stack dies of its signal, not of an overflow in the writer. A fault inside the handler
 * itself kills the process as the original one would have (the signal is blocked there, so
 * the kernel applies the default). There is no leak scan: the other threads are in whatever
 * state the fault left them. The snapshot's reason is "fatal-signal" and its label the
 * signal's name. */
#include "mp.h"

#include "snapshot_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* glibc's own entry point, past our sigaction(). */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
				     SIGHUP,  SIGINT, SIGQUIT, SIGPIPE, SIGTERM };

/* Signals whose action is ours while the program believes it is SIG_DFL. */
static atomic_int owned[NSIG];
static int enabled; /* set by the constructor when MEMPROF_FATAL_SIGNALS allows */
/* 0: no snapshot yet; 1: a thread is writing it; 2: written (or given up) */
static atomic_int state;

static int is_fatal(int sig)
{
	if (sig <= 0 || sig >= NSIG || sig == mp_opt.snapshot_signal)
		return 0;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig)
			return 1;
	return 0;
}

/* A fault the kernel raised: returning re-executes the instruction, which faults again. */
static int is_kernel_fault(int sig, const siginfo_t *si)
{
	return si && si->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
}

/* The default action back, and the signal again: blocked until the handler returns, then
 * delivered. A fault the kernel raised needs no second signal: the instruction faults again. */
static void default_action_again(int sig, const siginfo_t *si)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	__sigaction(sig, &dfl, NULL);
	if (!is_kernel_fault(sig, si))
		syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

/* A signal sent from outside this process (kill, timeout, the terminal's ^C and hangup), not
 * raised by the thread itself: the thread's own code cannot be waiting on its delivery. */
static int is_from_outside(int sig, const siginfo_t *si)
{
	if (sig != SIGHUP && sig != SIGINT && sig != SIGQUIT && sig != SIGPIPE && sig != SIGTERM)
		return 0;
	return si && (si->si_code == SI_KERNEL ||
		      ((si->si_code == SI_USER || si->si_code == SI_QUEUE) && si->si_pid != getpid()));
}

MP_TLS int mp_fatal_deferred;

/* Called by leave_hook when a signal was put off in the hook, with the guard clear: the
 * signal, pending since, is taken now. Never inlined: its sigset_t would sit in every hook's
 * frame, under the real allocator too (128 bytes of the program's stack). */
__attribute__((noinline)) void mp_fatal_resume(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, mp_fatal_deferred);
	int saved = errno;
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	mp_fatal_deferred = 0;
	errno = saved;
}

/* The writer's stack: the thread's own may be small (PTHREAD_STACK_MIN) and already deep in
 * abort() under the kernel's signal frame, and the writer needs some 16 KiB. One is enough:
 * one thread writes at a time (state). NULL if it could not be mapped: the thread's own. */
#define WRITER_STACK_BYTES (256 * 1024)
static char *writer_stack;
static ucontext_t writer_context, handler_context;
static int writer_sig;

static void writer_main(void)
{
	mp_fatal_snapshot(writer_sig); /* then back to handler_context, through uc_link */
}

static void write_snapshot_on_own_stack(int sig)
{
	writer_sig = sig;
	if (writer_stack && getcontext(&writer_context) == 0) {
		writer_context.uc_stack.ss_sp = writer_stack;
		writer_context.uc_stack.ss_size = WRITER_STACK_BYTES;
		writer_context.uc_link = &handler_context;
		makecontext(&writer_context, writer_main, 0);
		if (swapcontext(&handler_context, &writer_context) == 0)
			return;
	}
	mp_fatal_snapshot(sig);
}

static void on_fatal_signal(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved = errno;
	/* A vfork child runs in its parent's memory: it leaves our state alone. */
	if (!mp_in_vfork_child()) {
		if (mp_hook_guard_is_stale((uintptr_t)uc->uc_mcontext.gregs[REG_RSP])) {
			/* A longjmp left a hook's guard set: the program is not in the hook, and a
			 * signal that hook had put off is the program's to take when this returns. */
			if (mp_fatal_deferred)
				sigdelset(&uc->uc_sigmask, mp_fatal_deferred);
			mp_fatal_deferred = 0;
			mp_guard = 0;
		}
		if (is_from_outside(sig, si) && mp_final_holds_signal(sig)) {
			/* Another thread writes the final snapshot: without the profiler this process
			 * would be in exit() or gone already. The signal is held (blocked when the
			 * handler returns, pending on this thread) and either never taken, for _exit(),
			 * or raised again by exit() once the snapshot is written (hooks.c). */
			sigaddset(&uc->uc_sigmask, sig);
			syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
			errno = saved;
			return;
		}
		if (mp_guard == MP_IN_HOOK && !mp_fatal_deferred && is_from_outside(sig, si)) {
			/* Blocked when the handler returns, pending again, and taken at the end of
			 * the hook: the allocator's locks and ours released, the guard clear. */
			mp_fatal_deferred = sig;
			sigaddset(&uc->uc_sigmask, sig);
			syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
			errno = saved;
			return;
		}
		int expected = 0;
		if (mp_guard == 0 && atomic_load(&mp_active) &&
		    atomic_compare_exchange_strong(&state, &expected, 1)) {
			mp_guard = 1;
			write_snapshot_on_own_stack(sig);
			mp_guard = 0;
			atomic_store(&state, 2);
		}
		/* Another thread may be writing (two threads fault at once, or a signal arrives
		 * while one writes): wait for it, a bounded time, so that the process does not end
		 * under it. Not from inside the profiler: this thread may hold a lock the writer
		 * waits for. */
		struct timespec ms = { 0, 1000 * 1000 };
		for (int i = 0; i < 30 * 1000 && mp_guard == 0 && atomic_load(&state) == 1; i++)
			nanosleep(&ms, NULL);
		atomic_store(&owned[sig], 0);
	}
	default_action_again(sig, si);
	errno = saved;
}

static int install(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal_signal;
	/* No SA_ONSTACK: the writer needs more stack than a typical alternate stack has. A stack
	 * overflow therefore ends the program as before, without a snapshot. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (__sigaction(sig, &sa, NULL) != 0)
		return -1;
	atomic_store(&owned[sig], 1);
	return 0;
}

/* The signal() family, for the signals we may take; glibc's own for the others. */
static sighandler_t (*real_signal)(int, sighandler_t);
static sighandler_t (*real_sysv_signal)(int, sighandler_t);

static void resolve_signal_family(void)
{
	if (!real_signal)
		real_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT, "signal");
	if (!real_sysv_signal)
		real_sysv_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT, "__sysv_signal");
}

void mp_fatal_init(void)
{
	resolve_signal_family();
	if (!mp_opt.fatal_signals)
		return;
	enabled = 1;
	writer_stack = mp_map(WRITER_STACK_BYTES);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		int sig = fatal_signals[i];
		struct sigaction cur;
		if (is_fatal(sig) && __sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_handler == SIG_DFL)
			install(sig);
	}
}

void mp_fatal_after_fork_child(void)
{
	atomic_store(&state, 0);
}

/* ---- what the program sees ---- */

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig <= 0 || sig >= NSIG || !atomic_load(&owned[sig])) {
		/* Setting SIG_DFL on a signal we may take: take it instead (bash does so in its
		 * subshells); the program sees the default it asked for. */
		if (enabled && act && !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL &&
		    is_fatal(sig) && atomic_load(&mp_active)) {
			struct sigaction prev;
			if (__sigaction(sig, NULL, &prev) != 0)
				return -1;
			if (install(sig) != 0)
				return __sigaction(sig, act, old);
			if (old)
				*old = prev;
			return 0;
		}
		return __sigaction(sig, act, old);
	}
	if (old) {
		memset(old, 0, sizeof(*old));
		old->sa_handler = SIG_DFL;
		sigemptyset(&old->sa_mask);
	}
	if (!act || (!(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL))
		return 0; /* the default, as far as the program can tell: ours stays */
	atomic_store(&owned[sig], 0);
	return __sigaction(sig, act, NULL);
}

/* flags: SA_RESTART for glibc's signal() (BSD semantics: the handler stays, the signal is
 * blocked in it, interrupted calls restart), SA_RESETHAND | SA_NODEFER for System V's (what
 * signal() is when compiled with a strict standard, through __sysv_signal). */
static sighandler_t set_handler(int sig, sighandler_t handler, int sysv)
{
	if (!enabled || !is_fatal(sig)) {
		resolve_signal_family();
		sighandler_t (*fn)(int, sighandler_t) = sysv ? real_sysv_signal : real_signal;
		if (!fn) {
			errno = ENOSYS;
			return SIG_ERR;
		}
		return fn(sig, handler);
	}
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (sysv)
		sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	else {
		sa.sa_flags = SA_RESTART;
		sigaddset(&sa.sa_mask, sig);
	}
	if (handler == SIG_ERR || sigaction(sig, &sa, &old) < 0) {
		errno = EINVAL;
		return SIG_ERR;
	}
	return old.sa_handler;
}

EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, 0);
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, 0);
}

EXPORT sighandler_t ssignal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, 0);
}

EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, 1);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, 1);
}

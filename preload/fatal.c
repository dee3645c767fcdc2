/* SPDX-License-Identifier: MIT */
/* A best-effort snapshot when the program dies of a signal: a fault (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL), abort() and failed assertions (SIGABRT), and the signals that end a program from
 * outside (SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM).
 *
 * Only a signal whose action is the default one when the library starts is taken, and the
 * program is not told: sigaction() and the signal() family (signal_hooks.c) report SIG_DFL
 * for it, setting SIG_DFL keeps our handler, and any other action the program sets replaces it
 * as it would replace the default. After the snapshot the default action is put back and the signal
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
#include "fatal.h"

#include "arch.h"
#include "final.h"
#include "options.h"
#include "ownstack.h"
#include "signal_hooks.h"
#include "state.h"
#include "util.h"

#include "snapshot_format.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* 0: no snapshot yet; 1: a thread is writing it; 2: written (or given up) */
static atomic_int state;

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
		uintptr_t sp = MP_ARCH_UCONTEXT_SP(uc);
		if (mp_hook_guard_is_stale(sp) && !mp_on_own_stack(sp)) {
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
			 * or raised again by exit() once the snapshot is written (final.c). */
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
		mp_sig_disown(sig);
	}
	default_action_again(sig, si);
	errno = saved;
}

void mp_fatal_init(void)
{
	mp_sig_resolve();
	if (!mp_opt.fatal_signals)
		return;
	mp_sig_enable(on_fatal_signal);
	writer_stack = mp_map(WRITER_STACK_BYTES);
	mp_sig_take_defaults();
}

void mp_fatal_after_fork_child(void)
{
	atomic_store(&state, 0);
}

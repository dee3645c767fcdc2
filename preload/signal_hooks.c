/* SPDX-License-Identifier: MIT */
/* Which fatal signals are ours, and the interposed sigaction() and signal() family that hides
 * it: the program sees SIG_DFL for a signal whose handler is fatal.c's, and setting SIG_DFL
 * keeps ours. */
#include "signal_hooks.h"

#include "options.h"
#include "state.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
				     SIGHUP,  SIGINT, SIGQUIT, SIGPIPE, SIGTERM };

/* Signals whose action is ours while the program believes it is SIG_DFL. */
static atomic_int owned[NSIG];
static int enabled; /* set when recording starts, when MEMPROF_FATAL_SIGNALS allows */
/* fatal.c's handler, registered from above (mp_sig_enable): this file never calls up into it. */
static void (*fatal_handler)(int sig, siginfo_t *si, void *uc);
static int is_fatal(int sig)
{
	if (sig <= 0 || sig >= NSIG || sig == mp_opt.snapshot_signal)
		return 0;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig)
			return 1;
	return 0;
}

/* Take sig now (its action is SIG_DFL as far as the program can tell): 0, or -1. */
static int take(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fatal_handler;
	/* No SA_ONSTACK: the writer needs more stack than a typical alternate stack has. A stack
	 * overflow therefore ends the program as before, without a snapshot. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (__sigaction(sig, &sa, NULL) != 0)
		return -1;
	atomic_store(&owned[sig], 1);
	return 0;
}

/* The C library's signal() and __sysv_signal(), for the signals we do not take; looked up when
 * recording starts (mp_sig_resolve). */
static sighandler_t (*real_signal)(int, sighandler_t);
static sighandler_t (*real_sysv_signal)(int, sighandler_t);

void mp_sig_resolve(void)
{
	if (!real_signal)
		real_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT, "signal");
	if (!real_sysv_signal)
		real_sysv_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT, "__sysv_signal");
}

void mp_sig_enable(void (*handler)(int sig, siginfo_t *si, void *uc))
{
	enabled = 1;
	fatal_handler = handler;
}

void mp_sig_take_defaults(void)
{
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		int sig = fatal_signals[i];
		struct sigaction cur;
		if (is_fatal(sig) && __sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_handler == SIG_DFL)
			take(sig);
	}
}

static sighandler_t (*real_signal_of(int sysv))(int, sighandler_t)
{
	mp_sig_resolve();
	return sysv ? real_sysv_signal : real_signal;
}

static int may_take(int sig)
{
	return enabled && is_fatal(sig);
}

static int owns(int sig)
{
	return sig > 0 && sig < NSIG && atomic_load(&owned[sig]);
}

void mp_sig_disown(int sig)
{
	atomic_store(&owned[sig], 0);
}

/* ---- what the program sees ---- */

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!owns(sig)) {
		/* Setting SIG_DFL on a signal we may take: take it instead (bash does so in its
		 * subshells); the program sees the default it asked for. */
		if (act && !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL &&
		    may_take(sig) && atomic_load(&mp_active)) {
			struct sigaction prev;
			if (__sigaction(sig, NULL, &prev) != 0)
				return -1;
			if (take(sig) != 0)
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
	mp_sig_disown(sig);
	return __sigaction(sig, act, NULL);
}

/* flags: SA_RESTART for glibc's signal() (BSD semantics: the handler stays, the signal is
 * blocked in it, interrupted calls restart), SA_RESETHAND | SA_NODEFER for System V's (what
 * signal() is when compiled with a strict standard, through __sysv_signal). */
static sighandler_t set_handler(int sig, sighandler_t handler, int sysv)
{
	if (!may_take(sig)) {
		sighandler_t (*fn)(int, sighandler_t) = real_signal_of(sysv);
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

/* SPDX-License-Identifier: MIT */
/* Which fatal signals are ours, behind the interposed sigaction() and signal() family. */
#ifndef MEMPROF_SIGNAL_HOOKS_H
#define MEMPROF_SIGNAL_HOOKS_H

#include <signal.h>

/* glibc's own entry point, past our sigaction(). */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* When recording starts (fatal.c's mp_fatal_init): look up the C library's signal() and
 * __sysv_signal(); then, when MEMPROF_FATAL_SIGNALS allows, register the handler and take
 * every fatal signal whose action is still SIG_DFL. */
void mp_sig_resolve(void);
void mp_sig_enable(void (*handler)(int sig, siginfo_t *si, void *uc));
void mp_sig_take_defaults(void);
void mp_sig_disown(int sig); /* sig's action is the default again, or the program's own */

#endif

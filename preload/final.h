/* SPDX-License-Identifier: MIT */
/* The final snapshot of a process: at exit(), at _exit(), or when it dies of a signal. */
#ifndef MEMPROF_FINAL_H
#define MEMPROF_FINAL_H

#include <signal.h>

/* The final snapshot from exit or _exit (reason: MP_REASON_EXIT or MP_REASON_UNDERSCORE_EXIT),
 * once per process; `inside` when this thread was inside the library (a signal handler
 * interrupted it and ends the process). Called with the guard set. */
void mp_final_snapshot_from(int inside, unsigned reason);
/* The final snapshot of a process dying of sig (no leak scan); guard set. */
void mp_fatal_snapshot(int sig);
/* For a signal from outside on this thread while another one writes the final snapshot (or
 * has written it for _exit): 1 when it must be held blocked, noted so that the exit() path
 * raises it again once the snapshot is written. */
int mp_final_holds_signal(int sig);
/* The signals held on the thread that writes the final snapshot (every standard one but the
 * faults), and their release, which raises again a signal another thread held meanwhile. */
void mp_final_hold_signals(sigset_t *old);
void mp_final_release_signals(const sigset_t *old);
void mp_final_after_fork_child(void); /* the child's final snapshot is not written yet */
/* daemon()'s fork failed: the snapshot written for the parent's _exit was not the final one. */
void mp_final_forget(void);

#endif

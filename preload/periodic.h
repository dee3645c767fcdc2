/* SPDX-License-Identifier: MIT */
/* Snapshots while the program runs: interval, signal, memprof_snapshot(). */
#ifndef MEMPROF_PERIODIC_H
#define MEMPROF_PERIODIC_H


void mp_periodic_init(void);             /* constructor: the signal handler, if configured */
void mp_periodic_ensure_helper(void);    /* start the helper thread if wanted and not running */
void mp_periodic_after_fork_child(void); /* the helper did not survive fork: start it again */

#endif

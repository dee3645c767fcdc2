/* SPDX-License-Identifier: MIT */
/* A snapshot when the program dies of a signal. */
#ifndef MEMPROF_FATAL_H
#define MEMPROF_FATAL_H

#include "state.h"

void mp_fatal_init(void);             /* when recording starts: take the fatal signals left at SIG_DFL */
void mp_fatal_after_fork_child(void); /* the child may write its own */
/* A signal from outside that arrived inside an allocator hook, blocked until the hook ends;
 * leave_hook calls mp_fatal_resume() (guard clear) to take it. 0: none. */
extern MP_TLS int mp_fatal_deferred;
void mp_fatal_resume(void);

#endif

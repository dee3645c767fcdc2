/* SPDX-License-Identifier: MIT */
/* The leak scan: reachability from the roots, memcheck's classification. */
#ifndef MEMPROF_LEAKSCAN_H
#define MEMPROF_LEAKSCAN_H

#include "state.h"

#include <stdint.h>

/* Scan now and write a snapshot for `reason` holding the result. at_exit: the scan is the
 * final one. Returns the bytes definitely and indirectly lost, or -1 when no scan could be
 * made. Called with the guard set. */
long long mp_leak_check_snapshot(unsigned reason, int at_exit);
/* The same from the profiler's helper thread (MEMPROF_LEAK_SIGNAL): the scanning thread holds
 * none of the program's pointers, so its stack and registers are no roots. */
long long mp_leak_check_snapshot_from_helper(void);
/* A profiler thread that runs with every signal blocked calls this once: leak scans do not
 * wait for it to stop (it holds none of the program's pointers). */
void mp_leakscan_ignore_this_thread(void);
/* Set (thread.c's) in a thread whose stop signal came while it was moving its pending counts:
 * called once the move is done, it stops the thread then, so that the stopped world holds no
 * half-done move. */
extern MP_TLS void (*volatile mp_after_move)(void);
int mp_in_counts_move(uintptr_t pc); /* pc is in the code that moves pending counts */
/* Set by the stop signal in a thread that was inside an allocator hook: the hook, as it
 * leaves (guard clear), calls mp_leakscan_deferred_stop(), which stops the thread there. */
extern MP_TLS volatile int mp_stop_deferred;
void mp_leakscan_deferred_stop(void);
void mp_leakscan_lock(void);   /* fork's prepare handler: before every other lock */
void mp_leakscan_unlock(void);
void mp_leakscan_after_fork_child(void);

#endif

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
void mp_leakscan_lock(void);   /* fork's prepare handler: before every other lock */
void mp_leakscan_unlock(void);
void mp_leakscan_after_fork_child(void);

#endif

/* SPDX-License-Identifier: MIT */
/* The leak scan: reachability from the roots, memcheck's classification. */
#ifndef MEMPROF_LEAKSCAN_H
#define MEMPROF_LEAKSCAN_H

#include "state.h"

#include <stdint.h>

struct mp_trace_counts;
struct mp_leak_record {
	uint32_t trace_id, kind; /* enum mp_leak_kind */
	uint64_t blocks, bytes, indirect_blocks, indirect_bytes;
};
struct mp_leak_result {
	uint32_t flags; /* MP_LEAKS_* */
	uint32_t count;
	uint64_t scan_time_ns, root_bytes;
	uint64_t lost_bytes; /* definitely + indirectly lost */
	struct mp_leak_record *records;
	/* Every trace's counts (ids 0 .. n_counts - 1) as they were while the threads were
	 * stopped for the scan, so that the snapshot's totals are the heap the scan classified;
	 * NULL when they could not be read then (the writer reads them itself). */
	struct mp_trace_counts *counts;
	uint32_t n_counts;
};
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

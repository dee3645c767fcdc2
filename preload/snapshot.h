/* SPDX-License-Identifier: MIT */
/* The snapshot writer. */
#ifndef MEMPROF_SNAPSHOT_H
#define MEMPROF_SNAPSHOT_H

#include <stdint.h>

/* Write a snapshot for `reason` (enum mp_snap_reason). Returns 0 or a negative errno.
 * Called with the hook guard set. */
int mp_snapshot_write(unsigned reason, const char *label);
/* The same, with a LEAKS section holding `leaks` (NULL: none). */
struct mp_leak_result;
int mp_snapshot_write_leaks(unsigned reason, const char *label, const struct mp_leak_result *leaks);
/* The sequence number (%n) the next snapshot gets: an exec in place numbers on from it. */
uint32_t mp_snapshot_next_seq(void);
void mp_snapshot_lock(void);
void mp_snapshot_unlock(void);

#endif

/* SPDX-License-Identifier: MIT */
/* The sites that held memory when the heap peaked. */
#ifndef MEMPROF_PEAK_H
#define MEMPROF_PEAK_H

#include <stddef.h>
#include <stdint.h>

/* Called when live_bytes reached mp_heap.peak_capture_at (a new peak): records every trace's
 * live bytes and blocks, unless another thread is doing so, another is moving its counts, or
 * the buffers are short; it never waits or maps memory. Called with the hook guard set. */
void mp_peak_capture(void);
/* Room in the capture's buffers for n_traces traces: called where traces are made (the
 * unwinder's miss path), so that mp_peak_capture finds it. Never waits: a capture or snapshot
 * in progress leaves it to the next call, or to the snapshot writer. */
void mp_peak_reserve(uint32_t n_traces);
/* For the snapshot writer: capture again if the heap is now higher than the capture (so that
 * a snapshot taken at the peak holds exactly its sites), and return with the capture locked:
 * no thread replaces it, with sites of traces newer than the snapshot's, until
 * mp_peak_unlock(). */
void mp_peak_hold(void);
struct mp_peak_site {
	uint32_t trace_id;
	uint64_t live_bytes, live_blocks;
};
/* With the peak lock held: the capture. Valid until the lock is released. */
size_t mp_peak_sites(const struct mp_peak_site **sites, uint64_t *peak_bytes, uint64_t *peak_time_ns);
void mp_peak_lock(void);
void mp_peak_unlock(void);
int mp_peak_trylock(void); /* 1 when taken */

#endif

/* SPDX-License-Identifier: MIT */
/* Heap totals kept across threads: live bytes, the peak, the counts of threads gone. */
#ifndef MEMPROF_HEAP_H
#define MEMPROF_HEAP_H

#include "state.h"

#include <stdatomic.h>
#include <stdint.h>

#define MP_SIZE_CLASSES 64

struct mp_heap {
	_Alignas(MP_CACHELINE) atomic_int_fast64_t live_bytes;
	atomic_uint_fast64_t peak_bytes;
	atomic_uint_fast64_t peak_time_ns;
	atomic_uint_fast64_t interval_max;    /* highest live_bytes seen since the last timeline point */
	atomic_uint_fast64_t peak_capture_at; /* live bytes at which peak.c captures the sites again */
	_Alignas(MP_CACHELINE) atomic_uint_fast64_t untracked_frees;
	atomic_uint_fast64_t lost_allocs;
	atomic_uint_fast64_t size_classes[MP_SIZE_CLASSES]; /* from threads that exited */
	atomic_uint_fast64_t frees_without_state; /* from threads that exited or had no state */
	atomic_int n_threads;
	uint64_t start_ns, start_realtime_ns;
};
extern struct mp_heap mp_heap;

/* A thread's share of the live heap not yet added to the total. Its owner writes it; readers
 * of the live heap (thread.c's mp_live_bytes_now) read pending_bytes. */
struct mp_heap_share {
	atomic_int_fast64_t pending_bytes; /* not yet added to mp_heap.live_bytes */
	int64_t base;                      /* mp_heap.live_bytes when the owner last added to it */
};
/* Add delta_bytes to the live heap through share s (NULL: a thread that could get no state)
 * and check the peak. Returns 1 when the heap has just passed peak_capture_at: the caller
 * captures the sites (mp_peak_capture), as nothing here does more than arithmetic. Called
 * with the hook guard set. */
int mp_heap_add(struct mp_heap_share *s, int64_t delta_bytes);
/* Add s's pending bytes to the total now (a thread that ends, a snapshot). */
void mp_heap_publish(struct mp_heap_share *s);
/* A share that starts empty, from the total now (a new or reused thread state). */
void mp_heap_share_start(struct mp_heap_share *s);

#endif

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
/* Defined in state.c (the leaf), so that every layer may read it. */
extern struct mp_heap mp_heap;

struct mp_thread;
/* Add delta_bytes to the live heap through th's unpublished share (th NULL: a thread that
 * could get no state) and check the peak. Called with the hook guard set. */
void mp_heap_add(struct mp_thread *th, int64_t delta_bytes);
/* Live bytes now: the published total plus every thread's unpublished share. */
int64_t mp_live_bytes_now(void);

#endif

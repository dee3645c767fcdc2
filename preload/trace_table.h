/* SPDX-License-Identifier: MIT */
/* Deduplicated stack traces, insert-only, without a lock. */
#ifndef MEMPROF_TRACE_TABLE_H
#define MEMPROF_TRACE_TABLE_H

#include "state.h"

#include <stdint.h>

struct mp_trace {
	uint64_t hash;
	uint32_t id;
	uint32_t n_frames;
	struct mp_trace *next; /* in its bucket's chain (trace_table.c) */
	/* Written by allocating threads. */
	_Alignas(MP_CACHELINE) atomic_uint_fast64_t allocs;
	atomic_uint_fast64_t bytes_allocated;
	/* Written by freeing threads: a line of its own, so that a producer and a consumer
	 * thread do not bounce one line between them. */
	_Alignas(MP_CACHELINE) atomic_uint_fast64_t frees;
	atomic_uint_fast64_t bytes_freed;
	_Alignas(MP_CACHELINE) uintptr_t frames[];
};
#define MP_TRACE_MAX_ID ((1u << 24) - 1)
int mp_traces_init(void);
/* The record for these frames, created on first sight; NULL when out of memory or ids. */
struct mp_trace *mp_trace_intern(const uintptr_t *frames, uint32_t n_frames);
/* id 0 is the "unknown" trace: allocations recorded without a backtrace. An id that is a
 * hole (trace_table.c) gives an empty record, whose own id field is not the id asked for. */
struct mp_trace *mp_trace_by_id(uint32_t id);
uint32_t mp_trace_count(void); /* ids are 0 .. count-1, some of them holes */

#endif

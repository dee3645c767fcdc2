/* SPDX-License-Identifier: MIT */
/* Per-thread state: pending trace counts, the size histogram, the trace cache's room. */
#ifndef MEMPROF_THREAD_H
#define MEMPROF_THREAD_H

#include "heap.h"
#include "state.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct mp_trace;
#define MP_PENDING_TRACES 1024
#define MP_DEFERRED_FREES 32
struct mp_thread {
	struct mp_thread *next_all;   /* list of every state, for summing at snapshot time */
	atomic_int in_use;            /* 1 while a thread has it; a thread takes a free one by CAS */
	struct mp_heap_share heap;    /* its share of the live heap (heap.c) */
	int tick_countdown;           /* events until this thread next looks at the timeline clock */
	/* Frees counted by this thread (allocs: its size_classes); written by the owner alone,
	 * read by the timeline (relaxed atomics: the owner loads and stores, no read-modify-write). */
	atomic_uint_fast64_t n_frees;
	/* 1 while the owner moves pending counts into the records, 2 while a reader
	 * (mp_read_trace_counts) holds them still; the owner never waits for a reader. */
	atomic_int counts_lock;
	atomic_uint moves;    /* the owner's moves so far (counts_lock taken) */
	unsigned stuck_move;  /* reader's: the move (moves + 1) it waited for in vain, or 0 */
	int counts_held;      /* reader's: it holds this state's counts_lock */
	/* Trace counters not yet added to their records (written by this thread alone, atomics
	 * for the readers; kept in the state when the thread exits, and carried on by the next
	 * thread to use it). */
	struct mp_pending_counts {
		_Atomic(struct mp_trace *) trace;
		atomic_uint_fast64_t allocs, bytes_allocated, frees, bytes_freed;
	} pending[MP_PENDING_TRACES];
	/* Written by the owner alone (load and store, relaxed), read by the timeline, the snapshot
	 * writer and mp_unwind_stats. */
	atomic_uint_fast64_t size_classes[MP_SIZE_CLASSES];
	atomic_uint_fast64_t cache_hits, cache_misses, cache_mismatches;
	/* Odd while the owner is inside libunwind for a capture (unwind.c's fork gate). */
	atomic_uint unwind_seq;
	unsigned unwind_stuck; /* the forker's: an odd unwind_seq it waited for in vain, or 0 */
	/* Frees that reached free() while this thread was inside a hook (a signal handler's):
	 * done by the hook when it leaves, so that the block leaves the live table first. */
	void *deferred[MP_DEFERRED_FREES];
	int n_deferred;
	void *own_stack;              /* ownstack.c's mapping (guard page first), or NULL */
	unsigned char cache[];        /* unwind.c's per-thread trace cache */
};
struct mp_thread *mp_thread_get(void); /* NULL when no state can be had */
struct mp_thread *mp_thread_self(void); /* this thread's state if it has one; never creates */
int mp_thread_init(void);
struct mp_thread *mp_thread_list(void);
/* Set by the unwinder (mp_unwind_init, before the first state is made): the bytes of trace
 * cache each state holds, and what to do when a state is reused by a new thread. A callback
 * registered from above, so that this file never calls up into unwind.c. */
void mp_thread_set_cache(size_t cache_bytes, void (*on_reuse)(struct mp_thread *th));
void mp_thread_flush(struct mp_thread *th);
/* Live bytes now: the published total plus every thread's unpublished share. */
int64_t mp_live_bytes_now(void);
/* Count an allocation or a free against a trace, through the thread's pending counters
 * (th NULL: a thread that could get no state; straight to the shared counters). */
void mp_count_alloc(struct mp_thread *th, struct mp_trace *tr, uint64_t size);
void mp_count_free(struct mp_thread *th, struct mp_trace *tr, uint64_t size);
void mp_flush_trace_counts(struct mp_thread *th);
/* Every trace's counts now (ids 0 .. n-1 into out): its record's counters plus every thread
 * state's pending ones, read while no thread moves pending counts into the records (a move
 * between the two reads would count them twice, or not at all). One reader at a time: the
 * caller holds the peak lock (peak.c). */
struct mp_trace_counts {
	uint64_t allocs, bytes_allocated, frees, bytes_freed;
};
void mp_read_trace_counts(struct mp_trace_counts *out, uint32_t n);
/* The same without waiting (the peak capture inside an allocator hook): -1, and nothing
 * read, when another thread is moving its counts at this moment. */
int mp_try_read_trace_counts(struct mp_trace_counts *out, uint32_t n);
/* A record's own counters alone (what mp_read_trace_counts starts from). */
void mp_trace_record_counts(const struct mp_trace *t, struct mp_trace_counts *out);
/* fork's handlers: every state's counts_lock held across fork (lifecycle.c), so that the child
 * finds no move half done. */
void mp_counts_hold_for_fork(void);
void mp_counts_release_after_fork(void);

/* fork's child handler (lifecycle.c): counts only this thread, frees every counts_lock. */
void mp_threads_after_fork_child(void);
/* Set (thread.c's) in a thread whose stop signal came while it was moving its pending counts:
 * called once the move is done, it stops the thread then, so that the stopped world holds no
 * half-done move (leak_stop.c sets it). */
extern MP_TLS void (*volatile mp_after_move)(void);
int mp_in_counts_move(uintptr_t pc); /* pc is in the code that moves pending counts */

#endif

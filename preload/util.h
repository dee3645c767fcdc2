/* SPDX-License-Identifier: MIT */
/* Profiler memory from mmap, logging with write(2), clocks and spinlocks. */
#ifndef MEMPROF_UTIL_H
#define MEMPROF_UTIL_H

#include "state.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void *mp_map(size_t size_bytes);
void mp_unmap(void *p, size_t size_bytes);
/* The registry of mp_map's mappings, for the leak scan: mappings being made or unmade right
 * now (by a thread the scan may have stopped), and the list of [lo, hi) ranges. */
int mp_maps_in_flight(void);
size_t mp_maps_list(uintptr_t (*out)[2], size_t cap);
int mp_maps_overflowed(void); /* some mapping could not be registered */
/* fork's child: no mapping is in flight (only the forking thread lives on, and it was in
 * none); one that another thread had made but not registered is new, zero-filled memory. */
void mp_maps_after_fork_child(void);
/* MEMPROF_TEST_MAPS_MAX (tests only): a smaller registry, so that a test can fill it. */
void mp_maps_limit_for_test(size_t n);
/* Bump allocation from an append-only mmap'ed arena, without a lock; never freed. NULL when
 * out of memory. */
void *mp_arena_alloc(size_t size_bytes);
void mp_log(const char *a, const char *b, const char *c);
/* Write NUL-free decimal of v into buf (>= 21 bytes); returns the length. */
size_t mp_utoa(uint64_t v, char *buf);
/* Reads at most cap - 1 bytes of a small file (/proc/self/...) with one read(2) and ends them
 * with a NUL: no stdio, no allocation. Returns the bytes read, or -1 if there were none. */
ssize_t mp_read_small(const char *path, char *buf, size_t cap);
uint64_t mp_now_ns(void);        /* CLOCK_MONOTONIC */
uint64_t mp_coarse_now_ns(void); /* CLOCK_MONOTONIC_COARSE: a few ms of resolution, cheap */
uint64_t mp_realtime_ns(void);   /* CLOCK_REALTIME */
/* One step of a bounded wait, for try number `tries` (from 0): a yield for the first 100
 * tries, then sleeps of 100 us. Returns 0, without waiting, once limit_ns have passed since
 * the first sleep; *deadline (0 before the first step) keeps that time. */
int mp_wait_step(int tries, uint64_t *deadline, uint64_t limit_ns);

/* Every lock of ours, by rank: a thread takes them only in increasing rank (a debug build's
 * witness checks it, see mp_spin_lock), and fork's prepare handler takes them all in this
 * order (lifecycle.c's fork_locks). MP_RANK_COUNTS is every thread state's counts_lock, held by
 * fork alone (mp_counts_hold_for_fork), as is MP_RANK_UNWINDS; trylocks may be taken in any order. */
enum mp_lock_rank {
	MP_RANK_LEAKSCAN,     /* leakscan.c: one scan at a time */
	MP_RANK_UNWINDS,      /* unwind.c: the gate in front of libunwind (fork only) */
	MP_RANK_SNAPSHOT,     /* snapshot.c: one writer at a time */
	MP_RANK_PEAK,         /* peak.c: the capture (the writer holds it while it collects the timeline) */
	MP_RANK_TIMELINE,     /* timeline.c: the series */
	MP_RANK_COUNTS,       /* thread.c: every state's pending counts (fork only) */
	MP_RANK_MODULES,      /* modules.c: the module list */
	MP_RANK_LIVE_GROWTH,  /* live_table.c: making a grown table (a trylock, but for fork) */
	MP_RANK_COUNT
};
typedef struct {
	atomic_int locked;
	unsigned rank; /* enum mp_lock_rank */
} mp_spinlock_t;
#define MP_SPINLOCK_INIT(r) { 0, (r) }
void mp_spin_lock(mp_spinlock_t *l);
void mp_spin_unlock(mp_spinlock_t *l);
int mp_spin_trylock(mp_spinlock_t *l); /* 1 when taken */
/* How many of our locks this thread holds (taken minus released by it): a thread that must
 * write a snapshot from a signal handler that interrupted the library knows whether it would
 * wait for itself. */
extern MP_TLS int mp_locks_held;

/* Stop recording after an internal failure: say so once; keep forwarding. */
void mp_fail(const char *what);

/* MP_ASSERT(e): always compiled (e is type-checked), checked only in debug builds (make debug
 * defines MP_DEBUG). A failure prints "memprof: assertion failed: e at file:line" with
 * write(2), no malloc or stdio, and aborts. */
#ifdef MP_DEBUG
#define MP_ASSERT(e) ((e) ? (void)0 : mp_assert_failed(#e, __FILE__, __LINE__))
#else
#define MP_ASSERT(e) ((void)sizeof(!(e)))
#endif
__attribute__((noreturn)) void mp_assert_failed(const char *expr, const char *file, int line);

#endif

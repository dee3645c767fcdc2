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
/* MEMPROF_TEST_MAPS_MAX (tests only): a smaller registry, so that a test can fill it. */
void mp_maps_limit_for_test(size_t n);
/* Bump allocation from an append-only mmap'ed arena; never freed. NULL when out of memory. */
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

typedef struct { atomic_int locked; } mp_spinlock_t;
void mp_spin_lock(mp_spinlock_t *l);
void mp_spin_unlock(mp_spinlock_t *l);
int mp_spin_trylock(mp_spinlock_t *l); /* 1 when taken */
/* How many of our locks this thread holds (taken minus released by it): a thread that must
 * write a snapshot from a signal handler that interrupted the library knows whether it would
 * wait for itself. */
extern MP_TLS int mp_locks_held;

/* The arena's lock, for fork's handlers (lifecycle.c takes every lock in one order). */
void mp_arena_lock(void);
void mp_arena_unlock(void);

/* Stop recording after an internal failure: say so once; keep forwarding. */
void mp_fail(const char *what);

#endif

/* SPDX-License-Identifier: MIT */
/* The heap over time, in a bounded series of points. */
#ifndef MEMPROF_TIMELINE_H
#define MEMPROF_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define MP_TIMELINE_TICK_EVENTS 64 /* a thread looks at the clock every this many events */
int mp_timeline_init(void);
/* A point now if the period has elapsed; for the helper thread. */
void mp_timeline_sample_if_due(void);
/* The same at a given CLOCK_MONOTONIC time (the unit test drives the clock). */
void mp_timeline_sample_at(uint64_t now_ns);
uint64_t mp_timeline_next_due_ns(void); /* CLOCK_MONOTONIC time of the next point */
struct mp_timeline_point {
	uint64_t time_ns, live_bytes, max_live_bytes, rss_bytes, allocs, frees;
};
/* The series, and a last point taken now, into `out` (room for MP_TIMELINE_MAX_POINTS);
 * returns the number of points. For the snapshot writer (with the snapshot lock held). */
#define MP_TIMELINE_MAX_POINTS 1025
size_t mp_timeline_collect(struct mp_timeline_point *out);
void mp_timeline_lock(void);
void mp_timeline_unlock(void);

#endif

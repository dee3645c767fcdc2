/* SPDX-License-Identifier: MIT */
/* The timeline over a simulated run of 20 minutes, sampled every millisecond of the simulated
 * clock: the series stays within its bounds however long the run, its times increase at the
 * current period, it covers the whole run, the maximum of a short spike survives every merge,
 * and the live bytes of each point are the ones set at its time. */
#include "heap.h"
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>

#define MS 1000000ull
#define RUN_MS (20ull * 60 * 1000)
#define SPIKE_MS 12345ull
#define SPIKE_BYTES 999999999ull

static struct mp_timeline_point out[MP_TIMELINE_MAX_POINTS];
static int failures;

static void check(int ok, const char *what, size_t i)
{
	if (!ok && failures++ < 10)
		fprintf(stderr, "FAIL: %s (point %zu)\n", what, i);
}

/* Live bytes at simulated time t_ms: a slow ramp, so each point's value says when it was taken. */
static uint64_t live_at(uint64_t t_ms)
{
	return 1000 + t_ms;
}

int main(void)
{
	mp_heap.start_ns = 1000 * MS;
	if (mp_timeline_init() != 0) {
		fprintf(stderr, "FAIL: mp_timeline_init\n");
		return 1;
	}
	atomic_store(&mp_heap.peak_bytes, SPIKE_BYTES);
	for (uint64_t t = 1; t <= RUN_MS; t++) {
		atomic_store(&mp_heap.live_bytes, (int64_t)live_at(t));
		if (t == SPIKE_MS) /* a maximum between two points, as mp_heap_add records it */
			atomic_store(&mp_heap.interval_max, SPIKE_BYTES);
		mp_timeline_sample_at(mp_heap.start_ns + t * MS);
	}
	/* collect() adds a point at the real clock: the series is the points before it. */
	size_t n = mp_timeline_collect(out) - 1;
	check(n >= (MP_TIMELINE_MAX_POINTS - 1) / 2 && n <= MP_TIMELINE_MAX_POINTS - 1, "point count out of bounds", n);
	int spike_seen = 0;
	for (size_t i = 0; i < n; i++) {
		const struct mp_timeline_point *p = &out[i];
		check(p->time_ns % MS == 0 && p->time_ns <= RUN_MS * MS, "time not one of the sampled ones", i);
		check(p->live_bytes == live_at(p->time_ns / MS), "live bytes not those at the point's time", i);
		check(p->max_live_bytes >= p->live_bytes, "max below live", i);
		if (i > 0) {
			check(p->time_ns > out[i - 1].time_ns, "times do not increase", i);
			/* Points were merged pairwise, so a gap is at most twice the current period
			 * plus the millisecond of sampling granularity. */
			check(p->time_ns - out[i - 1].time_ns <= 2 * (out[n - 1].time_ns - out[n - 2].time_ns) + 2 * MS,
			      "gap wider than the period", i);
			uint64_t before = out[i - 1].time_ns / MS, at = p->time_ns / MS;
			if (before < SPIKE_MS && SPIKE_MS <= at) {
				check(p->max_live_bytes == SPIKE_BYTES, "the spike's maximum was lost", i);
				spike_seen = 1;
			} else {
				check(p->max_live_bytes < SPIKE_BYTES, "the spike's maximum is in the wrong point", i);
			}
		}
	}
	check(spike_seen, "no point spans the spike", 0);
	check(out[0].time_ns <= 60000 * MS, "the series does not start near the beginning", 0);
	check(out[n - 1].time_ns >= (RUN_MS - 2 * 60000) * MS, "the series does not reach the end", n - 1);
	if (failures)
		return 1;
	printf("timeline: %zu points over %llu simulated minutes, last period %llu ms\n", n,
	       (unsigned long long)(RUN_MS / 60000),
	       (unsigned long long)((out[n - 1].time_ns - out[n - 2].time_ns) / MS));
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* The heap over time: a series of points (live bytes, their maximum since the previous point,
 * RSS, allocation and free counts) taken at a fixed period, in a fixed-size array from mmap.
 * When the array is full, neighbouring points are merged pairwise and the period doubles, so
 * a run of any length is covered by at most MP_TIMELINE_MAX_POINTS - 1 points.
 *
 * No thread is needed: every MP_TIMELINE_TICK_EVENTS allocations or frees, a thread looks at
 * the coarse clock, and when the period has elapsed one thread (whichever takes the lock; the
 * others go on) takes the point. The helper thread, when there is one, takes points too, so
 * that an idle program's series goes on. */
#include "mp.h"

#include <string.h>
#include <unistd.h>

#define CAPACITY (MP_TIMELINE_MAX_POINTS - 1) /* even: merged pairwise */
#define FIRST_PERIOD_NS (10ull * 1000 * 1000)

static struct mp_timeline_point *points; /* CAPACITY points, from mmap */
static size_t n_points;
static uint64_t period_ns = FIRST_PERIOD_NS;
/* CLOCK_MONOTONIC time of the next point; read without the lock by every polling thread. */
static atomic_uint_fast64_t next_due_ns;
static mp_spinlock_t lock = MP_SPINLOCK_INIT(MP_RANK_TIMELINE);

void mp_timeline_lock(void)
{
	mp_spin_lock(&lock);
}

void mp_timeline_unlock(void)
{
	mp_spin_unlock(&lock);
}

int mp_timeline_init(void)
{
	points = mp_map(CAPACITY * sizeof(*points));
	if (!points)
		return -1;
	atomic_store(&next_due_ns, mp_heap.start_ns + FIRST_PERIOD_NS);
	return 0;
}

uint64_t mp_timeline_next_due_ns(void)
{
	return atomic_load_explicit(&next_due_ns, memory_order_relaxed);
}

int64_t mp_live_bytes_now(void)
{
	int64_t live = atomic_load_explicit(&mp_heap.live_bytes, memory_order_relaxed);
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all)
		live += *(volatile int64_t *)&th->pending_live_bytes;
	return live > 0 ? live : 0;
}

/* Resident set size from /proc/self/statm (its second field, in pages); 0 if unreadable.
 * Plain system calls: no stdio, no allocation. */
static uint64_t rss_bytes(void)
{
	char buf[128];
	if (mp_read_small("/proc/self/statm", buf, sizeof(buf)) < 0)
		return 0;
	const char *p = buf;
	while (*p && *p != ' ')
		p++;
	if (*p != ' ')
		return 0;
	uint64_t pages = 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (uint64_t)(*p - '0');
	static long page_bytes;
	if (!page_bytes)
		page_bytes = sysconf(_SC_PAGESIZE);
	return pages * (uint64_t)page_bytes;
}

/* The figures now. The counts are summed over every thread state: the allocations from the
 * size histograms, the frees from their own counters; both as recent as the other threads'
 * relaxed stores let them be. */
static void measure(struct mp_timeline_point *p, uint64_t now_ns)
{
	uint64_t allocs = 0, frees = atomic_load_explicit(&mp_heap.frees_without_state, memory_order_relaxed);
	for (int i = 0; i < MP_SIZE_CLASSES; i++)
		allocs += atomic_load_explicit(&mp_heap.size_classes[i], memory_order_relaxed);
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all) {
		for (int i = 0; i < MP_SIZE_CLASSES; i++)
			allocs += MP_READ(th->size_classes[i]);
		frees += MP_READ(th->n_frees);
	}
	uint64_t live = (uint64_t)mp_live_bytes_now();
	uint64_t max = atomic_load_explicit(&mp_heap.interval_max, memory_order_relaxed);
	p->time_ns = now_ns > mp_heap.start_ns ? now_ns - mp_heap.start_ns : 0;
	p->live_bytes = live;
	p->max_live_bytes = max > live ? max : live;
	p->rss_bytes = rss_bytes();
	p->allocs = allocs;
	p->frees = frees > allocs ? allocs : frees;
}

/* With the lock held: append a point taken now, merging when the array is full. */
static void take_point(uint64_t now_ns)
{
	if (!points)
		return;
	if (n_points == CAPACITY) {
		for (size_t i = 0; i < CAPACITY / 2; i++) {
			struct mp_timeline_point merged = points[2 * i + 1];
			if (points[2 * i].max_live_bytes > merged.max_live_bytes)
				merged.max_live_bytes = points[2 * i].max_live_bytes;
			points[i] = merged;
		}
		n_points = CAPACITY / 2;
		period_ns *= 2;
	}
	struct mp_timeline_point *p = &points[n_points++];
	measure(p, now_ns);
	/* The next point's maximum starts from here. Not above the peak: mp_heap_add relies on
	 * interval_max <= peak_bytes to skip its peak check. */
	uint64_t peak = atomic_load_explicit(&mp_heap.peak_bytes, memory_order_relaxed);
	atomic_store_explicit(&mp_heap.interval_max, p->live_bytes < peak ? p->live_bytes : peak,
			      memory_order_relaxed);
	atomic_store_explicit(&next_due_ns, now_ns + period_ns, memory_order_relaxed);
}

void mp_timeline_sample_at(uint64_t now_ns)
{
	if (now_ns < atomic_load_explicit(&next_due_ns, memory_order_relaxed))
		return;
	if (!mp_spin_trylock(&lock))
		return; /* another thread is taking this point */
	if (now_ns >= atomic_load_explicit(&next_due_ns, memory_order_relaxed))
		take_point(now_ns);
	mp_spin_unlock(&lock);
}

static void poll(void *arg)
{
	(void)arg;
	mp_periodic_ensure_helper();
	if (mp_coarse_now_ns() >= atomic_load_explicit(&next_due_ns, memory_order_relaxed))
		mp_timeline_sample_at(mp_now_ns());
}

void mp_timeline_poll(struct mp_thread *th)
{
	th->tick_countdown = MP_TIMELINE_TICK_EVENTS - 1;
	/* On the profiler's own stack: starting the helper thread (pthread_create) and taking a
	 * point need more stack than a hook may take from the program's. */
	mp_call_on_own_stack(th, poll, NULL);
}

void mp_timeline_sample_if_due(void)
{
	mp_timeline_sample_at(mp_now_ns());
}

size_t mp_timeline_collect(struct mp_timeline_point *out)
{
	mp_spin_lock(&lock);
	size_t n = n_points;
	if (n)
		memcpy(out, points, n * sizeof(*out));
	mp_spin_unlock(&lock);
	/* The snapshot's own moment, not stored: the series keeps its period. */
	uint64_t now = mp_now_ns();
	measure(&out[n], now);
	if (n == 0 || out[n].time_ns > out[n - 1].time_ns)
		n++;
	return n;
}

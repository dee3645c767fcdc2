/* SPDX-License-Identifier: MIT */
/* Heap totals kept across threads: each change of the live heap through its thread's share,
 * and the peak it reaches. */
#include "heap.h"

#include "state.h"
#include "util.h"

struct mp_heap mp_heap;

/* A thread adds its share of the live heap to the total at least this often. */
#define PUBLISH_BYTES (16 * 1024)

/* The live heap and its peak. While this is the only thread, base + pending is the exact live
 * heap and the peak is checked on every change. With several threads, each thread adds its
 * share to the total every PUBLISH_BYTES and the peak is checked then (exact within
 * PUBLISH_BYTES per thread): checking a thread's own partial view on every change would
 * see a producer thread's allocations without its consumer's frees. */
int mp_heap_add(struct mp_heap_share *s, int64_t delta_bytes)
{
	if (MP_UNLIKELY(!s)) { /* a thread that could get no state: straight to the total */
		atomic_fetch_add_explicit(&mp_heap.live_bytes, delta_bytes, memory_order_relaxed);
		return 0;
	}
	int64_t pending = atomic_load_explicit(&s->pending_bytes, memory_order_relaxed) + delta_bytes;
	int64_t live = s->base + pending;
	if (MP_UNLIKELY(pending >= PUBLISH_BYTES || pending <= -PUBLISH_BYTES)) {
		live = atomic_fetch_add_explicit(&mp_heap.live_bytes, pending, memory_order_relaxed) + pending;
		s->base = live;
		pending = 0;
	} else if (atomic_load_explicit(&mp_heap.n_threads, memory_order_relaxed) > 1) {
		atomic_store_explicit(&s->pending_bytes, pending, memory_order_relaxed);
		return 0;
	}
	atomic_store_explicit(&s->pending_bytes, pending, memory_order_relaxed);
	/* interval_max (the timeline's highest point since its last point) is never above the
	 * peak, so the common case, a heap below both, costs one comparison. A lost race between
	 * two threads' stores only lowers a point's max_live_bytes a little. */
	if (MP_LIKELY(live <= 0 ||
		      (uint64_t)live <= atomic_load_explicit(&mp_heap.interval_max, memory_order_relaxed)))
		return 0;
	atomic_store_explicit(&mp_heap.interval_max, (uint64_t)live, memory_order_relaxed);
	uint64_t peak = atomic_load_explicit(&mp_heap.peak_bytes, memory_order_relaxed);
	while ((uint64_t)live > peak) {
		if (atomic_compare_exchange_weak_explicit(&mp_heap.peak_bytes, &peak, (uint64_t)live,
							  memory_order_relaxed, memory_order_relaxed)) {
			/* The coarse clock lags the one start_ns was read from by up to a tick. */
			uint64_t now = mp_coarse_now_ns();
			atomic_store_explicit(&mp_heap.peak_time_ns, now > mp_heap.start_ns ? now - mp_heap.start_ns : 0,
					      memory_order_relaxed);
			return (uint64_t)live >= atomic_load_explicit(&mp_heap.peak_capture_at, memory_order_relaxed);
		}
	}
	return 0;
}

void mp_heap_publish(struct mp_heap_share *s)
{
	int64_t p = atomic_load_explicit(&s->pending_bytes, memory_order_relaxed);
	if (p) {
		atomic_store_explicit(&s->pending_bytes, 0, memory_order_relaxed);
		s->base = atomic_fetch_add_explicit(&mp_heap.live_bytes, p, memory_order_relaxed) + p;
	}
}

void mp_heap_share_start(struct mp_heap_share *s)
{
	s->base = atomic_load_explicit(&mp_heap.live_bytes, memory_order_relaxed);
	atomic_store_explicit(&s->pending_bytes, 0, memory_order_relaxed);
}

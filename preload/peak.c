/* SPDX-License-Identifier: MIT */
/* Peak contributions: which traces held how much when the heap peaked (heaptrack's "peak
 * contributions"). Recording every trace at every new peak would cost a walk of the trace
 * table per allocation while the heap grows, so the sites are captured when the heap first
 * exceeds the previous capture by a margin (5%, at least MIN_STEP_BYTES), and again by the
 * snapshot writer when the heap is at least as high as the capture.
 *
 * How close: the last capture C and the true peak P satisfy P < C + max(C / 20, MIN_STEP), so C
 * is within 5% or 64 bytes of P. In a program with several threads, the peak is checked when a
 * thread publishes its share of the live heap (heap.c, every 16 KiB), so P itself may be
 * up to 16 KiB per thread late; and other threads' pending counts are read while they run
 * (none moved meanwhile: mp_read_trace_counts). */
#include "peak.h"

#include "heap.h"
#include "state.h"
#include "thread.h"
#include "trace_table.h"
#include "util.h"

#include <string.h>

#define MIN_STEP_BYTES 64

static mp_spinlock_t lock = MP_SPINLOCK_INIT(MP_RANK_PEAK);
static struct mp_trace_counts *work; /* by trace id, from mmap, grown */
static size_t work_cap;
static struct mp_peak_site *sites; /* the capture, from mmap, grown */
static size_t sites_cap, n_sites;
static uint64_t captured_bytes, captured_time_ns;
/* Traces the buffers have room for (the smaller capacity), for mp_peak_reserve's unlocked look. */
static atomic_size_t room;

void mp_peak_lock(void)
{
	mp_spin_lock(&lock);
}

void mp_peak_unlock(void)
{
	mp_spin_unlock(&lock);
}

int mp_peak_trylock(void)
{
	return mp_spin_trylock(&lock);
}

/* Room for n entries in *buf, each `size` bytes; 0 or -1 when out of memory. */
static int reserve(void **buf, size_t *cap, size_t n, size_t size)
{
	if (n <= *cap)
		return 0;
	size_t want = *cap ? *cap : 1024;
	while (want < n)
		want *= 2;
	void *p = mp_map(want * size);
	if (!p)
		return -1;
	if (*buf) {
		memcpy(p, *buf, *cap * size);
		mp_unmap(*buf, *cap * size);
	}
	*buf = p;
	*cap = want;
	return 0;
}

/* With the lock held: room for n traces in both buffers; -1 when out of memory. */
static int grow(size_t n)
{
	if (reserve((void **)&work, &work_cap, n, sizeof(*work)) < 0 ||
	    reserve((void **)&sites, &sites_cap, n, sizeof(*sites)) < 0)
		return -1;
	atomic_store_explicit(&room, work_cap < sites_cap ? work_cap : sites_cap, memory_order_relaxed);
	return 0;
}

/* With the lock held: every trace's live bytes and blocks now, from its record and every
 * thread's pending counters (read, never written); kept if the heap is higher than the previous
 * capture (another thread's free may have come between the trigger and here). in_hook: inside
 * an allocator hook, which must not wait or map memory: no capture when the buffers are short
 * (mp_peak_reserve grows them) or another thread is moving its counts at this moment; the
 * heap's next new peak tries again, and the snapshot writer captures in any case. */
static void capture(int in_hook)
{
	uint32_t n = mp_trace_count();
	if (in_hook) {
		if (n > atomic_load_explicit(&room, memory_order_relaxed) || mp_try_read_trace_counts(work, n) < 0)
			return;
	} else {
		if (grow(n) < 0)
			return; /* out of memory: the previous capture stays */
		mp_read_trace_counts(work, n);
	}
	/* A free counted before the allocation it matches (another thread, mid-hook) leaves a
	 * site negative for a moment: nothing held. */
	uint64_t total = 0;
	for (uint32_t id = 0; id < n; id++) {
		if (work[id].bytes_allocated > work[id].bytes_freed)
			total += work[id].bytes_allocated - work[id].bytes_freed;
	}
	if (total <= captured_bytes)
		return;
	size_t k = 0;
	for (uint32_t id = 0; id < n; id++) {
		const struct mp_trace_counts *c = &work[id];
		if (c->bytes_allocated <= c->bytes_freed && c->allocs <= c->frees)
			continue;
		sites[k].trace_id = id;
		sites[k].live_bytes = c->bytes_allocated > c->bytes_freed ? c->bytes_allocated - c->bytes_freed : 0;
		sites[k].live_blocks = c->allocs > c->frees ? c->allocs - c->frees : 0;
		k++;
	}
	n_sites = k;
	captured_bytes = total;
	uint64_t now = mp_now_ns() - mp_heap.start_ns;
	captured_time_ns = now;
	uint64_t step = total / 20 > MIN_STEP_BYTES ? total / 20 : MIN_STEP_BYTES;
	atomic_store_explicit(&mp_heap.peak_capture_at, total + step, memory_order_relaxed);
	/* The capture counts other threads' unpublished shares, which the peak in TOTALS may not
	 * have seen: the peak is at least what was captured. */
	uint64_t peak = atomic_load_explicit(&mp_heap.peak_bytes, memory_order_relaxed);
	while (total > peak) {
		if (atomic_compare_exchange_weak_explicit(&mp_heap.peak_bytes, &peak, total,
							  memory_order_relaxed, memory_order_relaxed)) {
			atomic_store_explicit(&mp_heap.peak_time_ns, now, memory_order_relaxed);
			break;
		}
	}
}

void mp_peak_capture(void)
{
	/* Another thread capturing (or a snapshot being written) means this crossing is seen
	 * there, or at the next new peak: nobody waits on the hot path. While the buffers are
	 * short, every new peak gives up here with two loads, before the lock's shared line is
	 * written; a capture given up because a thread was moving its counts costs one attempt
	 * per thread, and the next new peak tries again. */
	if (mp_trace_count() > atomic_load_explicit(&room, memory_order_relaxed) || !mp_spin_trylock(&lock))
		return;
	capture(1);
	mp_spin_unlock(&lock);
}

void mp_peak_reserve(uint32_t n_traces)
{
	if (MP_LIKELY(n_traces <= atomic_load_explicit(&room, memory_order_relaxed)) || !mp_spin_trylock(&lock))
		return;
	(void)grow(n_traces);
	mp_spin_unlock(&lock);
}

void mp_peak_hold(void)
{
	mp_spin_lock(&lock);
	capture(0);
}

size_t mp_peak_sites(const struct mp_peak_site **out, uint64_t *peak_bytes, uint64_t *peak_time_ns)
{
	*out = sites;
	*peak_bytes = captured_bytes;
	*peak_time_ns = captured_time_ns;
	return n_sites;
}

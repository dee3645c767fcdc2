/* SPDX-License-Identifier: MIT */
/* Per-thread state: the trace cache, the size histogram and the not-yet-published share of
 * the live heap. From mmap, found through an initial-exec TLS pointer, recycled when a
 * thread exits (a pthread key destructor), never unmapped, so a snapshot can walk them all. */
#include "mp.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

struct mp_heap mp_heap;

static MP_TLS struct mp_thread *self;
/* Set once this thread's state went back to the free list: glibc frees the thread's own
 * buffers after the key destructors (__libc_thread_freeres), and those frees must not take
 * a state that nothing would return again. */
static MP_TLS int exited;
static _Atomic(struct mp_thread *) all;
static struct mp_thread *free_list;
static mp_spinlock_t free_lock;
static pthread_key_t exit_key;

void mp_threads_lock(void)
{
	mp_spin_lock(&free_lock);
}

void mp_threads_unlock(void)
{
	mp_spin_unlock(&free_lock);
}

/* Only the forking thread lives on in the child; the others' unpublished shares of the live
 * heap are lost with them (at most PUBLISH_BYTES each). */
void mp_threads_after_fork_child(void)
{
	atomic_store(&mp_heap.n_threads, self ? 1 : 0);
	mp_spin_unlock(&free_lock);
}

/* A thread adds its share of the live heap to the total at least this often. */
#define PUBLISH_BYTES (16 * 1024)

void mp_thread_flush(struct mp_thread *th)
{
	mp_flush_trace_counts(th);
	if (th->pending_live_bytes) {
		int64_t p = th->pending_live_bytes;
		th->pending_live_bytes = 0;
		th->live_base = atomic_fetch_add_explicit(&mp_heap.live_bytes, p, memory_order_relaxed) + p;
	}
}

/* The live heap and its peak. While this is the only thread, base + pending is the exact live
 * heap and the peak is checked on every change. With several threads, each thread adds its
 * share to the total every PUBLISH_BYTES and the peak is checked then (exact within
 * PUBLISH_BYTES per thread): checking a thread's own partial view on every change would
 * see a producer thread's allocations without its consumer's frees. */
void mp_heap_add(struct mp_thread *th, int64_t delta_bytes)
{
	if (MP_UNLIKELY(!th)) { /* a thread that could get no state: straight to the total */
		atomic_fetch_add_explicit(&mp_heap.live_bytes, delta_bytes, memory_order_relaxed);
		return;
	}
	int64_t pending = th->pending_live_bytes + delta_bytes;
	int64_t live = th->live_base + pending;
	if (MP_UNLIKELY(pending >= PUBLISH_BYTES || pending <= -PUBLISH_BYTES)) {
		live = atomic_fetch_add_explicit(&mp_heap.live_bytes, pending, memory_order_relaxed) + pending;
		th->live_base = live;
		pending = 0;
	} else if (atomic_load_explicit(&mp_heap.n_threads, memory_order_relaxed) > 1) {
		th->pending_live_bytes = pending;
		return;
	}
	th->pending_live_bytes = pending;
	/* interval_max (the timeline's highest point since its last point) is never above the
	 * peak, so the common case, a heap below both, costs one comparison. A lost race between
	 * two threads' stores only lowers a point's max_live_bytes a little. */
	if (MP_LIKELY(live <= 0 ||
		      (uint64_t)live <= atomic_load_explicit(&mp_heap.interval_max, memory_order_relaxed)))
		return;
	atomic_store_explicit(&mp_heap.interval_max, (uint64_t)live, memory_order_relaxed);
	uint64_t peak = atomic_load_explicit(&mp_heap.peak_bytes, memory_order_relaxed);
	while ((uint64_t)live > peak) {
		if (atomic_compare_exchange_weak_explicit(&mp_heap.peak_bytes, &peak, (uint64_t)live,
							  memory_order_relaxed, memory_order_relaxed)) {
			/* The coarse clock lags the one start_ns was read from by up to a tick. */
			uint64_t now = mp_coarse_now_ns();
			atomic_store_explicit(&mp_heap.peak_time_ns, now > mp_heap.start_ns ? now - mp_heap.start_ns : 0,
					      memory_order_relaxed);
			if (MP_UNLIKELY((uint64_t)live >=
					atomic_load_explicit(&mp_heap.peak_capture_at, memory_order_relaxed)))
				mp_peak_capture();
			break;
		}
	}
}

/* Add counts to a trace's shared counters. */
static void add_to_trace(struct mp_trace *tr, uint64_t allocs, uint64_t bytes_allocated,
			 uint64_t frees, uint64_t bytes_freed)
{
	if (allocs) {
		atomic_fetch_add_explicit(&tr->allocs, allocs, memory_order_relaxed);
		atomic_fetch_add_explicit(&tr->bytes_allocated, bytes_allocated, memory_order_relaxed);
	}
	if (frees) {
		atomic_fetch_add_explicit(&tr->frees, frees, memory_order_relaxed);
		atomic_fetch_add_explicit(&tr->bytes_freed, bytes_freed, memory_order_relaxed);
	}
}

static void flush_one(struct mp_pending_counts *c)
{
	add_to_trace(c->trace, c->allocs, c->bytes_allocated, c->frees, c->bytes_freed);
	c->allocs = c->bytes_allocated = c->frees = c->bytes_freed = 0;
}

void mp_flush_trace_counts(struct mp_thread *th)
{
	for (int i = 0; i < MP_PENDING_TRACES; i++) {
		if (th->pending[i].trace)
			flush_one(&th->pending[i]);
	}
}

static struct mp_pending_counts *pending_for(struct mp_thread *th, struct mp_trace *tr)
{
	struct mp_pending_counts *c = &th->pending[tr->id & (MP_PENDING_TRACES - 1)];
	if (MP_UNLIKELY(c->trace != tr)) {
		if (c->trace)
			flush_one(c);
		c->trace = tr;
	}
	return c;
}

void mp_count_alloc(struct mp_thread *th, struct mp_trace *tr, uint64_t size)
{
	if (MP_UNLIKELY(!th)) {
		add_to_trace(tr, 1, size, 0, 0);
		return;
	}
	struct mp_pending_counts *c = pending_for(th, tr);
	c->allocs++;
	c->bytes_allocated += size;
}

void mp_count_free(struct mp_thread *th, struct mp_trace *tr, uint64_t size)
{
	if (MP_UNLIKELY(!th)) {
		add_to_trace(tr, 0, 0, 1, size);
		return;
	}
	struct mp_pending_counts *c = pending_for(th, tr);
	c->frees++;
	c->bytes_freed += size;
}

/* Called with the hook guard set, when a thread ends (possibly more than once). */
static void thread_exit(void *arg)
{
	struct mp_thread *th = arg;
	if (!th || th != self)
		return;
	int saved_guard = mp_guard;
	mp_guard = 1;
	mp_thread_flush(th);
	mp_live_thread_exit();
	memset(th->pending, 0, sizeof(th->pending));
	atomic_fetch_add_explicit(&mp_heap.frees_without_state, th->n_frees, memory_order_relaxed);
	th->n_frees = 0;
	for (int i = 0; i < MP_SIZE_CLASSES; i++) {
		atomic_fetch_add_explicit(&mp_heap.size_classes[i], th->size_classes[i], memory_order_relaxed);
		th->size_classes[i] = 0;
	}
	self = NULL;
	exited = 1;
	atomic_fetch_sub(&mp_heap.n_threads, 1);
	mp_spin_lock(&free_lock);
	th->next_free = free_list;
	free_list = th;
	mp_spin_unlock(&free_lock);
	mp_guard = saved_guard;
}

int mp_thread_init(void)
{
	return pthread_key_create(&exit_key, thread_exit) == 0 ? 0 : -1;
}

/* Called with the hook guard set. */
struct mp_thread *mp_thread_get(void)
{
	if (MP_LIKELY(self != NULL))
		return self;
	if (exited)
		return NULL;
	mp_spin_lock(&free_lock);
	struct mp_thread *th = free_list;
	if (th)
		free_list = th->next_free;
	mp_spin_unlock(&free_lock);
	if (th) {
		/* Give the old cache's pages back rather than clearing them one by one; the list
		 * link and the cache counters (summed over every state) stay. */
		struct mp_thread *next_all = th->next_all;
		uint64_t hits = th->cache_hits, misses = th->cache_misses, mismatches = th->cache_mismatches;
		madvise(th, sizeof(*th) + mp_thread_cache_bytes(), MADV_DONTNEED);
		th->next_all = next_all;
		th->cache_hits = hits;
		th->cache_misses = misses;
		th->cache_mismatches = mismatches;
		mp_thread_cache_reset(th);
	} else {
		th = mp_map(sizeof(*th) + mp_thread_cache_bytes());
		if (!th)
			return NULL;
		struct mp_thread *old = atomic_load(&all);
		do
			th->next_all = old;
		while (!atomic_compare_exchange_weak(&all, &old, th));
	}
	th->live_base = atomic_load_explicit(&mp_heap.live_bytes, memory_order_relaxed);
	th->pending_live_bytes = 0;
	self = th;
	atomic_fetch_add(&mp_heap.n_threads, 1);
	/* Low key numbers need no allocation; anything it does allocate is unrecorded. */
	pthread_setspecific(exit_key, th);
	return th;
}

struct mp_thread *mp_thread_self(void)
{
	return self;
}

struct mp_thread *mp_thread_list(void)
{
	return atomic_load(&all);
}

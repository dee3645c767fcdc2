/* SPDX-License-Identifier: MIT */
/* Per-thread state: the trace cache, the size histogram and the not-yet-published share of
 * the live heap. From mmap, found through an initial-exec TLS pointer, recycled when a
 * thread exits (a pthread key destructor), never unmapped, so a snapshot can walk them all. */
#include "mp.h"

#include <pthread.h>
#include <string.h>

struct mp_heap mp_heap;

static MP_TLS struct mp_thread *self;
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
 * heap are lost with them (at most 256 KiB each). */
void mp_threads_after_fork_child(void)
{
	atomic_store(&mp_heap.n_threads, self ? 1 : 0);
	mp_spin_unlock(&free_lock);
}

/* Publish a thread's share of the live heap at least this often, so that the peak is exact
 * in a single-threaded program and within this much per thread otherwise. */
#define PUBLISH_BYTES (256 * 1024)

void mp_thread_flush(struct mp_thread *th)
{
	if (th->pending_live_bytes)
		mp_heap_add(th, 0);
}

void mp_heap_add(struct mp_thread *th, int64_t delta_bytes)
{
	int64_t pending = th->pending_live_bytes + delta_bytes;
	if (pending < PUBLISH_BYTES && pending > -PUBLISH_BYTES &&
	    atomic_load_explicit(&mp_heap.n_threads, memory_order_relaxed) > 1 && delta_bytes) {
		th->pending_live_bytes = pending;
		return;
	}
	th->pending_live_bytes = 0;
	int64_t live = atomic_fetch_add_explicit(&mp_heap.live_bytes, pending, memory_order_relaxed) + pending;
	uint64_t peak = atomic_load_explicit(&mp_heap.peak_bytes, memory_order_relaxed);
	while (live > 0 && (uint64_t)live > peak) {
		if (atomic_compare_exchange_weak_explicit(&mp_heap.peak_bytes, &peak, (uint64_t)live,
							  memory_order_relaxed, memory_order_relaxed)) {
			atomic_store_explicit(&mp_heap.peak_time_ns, mp_now_ns() - mp_heap.start_ns,
					      memory_order_relaxed);
			break;
		}
	}
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
	for (int i = 0; i < MP_SIZE_CLASSES; i++) {
		atomic_fetch_add_explicit(&mp_heap.size_classes[i], th->size_classes[i], memory_order_relaxed);
		th->size_classes[i] = 0;
	}
	self = NULL;
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
	mp_spin_lock(&free_lock);
	struct mp_thread *th = free_list;
	if (th)
		free_list = th->next_free;
	mp_spin_unlock(&free_lock);
	if (th) {
		uint64_t hits = th->cache_hits, misses = th->cache_misses, mismatches = th->cache_mismatches;
		mp_thread_cache_reset(th);
		th->cache_hits = hits; /* counters stay: they are summed over every state */
		th->cache_misses = misses;
		th->cache_mismatches = mismatches;
	} else {
		th = mp_map(sizeof(*th) + mp_thread_cache_bytes());
		if (!th)
			return NULL;
		struct mp_thread *old = atomic_load(&all);
		do
			th->next_all = old;
		while (!atomic_compare_exchange_weak(&all, &old, th));
	}
	self = th;
	atomic_fetch_add(&mp_heap.n_threads, 1);
	/* Low key numbers need no allocation; anything it does allocate is unrecorded. */
	pthread_setspecific(exit_key, th);
	return th;
}

struct mp_thread *mp_thread_list(void)
{
	return atomic_load(&all);
}

/* SPDX-License-Identifier: MIT */
/* Per-thread state: the trace cache, the size histogram and the not-yet-published share of
 * the live heap. From mmap, found through an initial-exec TLS pointer, recycled when a
 * thread exits (a pthread key destructor), never unmapped, so a snapshot can walk them all.
 * Taking a state and giving it back take no lock: a CAS on its in_use flag. */
#include "thread.h"

#include "heap.h"
#include "live_table.h"
#include "state.h"
#include "trace_table.h"
#include "util.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static MP_TLS struct mp_thread *self;
/* Set once this thread's state was given back: glibc frees the thread's own buffers after
 * the key destructors (__libc_thread_freeres), and those frees must not take a state that
 * nothing would return again. */
static MP_TLS int exited;
static _Atomic(struct mp_thread *) all;
static atomic_int n_free; /* states given back and not taken again: no walk when there is none */
static pthread_key_t exit_key;
static struct mp_thread *held_first; /* the reader's: the first state it holds (hold_all) */
/* The unwinder's trace cache at the end of every state, and its reset for a state that a new
 * thread takes over (mp_thread_set_cache). */
static size_t cache_bytes;
static void (*cache_on_reuse)(struct mp_thread *th);

void mp_thread_set_cache(size_t bytes, void (*on_reuse)(struct mp_thread *th))
{
	cache_bytes = bytes;
	cache_on_reuse = on_reuse;
}

/* Only the forking thread lives on in the child; the others' unpublished shares of the live
 * heap are lost with them (at most heap.c's PUBLISH_BYTES each), and their states stay taken,
 * as a thread that never ended would keep its own. */
void mp_threads_after_fork_child(void)
{
	atomic_store(&mp_heap.n_threads, self ? 1 : 0);
	/* The states fork's prepare handler held (mp_counts_hold_for_fork), and any whose thread
	 * was stuck in a move: free again, for this process's only thread and reader. */
	for (struct mp_thread *th = atomic_load(&all); th; th = th->next_all) {
		atomic_store(&th->counts_lock, 0);
		th->counts_held = 0;
	}
	held_first = NULL;
}

void mp_thread_flush(struct mp_thread *th)
{
	mp_flush_trace_counts(th);
	mp_heap_publish(&th->heap);
}

int64_t mp_live_bytes_now(void)
{
	int64_t live = atomic_load_explicit(&mp_heap.live_bytes, memory_order_relaxed);
	for (struct mp_thread *th = atomic_load(&all); th; th = th->next_all)
		live += atomic_load_explicit(&th->heap.pending_bytes, memory_order_relaxed);
	return live > 0 ? live : 0;
}

/* Inlined even without optimization: the moves below must hold all their code. */
#define INLINE static inline __attribute__((always_inline))

/* Add counts to a trace's shared counters. */
INLINE void add_to_trace(struct mp_trace *tr, uint64_t allocs, uint64_t bytes_allocated, uint64_t frees,
			 uint64_t bytes_freed)
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

/* The pending counters have one writer, their thread: plain loads and stores (relaxed). */
INLINE uint64_t get(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

INLINE void set(atomic_uint_fast64_t *v, uint64_t x)
{
	atomic_store_explicit(v, x, memory_order_relaxed);
}

INLINE struct mp_trace *trace_of(struct mp_pending_counts *c)
{
	return atomic_load_explicit(&c->trace, memory_order_relaxed);
}

/* Moves of pending counts into the records: the code that runs with counts_lock at 1, in a
 * section of its own so that the leak scan's stop signal can tell that it interrupted one
 * (mp_in_counts_move). Everything it calls is inlined into it. */
#define MOVE_CODE __attribute__((section("mp_counts_move"), noinline))
extern const char __start_mp_counts_move[] __attribute__((visibility("hidden")));
extern const char __stop_mp_counts_move[] __attribute__((visibility("hidden")));

int mp_in_counts_move(uintptr_t pc)
{
	return pc >= (uintptr_t)__start_mp_counts_move && pc < (uintptr_t)__stop_mp_counts_move;
}

INLINE void flush_one(struct mp_pending_counts *c)
{
	add_to_trace(trace_of(c), get(&c->allocs), get(&c->bytes_allocated), get(&c->frees),
		     get(&c->bytes_freed));
	set(&c->allocs, 0);
	set(&c->bytes_allocated, 0);
	set(&c->frees, 0);
	set(&c->bytes_freed, 0);
}

/* The owner's side of counts_lock: 1 when it may move its pending counts now, 0 when a
 * reader holds them (or this thread interrupted its own move: a signal handler's snapshot). */
INLINE int counts_trylock(struct mp_thread *th)
{
	if (atomic_load_explicit(&th->counts_lock, memory_order_relaxed) != 0)
		return 0;
	/* Before the lock: a reader that sees it taken sees which move holds it. */
	atomic_store_explicit(&th->moves, atomic_load_explicit(&th->moves, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	int expected = 0;
	return atomic_compare_exchange_strong_explicit(&th->counts_lock, &expected, 1, memory_order_seq_cst,
						       memory_order_relaxed);
}

MP_TLS void (*volatile mp_after_move)(void);

INLINE void counts_unlock(struct mp_thread *th)
{
	atomic_store_explicit(&th->counts_lock, 0, memory_order_release);
	/* A signal handler sets mp_after_move while the lock is 1: read it only after. */
	atomic_signal_fence(memory_order_seq_cst);
	void (*after)(void) = mp_after_move;
	if (MP_UNLIKELY(after != NULL)) {
		mp_after_move = NULL;
		after();
	}
}

/* Makes the records hold this thread's counts, unless a reader is reading them (it sees
 * them where they are). */
MOVE_CODE void mp_flush_trace_counts(struct mp_thread *th)
{
	if (!counts_trylock(th))
		return;
	for (int i = 0; i < MP_PENDING_TRACES; i++) {
		if (trace_of(&th->pending[i]))
			flush_one(&th->pending[i]);
	}
	counts_unlock(th);
}

/* The pending counters for tr, or NULL when they belong to another trace that cannot be moved
 * out now (a reader holds them): the caller then counts straight into the record. */
static MOVE_CODE struct mp_pending_counts *switch_pending(struct mp_thread *th, struct mp_pending_counts *c,
							 struct mp_trace *tr)
{
	if (!trace_of(c)) {
		atomic_store_explicit(&c->trace, tr, memory_order_relaxed); /* nothing to move */
		return c;
	}
	if (!counts_trylock(th))
		return NULL;
	flush_one(c);
	atomic_store_explicit(&c->trace, tr, memory_order_relaxed);
	counts_unlock(th);
	return c;
}

INLINE struct mp_pending_counts *pending_for(struct mp_thread *th, struct mp_trace *tr)
{
	struct mp_pending_counts *c = &th->pending[tr->id & (MP_PENDING_TRACES - 1)];
	if (MP_LIKELY(trace_of(c) == tr))
		return c;
	return switch_pending(th, c, tr);
}

void mp_count_alloc(struct mp_thread *th, struct mp_trace *tr, uint64_t size)
{
	struct mp_pending_counts *c = th ? pending_for(th, tr) : NULL;
	if (MP_UNLIKELY(!c)) {
		add_to_trace(tr, 1, size, 0, 0);
		return;
	}
	set(&c->allocs, get(&c->allocs) + 1);
	set(&c->bytes_allocated, get(&c->bytes_allocated) + size);
}

void mp_count_free(struct mp_thread *th, struct mp_trace *tr, uint64_t size)
{
	struct mp_pending_counts *c = th ? pending_for(th, tr) : NULL;
	if (MP_UNLIKELY(!c)) {
		add_to_trace(tr, 0, 0, 1, size);
		return;
	}
	set(&c->frees, get(&c->frees) + 1);
	set(&c->bytes_freed, get(&c->bytes_freed) + size);
}

/* Takes th's counts_lock for the reader. A move is a few additions, but its thread may have
 * been preempted in the middle: it is waited for, up to 200 ms. An owner that takes longer was
 * interrupted for good (a signal handler that never returned, or this thread itself: a
 * snapshot from a signal handler): its counts are read as they are, one trace's possibly
 * twice, and that same move is not waited for again. !wait (an allocator hook's capture):
 * returns 0, nothing held, when the owner is moving its counts and that move is not one
 * already known to be stuck; 1 otherwise. */
#define READER_WAIT_NS (200 * 1000 * 1000ull)

static int counts_hold(struct mp_thread *th, struct mp_thread *me, int wait)
{
	th->counts_held = 0;
	if (th == me)
		return 1;
	uint64_t deadline = 0;
	for (int tries = 0;; tries++) {
		int expected = 0;
		if (atomic_compare_exchange_strong_explicit(&th->counts_lock, &expected, 2, memory_order_acquire,
							    memory_order_relaxed)) {
			th->counts_held = 1;
			th->stuck_move = 0;
			return 1;
		}
		unsigned move = atomic_load_explicit(&th->moves, memory_order_relaxed);
		if (th->stuck_move == move + 1)
			return 1;
		if (!wait)
			return 0;
		if (!mp_wait_step(tries, &deadline, READER_WAIT_NS)) {
			th->stuck_move = move + 1;
			return 1;
		}
	}
}

static void release_all(void)
{
	for (struct mp_thread *th = held_first; th; th = th->next_all) {
		if (th->counts_held) {
			th->counts_held = 0;
			atomic_store_explicit(&th->counts_lock, 0, memory_order_release);
		}
	}
	held_first = NULL;
}

/* Every state there is now, held (one made later, a new thread's, is left out: unheld, its
 * moves could be seen half done, and it has counted nothing before now). One holder at a
 * time: the callers hold the peak lock. !wait: 0, with none held, at the first state whose
 * owner is moving its counts. */
static int hold_all(int wait)
{
	held_first = atomic_load(&all);
	for (struct mp_thread *th = held_first; th; th = th->next_all) {
		if (!counts_hold(th, self, wait)) {
			release_all(); /* the states after th are unheld since the last release */
			return 0;
		}
	}
	return 1;
}

void mp_trace_record_counts(const struct mp_trace *t, struct mp_trace_counts *out)
{
	out->allocs = atomic_load_explicit(&t->allocs, memory_order_relaxed);
	out->bytes_allocated = atomic_load_explicit(&t->bytes_allocated, memory_order_relaxed);
	out->frees = atomic_load_explicit(&t->frees, memory_order_relaxed);
	out->bytes_freed = atomic_load_explicit(&t->bytes_freed, memory_order_relaxed);
}

/* With every state held: the records' counts plus the pending ones. */
static void sum_held_counts(struct mp_trace_counts *out, uint32_t n)
{
	for (uint32_t id = 0; id < n; id++)
		mp_trace_record_counts(mp_trace_by_id(id), &out[id]);
	for (struct mp_thread *th = held_first; th; th = th->next_all) {
		for (int i = 0; i < MP_PENDING_TRACES; i++) {
			struct mp_pending_counts *p = &th->pending[i];
			struct mp_trace *t = trace_of(p);
			if (!t || t->id >= n)
				continue;
			out[t->id].allocs += get(&p->allocs);
			out[t->id].bytes_allocated += get(&p->bytes_allocated);
			out[t->id].frees += get(&p->frees);
			out[t->id].bytes_freed += get(&p->bytes_freed);
		}
	}
}

void mp_read_trace_counts(struct mp_trace_counts *out, uint32_t n)
{
	(void)hold_all(1);
	sum_held_counts(out, n);
	release_all();
}

int mp_try_read_trace_counts(struct mp_trace_counts *out, uint32_t n)
{
	if (!hold_all(0))
		return -1;
	sum_held_counts(out, n);
	release_all();
	return 0;
}

/* fork: no move half done in another thread (which the child would keep for good). */
void mp_counts_hold_for_fork(void)
{
	(void)hold_all(1);
}

void mp_counts_release_after_fork(void)
{
	release_all();
}

/* Called with the hook guard set, when a thread ends (possibly more than once). */
static void thread_exit(void *arg)
{
	struct mp_thread *th = arg;
	if (!th || th != self)
		return;
	int saved_guard = mp_guard;
	mp_guard = 1;
	/* The live share is published; the trace counters, size histogram and free count stay
	 * in the state (every reader sums all states): moving them now could meet a reader. */
	mp_heap_publish(&th->heap);
	mp_live_thread_exit();
	self = NULL;
	exited = 1;
	atomic_fetch_sub(&mp_heap.n_threads, 1);
	atomic_store_explicit(&th->in_use, 0, memory_order_release);
	atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
	mp_guard = saved_guard;
}

int mp_thread_init(void)
{
	return pthread_key_create(&exit_key, thread_exit) == 0 ? 0 : -1;
}

/* A state that an ended thread gave back, now this thread's; NULL when none is free. */
static struct mp_thread *take_free_state(void)
{
	if (!atomic_load_explicit(&n_free, memory_order_relaxed))
		return NULL;
	for (struct mp_thread *th = atomic_load(&all); th; th = th->next_all) {
		int expected = 0;
		if (!atomic_load_explicit(&th->in_use, memory_order_relaxed) &&
		    atomic_compare_exchange_strong_explicit(&th->in_use, &expected, 1, memory_order_acquire,
							    memory_order_relaxed)) {
			atomic_fetch_sub_explicit(&n_free, 1, memory_order_relaxed);
			return th;
		}
	}
	return NULL;
}

/* Called with the hook guard set. */
struct mp_thread *mp_thread_get(void)
{
	if (MP_LIKELY(self != NULL))
		return self;
	if (exited)
		return NULL;
	struct mp_thread *th = take_free_state();
	if (th) {
		/* The counters (summed over every state) carry on; the old cache's pages go back
		 * rather than being cleared one by one (zero pages are an empty cache). */
		uintptr_t cache = (uintptr_t)th->cache, end = cache + cache_bytes;
		uintptr_t page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t page = (cache + page_size - 1) & ~(page_size - 1);
		if (page > end)
			page = end;
		memset(th->cache, 0, page - cache);
		if (end > page)
			madvise((void *)page, end - page, MADV_DONTNEED);
		th->tick_countdown = 0;
		th->n_deferred = 0;
		/* A 1 left by the thread that had it (it never finished a move: a signal handler
		 * that did not return) is nobody's now; a reader's 2 stays. */
		int one = 1;
		atomic_compare_exchange_strong(&th->counts_lock, &one, 0);
		if (cache_on_reuse)
			cache_on_reuse(th);
	} else {
		th = mp_map(sizeof(*th) + cache_bytes);
		if (!th)
			return NULL;
		atomic_store_explicit(&th->in_use, 1, memory_order_relaxed);
		struct mp_thread *old = atomic_load(&all);
		do
			th->next_all = old;
		while (!atomic_compare_exchange_weak(&all, &old, th));
	}
	mp_heap_share_start(&th->heap);
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

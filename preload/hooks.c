/* SPDX-License-Identifier: MIT */
/* The interposed allocator functions: each records its call in the tables and forwards it to
 * the real allocator.
 *
 * Every hook saves errno, sets the thread's guard while profiler code runs (so allocations made
 * by libunwind, zlib or libc on our behalf go straight to the real allocator) and passes to
 * mp_capture the CFA and return address of its own call: the caller's stack pointer and the
 * first frame of the trace. With the life cycle (lifecycle.c) they sit on top: they call into
 * every layer below, nothing calls into them. */
#include "hooks.h"

#include "bootstrap.h"
#include "fatal.h"
#include "heap.h"
#include "leak_stop.h"
#include "live_table.h"
#include "modules.h"
#include "ownstack.h"
#include "peak.h"
#include "periodic.h"
#include "start.h"
#include "state.h"
#include "thread.h"
#include "timeline.h"
#include "trace_table.h"
#include "unwind.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define CALLER_CFA ((uintptr_t)__builtin_dwarf_cfa())
#define CALLER_RA ((uintptr_t)__builtin_return_address(0))

/* ---- the timeline's clock, looked at every MP_TIMELINE_TICK_EVENTS events ---- */

static void poll_timeline(void *arg)
{
	(void)arg;
	mp_periodic_ensure_helper();
	if (mp_coarse_now_ns() >= mp_timeline_next_due_ns())
		mp_timeline_sample_at(mp_now_ns());
}

/* Called by a thread whose tick_countdown ran out, with the hook guard set: takes a point
 * when the period has elapsed (unless another thread is taking one). */
static void timeline_tick(struct mp_thread *th)
{
	th->tick_countdown = MP_TIMELINE_TICK_EVENTS - 1;
	/* On the profiler's own stack: starting the helper thread (pthread_create) and taking a
	 * point need more stack than a hook may take from the program's. */
	mp_call_on_own_stack(th, poll_timeline, NULL);
}

/* ---- recording; called with the guard set ---- */

static inline void drain_if_needed(struct mp_thread *th);

static void record_alloc(void *p, size_t size, uintptr_t cfa, uintptr_t ra)
{
	struct mp_thread *th = mp_thread_get();
	struct mp_trace *tr = th ? mp_capture(th, cfa, ra) : NULL;
	if (MP_UNLIKELY(!tr)) {
		tr = mp_trace_by_id(0);
		atomic_fetch_add_explicit(&mp_heap.lost_allocs, 1, memory_order_relaxed);
	}
	mp_count_alloc(th, tr, size);
	if (MP_UNLIKELY(mp_heap_add(th ? &th->heap : NULL, (int64_t)size)))
		mp_peak_capture();
	if (MP_LIKELY(th != NULL)) {
		unsigned cls = size ? 64u - (unsigned)__builtin_clzl(size) : 0;
		MP_BUMP(th->size_classes[cls < MP_SIZE_CLASSES ? cls : MP_SIZE_CLASSES - 1]);
		if (MP_UNLIKELY(--th->tick_countdown < 0))
			timeline_tick(th);
	}
	drain_if_needed(th);
	if (MP_UNLIKELY(mp_live_insert((uintptr_t)p, MP_META(size, tr->id)) < 0))
		mp_fail("out of memory for the table of live blocks");
}

static void count_free(uint64_t meta)
{
	struct mp_trace *tr = mp_trace_by_id(MP_META_ID(meta));
	/* A live block's id is never a hole (its record was stored before it was published):
	 * counting into the shared empty record would show under every hole. */
	MP_ASSERT(tr->id == MP_META_ID(meta));
	uint64_t size = MP_META_SIZE(meta);
	struct mp_thread *th = mp_thread_get();
	mp_count_free(th, tr, size);
	if (MP_UNLIKELY(mp_heap_add(th ? &th->heap : NULL, -(int64_t)size)))
		mp_peak_capture();
	if (MP_LIKELY(th != NULL)) {
		MP_BUMP(th->n_frees);
		if (MP_UNLIKELY(--th->tick_countdown < 0))
			timeline_tick(th);
	} else {
		atomic_fetch_add_explicit(&mp_heap.frees_without_state, 1, memory_order_relaxed);
	}
}

/* Remove p from the live blocks before the real free, so that an address handed out again
 * at once to another thread cannot be inserted before it is removed. */
static void record_free(void *p)
{
	uint64_t meta;
	if (mp_live_remove((uintptr_t)p, &meta))
		count_free(meta);
	else
		atomic_fetch_add_explicit(&mp_heap.untracked_frees, 1, memory_order_relaxed);
}

/* A free() that arrives while this thread is inside a hook comes from a signal handler. The
 * block is freed at once, as without the profiler (the program's timing inside glibc stays
 * its own), but its removal from the live table waits for the hook: entering the table from
 * inside itself could wait on this very thread. The removals are done before this thread
 * inserts anything, so a reused address never meets its stale entry. Async-signal-safe. */
static void defer_removal(void *p)
{
	struct mp_thread *th = mp_thread_self();
	if (!th || !atomic_load_explicit(&mp_active, memory_order_relaxed))
		return;
	for (;;) {
		int n = __atomic_load_n(&th->n_deferred, __ATOMIC_SEQ_CST);
		if (n >= MP_DEFERRED_FREES)
			return; /* the entry stays stale: counted live, like before this existed */
		th->deferred[n] = p;
		if (__atomic_compare_exchange_n(&th->n_deferred, &n, n + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
}

static void drain_deferred(struct mp_thread *th)
{
	for (;;) {
		int n = __atomic_load_n(&th->n_deferred, __ATOMIC_SEQ_CST);
		if (n == 0)
			return;
		void *p = th->deferred[n - 1];
		if (!__atomic_compare_exchange_n(&th->n_deferred, &n, n - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			continue; /* a handler added one meanwhile */
		uint64_t meta;
		if (mp_live_remove((uintptr_t)p, &meta))
			count_free(meta);
	}
}

static inline void drain_if_needed(struct mp_thread *th)
{
	if (MP_UNLIKELY(th && __atomic_load_n(&th->n_deferred, __ATOMIC_SEQ_CST)))
		drain_deferred(th);
}

/* Leave an allocator hook: finish the removals deferred meanwhile, clear the guard, take a
 * fatal signal that arrived in the hook (fatal.c), and stop for a leak scan that asked this
 * thread to stop while it was in the hook (leak_stop.c). */
static inline void leave_hook(void)
{
	drain_if_needed(mp_thread_self());
	atomic_signal_fence(memory_order_seq_cst);
	mp_guard = 0;
	atomic_signal_fence(memory_order_seq_cst); /* the guard is clear before the flags are read */
	if (MP_UNLIKELY(mp_fatal_deferred))
		mp_fatal_resume();
	if (MP_UNLIKELY(mp_stop_deferred))
		mp_leakscan_deferred_stop();
}

/* Entering a hook that records: two stores more than the guard, for mp_hook_guard_is_stale.
 * The fence keeps the compiler from moving the guard's store past the table updates that
 * follow (a leak scan's stop signal reads it: leak_stop.c). */
static inline __attribute__((always_inline)) void enter_hook(uintptr_t cfa, uintptr_t ra)
{
	mp_guard = MP_IN_HOOK;
	mp_hook_cfa = cfa;
	mp_hook_ra = ra;
	atomic_signal_fence(memory_order_seq_cst);
}

/* A hook's frame was left by a longjmp (a fault in the real free() or realloc() that the
 * program caught, the abort() of glibc's double-free check): what that hook had set on this
 * thread goes, so that recording carries on. A lock of ours still held cannot be given back:
 * then recording stops (mp_fail) rather than a later snapshot wait on it forever. */
static void recover_stale_guard(void)
{
	mp_guard = 0;
	if (mp_locks_held > 0) {
		mp_locks_held = 0;
		mp_fail("a longjmp left a hook holding one of the profiler's locks");
	}
	if (mp_fatal_deferred)
		mp_fatal_resume(); /* the signal it had put off is taken now */
	if (mp_stop_deferred)
		mp_leakscan_deferred_stop(); /* and so is a leak scan's stop */
}

/* The hooks' slow path: the guard is set (nested call, or a stale guard), or recording is
 * off (not started yet, disabled, failed). */
static __attribute__((noinline)) int recording_slow(uintptr_t cfa)
{
	if (mp_guard) {
		if (!mp_hook_guard_is_stale(cfa) || mp_on_own_stack(cfa))
			return 0;
		recover_stale_guard();
	}
	if (!atomic_load_explicit(&mp_active, memory_order_relaxed) &&
	    mp_start_is_pending())
		mp_start_recording(); /* the first call into the hooks, before our constructor */
	return !mp_guard && atomic_load_explicit(&mp_active, memory_order_relaxed);
}

static inline __attribute__((always_inline)) int recording(uintptr_t cfa)
{
	if (MP_LIKELY(!mp_guard && atomic_load_explicit(&mp_active, memory_order_relaxed)))
		return 1;
	return recording_slow(cfa);
}

/* ---- the hooks ---- */

static inline __attribute__((always_inline)) void *do_malloc(size_t size, uintptr_t cfa, uintptr_t ra)
{
	if (MP_UNLIKELY(!mp_resolve()))
		return mp_boot_alloc(size, 16);
	if (!recording(cfa))
		return mp_real.malloc(size);
	enter_hook(cfa, ra);
	void *p = mp_real.malloc(size);
	if (p) {
		int e = errno;
		record_alloc(p, size, cfa, ra);
		errno = e;
	}
	leave_hook();
	return p;
}

EXPORT void *malloc(size_t size)
{
	return do_malloc(size, CALLER_CFA, CALLER_RA);
}

EXPORT void free(void *p)
{
	if (!p || MP_UNLIKELY(mp_is_boot(p)))
		return;
	if (MP_UNLIKELY(!mp_resolve()))
		return; /* only dlsym runs before this, and what it frees came from the bootstrap */
	if (!recording(CALLER_CFA)) {
		if (mp_guard == MP_IN_HOOK)
			defer_removal(p);
		mp_real.free(p);
		return;
	}
	int e = errno;
	enter_hook(CALLER_CFA, CALLER_RA);
	record_free(p);
	mp_real.free(p);
	leave_hook();
	errno = e;
}

EXPORT void *calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if (MP_UNLIKELY(!mp_resolve()))
		return mp_boot_alloc(n * size, 16); /* static, so already zero */
	if (!recording(CALLER_CFA))
		return mp_real.calloc(n, size);
	enter_hook(CALLER_CFA, CALLER_RA);
	void *p = mp_real.calloc(n, size);
	if (p) {
		int e = errno;
		record_alloc(p, n * size, CALLER_CFA, CALLER_RA);
		errno = e;
	}
	leave_hook();
	return p;
}

static inline __attribute__((always_inline)) void *do_realloc(void *p, size_t size, uintptr_t cfa, uintptr_t ra)
{
	if (!p)
		return do_malloc(size, cfa, ra);
	if (MP_UNLIKELY(mp_is_boot(p))) {
		if (size == 0)
			return NULL;
		void *q = do_malloc(size, cfa, ra);
		if (q) {
			size_t old = mp_boot_size(p);
			memcpy(q, p, old < size ? old : size);
		}
		return q;
	}
	if (MP_UNLIKELY(!mp_resolve()))
		return NULL;
	if (!recording(cfa))
		return mp_real.realloc(p, size);
	enter_hook(cfa, ra);
	uint64_t meta;
	int tracked = mp_live_remove((uintptr_t)p, &meta);
	void *q = mp_real.realloc(p, size);
	int e = errno;
	if (q || size == 0) {
		/* Moved, resized in place, or (size 0) freed: the old block is gone either way. */
		if (tracked)
			count_free(meta);
		else
			atomic_fetch_add_explicit(&mp_heap.untracked_frees, 1, memory_order_relaxed);
		if (q)
			record_alloc(q, size, cfa, ra);
	} else if (tracked && mp_live_insert((uintptr_t)p, meta) < 0) {
		mp_fail("out of memory for the table of live blocks");
	}
	errno = e;
	leave_hook();
	return q;
}

EXPORT void *realloc(void *p, size_t size)
{
	return do_realloc(p, size, CALLER_CFA, CALLER_RA);
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return do_realloc(p, n * size, CALLER_CFA, CALLER_RA);
}

/* The aligned family: glibc's versions do not call malloc through the PLT, so forwarding
 * them counts each allocation once. */
#define ALIGNED_HOOK(call, size_expr)                                   \
	if (!recording(CALLER_CFA))                                     \
		return call;                                            \
	enter_hook(CALLER_CFA, CALLER_RA);                              \
	void *p = call;                                                 \
	if (p) {                                                        \
		int e = errno;                                          \
		record_alloc(p, (size_expr), CALLER_CFA, CALLER_RA);    \
		errno = e;                                              \
	}                                                               \
	leave_hook();                                                   \
	return p

static int is_pow2(size_t a)
{
	return a && (a & (a - 1)) == 0;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	if (MP_UNLIKELY(!mp_resolve())) {
		if (align % sizeof(void *) || !is_pow2(align))
			return EINVAL;
		*out = mp_boot_alloc(size, align);
		return *out ? 0 : ENOMEM;
	}
	if (!recording(CALLER_CFA))
		return mp_real.posix_memalign(out, align, size);
	int e = errno;
	enter_hook(CALLER_CFA, CALLER_RA);
	int r = mp_real.posix_memalign(out, align, size);
	if (r == 0)
		record_alloc(*out, size, CALLER_CFA, CALLER_RA);
	leave_hook();
	errno = e;
	return r;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (MP_UNLIKELY(!mp_resolve()))
		return is_pow2(align) ? mp_boot_alloc(size, align) : (errno = EINVAL, NULL);
	ALIGNED_HOOK(mp_real.aligned_alloc(align, size), size);
}

EXPORT void *memalign(size_t align, size_t size)
{
	if (MP_UNLIKELY(!mp_resolve()))
		return mp_boot_alloc(size, align);
	ALIGNED_HOOK(mp_real.memalign(align, size), size);
}

EXPORT void *valloc(size_t size)
{
	if (MP_UNLIKELY(!mp_resolve()))
		return mp_boot_alloc(size, 4096);
	ALIGNED_HOOK(mp_real.valloc(size), size);
}

static size_t page_round(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return size == 0 ? page : (size + page - 1) & ~(page - 1);
}

EXPORT void *pvalloc(size_t size)
{
	if (MP_UNLIKELY(!mp_resolve()))
		return mp_boot_alloc(page_round(size), 4096);
	ALIGNED_HOOK(mp_real.pvalloc(size), page_round(size));
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (mp_is_boot(p))
		return mp_boot_size(p);
	if (MP_UNLIKELY(!mp_resolve()))
		return 0;
	return mp_real.malloc_usable_size(p);
}

EXPORT char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = do_malloc(n, CALLER_CFA, CALLER_RA);
	if (p)
		memcpy(p, s, n);
	return p;
}

EXPORT char *strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *p = do_malloc(n + 1, CALLER_CFA, CALLER_RA);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* glibc's pthread_getattr_np allocates while it holds the thread's lock, which the unwinder
 * takes to find the thread's stack bounds: inside it they are not asked for (unwind.c). Every
 * Rust thread calls it first. */
EXPORT int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
	if (!mp_resolve())
		return ENOSYS;
	int (*real)(pthread_t, pthread_attr_t *) = mp_real.pthread_getattr_np;
	if (!real) /* glibc before 2.34 has it in libpthread, which may come after the first malloc */
		real = (int (*)(pthread_t, pthread_attr_t *))dlsym(RTLD_NEXT, "pthread_getattr_np");
	if (!real)
		return ENOSYS;
	mp_in_getattr++;
	int r = real(th, attr);
	mp_in_getattr--;
	return r;
}

EXPORT int dlclose(void *handle)
{
	mp_resolve();
	if (!mp_real.dlclose)
		return -1;
	if (!recording(CALLER_CFA))
		return mp_real.dlclose(handle);
	mp_guard = 1;
	mp_modules_scan(); /* the module may go: register it while it is there */
	mp_guard = 0;
	int r = mp_real.dlclose(handle);
	int e = errno;
	mp_guard = 1;
	mp_modules_mark_unloaded();
	mp_guard = 0;
	errno = e;
	return r;
}

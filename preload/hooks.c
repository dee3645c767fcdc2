/* SPDX-License-Identifier: MIT */
/* The interposed allocator functions, the bootstrap before dlsym has resolved the real ones,
 * and process life: constructor, final snapshot, _exit, fork, dlclose.
 *
 * Every hook saves errno, sets the thread's guard while profiler code runs (so allocations made
 * by libunwind, zlib or libc on our behalf go straight to the real allocator) and passes to
 * mp_capture the CFA and return address of its own call: the caller's stack pointer and the
 * first frame of the trace. */
#include "mp.h"

#include "snapshot_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define CALLER_CFA ((uintptr_t)__builtin_dwarf_cfa())
#define CALLER_RA ((uintptr_t)__builtin_return_address(0))

static pid_t my_pid;
static int initialized;
/* 0: recording not started; 1: being started (start_recording); 2: started, or never will be
 * (disabled, or the start failed). */
static atomic_int init_state;
static MP_TLS int in_resolve;
static MP_TLS int guard_before_fork;
/* The caller's stack pointer (CFA) and the return address at the entry of the hook that set
 * mp_guard to MP_IN_HOOK, for mp_hook_guard_is_stale. */
static MP_TLS uintptr_t hook_cfa, hook_ra;

static struct {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	void (*exit_)(int);
	void (*Exit_)(int);
	int (*dlclose)(void *);
} real;
static atomic_int resolved; /* 0: not yet, 1: in progress, 2: done */

/* ---- bootstrap: requests made while dlsym resolves the real functions ---- */

static _Alignas(64) char boot[128 * 1024];
static atomic_size_t boot_used;

static int is_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

/* Each block has its size in the 16 bytes before it. Never freed; zeroed by being static. */
static void *boot_alloc(size_t size, size_t align)
{
	if (align < 16)
		align = 16;
	for (;;) {
		size_t used = atomic_load(&boot_used);
		size_t start = (used + 16 + align - 1) & ~(align - 1);
		if (size > sizeof(boot) || start + size > sizeof(boot))
			return NULL;
		if (atomic_compare_exchange_weak(&boot_used, &used, start + size)) {
			*(size_t *)(boot + start - 16) = size;
			return boot + start;
		}
	}
}

static size_t boot_size(const void *p)
{
	return *(const size_t *)((const char *)p - 16);
}

#define RESOLVE(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

/* Returns 1 when the real functions are there; 0 for a caller that must use the bootstrap
 * (a call made by dlsym itself, on this thread). */
static int resolve(void)
{
	if (MP_LIKELY(atomic_load_explicit(&resolved, memory_order_acquire) == 2))
		return 1;
	if (in_resolve)
		return 0;
	int expected = 0;
	if (!atomic_compare_exchange_strong(&resolved, &expected, 1)) {
		while (atomic_load(&resolved) != 2) /* another thread is resolving */
			__builtin_ia32_pause();
		return 1;
	}
	in_resolve = 1;
	RESOLVE(malloc);
	RESOLVE(free);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(malloc_usable_size);
	real.exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
	real.Exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_Exit");
	RESOLVE(dlclose);
	in_resolve = 0;
	if (!real.malloc || !real.free || !real.calloc || !real.realloc) {
		mp_log("cannot find the real malloc with dlsym", NULL, NULL);
		syscall(SYS_exit_group, 127);
	}
	atomic_store_explicit(&resolved, 2, memory_order_release);
	return 1;
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
	mp_heap_add(th, (int64_t)size);
	if (MP_LIKELY(th != NULL)) {
		unsigned cls = size ? 64u - (unsigned)__builtin_clzl(size) : 0;
		MP_BUMP(th->size_classes[cls < MP_SIZE_CLASSES ? cls : MP_SIZE_CLASSES - 1]);
		if (MP_UNLIKELY(--th->tick_countdown < 0))
			mp_timeline_poll(th);
	}
	drain_if_needed(th);
	if (MP_UNLIKELY(mp_live_insert((uintptr_t)p, MP_META(size, tr->id)) < 0))
		mp_fail("out of memory for the table of live blocks");
}

static void count_free(uint64_t meta)
{
	struct mp_trace *tr = mp_trace_by_id(MP_META_ID(meta));
	uint64_t size = MP_META_SIZE(meta);
	struct mp_thread *th = mp_thread_get();
	mp_count_free(th, tr, size);
	mp_heap_add(th, -(int64_t)size);
	if (MP_LIKELY(th != NULL)) {
		MP_BUMP(th->n_frees);
		if (MP_UNLIKELY(--th->tick_countdown < 0))
			mp_timeline_poll(th);
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
 * thread to stop while it was in the hook (leakscan.c). */
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
 * follow (a leak scan's stop signal reads it: leakscan.c). */
static inline __attribute__((always_inline)) void enter_hook(uintptr_t cfa, uintptr_t ra)
{
	mp_guard = MP_IN_HOOK;
	hook_cfa = cfa;
	hook_ra = ra;
	atomic_signal_fence(memory_order_seq_cst);
}

static int on_alternate_stack(void)
{
	stack_t ss;
	return sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
}

/* Whether the guard set by a hook on this thread belongs to a frame that is gone (a signal
 * handler left it with siglongjmp), seen from a call, or an interrupted context, whose stack
 * pointer is sp. What legitimately runs while the hook does (a signal handler that interrupts
 * it, code the hook calls) runs below the hook's frame, which is intact: its return address is
 * still in the word under its CFA. From the hook's CFA or above, or below it with that word
 * changed, the frame is gone, unless this runs on the alternate signal stack, which may be
 * anywhere (then the guard is left as it is). Frames more than 1 MiB below the hook's are
 * not looked at: another stack, perhaps, and the word might not be mapped. */
int mp_hook_guard_is_stale(uintptr_t sp)
{
	if (mp_guard != MP_IN_HOOK)
		return 0;
	if (sp < hook_cfa) {
		if (hook_cfa - sp > (1u << 20) || *(const uintptr_t *)(hook_cfa - 8) == hook_ra)
			return 0;
	}
	return !on_alternate_stack();
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

static void start_recording(void);

/* The hooks' slow path: the guard is set (nested call, or a stale guard), or recording is
 * off (not started yet, disabled, failed). */
static __attribute__((noinline)) int recording_slow(uintptr_t cfa)
{
	if (mp_guard) {
		if (!mp_hook_guard_is_stale(cfa))
			return 0;
		recover_stale_guard();
	}
	if (!atomic_load_explicit(&mp_active, memory_order_relaxed) &&
	    atomic_load_explicit(&init_state, memory_order_acquire) == 0)
		start_recording(); /* the first call into the hooks, before our constructor */
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
	if (MP_UNLIKELY(!resolve()))
		return boot_alloc(size, 16);
	if (!recording(cfa))
		return real.malloc(size);
	enter_hook(cfa, ra);
	void *p = real.malloc(size);
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
	if (!p || MP_UNLIKELY(is_boot(p)))
		return;
	if (MP_UNLIKELY(!resolve()))
		return; /* only dlsym runs before this, and what it frees came from the bootstrap */
	if (!recording(CALLER_CFA)) {
		if (mp_guard == MP_IN_HOOK)
			defer_removal(p);
		real.free(p);
		return;
	}
	int e = errno;
	enter_hook(CALLER_CFA, CALLER_RA);
	record_free(p);
	real.free(p);
	leave_hook();
	errno = e;
}

EXPORT void *calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if (MP_UNLIKELY(!resolve()))
		return boot_alloc(n * size, 16); /* static, so already zero */
	if (!recording(CALLER_CFA))
		return real.calloc(n, size);
	enter_hook(CALLER_CFA, CALLER_RA);
	void *p = real.calloc(n, size);
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
	if (MP_UNLIKELY(is_boot(p))) {
		if (size == 0)
			return NULL;
		void *q = do_malloc(size, cfa, ra);
		if (q) {
			size_t old = boot_size(p);
			memcpy(q, p, old < size ? old : size);
		}
		return q;
	}
	if (MP_UNLIKELY(!resolve()))
		return NULL;
	if (!recording(cfa))
		return real.realloc(p, size);
	enter_hook(cfa, ra);
	uint64_t meta;
	int tracked = mp_live_remove((uintptr_t)p, &meta);
	void *q = real.realloc(p, size);
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
	if (MP_UNLIKELY(!resolve())) {
		if (align % sizeof(void *) || !is_pow2(align))
			return EINVAL;
		*out = boot_alloc(size, align);
		return *out ? 0 : ENOMEM;
	}
	if (!recording(CALLER_CFA))
		return real.posix_memalign(out, align, size);
	int e = errno;
	enter_hook(CALLER_CFA, CALLER_RA);
	int r = real.posix_memalign(out, align, size);
	if (r == 0)
		record_alloc(*out, size, CALLER_CFA, CALLER_RA);
	leave_hook();
	errno = e;
	return r;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	if (MP_UNLIKELY(!resolve()))
		return is_pow2(align) ? boot_alloc(size, align) : (errno = EINVAL, NULL);
	ALIGNED_HOOK(real.aligned_alloc(align, size), size);
}

EXPORT void *memalign(size_t align, size_t size)
{
	if (MP_UNLIKELY(!resolve()))
		return boot_alloc(size, align);
	ALIGNED_HOOK(real.memalign(align, size), size);
}

EXPORT void *valloc(size_t size)
{
	if (MP_UNLIKELY(!resolve()))
		return boot_alloc(size, 4096);
	ALIGNED_HOOK(real.valloc(size), size);
}

static size_t page_round(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return size == 0 ? page : (size + page - 1) & ~(page - 1);
}

EXPORT void *pvalloc(size_t size)
{
	if (MP_UNLIKELY(!resolve()))
		return boot_alloc(page_round(size), 4096);
	ALIGNED_HOOK(real.pvalloc(size), page_round(size));
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	if (MP_UNLIKELY(!resolve()))
		return 0;
	return real.malloc_usable_size(p);
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

/* ---- process life ---- */

static void report_verify(void)
{
	if (!mp_opt.verify_traces)
		return;
	struct mp_unwind_stats st;
	char a[24], b[24], c[24], d[24], line[200];
	mp_unwind_stats(&st);
	mp_utoa(st.hits, a);
	mp_utoa(st.misses, b);
	mp_utoa(st.mismatches, c);
	mp_utoa(st.learned, d);
	line[0] = '\0';
	strcat(line, a);
	strcat(line, " hits, ");
	strcat(line, b);
	strcat(line, " misses, ");
	strcat(line, c);
	strcat(line, " mismatches, ");
	strcat(line, d);
	strcat(line, " frame sizes learned");
	mp_log("trace cache: ", line, NULL);
}

/* Set once the final snapshot is written (or failed): a fatal signal in another thread waits
 * for it. final_reason says why it is written (exit or _exit; not a fatal signal's), set
 * before it is begun. */
static atomic_int final_done;
static atomic_uint final_reason;
/* Set on the thread writing the final snapshot, for its whole length. */
static MP_TLS int writes_final;
/* A signal from outside that another thread got while the final snapshot was written and
 * holds blocked (fatal.c); the exit() path raises it again once the snapshot is written. */
static atomic_int held_signal;
/* Threads in _exit() (exit_common), which end the process once the final snapshot is written. */
static atomic_int exiting_threads;

/* The signals held on the thread that writes the final snapshot: every standard one but the
 * faults, which cannot wait (a fault with its signal blocked kills at once). The real-time
 * ones are left alone: the leak scan's stop signal is one, and they take its census. */
static void hold_signals(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL && sig != SIGTRAP &&
		    sig != SIGSYS)
			sigaddset(&s, sig);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

/* After the final snapshot of exit(): the program is where it was before it, in exit(), and a
 * signal that came meanwhile is taken there, as it would have been without the snapshot
 * (bare, it would have found the program in exit() just the same). */
static void release_signals(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
	int sig = atomic_exchange(&held_signal, 0);
	if (sig)
		syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

/* After the final snapshot of exit(): a thread that called _exit() meanwhile (a signal
 * handler of the program's, say) waited for the snapshot, and without it would have ended the
 * process while this one was still in exit(): it goes first (1 s at most). */
static void let_exiting_threads_end(void)
{
	struct timespec ms = { 0, 1000 * 1000 };
	for (int i = 0; i < 1000 && atomic_load(&exiting_threads); i++)
		nanosleep(&ms, NULL);
}

int mp_final_holds_signal(int sig)
{
	if (writes_final || !initialized || getpid() != my_pid)
		return 0;
	/* Noted first, so that the exit() path, which sets final_done before it looks, cannot
	 * miss it. */
	int expected = 0;
	int noted = atomic_compare_exchange_strong(&held_signal, &expected, sig);
	unsigned reason = atomic_load(&final_reason);
	if (reason && (!atomic_load(&final_done) || reason == MP_REASON_UNDERSCORE_EXIT))
		return 1; /* being written; or written for _exit(), which ends the process right after */
	if (noted) {
		expected = sig;
		atomic_compare_exchange_strong(&held_signal, &expected, 0);
	}
	return 0;
}

/* Another thread writes the final snapshot: wait for it (30 s at most), and, when it is for
 * _exit(), which ends the process as soon as it is written, for the end (30 s more): without
 * the profiler the process would have ended already, with that thread's status. */
static void wait_for_final(void)
{
	struct timespec ms = { 0, 1000 * 1000 };
	if (writes_final)
		return;
	for (int i = 0; i < 30 * 1000 && !atomic_load(&final_done); i++)
		nanosleep(&ms, NULL);
	for (int i = 0; i < 30 * 1000 && atomic_load(&final_reason) == MP_REASON_UNDERSCORE_EXIT; i++)
		nanosleep(&ms, NULL);
}

/* The final snapshot, once per process; called with the guard set. */
static void final_snapshot(unsigned reason)
{
	if (!initialized || getpid() != my_pid)
		return;
	if (atomic_exchange(&mp_final_written, 1)) {
		wait_for_final();
		return;
	}
	writes_final = 1;
	atomic_store(&final_reason, reason);
	struct mp_thread *th = mp_thread_get();
	if (th)
		mp_thread_flush(th);
	if (mp_opt.leak_check)
		mp_leak_check_snapshot(reason, 1);
	else
		mp_snapshot_write(reason, NULL);
	atomic_store(&final_done, 1);
	writes_final = 0;
	report_verify();
}

/* The final snapshot from exit or _exit, `inside` when this thread was inside the library
 * (a signal handler interrupted it and ends the process): if the library held one of its
 * locks there, the snapshot would wait for this thread forever, and the process ends without
 * it rather than hang. */
static void final_snapshot_from(int inside, unsigned reason)
{
	if (!inside || mp_locks_held <= 0) {
		final_snapshot(reason);
		return;
	}
	if (initialized && getpid() == my_pid && !atomic_exchange(&mp_final_written, 1)) {
		mp_log(reason == MP_REASON_EXIT ? "exit()" : "_exit()",
		       " from a signal handler that interrupted the profiler holding a lock: "
		       "no final snapshot", NULL);
		atomic_store(&final_done, 1); /* no thread waits for it */
	}
}

int mp_in_vfork_child(void)
{
	return initialized && getpid() != my_pid;
}

void mp_fatal_snapshot(int sig)
{
	if (!initialized || getpid() != my_pid)
		return;
	if (atomic_exchange(&mp_final_written, 1)) {
		/* Another thread is writing the final snapshot (the program is in exit()): the
		 * signal ends the process once it is written, or after 30 s. */
		struct timespec ms = { 0, 1000 * 1000 };
		for (int i = 0; i < 30 * 1000 && !atomic_load(&final_done); i++)
			nanosleep(&ms, NULL);
		return;
	}
	struct mp_thread *th = mp_thread_get();
	if (th)
		mp_thread_flush(th);
	char label[24] = "SIG";
	const char *name = sigabbrev_np(sig);
	if (name && strlen(name) < sizeof(label) - 3)
		memcpy(label + 3, name, strlen(name) + 1);
	else
		mp_utoa((uint64_t)sig, label + 3);
	mp_snapshot_write(MP_REASON_FATAL_SIGNAL, label);
	atomic_store(&final_done, 1); /* a thread in exit() or _exit() waits for it */
}

__attribute__((noreturn)) static void exit_common(void (*fn)(int), int status)
{
	/* A vfork child shares this process's memory and this thread's TLS: it must leave both
	 * as they are (getpid differs there), or the parent would resume with its guard set. */
	if (initialized && getpid() == my_pid) {
		/* Without the profiler the process would end here: a signal that comes while the
		 * snapshot is written must not end it otherwise, so it stays blocked to the end. */
		sigset_t old;
		hold_signals(&old);
		atomic_fetch_add(&exiting_threads, 1);
		int inside = mp_guard;
		mp_guard = 1;
		final_snapshot_from(inside, MP_REASON_UNDERSCORE_EXIT);
	}
	if (fn)
		fn(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _exit(int status)
{
	resolve();
	exit_common(real.exit_, status);
}

EXPORT void _Exit(int status)
{
	resolve();
	exit_common(real.Exit_, status);
}

EXPORT int dlclose(void *handle)
{
	resolve();
	if (!real.dlclose)
		return -1;
	if (!recording(CALLER_CFA))
		return real.dlclose(handle);
	mp_guard = 1;
	mp_modules_scan(); /* the module may go: register it while it is there */
	mp_guard = 0;
	int r = real.dlclose(handle);
	int e = errno;
	mp_guard = 1;
	mp_modules_mark_unloaded();
	mp_guard = 0;
	errno = e;
	return r;
}

/* fork's handlers take and release our locks from one list, by rank (mp.h): prepare in
 * increasing rank, parent and child in decreasing rank. A child entry of NULL: released by a
 * later one (the threads' entry frees the counts too). */
static const struct fork_lock {
	void (*take)(void);
	void (*parent)(void);
	void (*child)(void);
} fork_locks[MP_RANK_COUNT] = {
	[MP_RANK_LEAKSCAN] = { mp_leakscan_lock, mp_leakscan_unlock, mp_leakscan_after_fork_child },
	[MP_RANK_SNAPSHOT] = { mp_snapshot_lock, mp_snapshot_unlock, mp_snapshot_unlock },
	[MP_RANK_PEAK] = { mp_peak_lock, mp_peak_unlock, mp_peak_unlock },
	[MP_RANK_TIMELINE] = { mp_timeline_lock, mp_timeline_unlock, mp_timeline_unlock },
	[MP_RANK_COUNTS] = { mp_counts_hold_for_fork, mp_counts_release_after_fork, NULL },
	[MP_RANK_MODULES] = { mp_modules_lock, mp_modules_unlock, mp_modules_unlock },
	[MP_RANK_TRACES] = { mp_traces_lock, mp_traces_unlock, mp_traces_unlock },
	[MP_RANK_ARENA] = { mp_arena_lock, mp_arena_unlock, mp_arena_unlock },
	[MP_RANK_THREADS] = { mp_threads_lock, mp_threads_unlock, mp_threads_after_fork_child },
	[MP_RANK_LIVE_GROWTH] = { mp_live_lock_growth, mp_live_unlock_growth, mp_live_after_fork_child },
};

static void before_fork(void)
{
	guard_before_fork = mp_guard;
	mp_guard = 1;
	for (int r = 0; r < MP_RANK_COUNT; r++)
		fork_locks[r].take();
}

/* Set by daemon() on the calling thread: its parent side ends with glibc's internal _exit,
 * which our _exit never sees. */
static MP_TLS int in_daemon;
static sigset_t daemon_mask; /* the mask before after_fork_parent held the signals */
static MP_TLS int daemon_held;

static void after_fork_parent(void)
{
	for (int r = MP_RANK_COUNT - 1; r >= 0; r--)
		fork_locks[r].parent();
	if (in_daemon) {
		/* daemon()'s parent calls _exit(0) next (or returns -1 if fork failed: daemon()
		 * undoes this then): its final snapshot, signals held as _exit() holds them. */
		hold_signals(&daemon_mask);
		daemon_held = 1;
		final_snapshot_from(guard_before_fork, MP_REASON_UNDERSCORE_EXIT);
	}
	mp_guard = guard_before_fork;
}

static void after_fork_child(void)
{
	for (int r = MP_RANK_COUNT - 1; r >= 0; r--) {
		if (fork_locks[r].child)
			fork_locks[r].child();
	}
	mp_periodic_after_fork_child();
	mp_fatal_after_fork_child();
	mp_is_fork_child = 1;
	mp_parent_pid = my_pid; /* the parent's, now: getppid() says 1 once a daemon's parent exits */
	my_pid = getpid();
	atomic_store(&mp_final_written, 0);
	atomic_store(&final_done, 0);
	atomic_store(&final_reason, 0);
	atomic_store(&held_signal, 0);
	atomic_store(&exiting_threads, 0);
	in_daemon = 0;
	mp_guard = guard_before_fork;
}

/* daemon(3): glibc's parent side ends in an internal _exit that our _exit never sees, so the
 * parent's final snapshot is written by the fork handler (after_fork_parent). */
EXPORT int daemon(int nochdir, int noclose)
{
	static int (*real_daemon)(int, int);
	resolve();
	if (!real_daemon)
		real_daemon = (int (*)(int, int))dlsym(RTLD_NEXT, "daemon");
	if (!real_daemon) {
		errno = ENOSYS;
		return -1;
	}
	pid_t pid = getpid();
	in_daemon = 1;
	int r = real_daemon(nochdir, noclose);
	in_daemon = 0;
	if (daemon_held && getpid() == pid) {
		/* fork failed and the parent goes on: its snapshot is not the final one after all
		 * (the one at its real exit replaces it), and signals are its own again. */
		daemon_held = 0;
		atomic_store(&final_done, 0);
		atomic_store(&final_reason, 0);
		atomic_store(&mp_final_written, 0);
		release_signals(&daemon_mask);
	}
	return r;
}

/* What recording needs, done by the first call into the hooks (the constructor of a library
 * initialised before this one may allocate) or else by our constructor; once. It runs inside
 * whatever malloc call came first, so it does only what is safe there: getenv, reading /proc,
 * dlopen and dlsym, sigaction; no stdio, no setenv (the caller may hold the environment's
 * lock), no thread, no pthread_atfork (the caller may be registering a handler). The
 * constructor does those (mp_init). A thread that calls meanwhile is simply not recorded: it
 * must not wait, it may hold a lock this needs. */
static void start_recording(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&init_state, &expected, 1))
		return;
	int saved = mp_guard;
	mp_guard = 1;
	my_pid = getpid();
	mp_parent_pid = getppid();
	if (getauxval(AT_SECURE) || mp_env_bool("MEMPROF_DISABLE", 0)) {
		atomic_store(&init_state, 2);
		mp_guard = saved;
		return; /* setuid and friends are never profiled */
	}
	mp_options_init();
	mp_heap.start_ns = mp_now_ns();
	mp_heap.start_realtime_ns = mp_realtime_ns();
	int err = mp_traces_init();
	if (!err)
		err = mp_live_init();
	if (!err)
		err = mp_unwind_init();
	if (!err)
		err = mp_thread_init();
	if (!err)
		err = mp_timeline_init();
	if (err) {
		mp_log("cannot start (libunwind.so.8 missing, or out of memory); the program runs unprofiled",
		       NULL, NULL);
	} else {
		mp_modules_scan();
		initialized = 1;
		atomic_store(&mp_active, 1);
		mp_fatal_init();
	}
	atomic_store(&init_state, 2);
	mp_guard = saved;
}

__attribute__((constructor(101))) static void mp_init(void)
{
	mp_guard = 1;
	resolve();
	start_recording(); /* nothing when a hook did it already */
	if (initialized) {
		pthread_atfork(before_fork, after_fork_parent, after_fork_child);
		mp_options_init_environment();
		mp_periodic_init();
	}
	mp_guard = 0;
}

/* Runs after the program's own destructors and atexit handlers (it was initialized before
 * them); the hooks keep working after it for whatever runs later. A signal that arrives while
 * the snapshot is written waits for it (release_signals). */
__attribute__((destructor(101))) static void mp_fini(void)
{
	int saved = mp_guard;
	sigset_t old;
	int hold = initialized && getpid() == my_pid && !atomic_load(&mp_final_written);
	if (hold)
		hold_signals(&old);
	mp_guard = 1;
	final_snapshot_from(saved, MP_REASON_EXIT);
	mp_guard = saved;
	if (hold) {
		release_signals(&old);
		let_exiting_threads_end();
	}
}

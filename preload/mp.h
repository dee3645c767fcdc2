/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the files of libmemprof.so (never installed). */
#ifndef MEMPROF_MP_H
#define MEMPROF_MP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MP_LIKELY(e) __builtin_expect(!!(e), 1)
#define MP_UNLIKELY(e) __builtin_expect(!!(e), 0)
#define MP_TLS __thread __attribute__((tls_model("initial-exec")))
#define MP_CACHELINE 64
/* A counter that one thread writes and others read: a relaxed load and store, no atomic
 * read-modify-write. MP_READ: another thread's relaxed read of one. */
#define MP_BUMP(c) atomic_store_explicit(&(c), atomic_load_explicit(&(c), memory_order_relaxed) + 1, memory_order_relaxed)
#define MP_READ(c) atomic_load_explicit(&(c), memory_order_relaxed)

/* MP_ASSERT(e): always compiled (e is type-checked), checked only in debug builds (make debug
 * defines MP_DEBUG). A failure prints "memprof: assertion failed: e at file:line" with
 * write(2), no malloc or stdio, and aborts. */
#ifdef MP_DEBUG
#define MP_ASSERT(e) ((e) ? (void)0 : mp_assert_failed(#e, __FILE__, __LINE__))
#else
#define MP_ASSERT(e) ((void)sizeof(!(e)))
#endif
__attribute__((noreturn)) void mp_assert_failed(const char *expr, const char *file, int line);

#define MP_DEFAULT_DEPTH 64
#define MP_MAX_DEPTH 256

/* state.c: set while this thread runs profiler code: nested allocator calls (from libunwind,
 * zlib, dlsym, libc) go straight to the real allocator, unrecorded. */
extern MP_TLS int mp_guard;
#define MP_IN_HOOK 2 /* mp_guard's value inside an allocator hook (1: other profiler code) */

/* ---- state.c: the flags every file reads (set by hooks.c, the life cycle and fatal.c) ---- */
extern atomic_int mp_active;     /* recording; 0 before init, when disabled, or after failure */
extern atomic_int mp_final_written; /* the final snapshot of this process is written or being written */
extern atomic_int mp_failed;     /* recording stopped by an internal failure: no snapshots */
extern int mp_is_fork_child;
extern pid_t mp_parent_pid; /* recorded at start and in a fork child at the fork */
/* Stop recording after an internal failure: say so once; keep forwarding. */
void mp_fail(const char *what);

/* ---- options.c: settings read once by the constructor ---- */
struct mp_options {
	char output[1024];     /* MEMPROF_OUTPUT pattern */
	char manifest[1024];   /* MEMPROF_MANIFEST: file to append written snapshot paths to */
	char cwd[1024];        /* working directory at start: relative outputs resolve here */
	char exe[256];         /* program name for %e */
	char exe_path[1024];   /* /proc/self/exe */
	char cmdline[4096];    /* NUL-separated arguments */
	size_t cmdline_len;
	unsigned max_depth;    /* MEMPROF_DEPTH */
	int follow_children;   /* MEMPROF_FOLLOW_CHILDREN */
	int exec_child;        /* exec'd by a followed descendant of the first profiled process */
	int verify_traces;     /* MEMPROF_VERIFY_TRACES: check every trace-cache hit */
	uint64_t interval_ns;  /* MEMPROF_INTERVAL: a snapshot this often; 0: never */
	int snapshot_signal;   /* MEMPROF_SIGNAL: a snapshot when it arrives; 0: none */
	int leak_signal;       /* MEMPROF_LEAK_SIGNAL: a leak check when it arrives; 0: none */
	int leak_check;        /* MEMPROF_LEAK_CHECK: scan for leaks at exit (default on) */
	int fatal_signals;     /* MEMPROF_FATAL_SIGNALS: a snapshot on a fatal signal (default on) */
};
extern struct mp_options mp_opt;
void mp_options_init(void); /* from the first hook call: getenv and /proc only */
/* The one reading of every yes/no variable: 1, yes, on or true (any case) is 1; 0, no, off or
 * false is 0; unset or empty is dflt; anything else is dflt, with one warning. getenv only. */
int mp_env_bool(const char *name, int dflt);
/* The constructor's part: the environment edits for the programs this one execs (setenv is
 * not safe inside a malloc call). */
void mp_options_init_environment(void);

/* ---- util.c: memory from mmap, logging with write(2), clocks ---- */
void *mp_map(size_t size_bytes);
void mp_unmap(void *p, size_t size_bytes);
/* The registry of mp_map's mappings, for the leak scan: mappings being made or unmade right
 * now (by a thread the scan may have stopped), and the list of [lo, hi) ranges. */
int mp_maps_in_flight(void);
size_t mp_maps_list(uintptr_t (*out)[2], size_t cap);
int mp_maps_overflowed(void); /* some mapping could not be registered */
/* MEMPROF_TEST_MAPS_MAX (tests only): a smaller registry, so that a test can fill it. */
void mp_maps_limit_for_test(size_t n);
/* Bump allocation from an append-only mmap'ed arena; never freed. NULL when out of memory. */
void *mp_arena_alloc(size_t size_bytes);
void mp_log(const char *a, const char *b, const char *c);
/* Write NUL-free decimal of v into buf (>= 21 bytes); returns the length. */
size_t mp_utoa(uint64_t v, char *buf);
/* Reads at most cap - 1 bytes of a small file (/proc/self/...) with one read(2) and ends them
 * with a NUL: no stdio, no allocation. Returns the bytes read, or -1 if there were none. */
ssize_t mp_read_small(const char *path, char *buf, size_t cap);
uint64_t mp_now_ns(void);        /* CLOCK_MONOTONIC */
uint64_t mp_coarse_now_ns(void); /* CLOCK_MONOTONIC_COARSE: a few ms of resolution, cheap */
uint64_t mp_realtime_ns(void);   /* CLOCK_REALTIME */

/* Every lock of ours, by rank: a thread takes them only in increasing rank (a debug build's
 * witness checks it, see mp_spin_lock), and fork's prepare handler takes them all in this
 * order (hooks.c's fork_locks). MP_RANK_COUNTS is every thread state's counts_lock, held by
 * fork alone (mp_counts_hold_for_fork); trylocks may be taken in any order. */
enum mp_lock_rank {
	MP_RANK_LEAKSCAN,     /* leakscan.c: one scan at a time */
	MP_RANK_SNAPSHOT,     /* snapshot.c: one writer at a time */
	MP_RANK_PEAK,         /* peak.c: the capture (the writer holds it while it collects the timeline) */
	MP_RANK_TIMELINE,     /* timeline.c: the series */
	MP_RANK_COUNTS,       /* thread.c: every state's pending counts (fork only) */
	MP_RANK_MODULES,      /* modules.c: the module list */
	MP_RANK_TRACES,       /* trace_table.c: inserts */
	MP_RANK_ARENA,        /* util.c: the arena's bump pointer */
	MP_RANK_THREADS,      /* thread.c: the list of free states */
	MP_RANK_LIVE_GROWTH,  /* live_table.c: growth and migration */
	MP_RANK_COUNT
};
typedef struct {
	atomic_int locked;
	unsigned rank; /* enum mp_lock_rank */
} mp_spinlock_t;
#define MP_SPINLOCK_INIT(r) { 0, (r) }
void mp_spin_lock(mp_spinlock_t *l);
void mp_spin_unlock(mp_spinlock_t *l);
int mp_spin_trylock(mp_spinlock_t *l); /* 1 when taken */
/* How many of our locks this thread holds (taken minus released by it): a thread that must
 * write a snapshot from a signal handler that interrupted the library knows whether it would
 * wait for itself. */
extern MP_TLS int mp_locks_held;

/* Every lock of ours, for fork's handlers (by rank, above). */
void mp_arena_lock(void);
void mp_arena_unlock(void);
void mp_traces_lock(void);
void mp_traces_unlock(void);
void mp_modules_lock(void);
void mp_modules_unlock(void);
void mp_threads_lock(void);
void mp_threads_unlock(void);
void mp_threads_after_fork_child(void); /* unlocks, and counts only this thread */
void mp_live_after_fork_child(void);    /* settles orphaned slots, unlocks growth */

/* ---- trace_table.c: deduplicated stack traces, insert-only and lock-free ---- */
struct mp_trace {
	uint64_t hash;
	uint32_t id;
	uint32_t n_frames;
	/* Written by allocating threads. */
	_Alignas(MP_CACHELINE) atomic_uint_fast64_t allocs;
	atomic_uint_fast64_t bytes_allocated;
	/* Written by freeing threads: a line of its own, so that a producer and a consumer
	 * thread do not bounce one line between them. */
	_Alignas(MP_CACHELINE) atomic_uint_fast64_t frees;
	atomic_uint_fast64_t bytes_freed;
	_Alignas(MP_CACHELINE) uintptr_t frames[];
};
#define MP_TRACE_MAX_ID ((1u << 24) - 1)
int mp_traces_init(void);
/* The record for these frames, created on first sight; NULL only when out of memory. */
struct mp_trace *mp_trace_intern(const uintptr_t *frames, uint32_t n_frames);
/* id 0 is the "unknown" trace: allocations recorded without a backtrace. */
struct mp_trace *mp_trace_by_id(uint32_t id);
uint32_t mp_trace_count(void); /* ids are 0 .. count-1 */

/* ---- live_table.c: live blocks, lock-free, grows ---- */
/* A block's metadata: its requested size (40 bits) and its trace id (24 bits). */
#define MP_META(size, id) (((uint64_t)(id) << 40) | ((uint64_t)(size) & ((1ull << 40) - 1)))
#define MP_META_SIZE(m) ((m) & ((1ull << 40) - 1))
#define MP_META_ID(m) ((uint32_t)((m) >> 40))
int mp_live_init(void);
/* Record a new block. Returns 0, or -ENOMEM when the table cannot grow. */
int mp_live_insert(uintptr_t ptr, uint64_t meta);
/* Remove a block and return 1 with its metadata, or 0 when the pointer is not tracked. */
int mp_live_remove(uintptr_t ptr, uint64_t *meta);
/* Exact once every thread that used the table has called mp_live_thread_exit() or is idle
 * with its batch flushed; otherwise within 64 per thread. */
uint64_t mp_live_count(void);
void mp_live_thread_exit(void); /* flush this thread's batched counts */
size_t mp_live_table_bytes(void);
/* The leak scan's view of the table: every settled entry (see live_table.c). */
struct mp_live_entry {
	uintptr_t ptr;
	uint64_t meta;
};
size_t mp_live_capacity(void);
size_t mp_live_collect(struct mp_live_entry *out, size_t cap);
/* Held by fork's prepare handler so that no table is half-migrated in the child. */
void mp_live_lock_growth(void);
void mp_live_unlock_growth(void);

/* ---- unwind.c: backtraces, with a per-thread cache of verified traces ---- */
struct mp_thread;
/* The trace of the allocation whose hook was entered with this CFA (the caller's stack
 * pointer at the call) and return address. Called with the hook guard set. */
struct mp_trace *mp_capture(struct mp_thread *th, uintptr_t cfa, uintptr_t ra);
int mp_unwind_init(void);
size_t mp_thread_cache_bytes(void);
void mp_thread_cache_reset(struct mp_thread *th);
struct mp_unwind_stats { uint64_t hits, misses, mismatches, learned; };
void mp_unwind_stats(struct mp_unwind_stats *out);
int mp_unwind_find_caller(int (*skip)(uintptr_t ip), uintptr_t *sp_out, uintptr_t regs[6]);

/* ---- ownstack.c: a stack of the profiler's own per thread, for the deep part of a hook ---- */
/* fn(arg) on th's own stack (made on first use), or on this one when there is none or this is
 * it. An unwinder started there walks on into the caller's stack. */
void mp_call_on_own_stack(struct mp_thread *th, void (*fn)(void *), void *arg);
/* Its usable range (made on first use); 0, 0 when there is none. */
void mp_own_stack_bounds(struct mp_thread *th, uintptr_t *lo, uintptr_t *hi);

/* ---- thread.c: per-thread state (from mmap, recycled when threads exit) ---- */
#define MP_SIZE_CLASSES 64
#define MP_PENDING_TRACES 1024
#define MP_DEFERRED_FREES 32
struct mp_thread {
	struct mp_thread *next_all;   /* list of every state, for summing at snapshot time */
	struct mp_thread *next_free;
	int64_t pending_live_bytes;   /* not yet added to mp_heap.live_bytes */
	int64_t live_base;            /* mp_heap.live_bytes when this thread last added to it */
	int tick_countdown;           /* events until this thread next looks at the timeline clock */
	/* Counters written by the owner alone and read by other threads (the timeline, the
	 * snapshot writer): relaxed atomics, a plain load and store on x86-64 (MP_BUMP). */
	atomic_uint_fast64_t n_frees; /* frees counted by this thread (allocs: its size_classes) */
	/* 1 while the owner moves pending counts into the records, 2 while a reader
	 * (mp_read_trace_counts) holds them still; the owner never waits for a reader. */
	atomic_int counts_lock;
	atomic_uint moves;    /* the owner's moves so far (counts_lock taken) */
	unsigned stuck_move;  /* reader's: the move (moves + 1) it waited for in vain, or 0 */
	int counts_held;      /* reader's: it holds this state's counts_lock */
	/* Trace counters not yet added to their records (written by this thread alone, atomics
	 * for the readers; kept in the state when the thread exits, and carried on by the next
	 * thread to use it). */
	struct mp_pending_counts {
		_Atomic(struct mp_trace *) trace;
		atomic_uint_fast64_t allocs, bytes_allocated, frees, bytes_freed;
	} pending[MP_PENDING_TRACES];
	atomic_uint_fast64_t size_classes[MP_SIZE_CLASSES];
	atomic_uint_fast64_t cache_hits, cache_misses, cache_mismatches;
	/* Frees that reached free() while this thread was inside a hook (a signal handler's):
	 * done by the hook when it leaves, so that the block leaves the live table first. */
	void *deferred[MP_DEFERRED_FREES];
	int n_deferred;
	void *own_stack;              /* ownstack.c's mapping (guard page first), or NULL */
	unsigned char cache[];        /* unwind.c's per-thread trace cache */
};
struct mp_thread *mp_thread_get(void); /* NULL when no state can be had */
struct mp_thread *mp_thread_self(void); /* this thread's state if it has one; never creates */
int mp_thread_init(void);
struct mp_thread *mp_thread_list(void);
/* Heap totals kept across threads. */
struct mp_heap {
	_Alignas(MP_CACHELINE) atomic_int_fast64_t live_bytes;
	atomic_uint_fast64_t peak_bytes;
	atomic_uint_fast64_t peak_time_ns;
	atomic_uint_fast64_t interval_max;    /* highest live_bytes seen since the last timeline point */
	atomic_uint_fast64_t peak_capture_at; /* live bytes at which peak.c captures the sites again */
	_Alignas(MP_CACHELINE) atomic_uint_fast64_t untracked_frees;
	atomic_uint_fast64_t lost_allocs;
	atomic_uint_fast64_t size_classes[MP_SIZE_CLASSES]; /* from threads that exited */
	atomic_uint_fast64_t frees_without_state; /* from threads that exited or had no state */
	atomic_int n_threads;
	uint64_t start_ns, start_realtime_ns;
};
extern struct mp_heap mp_heap;
void mp_heap_add(struct mp_thread *th, int64_t delta_bytes); /* th may be NULL */
void mp_thread_flush(struct mp_thread *th);
/* Count an allocation or a free against a trace, through the thread's pending counters
 * (th NULL: a thread that could get no state; straight to the shared counters). */
void mp_count_alloc(struct mp_thread *th, struct mp_trace *tr, uint64_t size);
void mp_count_free(struct mp_thread *th, struct mp_trace *tr, uint64_t size);
void mp_flush_trace_counts(struct mp_thread *th);
/* Every trace's counts now (ids 0 .. n-1 into out): its record's counters plus every thread
 * state's pending ones, read while no thread moves pending counts into the records (a move
 * between the two reads would count them twice, or not at all). One reader at a time: the
 * caller holds the peak lock (peak.c). */
struct mp_trace_counts {
	uint64_t allocs, bytes_allocated, frees, bytes_freed;
};
void mp_read_trace_counts(struct mp_trace_counts *out, uint32_t n);
/* A record's own counters alone (what mp_read_trace_counts starts from). */
void mp_trace_record_counts(const struct mp_trace *t, struct mp_trace_counts *out);
/* fork's handlers: every state's counts_lock held across fork (hooks.c), so that the child
 * finds no move half done. */
void mp_counts_hold_for_fork(void);
void mp_counts_release_after_fork(void);

/* ---- timeline.c: the heap over time, in a bounded series of points ---- */
#define MP_TIMELINE_TICK_EVENTS 64 /* a thread looks at the clock every this many events */
int mp_timeline_init(void);
/* Called by a thread whose tick_countdown ran out, with the hook guard set: takes a point
 * when the period has elapsed (unless another thread is taking one). */
void mp_timeline_poll(struct mp_thread *th);
/* A point now if the period has elapsed; for the helper thread. */
void mp_timeline_sample_if_due(void);
/* The same at a given CLOCK_MONOTONIC time (the unit test drives the clock). */
void mp_timeline_sample_at(uint64_t now_ns);
uint64_t mp_timeline_next_due_ns(void); /* CLOCK_MONOTONIC time of the next point */
/* Live bytes now: the published total plus every thread's unpublished share. */
int64_t mp_live_bytes_now(void);
struct mp_timeline_point {
	uint64_t time_ns, live_bytes, max_live_bytes, rss_bytes, allocs, frees;
};
/* The series, and a last point taken now, into `out` (room for MP_TIMELINE_MAX_POINTS);
 * returns the number of points. For the snapshot writer (with the snapshot lock held). */
#define MP_TIMELINE_MAX_POINTS 1025
size_t mp_timeline_collect(struct mp_timeline_point *out);
void mp_timeline_lock(void);
void mp_timeline_unlock(void);

/* ---- peak.c: the sites that held memory when the heap peaked ---- */
/* Called when live_bytes reached mp_heap.peak_capture_at (a new peak): records every trace's
 * live bytes and blocks, unless another thread is doing so. Called with the hook guard set. */
void mp_peak_capture(void);
/* For the snapshot writer: capture again if the heap is now higher than the capture (so that
 * a snapshot taken at the peak holds exactly its sites), and return with the capture locked:
 * no thread replaces it, with sites of traces newer than the snapshot's, until
 * mp_peak_unlock(). */
void mp_peak_hold(void);
struct mp_peak_site {
	uint32_t trace_id;
	uint64_t live_bytes, live_blocks;
};
/* With the peak lock held: the capture. Valid until the lock is released. */
size_t mp_peak_sites(const struct mp_peak_site **sites, uint64_t *peak_bytes, uint64_t *peak_time_ns);
void mp_peak_lock(void);
void mp_peak_unlock(void);
int mp_peak_trylock(void); /* 1 when taken */

/* ---- periodic.c: snapshots while the program runs (interval, signal, memprof_snapshot) */
void mp_periodic_init(void);             /* constructor: the signal handler, if configured */
void mp_periodic_ensure_helper(void);    /* start the helper thread if wanted and not running */
void mp_periodic_after_fork_child(void); /* the helper did not survive fork: start it again */

/* ---- fatal.c: a snapshot when the program dies of a signal ---- */
void mp_fatal_init(void);             /* constructor: take the fatal signals left at SIG_DFL */
void mp_fatal_after_fork_child(void); /* the child may write its own */
/* hooks.c: the final snapshot of a process dying of sig (no leak scan); guard set. */
void mp_fatal_snapshot(int sig);
int mp_in_vfork_child(void); /* a vfork child, running in its parent's memory */
/* A signal from outside that arrived inside an allocator hook, blocked until the hook ends;
 * leave_hook calls mp_fatal_resume() (guard clear) to take it. 0: none. */
extern MP_TLS int mp_fatal_deferred;
void mp_fatal_resume(void);
/* hooks.c: for a signal from outside on this thread while another one writes the final
 * snapshot (or has written it for _exit): 1 when it must be held blocked, noted so that the
 * exit() path raises it again once the snapshot is written. */
int mp_final_holds_signal(int sig);
/* hooks.c: whether this thread's hook guard was left set by a longjmp out of a hook, seen from
 * a context whose stack pointer is sp (an interrupted context's). */
int mp_hook_guard_is_stale(uintptr_t sp);

/* ---- modules.c: every module loaded during the run, for symbolizing later ---- */
struct mp_module {
	uintptr_t bias, start, end;
	uint32_t flags;               /* MP_MODULE_* from snapshot_format.h */
	uint32_t build_id_len;
	unsigned char build_id[64];
	char path[];
};
void mp_modules_scan(void);         /* register every module loaded now */
void mp_modules_mark_unloaded(void);/* flag registered modules no longer loaded */
size_t mp_module_count(void);
const struct mp_module *mp_module_at(size_t i);

/* ---- snapshot.c ---- */
/* Write a snapshot for `reason` (enum mp_snap_reason). Returns 0 or a negative errno.
 * Called with the hook guard set. */
int mp_snapshot_write(unsigned reason, const char *label);
/* The same, with a LEAKS section holding `leaks` (NULL: none). */
struct mp_leak_result;
int mp_snapshot_write_leaks(unsigned reason, const char *label, const struct mp_leak_result *leaks);
extern atomic_uint mp_snapshot_seq;
void mp_snapshot_lock(void);
void mp_snapshot_unlock(void);

/* ---- leakscan.c: reachability scan, memcheck's classification ---- */
struct mp_leak_record {
	uint32_t trace_id, kind; /* enum mp_leak_kind */
	uint64_t blocks, bytes, indirect_blocks, indirect_bytes;
};
struct mp_leak_result {
	uint32_t flags; /* MP_LEAKS_* */
	uint32_t count;
	uint64_t scan_time_ns, root_bytes;
	uint64_t lost_bytes; /* definitely + indirectly lost */
	struct mp_leak_record *records;
	/* Every trace's counts (ids 0 .. n_counts - 1) as they were while the threads were
	 * stopped for the scan, so that the snapshot's totals are the heap the scan classified;
	 * NULL when they could not be read then (the writer reads them itself). */
	struct mp_trace_counts *counts;
	uint32_t n_counts;
};
/* Scan now and write a snapshot for `reason` holding the result. at_exit: the scan is the
 * final one. Returns the bytes definitely and indirectly lost, or -1 when no scan could be
 * made. Called with the guard set. */
long long mp_leak_check_snapshot(unsigned reason, int at_exit);
/* The same from the profiler's helper thread (MEMPROF_LEAK_SIGNAL): the scanning thread holds
 * none of the program's pointers, so its stack and registers are no roots. */
long long mp_leak_check_snapshot_from_helper(void);
/* A profiler thread that runs with every signal blocked calls this once: leak scans do not
 * wait for it to stop (it holds none of the program's pointers). */
void mp_leakscan_ignore_this_thread(void);
/* Set (thread.c's) in a thread whose stop signal came while it was moving its pending counts:
 * called once the move is done, it stops the thread then, so that the stopped world holds no
 * half-done move. */
extern MP_TLS void (*volatile mp_after_move)(void);
int mp_in_counts_move(uintptr_t pc); /* pc is in the code that moves pending counts */
/* Set by the stop signal in a thread that was inside an allocator hook: the hook, as it
 * leaves (guard clear), calls mp_leakscan_deferred_stop(), which stops the thread there. */
extern MP_TLS volatile int mp_stop_deferred;
void mp_leakscan_deferred_stop(void);
void mp_leakscan_lock(void);   /* fork's prepare handler: before every other lock */
void mp_leakscan_unlock(void);
void mp_leakscan_after_fork_child(void);

#endif

/* SPDX-License-Identifier: MIT */
/* The profiler's shared state: the hook guard and the process-wide flags every layer reads. */
#ifndef MEMPROF_STATE_H
#define MEMPROF_STATE_H

#include <stdatomic.h>
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

/* Set while this thread runs profiler code: nested allocator calls (from libunwind, zlib,
 * dlsym, libc) go straight to the real allocator, unrecorded. */
extern MP_TLS int mp_guard;
#define MP_IN_HOOK 2 /* mp_guard's value inside an allocator hook (1: other profiler code) */
/* The caller's stack pointer (CFA) and the return address at the entry of the hook that set
 * mp_guard to MP_IN_HOOK, for mp_hook_guard_is_stale (written by hooks.c's enter_hook). */
extern MP_TLS uintptr_t mp_hook_cfa, mp_hook_ra;
/* Whether this thread's hook guard was left set by a longjmp out of a hook, seen from a
 * context whose stack pointer is sp (an interrupted context's). */
int mp_hook_guard_is_stale(uintptr_t sp);

extern atomic_int mp_active;     /* recording; 0 before init, when disabled, or after failure */
extern atomic_int mp_final_written; /* the final snapshot of this process is written or being written */
extern atomic_int mp_failed;     /* recording stopped by an internal failure: no snapshots */
extern int mp_is_fork_child;
extern pid_t mp_parent_pid; /* recorded at start and in a fork child at the fork */
/* Set once recording has started (start.c). */
extern int mp_initialized;
extern pid_t mp_pid; /* this process's pid, recorded at start and in a fork child */
int mp_in_vfork_child(void); /* a vfork child, running in its parent's memory */

#endif

/* SPDX-License-Identifier: MIT */
/* Backtraces, with a per-thread cache of verified traces. */
#ifndef MEMPROF_UNWIND_H
#define MEMPROF_UNWIND_H

#include "arch.h"
#include "state.h"

#include <stddef.h>
#include <stdint.h>

struct mp_thread;
/* The trace of the allocation whose hook was entered with this CFA (the caller's stack
 * pointer at the call) and return address. Called with the hook guard set. */
struct mp_trace *mp_capture(struct mp_thread *th, uintptr_t cfa, uintptr_t ra);
int mp_unwind_init(void);
struct mp_unwind_stats { uint64_t hits, misses, mismatches, learned; };
void mp_unwind_stats(struct mp_unwind_stats *out);
/* Above zero while this thread is inside pthread_getattr_np (hooks.c): glibc holds the
 * thread's lock there while it allocates, so the stack bounds must not be asked for then. */
extern MP_TLS int mp_in_getattr;
/* fork's handlers (lifecycle.c): no other thread is inside libunwind while fork runs. */
void mp_unwind_hold_for_fork(void);
void mp_unwind_release_after_fork(void);
void mp_unwind_after_fork_child(void);
int mp_unwind_find_caller(int (*skip)(uintptr_t ip), uintptr_t *sp_out, uintptr_t regs[MP_ARCH_N_CALLEE_SAVED]);

#endif

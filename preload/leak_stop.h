/* SPDX-License-Identifier: MIT */
/* Stopping the other threads for a leak scan: the stop signal, the table of stopped threads
 * and their registers, and resuming them. */
#ifndef MEMPROF_LEAK_STOP_H
#define MEMPROF_LEAK_STOP_H

#include "leak_state.h"
#include "state.h"

#include <stddef.h>
#include <stdint.h>

/* Returns 1 when every other thread is stopped, 0 otherwise (including no free signal). */
int mp_stop_threads(struct mp_stop *stop);
void mp_resume_threads(struct mp_stop *stop);
size_t mp_stop_n_threads(void); /* entries of the thread table, stopped or not */
/* Thread k's MP_ARCH_N_GREGS general registers (arch.h) and its stack pointer, or NULL when it
 * did not stop. */
const uintptr_t *mp_stopped_regs(size_t k, uintptr_t *sp);
int mp_stop_holds_sp(uintptr_t lo, uintptr_t hi); /* a stopped thread's sp is in [lo, hi) */
/* A profiler thread that runs with every signal blocked calls this once: leak scans do not
 * wait for it to stop (it holds none of the program's pointers). */
void mp_leakscan_ignore_this_thread(void);
/* Set by the stop signal in a thread that was inside an allocator hook: the hook, as it
 * leaves (guard clear), calls mp_leakscan_deferred_stop(), which stops the thread there. */
extern MP_TLS volatile int mp_stop_deferred;
void mp_leakscan_deferred_stop(void);
void mp_stop_after_fork_child(void); /* forgets the parent's ignored threads and stops */

#endif

/* SPDX-License-Identifier: MIT */
/* A stack of the profiler's own per thread, for the deep part of a hook. */
#ifndef MEMPROF_OWNSTACK_H
#define MEMPROF_OWNSTACK_H

#include <stdint.h>

struct mp_thread;
/* fn(arg) on th's own stack (made on first use), or on this one when there is none or this is
 * it. An unwinder started there walks on into the caller's stack. */
void mp_call_on_own_stack(struct mp_thread *th, void (*fn)(void *), void *arg);
/* Whether sp is on this thread's own stack (not made if there is none): only a hook runs
 * there, so a guard seen from it is never stale, wherever the mapping lies next to the
 * thread's stack (mp_hook_guard_is_stale judges by the address). */
int mp_on_own_stack(uintptr_t sp);
/* Its usable range (made on first use); 0, 0 when there is none. */
void mp_own_stack_bounds(struct mp_thread *th, uintptr_t *lo, uintptr_t *hi);

#endif

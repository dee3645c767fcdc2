/* SPDX-License-Identifier: MIT */
/* A stack of the profiler's own per thread, for the deep part of a hook. */
#ifndef MEMPROF_OWNSTACK_H
#define MEMPROF_OWNSTACK_H

#include <stdint.h>

struct mp_thread;
/* fn(arg) on th's own stack (made on first use), or on this one when there is none or this is
 * it. An unwinder started there walks on into the caller's stack. */
void mp_call_on_own_stack(struct mp_thread *th, void (*fn)(void *), void *arg);
/* Its usable range (made on first use); 0, 0 when there is none. */
void mp_own_stack_bounds(struct mp_thread *th, uintptr_t *lo, uintptr_t *hi);

#endif

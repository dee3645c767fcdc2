/* SPDX-License-Identifier: MIT */
/* A stack of the profiler's own for each thread, for the deep part of an allocator hook:
 * unwinding with libunwind needs several KiB, which a program that allocates on a small
 * stack (a coroutine's, a sigaltstack's, a small thread's) does not have to spare.
 *
 * mp_run_on_stack (arch.h) switches to it through a frame whose CFI gives the caller's CFA from
 * %rbp, which holds the stack pointer of the program's stack: an unwinder that starts on our
 * stack continues onto the program's, so a backtrace taken there is the whole trace. Before
 * switching it also pushes the callee-saved registers onto the program's stack, where a leak
 * scan that stops the thread meanwhile finds them (it never scans our mappings). */
#include "ownstack.h"

#include "arch.h"
#include "state.h"
#include "thread.h"
#include "util.h"

#include <sys/mman.h>

#define OWN_STACK_BYTES (128 * 1024)
#define GUARD_BYTES 4096

/* fn(arg) on the stack whose top is top (arch.h). */
__asm__(MP_ARCH_RUN_ON_STACK_ASM);
void mp_run_on_stack(void *arg, void (*fn)(void *), void *top);

/* The stack's pages are touched only as deep as it is used (mmap with MAP_NORESERVE); the
 * lowest page is a guard. Kept with the thread's state: a thread that reuses the state, and a
 * fork child (whose thread has its parent's mapping), keep it. */
static int own_stack(struct mp_thread *th, uintptr_t *lo, uintptr_t *hi)
{
	if (MP_UNLIKELY(!th->own_stack)) {
		char *m = mp_map(GUARD_BYTES + OWN_STACK_BYTES);
		if (!m)
			return 0;
		if (mprotect(m, GUARD_BYTES, PROT_NONE) != 0) {
			mp_unmap(m, GUARD_BYTES + OWN_STACK_BYTES);
			return 0;
		}
		th->own_stack = m;
	}
	*lo = (uintptr_t)th->own_stack + GUARD_BYTES;
	*hi = *lo + OWN_STACK_BYTES;
	return 1;
}

void mp_own_stack_bounds(struct mp_thread *th, uintptr_t *lo, uintptr_t *hi)
{
	if (!th || !own_stack(th, lo, hi))
		*lo = *hi = 0;
}

int mp_on_own_stack(uintptr_t sp)
{
	struct mp_thread *th = mp_thread_self();
	uintptr_t lo = th && th->own_stack ? (uintptr_t)th->own_stack : 0;
	return lo && sp >= lo && sp < lo + GUARD_BYTES + OWN_STACK_BYTES;
}

void mp_call_on_own_stack(struct mp_thread *th, void (*fn)(void *), void *arg)
{
	uintptr_t lo, hi, sp = (uintptr_t)__builtin_frame_address(0);
	/* Already on it (a signal handler cannot get here: the hook guard sends it to the real
	 * allocator; but a handler that left by longjmp leaves nothing to reclaim either), or no
	 * stack to be had: on the current one. */
	if (!own_stack(th, &lo, &hi) || (sp >= lo - GUARD_BYTES && sp < hi)) {
		fn(arg);
		return;
	}
	mp_run_on_stack(arg, fn, (void *)hi);
}

/* SPDX-License-Identifier: MIT */
/* The profiler's shared state, defined once at the bottom so that no file links around another
 * to reach a flag: the hook guard and the process-wide flags. */
#include "state.h"

#include "arch.h"

#include <signal.h>
#include <unistd.h>

MP_TLS int mp_guard;
MP_TLS uintptr_t mp_hook_cfa, mp_hook_ra;
atomic_int mp_active;
atomic_int mp_failed;
atomic_int mp_final_written;
int mp_is_fork_child;
pid_t mp_parent_pid;
int mp_initialized;
pid_t mp_pid;

int mp_in_vfork_child(void)
{
	return mp_initialized && getpid() != mp_pid;
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
	if (sp < mp_hook_cfa) {
		if (mp_hook_cfa - sp > (1u << 20) || *MP_ARCH_RA_SLOT(mp_hook_cfa) == mp_hook_ra)
			return 0;
	}
	return !on_alternate_stack();
}

/* SPDX-License-Identifier: MIT */
/* The state every file of the library reads: the hook guard and the recording flags, at the
 * bottom of the dependency order, so that no file (and no unit test) links around the hooks. */
#include "mp.h"

#include <stdatomic.h>

MP_TLS int mp_guard;
atomic_int mp_active;
atomic_int mp_failed;
atomic_int mp_final_written;
int mp_is_fork_child;
pid_t mp_parent_pid;

/* From here on frees go unseen, so a snapshot would report every block live at the failure
 * as in use at exit: none is written (mp_failed tells the writer). */
void mp_fail(const char *what)
{
	atomic_store(&mp_failed, 1);
	if (atomic_exchange(&mp_active, 0))
		mp_log("internal failure: ", what,
		       "; recording stopped, no snapshot will be written, the program runs on");
}

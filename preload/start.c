/* SPDX-License-Identifier: MIT */
/* Starting to record: the options, the tables, the unwinder and the fatal signals, set up once
 * by the first call into the hooks or else by the constructor. */
#include "start.h"

#include "arch.h"
#include "fatal.h"
#include "heap.h"
#include "live_table.h"
#include "modules.h"
#include "options.h"
#include "state.h"
#include "thread.h"
#include "timeline.h"
#include "trace_table.h"
#include "unwind.h"
#include "util.h"

#include <sys/auxv.h>
#include <unistd.h>

/* 0: recording not started; 1: being started (mp_start_recording); 2: started, or never will
 * be (disabled, or the start failed). */
static atomic_int init_state;

int mp_start_is_pending(void)
{
	return atomic_load_explicit(&init_state, memory_order_acquire) == 0;
}

/* What recording needs, done by the first call into the hooks (the constructor of a library
 * initialised before this one may allocate) or else by our constructor; once. It runs inside
 * whatever malloc call came first, so it does only what is safe there: getenv, reading /proc,
 * dlopen and dlsym, sigaction; no stdio, no setenv (the caller may hold the environment's
 * lock), no thread, no pthread_atfork (the caller may be registering a handler). The
 * constructor does those (mp_init). A thread that calls meanwhile is simply not recorded: it
 * must not wait, it may hold a lock this needs. */
void mp_start_recording(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&init_state, &expected, 1))
		return;
	int saved = mp_guard;
	mp_guard = 1;
	mp_pid = getpid();
	mp_parent_pid = getppid();
	if (getauxval(AT_SECURE) || mp_env_bool("MEMPROF_DISABLE", 0)) {
		atomic_store(&init_state, 2);
		mp_guard = saved;
		return; /* setuid and friends are never profiled */
	}
	if (!mp_arch_supported()) {
		mp_log("cannot start: this processor lacks cmpxchg16b; the program runs unprofiled", NULL, NULL);
		atomic_store(&init_state, 2);
		mp_guard = saved;
		return;
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
		mp_initialized = 1;
		atomic_store(&mp_active, 1);
		mp_fatal_init();
	}
	atomic_store(&init_state, 2);
	mp_guard = saved;
}

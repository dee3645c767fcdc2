/* SPDX-License-Identifier: MIT */
/* The MEMPROF_* settings, read once when recording starts. */
#ifndef MEMPROF_OPTIONS_H
#define MEMPROF_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define MP_DEFAULT_DEPTH 64
#define MP_MAX_DEPTH 256

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
	int follow_exec;       /* MEMPROF_FOLLOW_EXEC: an exec in place stays profiled (default on) */
	uint32_t first_seq;    /* MEMPROF_SEQ (set by the image this one exec'd): the first %n */
	int exec_child;        /* exec'd by a followed descendant of the first profiled process */
	int verify_traces;     /* MEMPROF_VERIFY_TRACES: check every trace-cache hit */
	uint64_t interval_ns;  /* MEMPROF_INTERVAL: a snapshot this often; 0: never */
	int snapshot_signal;   /* MEMPROF_SIGNAL: a snapshot when it arrives; 0: none */
	int leak_signal;       /* MEMPROF_LEAK_SIGNAL: a leak check when it arrives; 0: none */
	int leak_check;        /* MEMPROF_LEAK_CHECK: scan for leaks at exit (default on) */
	int fatal_signals;     /* MEMPROF_FATAL_SIGNALS: a snapshot on a fatal signal (default on) */
	/* What the constructor took out of the environment (not when following children), as
	 * NUL-ended NAME=value strings, for an exec in place to put back (exec.c): libmemprof.so's
	 * entry of LD_PRELOAD (in preload_entry, the entry alone) and the variables memprof run
	 * set (carry, carry_len bytes). */
	char preload_entry[1024];
	char carry[2048];
	size_t carry_len;
};
extern struct mp_options mp_opt;
/* The one reading of every yes/no variable: 1, yes, on or true (any case) is 1; 0, no, off or
 * false is 0; unset or empty is dflt; anything else is dflt, with one warning. getenv only. */
int mp_env_bool(const char *name, int dflt);
void mp_options_init(void); /* from the first hook call: getenv and /proc only */
/* The constructor's part: the environment edits for the programs this one execs (setenv is
 * not safe inside a malloc call). */
void mp_options_init_environment(void);

#endif

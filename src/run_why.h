/* SPDX-License-Identifier: MIT */
/* Why a memprof run wrote no snapshot, said in one line each. */
#ifndef MEMPROF_RUN_WHY_H
#define MEMPROF_RUN_WHY_H

#include <stddef.h>
#include <sys/types.h>

/* Prints why the run of `program` (process `pid`, wait status `status`) left no snapshot,
 * from the manifest's event lines (preload/manifest.c, without their '#') and from the
 * programs' own files: their ELF header, their mode bits. */
void mp_run_explain(const char *program, pid_t pid, int status, char *const *events, size_t n_events);

#endif

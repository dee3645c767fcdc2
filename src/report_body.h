/* SPDX-License-Identifier: MIT */
/* Prints one snapshot's report, text or JSON: its sections in their order. What memprof
 * report, memprof run's final report and memprof export --format json print. */
#ifndef MEMPROF_REPORT_BODY_H
#define MEMPROF_REPORT_BODY_H

#include <stdbool.h>

#include "report_types.h"

/* The defaults of --top and --frames. */
#define MP_REPORT_DEFAULT_TOP 10
#define MP_REPORT_DEFAULT_FRAMES 12

/* Prints the report of `snap` on stdout as r's options (path, top, frames, sort, filter,
 * color) say, symbolized or not; r's site arrays and symbolizer are its own. Returns 0,
 * 1 if stdout could not be written, or MP_EXIT_USAGE when out of memory. */
int mp_report_snapshot(mp_report_t *r, const mp_snapshot_t *snap, bool json, bool symbols);

/* Reads the snapshot at r->path and prints its report; with since_path (text only), the
 * earlier leak check of the same process whose loss records r->since compares with. Returns
 * the exit status of memprof report: MP_EXIT_USAGE for an unreadable file or a since_path
 * that is not an earlier leak check of the same process. */
int mp_report_path(mp_report_t *r, bool json, bool symbols, const char *since_path);

/* Prints the text report of the snapshot at `path` on stdout with the default options but
 * the loss records listed (MP_LEAK_KIND_BIT()s), as "memprof report PATH" does (with
 * leaks_only, "memprof report --leaks PATH"); returns that command's exit status. */
int mp_report_file(const char *path, bool color, uint32_t show_leak_kinds, bool leaks_only);

#endif

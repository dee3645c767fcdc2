/* SPDX-License-Identifier: MIT */
/* Text output the commands share: strings printed safely, section titles, a snapshot's
 * command line and a site's frames. Everything goes to stdout. */
#ifndef MEMPROF_TEXT_OUT_H
#define MEMPROF_TEXT_OUT_H

#include <stddef.h>

#include "report_types.h"

/* Writes s with control characters replaced by '?', so that a crafted file cannot drive the
 * terminal. */
void mp_put_sanitized(const char *s, size_t n);

/* Starts and ends a section title, bold when colour is on. */
void mp_title(const mp_report_t *r, const char *title);

/* The program's arguments as a shell would need them (quoted where they must be), with
 * control characters replaced: the report's "command:" line. */
void mp_print_cmdline(const mp_snap_meta_t *m);

/* Prints the first r->frames frames of t, one line per function ("    at 0x...: main
 * (prog.c:12)"), then how many more there are; "(no stack trace)" for none. */
void mp_print_frames(mp_report_t *r, const mp_snap_trace_t *t);

#endif

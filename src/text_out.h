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

/* The columns a text report fits in: $COLUMNS if it is a number, else the terminal's width
 * when standard output is one, else 80; never under MP_MIN_WIDTH or over MP_MAX_WIDTH. */
#define MP_MIN_WIDTH 40
#define MP_MAX_WIDTH 1000
unsigned mp_output_width(void);
/* r->width, or 80 when it was not set. */
unsigned mp_report_width(const mp_report_t *r);

/* The columns UTF-8 text s takes (one per character). */
size_t mp_text_cols(const char *s);
/* Cuts s to at most `cols` columns, ending it with "..." when cut. */
void mp_text_fit(char *s, size_t cols);

#endif

/* SPDX-License-Identifier: MIT */
/* JSON output the commands share: strings that are valid JSON for any bytes, and a site's
 * frames as in "sites" of memprof(1). Everything goes to stdout. */
#ifndef MEMPROF_JSON_OUT_H
#define MEMPROF_JSON_OUT_H

#include <stddef.h>

#include "report_types.h"

/* A JSON string of the n bytes at s: valid UTF-8 as is, anything else escaped. */
void mp_put_json_string_n(const char *s, size_t n);

/* A JSON string of s (null for NULL). */
void mp_put_json_string(const char *s);

/* The array of the lines of t's first r->frames frames, as in "sites" of memprof(1). */
void mp_put_json_frames(mp_report_t *r, const mp_snap_trace_t *t);

#endif

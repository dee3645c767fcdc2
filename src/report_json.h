/* SPDX-License-Identifier: MIT */
/* memprof report --format json: the whole report of one snapshot as one JSON document. */
#ifndef MEMPROF_REPORT_JSON_H
#define MEMPROF_REPORT_JSON_H

#include "report_types.h"

/* The whole report as one JSON document on stdout (schema in memprof(1)). */
void mp_print_json(mp_report_t *r);

#endif

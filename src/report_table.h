/* SPDX-License-Identifier: MIT */
/* The default report's one table of top sites: each site once, its figures in columns. */
#ifndef MEMPROF_REPORT_TABLE_H
#define MEMPROF_REPORT_TABLE_H

#include "report_types.h"

/* TOP SITES: the sites among the r->top first of any list (live bytes, allocations, bytes
 * allocated, temporary, the peak), one row each, then each one's stack. */
void mp_print_site_table(mp_report_t *r);

#endif

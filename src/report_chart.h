/* SPDX-License-Identifier: MIT */
/* The ASCII charts of the text report: live bytes of the top sites and the histogram of
 * allocation sizes. */
#ifndef MEMPROF_REPORT_CHART_H
#define MEMPROF_REPORT_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "report_types.h"

/* Lowest and highest size of SIZES class i (floor(log2(size)) + 1 == i). */
void mp_size_class_range(size_t i, uint64_t *lo, uint64_t *hi);

/* The two charts of the text report, each at most 80 columns wide. */
void mp_print_live_chart(mp_report_t *r);
void mp_print_size_histogram(mp_report_t *r);

#endif

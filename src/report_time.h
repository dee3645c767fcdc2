/* SPDX-License-Identifier: MIT */
/* The report's view of time: the heap over time chart of the TIMELINE section and the sites
 * at the peak from the PEAK section. */
#ifndef MEMPROF_REPORT_TIME_H
#define MEMPROF_REPORT_TIME_H

#include <stddef.h>

#include "report_types.h"

/* The heap over time chart and the list of sites at the peak; each prints nothing when its
 * section is absent. */
void mp_print_timeline_chart(mp_report_t *r);
void mp_print_peak_sites(mp_report_t *r);

/* The peak sites that pass --filter, largest first, into `out` (room for snap->n_peak_sites);
 * returns how many. */
size_t mp_report_peak_sites(const mp_report_t *r, const mp_snap_peak_site_t **out);

#endif

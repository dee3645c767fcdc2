/* SPDX-License-Identifier: MIT */
/* Every piece of memprof report in one include, for report.c (the command) and for the fuzz
 * target that drives every printer. Nothing else in src/ includes it: each module includes
 * the headers of the pieces it uses, and none of them includes this one. */
#ifndef MEMPROF_REPORT_H
#define MEMPROF_REPORT_H

#include "json_out.h"
#include "report_body.h"
#include "report_chart.h"
#include "report_json.h"
#include "report_leaks.h"
#include "report_time.h"
#include "report_types.h"
#include "sites.h"
#include "text_out.h"

#endif

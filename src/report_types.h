/* SPDX-License-Identifier: MIT */
/* The state one report of a snapshot carries through its printers: the options, the sites
 * that pass --filter and the leak check's loss records. Types only, no functions. */
#ifndef MEMPROF_REPORT_TYPES_H
#define MEMPROF_REPORT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot_format.h"
#include "snapshot_read.h"
#include "suppress.h"
#include "symbolize.h"

/* MP_SORT_PEAK is the list of sites at the peak (report_time.c), not a table of traces;
 * MP_SORT_LEAKS is no list of sites at all: only the summaries and the loss records. */
enum mp_sort { MP_SORT_ALL, MP_SORT_LIVE, MP_SORT_ALLOCS, MP_SORT_BYTES, MP_SORT_TEMPORARY, MP_SORT_PEAK,
	       MP_SORT_LEAKS };

/* One loss record of the LEAKS section with what the report decided about it. */
typedef struct mp_loss_record {
	const mp_snap_leak_t *leak;
	const mp_snap_trace_t *trace;
	size_t number;            /* 1..n_records, in memcheck's order (by total bytes) */
	mp_supp_t *suppressed_by; /* the first suppression that matches it, or NULL */
	bool listed;              /* its kind is shown (--show-leak-kinds), its site kept (--filter) */
	const mp_snap_leak_t *old; /* with --since: the same trace and kind in the earlier check */
} mp_loss_record_t;

typedef struct mp_report {
	const char *path;
	const mp_snapshot_t *snap;
	mp_symbolizer_t *sym;
	uint64_t top, frames; /* frames: the lines of a stack printed, inlined calls included */
	bool below_main;      /* print the frames below main too (valgrind's --show-below-main) */
	bool full_names;      /* C++ names with their template arguments and parameters */
	bool full_stacks;     /* no frames collapsed inside the allocator and the runtimes */
	unsigned width;       /* the columns text lines fit in (mp_output_width); 0: 80 */
	enum mp_sort sort;
	const char *filter; /* NULL: every site */
	bool color;
	uint32_t show_leak_kinds; /* MP_LEAK_KIND_BIT()s: the kinds whose loss records are listed */
	bool gen_suppressions;    /* a memcheck suppression after each loss record listed */
	mp_supp_set_t *supps;     /* --suppressions; NULL: none */
	/* --since: an earlier leak check of the same process. Only the loss records that are new
	 * or grew since are listed, with memcheck's "(+N)" deltas (its leak_check increased). */
	const mp_snapshot_t *since;
	/* The loss records but MP_LEAK_INTERNAL ones, in memcheck's order. */
	mp_loss_record_t *records;
	size_t n_records;
	/* The traces that pass the filter, and room for one ranking of them. */
	const mp_snap_trace_t **kept, **ranked;
	size_t n_kept;
} mp_report_t;

#endif

/* SPDX-License-Identifier: MIT */
/* What memprof diff and memprof trend share: their common options, reading several
 * snapshots, one report context (symbolizer) per snapshot, signed changes. */
#ifndef MEMPROF_COMPARE_H
#define MEMPROF_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "numfmt.h"
#include "report_types.h"
#include "snapshot_read.h"

typedef struct mp_compare {
	const char *cmd;   /* "diff" or "trend", for messages */
	uint64_t top, frames;
	bool below_main; /* --show-below-main */
	bool full_names; /* --full-names */
	bool full_stacks; /* --full-stacks */
	bool json, symbols, color;
	size_t n_snaps;
	char **paths;          /* as given (or found by a glob) */
	mp_snapshot_t *snaps;
	mp_report_t *reports;  /* per snapshot; the symbolizer is made on first use */
	/* memprof trend keeps of each snapshot only its META and TOTALS (mp_compare_strip());
	 * mp_compare_report() then reads the one it needs again, one at a time. */
	bool stripped;
	size_t reloaded;       /* the snapshot read again in full, or SIZE_MAX */
} mp_compare_t;

/* Parses the options both commands take (--top, --frames, --no-symbols, --no-color,
 * --format, --help) from argv; `help` is the command's help text. Returns -1 when the
 * command should go on with its operands at argv[optind], else the exit status. */
int mp_compare_options(mp_compare_t *c, int argc, char **argv, const char *help);

/* Reads the n snapshots at paths into c (which keeps the array of paths); on the first
 * unreadable one prints its one-line error and returns MP_EXIT_USAGE, else 0. */
int mp_compare_read(mp_compare_t *c, char **paths, size_t n);

/* Frees all of snapshot `snap` but its META numbers, its exe and its TOTALS. */
void mp_compare_strip(mp_snapshot_t *snap);

/* The report context of snapshot i, with its symbolizer (reading the snapshot again in full
 * when c is stripped, in place of the one read before); exits when out of memory or when the
 * file no longer holds the snapshot it held. */
mp_report_t *mp_compare_report(mp_compare_t *c, size_t i);

void mp_compare_free(mp_compare_t *c);

/* 20 digits, 6 separators, a sign and the NUL. */
#define MP_FMT_CHANGE_BYTES 28

/* The change from `from` to `to`: "+1,234", "-56" or "0". */
char *mp_fmt_change(uint64_t from, uint64_t to, char buf[MP_FMT_CHANGE_BYTES]);

/* memprof trend's analysis and output of c's snapshots, which must be in time order, of one
 * process and at least 2; returns the exit status. Also the fuzz target's way in. */
int mp_trend_series(mp_compare_t *c);

/* Checks that stdout was written; returns 0, or 1 after an error message. */
int mp_compare_flush(const char *cmd);

#endif

/* SPDX-License-Identifier: MIT */
/* The LEAKS section of a report: its loss records, matched against the suppressions, and the
 * LEAK SUMMARY, in memcheck's words. */
#ifndef MEMPROF_REPORT_LEAKS_H
#define MEMPROF_REPORT_LEAKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report_types.h"

/* Bytes and blocks per enum mp_leak_kind (index MP_LEAK_INTERNAL included) of the records
 * no suppression matched, and of those one did. */
typedef struct mp_leak_sums {
	uint64_t bytes[MP_LEAK_INTERNAL + 1], blocks[MP_LEAK_INTERNAL + 1];
	uint64_t suppressed_bytes, suppressed_blocks;
} mp_leak_sums_t;

/* Fills r->records from r->snap (sorted, numbered, matched against r->supps, each
 * suppression's counts added up) once r->kept is set. Returns 0 or -ENOMEM. */
int mp_leak_records_build(mp_report_t *r);
void mp_leak_records_free(mp_report_t *r);
void mp_leak_sums(const mp_report_t *r, mp_leak_sums_t *sums);

/* Writes the memcheck suppression that matches `rec`, as valgrind --gen-suppressions=all
 * does, to out; false (and nothing written) when its site has no stack to name. */
bool mp_write_suppression(mp_report_t *r, const mp_loss_record_t *rec, FILE *out);

/* The text report's loss records ("... are definitely lost in loss record 3 of 7"), and its
 * LEAK SUMMARY; nothing when the snapshot has no LEAKS section. */
void mp_print_loss_records(mp_report_t *r);
void mp_print_leak_summary(const mp_report_t *r);

#endif

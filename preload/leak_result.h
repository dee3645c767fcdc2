/* SPDX-License-Identifier: MIT */
/* The result of one leak scan, as the scan hands it to the snapshot writer: types only. */
#ifndef MEMPROF_LEAK_RESULT_H
#define MEMPROF_LEAK_RESULT_H

#include <stdint.h>

struct mp_trace_counts;
struct mp_leak_record {
	uint32_t trace_id, kind; /* enum mp_leak_kind */
	uint64_t blocks, bytes, indirect_blocks, indirect_bytes;
};
struct mp_leak_result {
	uint32_t flags; /* MP_LEAKS_* */
	uint32_t count;
	uint64_t scan_time_ns, root_bytes;
	uint64_t lost_bytes; /* definitely + indirectly lost */
	struct mp_leak_record *records;
	/* Every trace's counts (ids 0 .. n_counts - 1) as they were while the threads were
	 * stopped for the scan, so that the snapshot's totals are the heap the scan classified;
	 * NULL when they could not be read then (the writer reads them itself). */
	struct mp_trace_counts *counts;
	uint32_t n_counts;
};

#endif

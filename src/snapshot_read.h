/* SPDX-License-Identifier: MIT */
/* Reads a snapshot file (src/snapshot_format.h) into memory, rejecting any malformed input. */
#ifndef MEMPROF_SNAPSHOT_READ_H
#define MEMPROF_SNAPSHOT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reader-side caps on one section's payload and on the whole decompressed stream, so that a
 * small compressed file (gzip inflates zeros about 1000-fold) cannot make the reader inflate
 * gigabytes. Far above what a real profile produces: a million distinct stacks of 64 frames
 * take about 550 MB. Each known section also has its own, smaller cap (memprof-snapshot(5)). */
#define MP_SNAP_MAX_SECTION_BYTES (1ull << 30)
#define MP_SNAP_MAX_BYTES (1ull << 30)

typedef struct mp_snap_meta {
	uint32_t pid, ppid, reason, seq;
	uint64_t start_realtime_ns, snapshot_realtime_ns, run_time_ns;
	uint32_t max_frames, flags;
	char *exe;           /* NUL-terminated copy */
	char *cmdline;       /* arguments separated by NUL bytes, plus a final NUL */
	size_t cmdline_bytes; /* length as stored in the file, without the final NUL */
	char *label;
} mp_snap_meta_t;

typedef struct mp_snap_totals {
	uint64_t allocs, frees, bytes_allocated, bytes_freed;
	uint64_t live_bytes, live_blocks, peak_bytes, peak_time_ns;
	uint64_t untracked_frees, lost_allocs;
} mp_snap_totals_t;

typedef struct mp_snap_module {
	uint64_t load_bias, start, end;
	uint32_t flags; /* MP_MODULE_* */
	uint32_t build_id_bytes;
	uint8_t build_id[64]; /* MP_SNAP_MAX_BUILD_ID */
	char *path;
} mp_snap_module_t;

typedef struct mp_snap_trace {
	uint32_t id, n_frames;
	uint64_t allocs, frees, bytes_allocated, bytes_freed;
	const uint64_t *frames; /* points into mp_snapshot_t.frame_pool */
} mp_snap_trace_t;

/* One point of the TIMELINE section. */
typedef struct mp_snap_point {
	uint64_t time_ns, live_bytes, max_live_bytes, rss_bytes, allocs, frees;
} mp_snap_point_t;

/* One site of the PEAK section. */
typedef struct mp_snap_peak_site {
	uint32_t trace_id;
	uint64_t live_bytes, live_blocks;
} mp_snap_peak_site_t;

/* One loss record of the LEAKS section. */
typedef struct mp_snap_leak {
	uint32_t trace_id, kind; /* enum mp_leak_kind */
	uint64_t blocks, bytes, indirect_blocks, indirect_bytes;
} mp_snap_leak_t;

typedef struct mp_snapshot {
	uint32_t version;
	mp_snap_meta_t meta;
	mp_snap_totals_t totals;
	mp_snap_module_t *modules;
	size_t n_modules;
	mp_snap_trace_t *traces;
	size_t n_traces;
	uint64_t *frame_pool;
	uint64_t *size_classes; /* allocations per floor(log2(size)) + 1 */
	size_t n_size_classes;
	mp_snap_point_t *timeline; /* oldest first; NULL when the snapshot has no TIMELINE */
	size_t n_timeline;
	bool has_peak;             /* a PEAK section was present */
	uint64_t peak_bytes, peak_time_ns;
	mp_snap_peak_site_t *peak_sites;
	size_t n_peak_sites;
	bool has_leaks;            /* a LEAKS section with a verdict: a reachability scan ran */
	uint32_t leaks_flags;      /* MP_LEAKS_*; MP_LEAKS_UNDECIDED: a scan gave no verdict */
	uint64_t leaks_scan_time_ns, leaks_root_bytes;
	mp_snap_leak_t *leaks;
	size_t n_leaks;
	size_t n_unknown_sections; /* skipped because this reader does not know their type */
	/* The module of each address, for mp_find_module(): between module_bounds[k] and
	 * module_bounds[k + 1] it is module_at[k] (UINT32_MAX: none). Built by the reader;
	 * NULL in a snapshot made by hand, which is then searched linearly. */
	uint64_t *module_bounds;
	uint32_t *module_at;
	size_t n_module_bounds;
} mp_snapshot_t;

/* Reads the snapshot at `path` into `snap`. Returns 0, or a negative errno with a one-line
 * message in `err` ("snap.gz: truncated file (no END section)") and `snap` left empty.
 * Every allocation is bounded by the bytes actually present in the file. */
int mp_snapshot_read(const char *path, mp_snapshot_t *snap, char *err, size_t err_bytes);

/* The same for the `n` bytes at `data` (a gzip file's content), named `name` in messages:
 * they go through a memory file and the very code that reads a file. */
int mp_snapshot_read_mem(const void *data, size_t n, const char *name, mp_snapshot_t *snap,
			 char *err, size_t err_bytes);

/* Frees what mp_snapshot_read() allocated; safe on an empty or zeroed snapshot. */
void mp_snapshot_free(mp_snapshot_t *snap);

/* Live blocks and bytes of one trace (allocations minus frees; the reader guarantees that
 * frees never exceed allocations). */
/* a + b, or UINT64_MAX when that does not fit: sums of a corrupt (or enormous) snapshot's
 * counters must not wrap around to small numbers. */
static inline uint64_t mp_sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static inline uint64_t mp_trace_live_blocks(const mp_snap_trace_t *t) { return t->allocs - t->frees; }
static inline uint64_t mp_trace_live_bytes(const mp_snap_trace_t *t)
{
	return t->bytes_allocated - t->bytes_freed;
}

/* The trace with this id, or NULL (binary search: the reader sorts traces by id). */
const mp_snap_trace_t *mp_snapshot_trace(const mp_snapshot_t *snap, uint32_t id);

/* The loss record of trace `trace_id` and kind `kind` (enum mp_leak_kind), or NULL. */
const mp_snap_leak_t *mp_snapshot_leak(const mp_snapshot_t *snap, uint32_t trace_id, uint32_t kind);

/* Name of an mp_leak_kind value ("definitely lost", ...), "unknown" for others. */
const char *mp_leak_kind_name(uint32_t kind);

/* Name of an mp_snap_reason value ("exit", "signal", ...), "unknown" for others. */
const char *mp_snap_reason_name(uint32_t reason);

#endif

/* SPDX-License-Identifier: MIT */
/* The memprof snapshot format: the single source of truth for the on-disk layout,
 * shared by libmemprof.so (writer) and the memprof CLI (reader).
 *
 * A snapshot is one gzip stream (RFC 1952). Its uncompressed content is:
 *
 *   file header   magic[8] = MP_SNAP_MAGIC, u32 version, u32 flags (0)
 *   section*      u32 type, u32 flags (0), u64 length, then `length` payload bytes
 *   END section   type MP_SEC_END, length 0: its absence means the file is truncated
 *
 * All integers are little-endian and unaligned. A reader skips sections whose type it
 * does not know, so new sections can be added without a version bump; the version changes
 * only when the meaning of an existing section changes. Strings are u32 length + bytes,
 * not NUL-terminated. man/memprof-snapshot.5 documents every field. */
#ifndef MEMPROF_SNAPSHOT_FORMAT_H
#define MEMPROF_SNAPSHOT_FORMAT_H

#include <stdint.h>

#define MP_SNAP_MAGIC "MEMPROF\x1a"
#define MP_SNAP_MAGIC_LEN 8
#define MP_SNAP_VERSION 1u
#define MP_SNAP_FILE_HEADER_BYTES 16u
#define MP_SNAP_SECTION_HEADER_BYTES 16u

/* Limits a reader enforces so that a corrupt file cannot make it allocate without bound. */
#define MP_SNAP_MAX_FRAMES 1024u
#define MP_SNAP_MAX_STRING (1u << 20)
#define MP_SNAP_MAX_BUILD_ID 64u
#define MP_SNAP_MAX_SIZE_CLASSES 64u
/* What the writer (preload/) can produce, so that a reader rejects what no real snapshot
 * holds instead of allocating for it: modules.c registers at most 8192 modules, a loaded
 * module's path is shorter than PATH_MAX, trace ids are 24 bits (MP_TRACE_MAX_ID), and the
 * timeline keeps at most MP_TIMELINE_MAX_POINTS points. */
#define MP_SNAP_MAX_MODULES 8192u
#define MP_SNAP_MAX_PATH 4096u
#define MP_SNAP_MAX_TRACES (1u << 24)
#define MP_SNAP_MAX_TIMELINE_POINTS 1025u

enum mp_section_type {
	/* u32 pid, u32 ppid, u32 reason (enum mp_snap_reason), u32 seq,
	 * u64 start_realtime_ns, u64 snapshot_realtime_ns, u64 run_time_ns,
	 * u32 max_frames, u32 flags (MP_META_*),
	 * string exe, string cmdline (arguments separated by NUL bytes), string label */
	MP_SEC_META = 1,
	/* u64 allocs, u64 frees, u64 bytes_allocated, u64 bytes_freed,
	 * u64 live_bytes, u64 live_blocks, u64 peak_bytes, u64 peak_time_ns (since start),
	 * u64 untracked_frees (frees of pointers the profiler never saw),
	 * u64 lost_allocs (allocations recorded without a trace after an internal failure) */
	MP_SEC_TOTALS = 2,
	/* u32 count, then per module: u64 load_bias, u64 start, u64 end (lowest and highest
	 * address of its PT_LOAD segments, in memory), u32 flags (MP_MODULE_*),
	 * u32 build_id_len, build_id bytes, string path */
	MP_SEC_MODULES = 3,
	/* u32 count, then per trace: u32 id, u32 n_frames, u64 allocs, u64 frees,
	 * u64 bytes_allocated, u64 bytes_freed, u64 frames[n_frames].
	 * frames[0] is the return address into the function that called the allocator,
	 * then its caller, and so on (raw return addresses, not adjusted by -1).
	 * Live blocks = allocs - frees, live bytes = bytes_allocated - bytes_freed. */
	MP_SEC_TRACES = 4,
	/* u32 count, then count x u64: allocations whose requested size s has
	 * floor(log2(s)) + 1 == index (index 0: s == 0). */
	MP_SEC_SIZES = 5,
	/* Heap over time, oldest point first. u32 count, then per point:
	 * u64 time_ns (since start), u64 live_bytes (at that moment), u64 max_live_bytes (the
	 * highest live_bytes since the previous point), u64 rss_bytes (VmRSS, 0 if unknown),
	 * u64 allocs, u64 frees (cumulative counts at that moment).
	 * Points are taken at a fixed period; when the series is full, neighbouring old points
	 * are merged (keeping the later point's values and the larger max_live_bytes), so a
	 * series of any length covers the whole run with a bounded number of points. The last
	 * point is taken when the snapshot is written, off the period. */
	MP_SEC_TIMELINE = 6,
	/* The sites that held memory when the heap peaked. u64 peak_bytes (live bytes when
	 * captured), u64 peak_time_ns (since start), u32 count, then per site:
	 * u32 trace_id, u64 live_bytes, u64 live_blocks (at the capture). Captured when the heap
	 * first exceeds the previous capture by a margin, so peak_bytes may be a little below
	 * TOTALS.peak_bytes; the report says so when it is. */
	MP_SEC_PEAK = 7,
	/* Result of a reachability scan (memcheck's rules). u32 flags (MP_LEAKS_*),
	 * u64 scan_time_ns (duration of the scan), u64 root_bytes (bytes of roots scanned),
	 * u32 count, then per loss record (live blocks of one trace and one kind):
	 * u32 trace_id, u32 kind (enum mp_leak_kind), u64 blocks, u64 bytes,
	 * u64 indirect_blocks, u64 indirect_bytes (blocks reachable only from this record's
	 * blocks, counted here as memcheck's "(D direct, I indirect)"; 0 unless kind is
	 * MP_LEAK_DEFINITE or MP_LEAK_POSSIBLE). At most one record per (trace_id, kind). */
	MP_SEC_LEAKS = 8,
	MP_SEC_END = 0xffff,
};

/* The fixed-size parts of the records, in bytes: the one place the writer and the reader take
 * them from. Each is checked against a packed struct that names its fields in file order (the
 * structs document the layout; neither side reads or writes through them, as integers are
 * little-endian and unaligned on disk). A string is MP_SNAP_STRING_LEN_BYTES then its bytes. */
#define MP_SNAP_STRING_LEN_BYTES 4u
#define MP_SNAP_META_FIXED_BYTES 48u     /* MP_SEC_META before its three strings */
#define MP_SNAP_TOTALS_BYTES 80u         /* MP_SEC_TOTALS, all of it */
#define MP_SNAP_COUNT_BYTES 4u           /* the u32 count that starts a list */
#define MP_SNAP_MODULE_FIXED_BYTES 32u   /* a module before its build id and path */
#define MP_SNAP_TRACE_FIXED_BYTES 40u    /* a trace before its frames */
#define MP_SNAP_FRAME_BYTES 8u
#define MP_SNAP_SIZE_CLASS_BYTES 8u
#define MP_SNAP_POINT_BYTES 48u          /* a timeline point */
#define MP_SNAP_PEAK_FIXED_BYTES 20u     /* MP_SEC_PEAK before its sites (with the count) */
#define MP_SNAP_PEAK_SITE_BYTES 20u
#define MP_SNAP_LEAKS_FIXED_BYTES 24u    /* MP_SEC_LEAKS before its records (with the count) */
#define MP_SNAP_LEAK_BYTES 40u           /* a loss record */

#define MP_SNAP_PACKED __attribute__((packed))
struct MP_SNAP_PACKED mp_disk_file_header { char magic[MP_SNAP_MAGIC_LEN]; uint32_t version, flags; };
struct MP_SNAP_PACKED mp_disk_section_header { uint32_t type, flags; uint64_t length; };
struct MP_SNAP_PACKED mp_disk_meta_fixed {
	uint32_t pid, ppid, reason, seq;
	uint64_t start_realtime_ns, snapshot_realtime_ns, run_time_ns;
	uint32_t max_frames, flags;
};
struct MP_SNAP_PACKED mp_disk_totals {
	uint64_t allocs, frees, bytes_allocated, bytes_freed, live_bytes, live_blocks;
	uint64_t peak_bytes, peak_time_ns, untracked_frees, lost_allocs;
};
struct MP_SNAP_PACKED mp_disk_module_fixed { uint64_t load_bias, start, end; uint32_t flags, build_id_len; };
struct MP_SNAP_PACKED mp_disk_trace_fixed {
	uint32_t id, n_frames;
	uint64_t allocs, frees, bytes_allocated, bytes_freed;
};
struct MP_SNAP_PACKED mp_disk_point {
	uint64_t time_ns, live_bytes, max_live_bytes, rss_bytes, allocs, frees;
};
struct MP_SNAP_PACKED mp_disk_peak_fixed { uint64_t peak_bytes, peak_time_ns; uint32_t count; };
struct MP_SNAP_PACKED mp_disk_peak_site { uint32_t trace_id; uint64_t live_bytes, live_blocks; };
struct MP_SNAP_PACKED mp_disk_leaks_fixed { uint32_t flags; uint64_t scan_time_ns, root_bytes; uint32_t count; };
struct MP_SNAP_PACKED mp_disk_leak {
	uint32_t trace_id, kind;
	uint64_t blocks, bytes, indirect_blocks, indirect_bytes;
};
#undef MP_SNAP_PACKED

_Static_assert(sizeof(struct mp_disk_file_header) == MP_SNAP_FILE_HEADER_BYTES, "file header");
_Static_assert(sizeof(struct mp_disk_section_header) == MP_SNAP_SECTION_HEADER_BYTES, "section header");
_Static_assert(sizeof(struct mp_disk_meta_fixed) == MP_SNAP_META_FIXED_BYTES, "META");
_Static_assert(sizeof(struct mp_disk_totals) == MP_SNAP_TOTALS_BYTES, "TOTALS");
_Static_assert(sizeof(struct mp_disk_module_fixed) == MP_SNAP_MODULE_FIXED_BYTES, "module");
_Static_assert(sizeof(struct mp_disk_trace_fixed) == MP_SNAP_TRACE_FIXED_BYTES, "trace");
_Static_assert(sizeof(uint64_t) == MP_SNAP_FRAME_BYTES && sizeof(uint64_t) == MP_SNAP_SIZE_CLASS_BYTES,
	       "frames and size classes are u64");
_Static_assert(sizeof(uint32_t) == MP_SNAP_COUNT_BYTES && sizeof(uint32_t) == MP_SNAP_STRING_LEN_BYTES,
	       "counts and string lengths are u32");
_Static_assert(sizeof(struct mp_disk_point) == MP_SNAP_POINT_BYTES, "timeline point");
_Static_assert(sizeof(struct mp_disk_peak_fixed) == MP_SNAP_PEAK_FIXED_BYTES, "PEAK");
_Static_assert(sizeof(struct mp_disk_peak_site) == MP_SNAP_PEAK_SITE_BYTES, "peak site");
_Static_assert(sizeof(struct mp_disk_leaks_fixed) == MP_SNAP_LEAKS_FIXED_BYTES, "LEAKS");
_Static_assert(sizeof(struct mp_disk_leak) == MP_SNAP_LEAK_BYTES, "loss record");

enum mp_snap_reason {
	MP_REASON_EXIT = 1,   /* exit(), return from main */
	MP_REASON_UNDERSCORE_EXIT = 2, /* _exit() or _Exit() */
	MP_REASON_SIGNAL = 3, /* MEMPROF_SIGNAL arrived */
	MP_REASON_INTERVAL = 4,
	MP_REASON_REQUEST = 5, /* memprof_snapshot() */
	MP_REASON_LEAK_CHECK = 6, /* memprof_leak_check() */
	MP_REASON_FATAL_SIGNAL = 7, /* the program died of a signal; the label names it */
};

enum mp_leak_kind {
	MP_LEAK_REACHABLE = 1, /* a start pointer on a path from the roots */
	MP_LEAK_POSSIBLE = 2,  /* reached only through an interior pointer somewhere on the way */
	MP_LEAK_INDIRECT = 3,  /* reachable only from lost blocks */
	MP_LEAK_DEFINITE = 4,  /* no pointer from the roots or from other lost blocks */
	/* glibc's and ld.so's own blocks (stdio buffers, thread DTVs): memcheck frees them
	 * with __libc_freeres before its scan, so they count in no category. */
	MP_LEAK_INTERNAL = 5,
};

#define MP_LEAKS_THREADS_STOPPED 0x1u /* every other thread was stopped during the scan */
#define MP_LEAKS_AT_EXIT 0x2u         /* the scan ran at process exit */
/* No verdict: the scan could not tell every mapping of the profiler from the program's (its
 * registry was full); no loss records follow. */
#define MP_LEAKS_UNDECIDED 0x4u

#define MP_META_FORK_CHILD 0x1u /* the process is a fork child of `ppid`, with its heap */

#define MP_MODULE_UNLOADED 0x1u /* dlclose'd before the snapshot was taken */
#define MP_MODULE_MAIN 0x2u     /* the main executable */

#endif

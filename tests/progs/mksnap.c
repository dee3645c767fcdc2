/* SPDX-License-Identifier: MIT */
/* Writes an uncompressed snapshot with known content to stdout, valid or with one chosen
 * defect, so that CLI tests do not depend on libmemprof.so. Pipe it through gzip -c.
 * Usage: mksnap [CASE]; "mksnap list" prints the cases. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"

static const char *const cases[] = {
	"valid",          /* the golden snapshot */
	"unknown-section", /* valid plus a section of type 77 before END: must be skipped */
	"bad-magic", "version-99", "version-0",
	"traces-count-too-big",  /* TRACES count larger than its payload can hold */
	"modules-count-too-big",
	"too-many-frames",       /* n_frames > MP_SNAP_MAX_FRAMES */
	"frames-past-end",       /* n_frames larger than the bytes left in the section */
	"string-too-long",       /* exe length > MP_SNAP_MAX_STRING */
	"string-past-end",       /* exe length larger than the bytes left */
	"build-id-too-long",
	"no-end",                /* stream ends after the last section */
	"section-past-end",      /* TRACES (written last) claims 1000 bytes more than the file holds */
	"big-section",           /* TRACES (written last) claims 512 MiB more than the file holds */
	"huge-section",          /* SIZES claims 2^62 bytes more than the file holds */
	"huge-unknown-section",  /* unknown section of length 2^62, then a few bytes */
	"duplicate-section",     /* two TOTALS sections */
	"duplicate-trace-id",
	"frees-exceed-allocs",
	"no-meta", "no-totals",
	"trailing-bytes",        /* TOTALS section one byte longer than its fields */
	"data-after-end",
	"short-header",          /* 10 bytes only */
	"full",                  /* valid plus TIMELINE, PEAK and LEAKS sections */
	"timeline-backwards",    /* full, with a point older than the one before it */
	"timeline-one-point",    /* full, with only the last point */
	"timeline-empty",        /* full, with a TIMELINE section of no points */
	"timeline-999ms",        /* full, run time and points scaled to end at 999.7 ms */
	"peak-exact",            /* full, with the PEAK capture at TOTALS' peak */
	"peak-after-run",        /* full, PEAK captured after META's run time (clocks differ) */
	"peak-sites-exceed",     /* full, PEAK's sites above its peak_bytes, the traces above
				  * TOTALS' live_bytes (a snapshot taken while threads ran) */
	"peak-unknown-trace",    /* full, with a peak site naming trace 99 */
	"leak-unknown-trace",    /* full, with a loss record naming trace 99 */
	"leak-bad-kind",         /* full, with a loss record of kind 9 */
	"leak-duplicate",        /* full, with two records for one trace and kind */
	"leak-count-too-big",    /* full, LEAKS count larger than its payload */
	"leak-threads-running",  /* full, from a scan that could not stop every thread */
	"leak-ties",             /* full, with loss records of equal total size: memcheck's order */
	"leak-bytes-wrap",       /* full, definitely and indirectly lost bytes sum to 2^64 */
	"totals-above-2-53",     /* full, TOTALS' live and peak bytes 2^53 + 1: no double holds them */
	/* Records the writer can never produce, few enough to be real bytes: */
	"modules-over-limit",    /* MODULES of 8193 zero-filled modules (limit 8192) */
	"timeline-over-limit",   /* full, TIMELINE of 1026 zero-filled points (limit 1025) */
	"trace-id-over-limit",   /* a trace id of 2^24 */
	"peak-more-than-traces", /* full, PEAK with more sites than TRACES has traces */
	"timeline-at-limit",     /* full, TIMELINE of 1025 points, as many as the writer keeps */
	"unknown-past-total",    /* an unknown section of 64 bytes, then one claiming 1 GiB */
	/* Bombs: mostly zeros that gzip shrinks about 1000-fold (streamed, never in memory): */
	"bomb-modules",          /* MODULES of 1.9 million zero-filled modules, 64 MiB */
	"bomb-timeline",         /* full, TIMELINE of a million zero-filled points, 46 MiB */
	"bomb-traces",           /* TRACES of 1.7 million zero-filled traces, 64 MiB */
	/* Valid snapshots for memprof diff and trend, written by custom(): */
	"diff-old", "diff-new",  /* two runs of one program, other load addresses and trace ids */
	"series-1", "series-2", "series-3", "series-4", "series-5", /* one process, 1 s apart */
	"series-other",          /* series-3 of another process */
	"modules-repeated",      /* mksnap modules-repeated PATH OFFSET: PATH loaded and unloaded
				  * 8192 times (the most the writer records), 1 MiB apart, and a
				  * trace per load allocating from PATH's address OFFSET */
	"series-wide",           /* mksnap series-wide K: snapshot K (from 1) of a process with 2000
				  * sites of 64 frames, K s into the run; the first site leaks 1000
				  * bytes/s, the others hold 100 bytes each */
	NULL,
};

static const char *mode;
static uint8_t *buf;
static size_t len, cap;

static int is(const char *name) { return strcmp(mode, name) == 0; }

static void put(const void *p, size_t n)
{
	if (len + n > cap) {
		cap = (len + n) * 2;
		buf = realloc(buf, cap);
		if (!buf) {
			perror("mksnap");
			exit(1);
		}
	}
	memcpy(buf + len, p, n);
	len += n;
}

static void put_u32(uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(b, 4);
}

static void put_u64(uint64_t v)
{
	put_u32((uint32_t)v);
	put_u32((uint32_t)(v >> 32));
}

static void put_bytes_str(const char *s, size_t n)
{
	put_u32((uint32_t)n);
	put(s, n);
}

static void put_str(const char *s) { put_bytes_str(s, strlen(s)); }

/* Writes what is buffered, then n zero bytes, straight to stdout: a bomb's payload is never
 * held in memory. Sections already written cannot be patched afterwards. */
static void stream_zeros(uint64_t n)
{
	static const uint8_t zeros[65536];

	if (fwrite(buf, 1, len, stdout) != len) {
		perror("mksnap");
		exit(1);
	}
	len = 0;
	while (n) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);

		if (fwrite(zeros, 1, k, stdout) != k) {
			perror("mksnap");
			exit(1);
		}
		n -= k;
	}
}

/* A section of `count` zero-filled records of `record_bytes` each, after its fixed fields
 * (`head`, `head_bytes`, the count's u32 last). */
static void zero_records(uint32_t type, const void *head, size_t head_bytes, uint32_t count,
			 size_t record_bytes)
{
	uint64_t n = (uint64_t)count * record_bytes;

	put_u32(type);
	put_u32(0);
	put_u64(head_bytes + 4 + n);
	if (head_bytes)
		put(head, head_bytes);
	put_u32(count);
	stream_zeros(n);
}

/* Sections are written with a zero length, patched by end_section(). */
static size_t begin_section(uint32_t type)
{
	size_t at = len;

	put_u32(type);
	put_u32(0);
	put_u64(0);
	return at;
}

static void end_section(size_t at, uint64_t extra)
{
	uint64_t n = len - at - MP_SNAP_SECTION_HEADER_BYTES + extra;

	for (int i = 0; i < 8; i++)
		buf[at + 8 + i] = (uint8_t)(n >> (8 * i));
}

static void meta(void)
{
	static const char cmdline[] = "leaky\0--count\0three words\0";
	size_t at = begin_section(MP_SEC_META);

	put_u32(4242);                      /* pid */
	put_u32(1);                         /* ppid */
	put_u32(MP_REASON_EXIT);
	put_u32(0);                         /* seq */
	put_u64(1700000000ull * 1000000000ull);   /* start, 2023-11-14 22:13:20 UTC */
	put_u64(1700000001500000000ull);          /* snapshot 1.5 s later */
	put_u64(is("timeline-999ms") ? 999700000ull : 1500000000ull); /* run time */
	put_u32(64);                        /* max_frames */
	put_u32(0);                         /* flags */
	if (is("string-too-long"))
		put_u32(MP_SNAP_MAX_STRING + 1);
	else if (is("string-past-end"))
		put_u32(100000);
	else
		put_str("/usr/bin/leaky");
	if (is("string-too-long") || is("string-past-end")) {
		end_section(at, 0);
		return;
	}
	put_bytes_str(cmdline, sizeof(cmdline) - 1);
	put_str("");                        /* label */
	end_section(at, 0);
}

/* Sums of the traces below. */
static void totals(void)
{
	size_t at = begin_section(MP_SEC_TOTALS);

	put_u64(1201008);    /* allocs */
	put_u64(1200994);    /* frees */
	put_u64(54024040);   /* bytes_allocated */
	put_u64(51013792);   /* bytes_freed */
	/* live_bytes */
	put_u64(is("peak-sites-exceed") ? 3000000 : is("totals-above-2-53") ? (1ull << 53) + 1 : 3010248);
	put_u64(14);         /* live_blocks */
	put_u64(is("totals-above-2-53") ? (1ull << 53) + 1 : 3500000); /* peak_bytes */
	put_u64(1000000000); /* peak_time_ns */
	put_u64(0);          /* untracked_frees */
	put_u64(0);          /* lost_allocs */
	if (is("trailing-bytes"))
		put("", 1);
	end_section(at, 0);
}

static void modules(void)
{
	size_t at;

	/* 36 bytes per module: three u64, flags, build-id length, path length. */
	if (is("modules-over-limit") || is("bomb-modules")) {
		zero_records(MP_SEC_MODULES, NULL, 0, is("bomb-modules") ? (64u << 20) / 36 : 8193, 36);
		return;
	}
	at = begin_section(MP_SEC_MODULES);

	put_u32(is("modules-count-too-big") ? 1000 : 2);
	put_u64(0x400000);
	put_u64(0x400000);
	put_u64(0x402000);
	put_u32(MP_MODULE_MAIN);
	put_u32(is("build-id-too-long") ? MP_SNAP_MAX_BUILD_ID + 1 : 4);
	put("\xde\xad\xbe\xef", 4);
	put_str("/usr/bin/leaky");
	put_u64(0x7f0000000000);
	put_u64(0x7f0000000000);
	put_u64(0x7f0000200000);
	put_u32(0);
	put_u32(0);
	put_str("/lib/x86_64-linux-gnu/libc.so.6");
	end_section(at, 0);
}

static void trace(uint32_t id, uint64_t allocs, uint64_t frees, uint64_t bytes_allocated,
		  uint64_t bytes_freed, const uint64_t *frames, uint32_t n_frames)
{
	put_u32(id);
	put_u32(n_frames);
	put_u64(allocs);
	put_u64(frees);
	put_u64(bytes_allocated);
	put_u64(bytes_freed);
	for (uint32_t i = 0; i < n_frames; i++)
		put_u64(frames[i]);
}

static size_t traces_at; /* where the TRACES section begins */

static void traces(void)
{
	static const uint64_t f1[] = { 0x401234, 0x7f0000001100, 0x401000 };
	static const uint64_t f2[] = { 0x401500, 0xdeadbeef };
	uint64_t f3[14];
	size_t at;

	/* 40 bytes per trace without frames: id, n_frames, four u64 counters. */
	if (is("bomb-traces")) {
		zero_records(MP_SEC_TRACES, NULL, 0, (64u << 20) / 40, 40);
		return;
	}
	at = traces_at = begin_section(MP_SEC_TRACES);
	for (int i = 0; i < 14; i++)
		f3[i] = 0x401100 + 0x10 * (uint64_t)i;
	put_u32(is("traces-count-too-big") ? 100000 : 4);
	trace(1, 1000, 990, 1024000, 1013760, f1, 3);
	trace(2, 1200000, is("frees-exceed-allocs") ? 1200001 : 1200000, 50000000, 50000000, f2, 2);
	trace(is("duplicate-trace-id") ? 1 : is("trace-id-over-limit") ? 1u << 24 : 3, 3, 0, 3000000, 0, f3, 14);
	if (is("too-many-frames")) {
		trace(4, 5, 4, 40, 32, NULL, 0);
		memcpy(buf + len - 36, "\x01\x04\x00\x00", 4); /* n_frames = 1025 */
	} else if (is("frames-past-end")) {
		trace(4, 5, 4, 40, 32, NULL, 0);
		memcpy(buf + len - 36, "\x00\x01\x00\x00", 4); /* n_frames = 256, no bytes */
	} else {
		trace(4, 5, 4, 40, 32, NULL, 0);
	}
	end_section(at, 0);
}

static void sizes(void)
{
	size_t at = begin_section(MP_SEC_SIZES);

	put_u32(20);
	for (uint64_t i = 0; i < 20; i++)
		put_u64(i * 1000);
	end_section(at, 0);
}

static int full(void)
{
	return is("full") || is("totals-above-2-53") || is("bomb-timeline") || is("peak-more-than-traces") || strncmp(mode, "timeline-", 9) == 0 || strncmp(mode, "peak-", 5) == 0 ||
	       strncmp(mode, "leak-", 5) == 0;
}

/* Heap over time: grows to the peak at 1 s, then falls to the live bytes of TOTALS. */
static void timeline(void)
{
	static const uint64_t pt[][6] = {
		/* time_ns, live, max_live, rss, allocs, frees */
		{ 100000000, 500000, 600000, 4000000, 100000, 99000 },
		{ 500000000, 2000000, 2100000, 6000000, 500000, 498000 },
		{ 1000000000, 3400000, 3500000, 8000000, 900000, 897000 },
		{ 1200000000, 3100000, 3450000, 8000000, 1100000, 1099000 },
		{ 1500000000, 3010248, 3100000, 7500000, 1201008, 1200994 },
	};
	size_t at;
	int first = is("timeline-one-point") ? 4 : 0, n = is("timeline-empty") ? 0 : 5;

	if (is("timeline-over-limit") || is("bomb-timeline")) {
		zero_records(MP_SEC_TIMELINE, NULL, 0, is("bomb-timeline") ? 1000000 : 1026, 6 * 8);
		return;
	}
	at = begin_section(MP_SEC_TIMELINE);
	if (is("timeline-at-limit")) {
		put_u32(MP_SNAP_MAX_TIMELINE_POINTS);
		for (uint64_t i = 0; i < MP_SNAP_MAX_TIMELINE_POINTS; i++) {
			put_u64(i * 1464000), put_u64(i * 2900), put_u64(i * 3000), put_u64(8000000);
			put_u64(i * 1170), put_u64(i * 1160);
		}
		end_section(at, 0);
		return;
	}

	put_u32((uint32_t)(n - (n ? first : 0)));
	for (int i = first; i < n; i++)
		for (int f = 0; f < 6; f++)
			put_u64(is("timeline-backwards") && i == 3 && f == 0 ? 900000000 :
				is("timeline-999ms") && f == 0 ? pt[i][f] / 15000 * 9997 : pt[i][f]);
	end_section(at, 0);
}

/* The sites at the peak: they sum to peak_bytes. */
static void peak(void)
{
	size_t at = begin_section(MP_SEC_PEAK);

	/* peak_bytes, a little below TOTALS' 3500000 */
	put_u64(is("peak-exact") ? 3500000 : is("peak-sites-exceed") ? 3000000 : 3400000);
	put_u64(is("peak-after-run") ? 1600000000 : 1000000000); /* peak_time_ns */
	put_u32(is("peak-more-than-traces") ? 5 : 3);
	if (is("peak-more-than-traces")) /* two more sites, of traces already named */
		put_u32(3), put_u64(1), put_u64(1), put_u32(3), put_u64(1), put_u64(1);
	put_u32(3), put_u64(3000000), put_u64(3);
	put_u32(is("peak-unknown-trace") ? 99 : 1), put_u64(379904), put_u64(371);
	put_u32(2), put_u64(20096), put_u64(482);
	end_section(at, 0);
}

static void leak(uint32_t trace_id, uint32_t kind, uint64_t blocks, uint64_t bytes,
		 uint64_t indirect_blocks, uint64_t indirect_bytes)
{
	put_u32(trace_id);
	put_u32(kind);
	put_u64(blocks);
	put_u64(bytes);
	put_u64(indirect_blocks);
	put_u64(indirect_bytes);
}

/* The 14 live blocks of TOTALS, 3010248 bytes, each in one kind. */
static void leaks(void)
{
	size_t at = begin_section(MP_SEC_LEAKS);

	put_u32(is("leak-threads-running") ? MP_LEAKS_AT_EXIT : MP_LEAKS_THREADS_STOPPED | MP_LEAKS_AT_EXIT);
	put_u64(1500000);  /* scan_time_ns */
	put_u64(1 << 20);  /* root_bytes */
	if (is("leak-ties")) {
		/* In memcheck's order: total bytes, then definite < indirect < possible < reachable,
		 * then fewer blocks, then (here) the trace id. Written out of order. */
		put_u32(8);
		leak(3, MP_LEAK_REACHABLE, 2, 100, 0, 0); /* 7 */
		leak(4, MP_LEAK_POSSIBLE, 1, 100, 0, 0);  /* 5: no stack trace */
		leak(1, MP_LEAK_POSSIBLE, 2, 100, 0, 0);  /* 6 */
		leak(2, MP_LEAK_REACHABLE, 1, 200, 0, 0); /* 8: a frame in no module */
		leak(1, MP_LEAK_DEFINITE, 1, 60, 1, 40);  /* 3 */
		leak(3, MP_LEAK_POSSIBLE, 1, 100, 0, 0);  /* 4 */
		leak(3, MP_LEAK_DEFINITE, 1, 99, 0, 0);   /* 2 */
		leak(1, MP_LEAK_INDIRECT, 1, 40, 0, 0);   /* 1 */
		end_section(at, 0);
		return;
	}
	put_u32(is("leak-count-too-big") ? 1000 : 5);
	leak(1, MP_LEAK_DEFINITE, 4, is("leak-bytes-wrap") ? 0 - 2000000ull : 4096, 2, 2000000);
	leak(1, is("leak-duplicate") ? MP_LEAK_DEFINITE : MP_LEAK_REACHABLE, 6, 6144, 0, 0);
	leak(3, MP_LEAK_INDIRECT, 2, 2000000, 0, 0);
	leak(is("leak-unknown-trace") ? 99 : 3, MP_LEAK_POSSIBLE, 1, 1000000, 0, 0);
	leak(4, is("leak-bad-kind") ? 9 : MP_LEAK_INTERNAL, 1, 8, 0, 0);
	end_section(at, 0);
}

/* A site of the custom snapshots: frames as offsets in the main program (module 0) or in
 * libc (module 1), or raw addresses (module -1). */
struct site {
	uint32_t n_frames;
	int module[4];
	uint64_t offset[4];
};

static const struct site custom_sites[] = {
	{ 3, { 0, 1, 0 }, { 0x1234, 0x1100, 0x1000 } }, /* A */
	{ 2, { 0, 0 }, { 0x1100, 0x1110 } },            /* B */
	{ 2, { 0, -1 }, { 0x1500, 0xdeadbeef } },       /* C */
	{ 1, { 0 }, { 0x1600 } },                       /* D */
	{ 1, { 0 }, { 0x1700 } },                       /* E */
	{ 2, { 1, 0 }, { 0x2200, 0x1800 } },            /* F */
};

/* Live blocks and bytes of each site (allocs also count freed blocks, which differ per
 * snapshot), -1 blocks: the site has no trace. */
struct custom {
	uint32_t pid, seq, reason;
	uint64_t run_time_ns;
	uint64_t bias[2];        /* load bias of the program and of libc */
	uint32_t first_id;       /* trace ids are first_id + the site's index, in reverse order */
	int64_t blocks[6];
	uint64_t bytes[6];
};

static void custom(void)
{
	static const struct custom diff_old = {
		5000, 0, MP_REASON_EXIT, 2000000000ull, { 0x400000, 0x7f0000000000 }, 1,
		{ 10, 3, 0, -1, 2, 4 }, { 10240, 3000000, 0, 0, 64, 400 },
	};
	static const struct custom diff_new = {
		5001, 0, MP_REASON_EXIT, 2000000000ull, { 0x555500000000, 0x7f3300000000 }, 40,
		{ 30, 1, 0, 5, -1, 2 }, { 30720, 1000000, 0, 500, 0, 400 },
	};
	/* Per site of a series: A leaks 1000 bytes/s; B grows faster, then is released; C grows
	 * slowly; D goes up and down; E and F stay. */
	static const uint64_t series_bytes[5][6] = {
		{ 1000, 1000, 100, 5000, 3000000, 0 },
		{ 2000, 9000, 100, 4000, 3000000, 0 },
		{ 3000, 17000, 200, 6000, 3000000, 0 },
		{ 4000, 25000, 300, 5000, 3000000, 0 },
		{ 5000, 3000, 400, 7000, 3000000, 0 },
	};
	struct custom c;
	uint64_t allocs = 0, frees = 0, bytes_allocated = 0, bytes_freed = 0, live = 0, blocks = 0;
	size_t at;
	uint32_t n_traces = 0;

	if (is("diff-old") || is("diff-new"))
		c = is("diff-old") ? diff_old : diff_new;
	else {
		int k = is("series-other") ? 3 : mode[7] - '0';

		c = (struct custom){ is("series-other") ? 7001 : 7000, (uint32_t)k - 1, MP_REASON_INTERVAL,
				     (uint64_t)k * 1000000000ull, { 0x400000, 0x7f0000000000 }, 1 };
		for (int i = 0; i < 6; i++) {
			c.bytes[i] = series_bytes[k - 1][i];
			c.blocks[i] = (int64_t)(c.bytes[i] / 100);
		}
	}
	for (int i = 0; i < 6; i++) {
		if (c.blocks[i] < 0)
			continue;
		n_traces++;
		/* Every site also allocated and freed 7 blocks of 16 bytes. */
		allocs += (uint64_t)c.blocks[i] + 7;
		frees += 7;
		bytes_allocated += c.bytes[i] + 7 * 16;
		bytes_freed += 7 * 16;
		live += c.bytes[i];
		blocks += (uint64_t)c.blocks[i];
	}
	at = begin_section(MP_SEC_META);
	put_u32(c.pid);
	put_u32(1);
	put_u32(c.reason);
	put_u32(c.seq);
	put_u64(1700000000ull * 1000000000ull + (c.pid - 5000) * 1000000000ull);
	put_u64(1700000000ull * 1000000000ull + (c.pid - 5000) * 1000000000ull + c.run_time_ns);
	put_u64(c.run_time_ns);
	put_u32(64);
	put_u32(0);
	put_str("/usr/bin/server");
	put_bytes_str("server\0", 7);
	put_str("");
	end_section(at, 0);
	at = begin_section(MP_SEC_TOTALS);
	put_u64(allocs), put_u64(frees), put_u64(bytes_allocated), put_u64(bytes_freed);
	put_u64(live), put_u64(blocks), put_u64(live), put_u64(c.run_time_ns);
	put_u64(0), put_u64(0);
	end_section(at, 0);
	at = begin_section(MP_SEC_MODULES);
	put_u32(2);
	put_u64(c.bias[0]), put_u64(c.bias[0]), put_u64(c.bias[0] + 0x3000);
	put_u32(MP_MODULE_MAIN);
	put_u32(4);
	put("\xca\xfe\xf0\x0d", 4);
	put_str("/usr/bin/server");
	put_u64(c.bias[1]), put_u64(c.bias[1]), put_u64(c.bias[1] + 0x200000);
	put_u32(0);
	put_u32(0);
	put_str("/lib/x86_64-linux-gnu/libc.so.6");
	end_section(at, 0);
	at = begin_section(MP_SEC_TRACES);
	put_u32(n_traces);
	for (int i = 5; i >= 0; i--) {
		const struct site *st = &custom_sites[i];
		uint64_t frames[4];

		if (c.blocks[i] < 0)
			continue;
		for (uint32_t f = 0; f < st->n_frames; f++)
			frames[f] = st->module[f] < 0 ? st->offset[f] : c.bias[st->module[f]] + st->offset[f];
		trace(c.first_id + (uint32_t)(5 - i), (uint64_t)c.blocks[i] + 7, 7, c.bytes[i] + 7 * 16, 7 * 16,
		      frames, st->n_frames);
	}
	end_section(at, 0);
	begin_section(MP_SEC_END);
}

/* The modules-repeated case: one trace of one frame at `offset` in each load of `path`. */
static void modules_repeated(const char *path, uint64_t offset)
{
	size_t at = begin_section(MP_SEC_META);

	put_u32(9100), put_u32(1), put_u32(MP_REASON_EXIT), put_u32(0);
	put_u64(1700000000ull * 1000000000ull), put_u64(1700000001ull * 1000000000ull);
	put_u64(1000000000ull), put_u32(64), put_u32(0);
	put_str("/usr/bin/loader"), put_bytes_str("loader\0", 7), put_str("");
	end_section(at, 0);
	at = begin_section(MP_SEC_TOTALS);
	put_u64(MP_SNAP_MAX_MODULES), put_u64(0), put_u64(16 * MP_SNAP_MAX_MODULES), put_u64(0);
	put_u64(16 * MP_SNAP_MAX_MODULES), put_u64(MP_SNAP_MAX_MODULES), put_u64(16 * MP_SNAP_MAX_MODULES);
	put_u64(0), put_u64(0), put_u64(0);
	end_section(at, 0);
	at = begin_section(MP_SEC_MODULES);
	put_u32(MP_SNAP_MAX_MODULES);
	for (uint64_t i = 0; i < MP_SNAP_MAX_MODULES; i++) {
		uint64_t bias = 0x10000000000ull + (i << 20);

		put_u64(bias), put_u64(bias), put_u64(bias + (1 << 20));
		put_u32(MP_MODULE_UNLOADED), put_u32(0), put_str(path);
	}
	end_section(at, 0);
	at = begin_section(MP_SEC_TRACES);
	put_u32(MP_SNAP_MAX_MODULES);
	for (uint64_t i = 0; i < MP_SNAP_MAX_MODULES; i++) {
		uint64_t frame = 0x10000000000ull + (i << 20) + offset;

		trace((uint32_t)i + 1, 1, 0, 16, 0, &frame, 1);
	}
	end_section(at, 0);
	begin_section(MP_SEC_END);
}

/* Snapshot number k of series-wide: about 1.1 MB, nearly all of it frames. */
static void series_wide(uint32_t k)
{
	enum { N_SITES = 2000, N_FRAMES = 64 };
	uint64_t live = 1000ull * k + 100ull * (N_SITES - 1), frames[N_FRAMES];
	size_t at = begin_section(MP_SEC_META);

	put_u32(9000), put_u32(1), put_u32(MP_REASON_INTERVAL), put_u32(k - 1);
	put_u64(1700000000ull * 1000000000ull), put_u64(1700000000ull * 1000000000ull + k * 1000000000ull);
	put_u64(k * 1000000000ull), put_u32(N_FRAMES), put_u32(0);
	put_str("/usr/bin/wide"), put_bytes_str("wide\0", 5), put_str("");
	end_section(at, 0);
	at = begin_section(MP_SEC_TOTALS);
	put_u64(N_SITES), put_u64(0), put_u64(live), put_u64(0), put_u64(live), put_u64(N_SITES);
	put_u64(live), put_u64(k * 1000000000ull), put_u64(0), put_u64(0);
	end_section(at, 0);
	at = begin_section(MP_SEC_MODULES);
	put_u32(1);
	put_u64(0x400000), put_u64(0x400000), put_u64(0x10000000);
	put_u32(MP_MODULE_MAIN), put_u32(0), put_str("/usr/bin/wide");
	end_section(at, 0);
	at = begin_section(MP_SEC_TRACES);
	put_u32(N_SITES);
	for (uint32_t i = 0; i < N_SITES; i++) {
		for (uint32_t f = 0; f < N_FRAMES; f++)
			frames[f] = 0x400000 + 0x1000 * (uint64_t)i + 8 * f;
		trace(i + 1, 1, 0, i ? 100 : 1000ull * k, 0, frames, N_FRAMES);
	}
	end_section(at, 0);
	begin_section(MP_SEC_END);
}

int main(int argc, char **argv)
{
	int known = 0;

	mode = argc > 1 ? argv[1] : "valid";
	if (is("list")) {
		for (int i = 0; cases[i]; i++)
			puts(cases[i]);
		return 0;
	}
	for (int i = 0; cases[i]; i++)
		known |= is(cases[i]);
	if (!known) {
		fprintf(stderr, "mksnap: unknown case '%s' (try: mksnap list)\n", mode);
		return 2;
	}

	put(is("bad-magic") ? "MEMPROF\x1b" : MP_SNAP_MAGIC, MP_SNAP_MAGIC_LEN);
	put_u32(is("version-99") ? 99 : is("version-0") ? 0 : MP_SNAP_VERSION);
	put_u32(0);
	if (is("short-header"))
		len = 10;
	else if (is("modules-repeated"))
		modules_repeated(argc > 2 ? argv[2] : "/nonexistent", argc > 3 ? strtoull(argv[3], NULL, 0) : 0);
	else if (is("series-wide"))
		series_wide(argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1);
	else if (strncmp(mode, "diff-", 5) == 0 || strncmp(mode, "series-", 7) == 0)
		custom();
	else {
		if (!is("no-meta"))
			meta();
		if (!is("no-totals"))
			totals();
		if (is("duplicate-section"))
			totals();
		if (is("unknown-section")) {
			size_t at = begin_section(77);

			put_str("a section from the future");
			put_u64(12345);
			end_section(at, 0);
		}
		modules();
		/* A section whose length is patched below must be the last one written. */
		if (!is("section-past-end") && !is("big-section"))
			traces();
		sizes();
		if (full()) {
			timeline();
			peak();
			leaks();
		}
		if (is("section-past-end") || is("big-section")) {
			traces();
			end_section(traces_at, is("section-past-end") ? 1000 : 512ull << 20);
		} else if (is("huge-section")) {
			/* Patch the length of SIZES, the last section written. */
			size_t at = len - MP_SNAP_SECTION_HEADER_BYTES - 4 - 20 * 8;

			end_section(at, 1ull << 62);
		} else if (is("unknown-past-total")) {
			/* Each section is within the cap on one section (1 GiB); together they
			 * pass the cap on the whole stream. The second one's bytes are not there. */
			zero_records(MP_SEC_TRACES + 201, NULL, 0, 64, 1);
			put_u32(MP_SEC_TRACES + 202);
			put_u32(0);
			put_u64(1ull << 30);
		} else if (is("huge-unknown-section")) {
			size_t at = begin_section(MP_SEC_TRACES + 200);

			put_u64(7);
			end_section(at, 1ull << 62);
		} else if (!is("no-end")) {
			begin_section(MP_SEC_END);
			if (is("data-after-end"))
				put("junk", 4);
		}
	}
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		perror("mksnap");
		return 1;
	}
	free(buf);
	return 0;
}

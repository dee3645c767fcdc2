/* SPDX-License-Identifier: MIT */
/* The snapshot writer: sections of src/snapshot_format.h through zlib's deflate (gzip
 * framing, memory from mmap) into a temporary file created with O_EXCL and mode 0600, then
 * renamed into place, so that no reader ever sees half a snapshot and no planted symlink is
 * followed. */
#include "snapshot.h"

#include "arch.h"
#include "heap.h"
#include "leak_result.h"
#include "manifest.h"
#include "modules.h"
#include "options.h"
#include "peak.h"
#include "state.h"
#include "thread.h"
#include "timeline.h"
#include "trace_table.h"
#include "util.h"

#include "snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h> /* rename() only: no stdio streams here */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static atomic_uint snapshot_seq;
static mp_spinlock_t write_lock = MP_SPINLOCK_INIT(MP_RANK_SNAPSHOT);

void mp_snapshot_lock(void)
{
	mp_spin_lock(&write_lock);
}

void mp_snapshot_unlock(void)
{
	mp_spin_unlock(&write_lock);
}

/* zlib's memory, from mmap: the size is kept in front of each block. */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	size_t bytes = (size_t)items * size + 16;
	char *p = mp_map(bytes);
	if (!p)
		return Z_NULL;
	*(size_t *)p = bytes;
	return p + 16;
}

static void z_free(voidpf opaque, voidpf address)
{
	(void)opaque;
	if (address) {
		char *p = (char *)address - 16;
		mp_unmap(p, *(size_t *)p);
	}
}

struct out {
	int fd;
	int err; /* first error, negative errno */
	z_stream z;
	unsigned char in[64 * 1024];
	size_t in_len;
	unsigned char zbuf[64 * 1024];
};

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void deflate_some(struct out *o, int flush)
{
	o->z.next_in = o->in;
	o->z.avail_in = (uInt)o->in_len;
	do {
		o->z.next_out = o->zbuf;
		o->z.avail_out = sizeof(o->zbuf);
		int r = deflate(&o->z, flush);
		if (r == Z_STREAM_ERROR) {
			o->err = -EIO;
			return;
		}
		size_t have = sizeof(o->zbuf) - o->z.avail_out;
		if (have && !o->err)
			o->err = write_all(o->fd, o->zbuf, have);
	} while (o->z.avail_out == 0 || (flush == Z_FINISH && o->z.avail_in));
	o->in_len = 0;
}

static void put(struct out *o, const void *p, size_t n)
{
	const unsigned char *c = p;
	while (n) {
		size_t room = sizeof(o->in) - o->in_len;
		size_t k = n < room ? n : room;
		memcpy(o->in + o->in_len, c, k);
		o->in_len += k;
		c += k;
		n -= k;
		if (o->in_len == sizeof(o->in))
			deflate_some(o, Z_NO_FLUSH);
	}
}

/* The processor is little-endian (arch.h), as the format is: integers go out as they are in
 * memory. */
static void put_u32(struct out *o, uint32_t v)
{
	put(o, &v, 4);
}

static void put_u64(struct out *o, uint64_t v)
{
	put(o, &v, 8);
}

static void put_str(struct out *o, const char *s, size_t n)
{
	put_u32(o, (uint32_t)n);
	put(o, s, n);
}

static void section(struct out *o, uint32_t type, uint64_t length)
{
	put_u32(o, type);
	put_u32(o, 0);
	put_u64(o, length);
}

/* Every trace's counts and record, read once per snapshot (mp_read_trace_counts) so that the
 * totals and the per-trace figures agree, and so that the TRACES section holds the frames its
 * size was computed for: an id's record can change between two reads (a hole filled, or a
 * record that lost a race taken back, trace_table.c). From mmap for the length of one
 * snapshot; without them no snapshot is written. */
static struct mp_trace_counts *counts;
static const struct mp_trace **records;
static size_t counts_bytes;

static struct mp_trace_counts counts_of(uint32_t id)
{
	struct mp_trace_counts c = counts[id];
	/* A free counted before its allocation was (another thread, mid-hook): keep it sane. */
	if (c.frees > c.allocs)
		c.frees = c.allocs;
	if (c.bytes_freed > c.bytes_allocated)
		c.bytes_freed = c.bytes_allocated;
	return c;
}

/* The TIMELINE and PEAK sections (timeline.c, peak.c); called with the peak held since
 * before the traces were counted. Static: the writers are serialized. */
static struct mp_timeline_point timeline[MP_TIMELINE_MAX_POINTS];

static void write_timeline_and_peak(struct out *o)
{
	_Static_assert(sizeof(timeline[0]) == MP_SNAP_POINT_BYTES, "a timeline point is as the format has it");
	size_t n = mp_timeline_collect(timeline);
	section(o, MP_SEC_TIMELINE, MP_SNAP_COUNT_BYTES + n * MP_SNAP_POINT_BYTES);
	put_u32(o, (uint32_t)n);
	put(o, timeline, n * sizeof(timeline[0])); /* six u64 per point, as the format has them */

	const struct mp_peak_site *sites;
	uint64_t peak_bytes, peak_time_ns;
	size_t n_sites = mp_peak_sites(&sites, &peak_bytes, &peak_time_ns);
	section(o, MP_SEC_PEAK, MP_SNAP_PEAK_FIXED_BYTES + n_sites * MP_SNAP_PEAK_SITE_BYTES);
	put_u64(o, peak_bytes);
	put_u64(o, peak_time_ns);
	put_u32(o, (uint32_t)n_sites);
	for (size_t i = 0; i < n_sites; i++) {
		put_u32(o, sites[i].trace_id);
		put_u64(o, sites[i].live_bytes);
		put_u64(o, sites[i].live_blocks);
	}
	mp_peak_unlock();
}

/* The LEAKS section: a scan's loss records (leakscan.c). */
static void write_leaks(struct out *o, const struct mp_leak_result *lr)
{
	section(o, MP_SEC_LEAKS, MP_SNAP_LEAKS_FIXED_BYTES + (uint64_t)lr->count * MP_SNAP_LEAK_BYTES);
	put_u32(o, lr->flags);
	put_u64(o, lr->scan_time_ns);
	put_u64(o, lr->root_bytes);
	put_u32(o, lr->count);
	for (uint32_t i = 0; i < lr->count; i++) {
		const struct mp_leak_record *r = &lr->records[i];
		put_u32(o, r->trace_id);
		put_u32(o, r->kind);
		put_u64(o, r->blocks);
		put_u64(o, r->bytes);
		put_u64(o, r->indirect_blocks);
		put_u64(o, r->indirect_bytes);
	}
}

uint32_t mp_snapshot_next_seq(void)
{
	return atomic_load(&snapshot_seq) + mp_opt.first_seq;
}

static void write_meta(struct out *o, unsigned reason, const char *label, uint32_t seq)
{
	size_t exe_len = strlen(mp_opt.exe_path), label_len = label ? strlen(label) : 0;
	section(o, MP_SEC_META, MP_SNAP_META_FIXED_BYTES + 3 * MP_SNAP_STRING_LEN_BYTES + exe_len + mp_opt.cmdline_len +
				       label_len);
	put_u32(o, (uint32_t)getpid());
	put_u32(o, (uint32_t)mp_parent_pid); /* recorded at start and at fork: a daemon's parent exits */
	put_u32(o, reason);
	put_u32(o, seq);
	put_u64(o, mp_heap.start_realtime_ns);
	put_u64(o, mp_realtime_ns());
	put_u64(o, mp_now_ns() - mp_heap.start_ns);
	put_u32(o, mp_opt.max_depth);
	put_u32(o, mp_is_fork_child ? MP_META_FORK_CHILD : 0);
	put_str(o, mp_opt.exe_path, exe_len);
	put_str(o, mp_opt.cmdline, mp_opt.cmdline_len);
	put_str(o, label ? label : "", label_len);
}

/* Maps `counts` and `records` for n_traces ids (at least one: trace 0 always exists). */
static int map_counts(uint32_t n_traces)
{
	counts_bytes = (size_t)n_traces * (sizeof(*counts) + sizeof(*records));
	counts = mp_map(counts_bytes);
	if (!counts)
		return -ENOMEM;
	records = (const struct mp_trace **)(counts + n_traces);
	return 0;
}

/* The TOTALS section, from every trace's counts (kept in `counts`, and the records in
 * `records`, for write_traces); returns the TRACES section's size. Called with the peak held
 * (mp_peak_hold), and with counts mapped. */
static uint64_t write_totals(struct out *o, uint32_t n_traces, const struct mp_leak_result *leaks)
{
	/* A leak scan's own counts, read with the threads stopped, are its heap; traces made
	 * since then (none at exit, as a rule) are counted as they are now. */
	mp_read_trace_counts(counts, n_traces);
	if (leaks && leaks->counts)
		memcpy(counts, leaks->counts, (size_t)leaks->n_counts * sizeof(*counts));
	struct mp_trace_counts sum = { 0, 0, 0, 0 };
	uint64_t traces_bytes = MP_SNAP_COUNT_BYTES;
	for (uint32_t id = 0; id < n_traces; id++) {
		const struct mp_trace *t = records[id] = mp_trace_by_id(id);
		struct mp_trace_counts c = counts_of(id);
		counts[id] = c; /* from here on, the figures written */
		sum.allocs += c.allocs;
		sum.frees += c.frees;
		sum.bytes_allocated += c.bytes_allocated;
		sum.bytes_freed += c.bytes_freed;
		traces_bytes += MP_SNAP_TRACE_FIXED_BYTES + (uint64_t)MP_SNAP_FRAME_BYTES * t->n_frames;
	}
	uint64_t peak = atomic_load(&mp_heap.peak_bytes);
	uint64_t live = sum.bytes_allocated - sum.bytes_freed;
	if (peak < live)
		peak = live;
	section(o, MP_SEC_TOTALS, MP_SNAP_TOTALS_BYTES);
	put_u64(o, sum.allocs);
	put_u64(o, sum.frees);
	put_u64(o, sum.bytes_allocated);
	put_u64(o, sum.bytes_freed);
	put_u64(o, live);
	put_u64(o, sum.allocs - sum.frees);
	put_u64(o, peak);
	put_u64(o, atomic_load(&mp_heap.peak_time_ns));
	put_u64(o, atomic_load(&mp_heap.untracked_frees));
	put_u64(o, atomic_load(&mp_heap.lost_allocs));
	return traces_bytes;
}

static void write_modules(struct out *o)
{
	size_t n_mod = mp_module_count();
	uint64_t mod_bytes = MP_SNAP_COUNT_BYTES;
	for (size_t i = 0; i < n_mod; i++) {
		const struct mp_module *m = mp_module_at(i);
		mod_bytes += MP_SNAP_MODULE_FIXED_BYTES + m->build_id_len + MP_SNAP_STRING_LEN_BYTES + strlen(m->path);
	}
	section(o, MP_SEC_MODULES, mod_bytes);
	put_u32(o, (uint32_t)n_mod);
	for (size_t i = 0; i < n_mod; i++) {
		const struct mp_module *m = mp_module_at(i);
		put_u64(o, m->bias);
		put_u64(o, m->start);
		put_u64(o, m->end);
		put_u32(o, m->flags);
		put_u32(o, m->build_id_len);
		put(o, m->build_id, m->build_id_len);
		put_str(o, m->path, strlen(m->path));
	}
}

static void write_traces(struct out *o, uint32_t n_traces, uint64_t traces_bytes)
{
	section(o, MP_SEC_TRACES, traces_bytes);
	put_u32(o, n_traces);
	for (uint32_t id = 0; id < n_traces; id++) {
		const struct mp_trace *t = records[id];
		struct mp_trace_counts c = counts[id];
		put_u32(o, id); /* not t->id: a hole's record is shared (trace_table.c) */
		put_u32(o, t->n_frames);
		put_u64(o, c.allocs);
		put_u64(o, c.frees);
		put_u64(o, c.bytes_allocated);
		put_u64(o, c.bytes_freed);
		put(o, t->frames, (uint64_t)MP_SNAP_FRAME_BYTES * t->n_frames);
	}
}

static void write_sizes(struct out *o)
{
	uint64_t classes[MP_SIZE_CLASSES];
	for (int i = 0; i < MP_SIZE_CLASSES; i++)
		classes[i] = atomic_load(&mp_heap.size_classes[i]);
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all) {
		for (int i = 0; i < MP_SIZE_CLASSES; i++)
			classes[i] += MP_READ(th->size_classes[i]);
	}
	section(o, MP_SEC_SIZES, MP_SNAP_COUNT_BYTES + MP_SNAP_SIZE_CLASS_BYTES * MP_SIZE_CLASSES);
	put_u32(o, MP_SIZE_CLASSES);
	put(o, classes, sizeof(classes));
}

static void write_body(struct out *o, unsigned reason, const char *label, uint32_t seq,
		       const struct mp_leak_result *leaks)
{
	put(o, MP_SNAP_MAGIC, MP_SNAP_MAGIC_LEN);
	put_u32(o, MP_SNAP_VERSION);
	put_u32(o, 0);
	write_meta(o, reason, label, seq);
	mp_peak_hold(); /* before the totals, so that their peak is at least the capture's */
	/* Traces first into the totals, then out. */
	uint32_t n_traces = mp_trace_count();
	if (map_counts(n_traces) < 0) {
		mp_peak_unlock();
		o->err = -ENOMEM;
		return;
	}
	uint64_t traces_bytes = write_totals(o, n_traces, leaks);
	write_modules(o);
	write_traces(o, n_traces, traces_bytes);
	write_sizes(o);
	write_timeline_and_peak(o);

	if (leaks)
		write_leaks(o, leaks);

	section(o, MP_SEC_END, 0);
	mp_unmap(counts, counts_bytes);
	counts = NULL;
	records = NULL;
}

/* Expand %p, %e, %n and %% of the output pattern; relative paths resolve against the
 * directory the program started in. A snapshot taken while the program runs (`intermediate`)
 * under a pattern without %n gets ".<seq>" before a final ".gz" (or at the end), so that it
 * never replaces another one and the final snapshot keeps the pattern's name.
 * Returns 0 or -ENAMETOOLONG. */
static int expand_path(char *dst, size_t cap, uint32_t seq, int intermediate)
{
	size_t n = 0;
	char num[24];
	const char *pat = mp_opt.output;
	int has_pid = strstr(pat, "%p") != NULL;
	int has_seq = 0;
#define APPEND(s, len)                                  \
	do {                                            \
		if (n + (len) >= cap)                   \
			return -ENAMETOOLONG;           \
		memcpy(dst + n, (s), (len));            \
		n += (len);                             \
	} while (0)
	if (pat[0] != '/' && mp_opt.cwd[0]) {
		APPEND(mp_opt.cwd, strlen(mp_opt.cwd));
		APPEND("/", 1);
	}
	for (const char *p = pat; *p; p++) {
		if (*p != '%' || !p[1]) {
			APPEND(p, 1);
			continue;
		}
		p++;
		if (*p == 'p') {
			size_t k = mp_utoa((uint64_t)getpid(), num);
			APPEND(num, k);
		} else if (*p == 'e') {
			APPEND(mp_opt.exe, strlen(mp_opt.exe));
		} else if (*p == 'n') {
			size_t k = mp_utoa(seq, num);
			APPEND(num, k);
			has_seq = 1;
		} else if (*p == '%') {
			APPEND("%", 1);
		} else {
			APPEND(p - 1, 2);
		}
	}
	if (intermediate && !has_seq) {
		size_t gz = n >= 3 && memcmp(dst + n - 3, ".gz", 3) == 0 ? 3 : 0;
		char tail[3];
		memcpy(tail, dst + n - gz, gz);
		n -= gz;
		size_t k = mp_utoa(seq, num);
		APPEND(".", 1);
		APPEND(num, k);
		APPEND(tail, gz);
	}
	/* A fork child, or a program a followed child exec'd, must not replace its parent's file. */
	if ((mp_is_fork_child || mp_opt.exec_child) && !has_pid) {
		size_t k = mp_utoa((uint64_t)getpid(), num);
		APPEND(".", 1);
		APPEND(num, k);
	}
#undef APPEND
	dst[n] = '\0';
	return 0;
}

/* err < 0: an errno; MP_NOT_REGULAR: something that is not a file is at the path. */
#define MP_NOT_REGULAR 1

static void warn_once(const char *path, int err)
{
	static atomic_int warned;
	if (atomic_exchange(&warned, 1))
		return;
	char tail[200] = ": ";
	const char *d = err == MP_NOT_REGULAR ? "not a regular file (left as it is)" : strerrordesc_np(-err);
	size_t k = 2;
	if (d) {
		size_t n = strlen(d) < 120 ? strlen(d) : 120;
		memcpy(tail + k, d, n);
		k += n;
	} else {
		memcpy(tail + k, "error ", 6);
		k += 6 + mp_utoa((uint64_t)-err, tail + k + 6);
	}
	memcpy(tail + k, " (the program runs on)", 23);
	mp_log("cannot write snapshot ", path, tail);
	mp_manifest_event("error", path, tail, NULL); /* memprof run says why there is no snapshot */
}

/* A file size limit (ulimit -f) makes our write() fail with EFBIG and raise SIGXFSZ, whose
 * default action would kill the program: it is blocked on this thread while we write, and one
 * our writes raised is taken back, so the program only ever gets its own. Returns whether one
 * was pending before (then it is the program's and stays). */
static int block_sigxfsz(sigset_t *old)
{
	sigset_t s, pending;
	sigemptyset(&s);
	sigaddset(&s, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &s, old);
	return sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ);
}

static void restore_sigxfsz(const sigset_t *old, int was_pending)
{
	sigset_t s, pending;
	if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ)) {
		struct timespec now = { 0, 0 };
		sigemptyset(&s);
		sigaddset(&s, SIGXFSZ);
		while (sigtimedwait(&s, NULL, &now) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Creates the temporary file for `path`: PATH.tmp.PID.SEQ, or, when a file of that name is
 * there already (left by a run killed while writing; in a container every run may have the
 * same pid), PATH.tmp.PID.SEQ.1, .2 and so on: a stale file never blocks a snapshot. It is
 * left alone, as any file of the user's would be. Returns the descriptor or a negative errno;
 * fills tmp (4200 bytes; path is shorter than 4096). */
static int create_tmp(const char *path, uint32_t seq, char *tmp)
{
	size_t n = strlen(path);
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp.", 5);
	size_t k = n + 5 + mp_utoa((uint64_t)getpid(), tmp + n + 5);
	tmp[k++] = '.';
	k += mp_utoa(seq, tmp + k);
	for (unsigned attempt = 0;; attempt++) {
		if (attempt) {
			tmp[k] = '.';
			mp_utoa(attempt, tmp + k + 1);
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST || attempt == 1000)
			return -errno;
	}
}

static int write_snapshot(unsigned reason, const char *label, const struct mp_leak_result *leaks);

int mp_snapshot_write(unsigned reason, const char *label)
{
	return mp_snapshot_write_leaks(reason, label, NULL);
}

int mp_snapshot_write_leaks(unsigned reason, const char *label, const struct mp_leak_result *leaks)
{
	sigset_t old;
	int e = errno;
	int was_pending = block_sigxfsz(&old);
	int r = write_snapshot(reason, label, leaks);
	restore_sigxfsz(&old, was_pending);
	errno = e;
	return r;
}

static int write_snapshot(unsigned reason, const char *label, const struct mp_leak_result *leaks)
{
	static struct out o; /* 128 KiB of buffers: static, and the writers are serialized */
	char path[4096], tmp[4200];
	if (atomic_load(&mp_failed))
		return -ECANCELED; /* mp_fail() said so once: no second warning */
	mp_snapshot_lock();
	int intermediate = reason != MP_REASON_EXIT && reason != MP_REASON_UNDERSCORE_EXIT &&
			   reason != MP_REASON_FATAL_SIGNAL;
	/* Once the final snapshot is under way, no periodic or requested one may follow it. */
	if ((reason == MP_REASON_INTERVAL || reason == MP_REASON_SIGNAL || reason == MP_REASON_REQUEST ||
	     reason == MP_REASON_LEAK_CHECK) &&
	    atomic_load(&mp_final_written)) {
		mp_snapshot_unlock();
		return -ECANCELED;
	}
	uint32_t seq = atomic_fetch_add(&snapshot_seq, 1) + mp_opt.first_seq;
	int err = expand_path(path, sizeof(path), seq, intermediate);
	if (err) {
		mp_snapshot_unlock();
		warn_once(mp_opt.output, err);
		return err;
	}
	/* A device, directory, FIFO or socket at the path (MEMPROF_OUTPUT=/dev/null) must not be
	 * replaced by the rename: refuse. A symlink is replaced, never followed. */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		mp_snapshot_unlock();
		warn_once(path, MP_NOT_REGULAR);
		return -EEXIST;
	}
	mp_modules_scan();
	memset(&o.z, 0, sizeof(o.z));
	o.in_len = 0;
	o.err = 0;
	o.fd = create_tmp(path, seq, tmp);
	if (o.fd < 0) {
		err = o.fd;
		mp_snapshot_unlock();
		warn_once(path, err);
		return err;
	}
	o.z.zalloc = z_alloc;
	o.z.zfree = z_free;
	if (deflateInit2(&o.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
	} else {
		write_body(&o, reason, label, seq, leaks);
		deflate_some(&o, Z_FINISH);
		deflateEnd(&o.z);
		err = o.err;
	}
	if (close(o.fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		mp_snapshot_unlock();
		warn_once(path, err);
		return err;
	}
	mp_manifest_snapshot(path);
	mp_snapshot_unlock();
	return 0;
}

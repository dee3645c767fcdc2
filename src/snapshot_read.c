/* SPDX-License-Identifier: MIT */
/* Reads a snapshot file (src/snapshot_format.h) into memory, rejecting any malformed input.
 *
 * The file is never trusted: every count is checked against the bytes its section actually
 * holds before anything is allocated, a section's buffer grows only as its bytes arrive,
 * and each error ends the read with a one-line reason. */
#include "snapshot_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot_format.h"

struct reader {
	gzFile gz;
	const char *path;
	char *err;
	size_t err_bytes;
	const char *section; /* name of the section being parsed, for messages */
	uint64_t consumed;   /* bytes of the decompressed stream accepted so far */
	bool have_traces;    /* the TRACES section was read: n_traces bounds PEAK and LEAKS */
};

/* A bounds-checked view of one section's payload. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

/* Sets the error message "PATH: <reason>" and returns -errnum. */
__attribute__((format(printf, 3, 4)))
static int fail(struct reader *r, int errnum, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->err_bytes, "%s: %s", r->path, reason);
	return -errnum;
}

__attribute__((format(printf, 2, 3)))
static int corrupt(struct reader *r, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return fail(r, EINVAL, "corrupt %s section: %s", r->section, detail);
}

/* Reads up to n bytes; *got tells how many arrived before the end of the stream. */
static int read_bytes(struct reader *r, void *buf, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		size_t want = n - *got;
		int rc = gzread(r->gz, (char *)buf + *got, want > (1u << 30) ? (1u << 30) : (unsigned)want);

		if (rc <= 0) {
			int zerr;
			const char *msg = gzerror(r->gz, &zerr);

			/* gzread() reports a stream cut short as a plain end of file and
			 * leaves Z_BUF_ERROR for gzerror() to tell. */
			if (rc == 0 && zerr == Z_BUF_ERROR)
				return fail(r, EINVAL, "truncated gzip stream (unexpected end of file)");
			if (rc == 0)
				break;
			if (zerr == Z_ERRNO)
				return fail(r, errno ? errno : EIO, "read error: %s", strerror(errno));
			/* zlib names the file "<fd:3>"; the caller names it better. */
			if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": "))
				msg = strstr(msg, ": ") + 2;
			return fail(r, EINVAL, "corrupt gzip stream (%s)", msg);
		}
		*got += (size_t)rc;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int get_u32(struct reader *r, struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return corrupt(r, "ends in the middle of a field");
	*v = le32(c->p);
	c->p += 4;
	c->left -= 4;
	return 0;
}

static int get_u64(struct reader *r, struct cursor *c, uint64_t *v)
{
	if (c->left < 8)
		return corrupt(r, "ends in the middle of a field");
	*v = le64(c->p);
	c->p += 8;
	c->left -= 8;
	return 0;
}

/* Reads a u32-length string of at most `limit` bytes into a new NUL-terminated buffer. */
static int get_string(struct reader *r, struct cursor *c, const char *what, uint32_t limit,
		      char **out, size_t *out_bytes)
{
	uint32_t len;
	int rc = get_u32(r, c, &len);

	if (rc < 0)
		return rc;
	if (len > limit)
		return corrupt(r, "%s is %u bytes long (limit %u)", what, len, limit);
	if (len > c->left)
		return corrupt(r, "%s is %u bytes long but only %zu bytes remain", what, len, c->left);
	*out = malloc((size_t)len + 1);
	if (!*out)
		return fail(r, ENOMEM, "out of memory");
	memcpy(*out, c->p, len);
	(*out)[len] = '\0';
	if (out_bytes)
		*out_bytes = len;
	c->p += len;
	c->left -= len;
	return 0;
}

static int expect_end(struct reader *r, const struct cursor *c)
{
	if (c->left)
		return corrupt(r, "%zu bytes left after its last field", c->left);
	return 0;
}

static int parse_meta(struct reader *r, struct cursor *c, mp_snap_meta_t *m)
{
	int rc;

	if ((rc = get_u32(r, c, &m->pid)) < 0 || (rc = get_u32(r, c, &m->ppid)) < 0 ||
	    (rc = get_u32(r, c, &m->reason)) < 0 || (rc = get_u32(r, c, &m->seq)) < 0 ||
	    (rc = get_u64(r, c, &m->start_realtime_ns)) < 0 ||
	    (rc = get_u64(r, c, &m->snapshot_realtime_ns)) < 0 ||
	    (rc = get_u64(r, c, &m->run_time_ns)) < 0 || (rc = get_u32(r, c, &m->max_frames)) < 0 ||
	    (rc = get_u32(r, c, &m->flags)) < 0 ||
	    (rc = get_string(r, c, "exe", MP_SNAP_MAX_STRING, &m->exe, NULL)) < 0 ||
	    (rc = get_string(r, c, "cmdline", MP_SNAP_MAX_STRING, &m->cmdline, &m->cmdline_bytes)) < 0 ||
	    (rc = get_string(r, c, "label", MP_SNAP_MAX_STRING, &m->label, NULL)) < 0)
		return rc;
	return expect_end(r, c);
}

static int parse_totals(struct reader *r, struct cursor *c, mp_snap_totals_t *t)
{
	uint64_t *fields[] = {
		&t->allocs, &t->frees, &t->bytes_allocated, &t->bytes_freed, &t->live_bytes,
		&t->live_blocks, &t->peak_bytes, &t->peak_time_ns, &t->untracked_frees, &t->lost_allocs,
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int rc = get_u64(r, c, fields[i]);

		if (rc < 0)
			return rc;
	}
	return expect_end(r, c);
}

/* Smallest encoding of one module (no build id, an empty path) and of one trace (no frames). */
#define MODULE_MIN_BYTES (MP_SNAP_MODULE_FIXED_BYTES + MP_SNAP_STRING_LEN_BYTES)
#define TRACE_MIN_BYTES MP_SNAP_TRACE_FIXED_BYTES
/* A trace's four u64 counters, after its id and n_frames. */
#define TRACE_COUNTERS_BYTES (MP_SNAP_TRACE_FIXED_BYTES - 2 * sizeof(uint32_t))

static int parse_modules(struct reader *r, struct cursor *c, mp_snapshot_t *s)
{
	uint32_t count;
	int rc = get_u32(r, c, &count);

	if (rc < 0)
		return rc;
	if (count > c->left / MODULE_MIN_BYTES)
		return corrupt(r, "count %u does not fit in its %zu remaining bytes", count, c->left);
	if (count > MP_SNAP_MAX_MODULES)
		return corrupt(r, "%u modules (limit %u)", count, MP_SNAP_MAX_MODULES);
	s->modules = calloc(count ? count : 1, sizeof(*s->modules));
	if (!s->modules)
		return fail(r, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < count; i++) {
		mp_snap_module_t *m = &s->modules[i];

		s->n_modules = i + 1; /* so that mp_snapshot_free() sees a partly read module */
		if ((rc = get_u64(r, c, &m->load_bias)) < 0 || (rc = get_u64(r, c, &m->start)) < 0 ||
		    (rc = get_u64(r, c, &m->end)) < 0 || (rc = get_u32(r, c, &m->flags)) < 0 ||
		    (rc = get_u32(r, c, &m->build_id_bytes)) < 0)
			return rc;
		if (m->build_id_bytes > MP_SNAP_MAX_BUILD_ID)
			return corrupt(r, "module %u has a build id of %u bytes (limit %u)", i,
				       m->build_id_bytes, MP_SNAP_MAX_BUILD_ID);
		if (m->build_id_bytes > c->left)
			return corrupt(r, "module %u: build id runs past the end", i);
		memcpy(m->build_id, c->p, m->build_id_bytes);
		c->p += m->build_id_bytes;
		c->left -= m->build_id_bytes;
		if ((rc = get_string(r, c, "module path", MP_SNAP_MAX_PATH, &m->path, NULL)) < 0)
			return rc;
		if (m->start > m->end)
			return corrupt(r, "module %u starts after its end", i);
	}
	return expect_end(r, c);
}

static int compare_trace_id(const void *a, const void *b)
{
	uint32_t x = ((const mp_snap_trace_t *)a)->id, y = ((const mp_snap_trace_t *)b)->id;

	return (x > y) - (x < y);
}

/* Sorts the traces by id (for mp_snapshot_trace()) and rejects a repeated id. */
static int sort_and_check_trace_ids(struct reader *r, mp_snapshot_t *s)
{
	qsort(s->traces, s->n_traces, sizeof(*s->traces), compare_trace_id);
	for (size_t i = 1; i < s->n_traces; i++)
		if (s->traces[i].id == s->traces[i - 1].id)
			return corrupt(r, "trace id %u appears twice", s->traces[i].id);
	return 0;
}

/* Walks the `count` traces at c without keeping them: checks each one's frames and id (below
 * MP_SNAP_MAX_TRACES, not seen before), and counts the frames. Run before anything is
 * allocated for the traces, so that a section of zero-filled or repeated records is rejected
 * at its second record, not after its whole array has been built. Two passes: the first finds
 * the highest id, which sizes the bitmap of the ids seen in the second. */
static int scan_traces(struct reader *r, struct cursor c, uint32_t count, size_t *n_frames)
{
	struct cursor start = c;
	uint32_t max_id = 0;
	uint8_t *seen;

	*n_frames = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t id, frames;
		int rc;

		if ((rc = get_u32(r, &c, &id)) < 0 || (rc = get_u32(r, &c, &frames)) < 0)
			return rc;
		if (c.left < TRACE_COUNTERS_BYTES)
			return corrupt(r, "ends in the middle of a field");
		c.p += TRACE_COUNTERS_BYTES;
		c.left -= TRACE_COUNTERS_BYTES;
		if (id >= MP_SNAP_MAX_TRACES)
			return corrupt(r, "trace id %u is out of range (limit %u)", id, MP_SNAP_MAX_TRACES - 1);
		if (frames > MP_SNAP_MAX_FRAMES)
			return corrupt(r, "trace %u has %u frames (limit %u)", id, frames, MP_SNAP_MAX_FRAMES);
		if ((size_t)frames * MP_SNAP_FRAME_BYTES > c.left)
			return corrupt(r, "trace %u has %u frames but only %zu bytes remain", id, frames, c.left);
		c.p += (size_t)frames * MP_SNAP_FRAME_BYTES;
		c.left -= (size_t)frames * MP_SNAP_FRAME_BYTES;
		*n_frames += frames;
		if (id > max_id)
			max_id = id;
	}
	if (!(seen = calloc(max_id / 8 + 1, 1)))
		return fail(r, ENOMEM, "out of memory");
	c = start;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t id = le32(c.p), frames = le32(c.p + 4);

		if (seen[id / 8] & (1u << (id % 8))) {
			free(seen);
			return corrupt(r, "trace id %u appears twice", id);
		}
		seen[id / 8] |= (uint8_t)(1u << (id % 8));
		c.p += TRACE_MIN_BYTES + (size_t)frames * MP_SNAP_FRAME_BYTES;
	}
	free(seen);
	return 0;
}

static int parse_traces(struct reader *r, struct cursor *c, mp_snapshot_t *s)
{
	uint32_t count;
	size_t pool_used = 0, n_frames;
	int rc = get_u32(r, c, &count);

	if (rc < 0)
		return rc;
	if (count > c->left / TRACE_MIN_BYTES)
		return corrupt(r, "count %u does not fit in its %zu remaining bytes", count, c->left);
	if (count > MP_SNAP_MAX_TRACES)
		return corrupt(r, "%u traces (limit %u)", count, MP_SNAP_MAX_TRACES);
	if ((rc = scan_traces(r, *c, count, &n_frames)) < 0)
		return rc;
	s->traces = calloc(count ? count : 1, sizeof(*s->traces));
	s->frame_pool = malloc(n_frames ? n_frames * sizeof(uint64_t) : 1);
	if (!s->traces || !s->frame_pool)
		return fail(r, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < count; i++) {
		mp_snap_trace_t *t = &s->traces[i];
		uint64_t *frames = s->frame_pool + pool_used;

		if ((rc = get_u32(r, c, &t->id)) < 0 || (rc = get_u32(r, c, &t->n_frames)) < 0 ||
		    (rc = get_u64(r, c, &t->allocs)) < 0 || (rc = get_u64(r, c, &t->frees)) < 0 ||
		    (rc = get_u64(r, c, &t->bytes_allocated)) < 0 ||
		    (rc = get_u64(r, c, &t->bytes_freed)) < 0)
			return rc;
		if (t->n_frames > MP_SNAP_MAX_FRAMES)
			return corrupt(r, "trace %u has %u frames (limit %u)", t->id, t->n_frames,
				       MP_SNAP_MAX_FRAMES);
		if ((size_t)t->n_frames * MP_SNAP_FRAME_BYTES > c->left)
			return corrupt(r, "trace %u has %u frames but only %zu bytes remain", t->id,
				       t->n_frames, c->left);
		if (t->frees > t->allocs || t->bytes_freed > t->bytes_allocated)
			return corrupt(r, "trace %u frees more than it allocated", t->id);
		for (uint32_t f = 0; f < t->n_frames; f++) {
			frames[f] = le64(c->p);
			c->p += MP_SNAP_FRAME_BYTES;
			c->left -= MP_SNAP_FRAME_BYTES;
		}
		t->frames = frames;
		pool_used += t->n_frames;
		s->n_traces = i + 1;
	}
	if ((rc = expect_end(r, c)) < 0)
		return rc;
	r->have_traces = true;
	return sort_and_check_trace_ids(r, s);
}

static int parse_sizes(struct reader *r, struct cursor *c, mp_snapshot_t *s)
{
	uint32_t count;
	int rc = get_u32(r, c, &count);

	if (rc < 0)
		return rc;
	if (count > MP_SNAP_MAX_SIZE_CLASSES)
		return corrupt(r, "%u size classes (limit %u)", count, MP_SNAP_MAX_SIZE_CLASSES);
	if ((size_t)count * MP_SNAP_SIZE_CLASS_BYTES != c->left)
		return corrupt(r, "%u size classes need %u bytes, the section has %zu", count,
			       count * MP_SNAP_SIZE_CLASS_BYTES, c->left);
	s->size_classes = calloc(count ? count : 1, sizeof(uint64_t));
	if (!s->size_classes)
		return fail(r, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < count; i++)
		if ((rc = get_u64(r, c, &s->size_classes[i])) < 0)
			return rc;
	s->n_size_classes = count;
	return 0;
}

/* Checks that `count` entries of `entry_bytes` exactly fill what is left of the section
 * and allocates room for them. */
static int entries(struct reader *r, struct cursor *c, uint32_t count, size_t entry_bytes,
		   size_t elem_size, void **out)
{
	if ((size_t)count * entry_bytes != c->left)
		return corrupt(r, "%u entries need %zu bytes, the section has %zu left", count,
			       (size_t)count * entry_bytes, c->left);
	*out = calloc(count ? count : 1, elem_size);
	if (!*out)
		return fail(r, ENOMEM, "out of memory");
	return 0;
}

/* PEAK has at most one site per trace, LEAKS one record per trace and kind: `per_trace`
 * entries per trace of TRACES when it came first (as the writer puts it), per possible trace
 * id otherwise. */
static int check_count_per_trace(struct reader *r, const mp_snapshot_t *s, uint32_t count,
				 unsigned per_trace)
{
	uint64_t limit = (uint64_t)per_trace * (r->have_traces ? s->n_traces : MP_SNAP_MAX_TRACES);

	if (count > limit)
		return corrupt(r, "%u entries, more than %u per trace (%llu)", count, per_trace,
			       (unsigned long long)limit);
	return 0;
}

static int parse_timeline(struct reader *r, struct cursor *c, mp_snapshot_t *s)
{
	uint32_t count;
	int rc = get_u32(r, c, &count);

	if (rc < 0)
		return rc;
	/* The writer merges old points rather than keep more: more is a crafted file, and each
	 * point costs a line of every timeline output. */
	if (count > MP_SNAP_MAX_TIMELINE_POINTS)
		return corrupt(r, "%u points (limit %u)", count, MP_SNAP_MAX_TIMELINE_POINTS);
	if ((rc = entries(r, c, count, MP_SNAP_POINT_BYTES, sizeof(*s->timeline), (void **)&s->timeline)) < 0)
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		mp_snap_point_t *p = &s->timeline[i];

		if ((rc = get_u64(r, c, &p->time_ns)) < 0 || (rc = get_u64(r, c, &p->live_bytes)) < 0 ||
		    (rc = get_u64(r, c, &p->max_live_bytes)) < 0 ||
		    (rc = get_u64(r, c, &p->rss_bytes)) < 0 || (rc = get_u64(r, c, &p->allocs)) < 0 ||
		    (rc = get_u64(r, c, &p->frees)) < 0)
			return rc;
		if (i > 0 && p->time_ns < p[-1].time_ns)
			return corrupt(r, "point %u is older than the point before it", i);
	}
	s->n_timeline = count;
	return 0;
}

static int parse_peak(struct reader *r, struct cursor *c, mp_snapshot_t *s)
{
	uint32_t count;
	int rc;

	if ((rc = get_u64(r, c, &s->peak_bytes)) < 0 || (rc = get_u64(r, c, &s->peak_time_ns)) < 0 ||
	    (rc = get_u32(r, c, &count)) < 0 ||
	    (rc = entries(r, c, count, MP_SNAP_PEAK_SITE_BYTES, sizeof(*s->peak_sites),
			  (void **)&s->peak_sites)) < 0 ||
	    (rc = check_count_per_trace(r, s, count, 1)) < 0)
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		mp_snap_peak_site_t *p = &s->peak_sites[i];

		if ((rc = get_u32(r, c, &p->trace_id)) < 0 || (rc = get_u64(r, c, &p->live_bytes)) < 0 ||
		    (rc = get_u64(r, c, &p->live_blocks)) < 0)
			return rc;
	}
	s->n_peak_sites = count;
	s->has_peak = true;
	return 0;
}

static int compare_leak(const void *a, const void *b)
{
	const mp_snap_leak_t *x = a, *y = b;

	if (x->trace_id != y->trace_id)
		return x->trace_id < y->trace_id ? -1 : 1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

static int parse_leaks(struct reader *r, struct cursor *c, mp_snapshot_t *s)
{
	uint32_t count;
	int rc;

	if ((rc = get_u32(r, c, &s->leaks_flags)) < 0 ||
	    (rc = get_u64(r, c, &s->leaks_scan_time_ns)) < 0 ||
	    (rc = get_u64(r, c, &s->leaks_root_bytes)) < 0 || (rc = get_u32(r, c, &count)) < 0 ||
	    (rc = entries(r, c, count, MP_SNAP_LEAK_BYTES, sizeof(*s->leaks), (void **)&s->leaks)) < 0 ||
	    (rc = check_count_per_trace(r, s, count, MP_LEAK_INTERNAL)) < 0)
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		mp_snap_leak_t *l = &s->leaks[i];

		if ((rc = get_u32(r, c, &l->trace_id)) < 0 || (rc = get_u32(r, c, &l->kind)) < 0 ||
		    (rc = get_u64(r, c, &l->blocks)) < 0 || (rc = get_u64(r, c, &l->bytes)) < 0 ||
		    (rc = get_u64(r, c, &l->indirect_blocks)) < 0 ||
		    (rc = get_u64(r, c, &l->indirect_bytes)) < 0)
			return rc;
		if (l->kind < MP_LEAK_REACHABLE || l->kind > MP_LEAK_INTERNAL)
			return corrupt(r, "loss record %u has unknown kind %u", i, l->kind);
		if ((l->indirect_blocks || l->indirect_bytes) && l->kind != MP_LEAK_DEFINITE &&
		    l->kind != MP_LEAK_POSSIBLE)
			return corrupt(r, "loss record %u: only definitely and possibly lost records "
				       "have indirect blocks", i);
	}
	s->n_leaks = count;
	qsort(s->leaks, count, sizeof(*s->leaks), compare_leak);
	for (size_t i = 1; i < s->n_leaks; i++)
		if (compare_leak(&s->leaks[i - 1], &s->leaks[i]) == 0)
			return corrupt(r, "two loss records for trace %u and kind %u", s->leaks[i].trace_id,
				       s->leaks[i].kind);
	if ((s->leaks_flags & MP_LEAKS_UNDECIDED) && count)
		return corrupt(r, "a leak scan without a verdict has %u loss records", count);
	s->has_leaks = !(s->leaks_flags & MP_LEAKS_UNDECIDED);
	return 0;
}

const mp_snap_leak_t *mp_snapshot_leak(const mp_snapshot_t *snap, uint32_t trace_id, uint32_t kind)
{
	mp_snap_leak_t key = { .trace_id = trace_id, .kind = kind };

	/* parse_leaks sorted them so. */
	return bsearch(&key, snap->leaks, snap->n_leaks, sizeof(*snap->leaks), compare_leak);
}

const mp_snap_trace_t *mp_snapshot_trace(const mp_snapshot_t *snap, uint32_t id)
{
	size_t lo = 0, hi = snap->n_traces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (snap->traces[mid].id == id)
			return &snap->traces[mid];
		if (snap->traces[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A min-heap of module numbers, for index_modules(). */
struct heap {
	uint32_t *v;
	size_t n;
};

static void heap_push(struct heap *h, uint32_t x)
{
	size_t i = h->n++;

	while (i && h->v[(i - 1) / 2] > x) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static void heap_pop(struct heap *h)
{
	uint32_t x = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= x)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
}

static const mp_snapshot_t *sort_snap; /* for by_module_start(); the reader is not reentrant */

static int by_module_start(const void *pa, const void *pb)
{
	uint64_t a = sort_snap->modules[*(const uint32_t *)pa].start;
	uint64_t b = sort_snap->modules[*(const uint32_t *)pb].start;

	return (a > b) - (a < b);
}

static int by_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return (a > b) - (a < b);
}

/* Builds s->module_bounds and s->module_at: what mp_find_module() would find by looking at
 * every module (the first loaded module that holds the address, else the first unloaded one),
 * for each interval between two module boundaries. A sweep over the boundaries with a heap
 * of the modules open there per kind, so n log n: looking at all 8192 modules for each of
 * millions of frames is what made zero-filled module records cost seconds. */
static int index_modules(struct reader *r, mp_snapshot_t *s)
{
	size_t n = s->n_modules, nb = 0, next = 0, bounds = n ? 2 * n : 1;
	uint32_t *by_start = malloc((n ? n : 1) * sizeof(*by_start));
	struct heap loaded = { malloc((n ? n : 1) * sizeof(uint32_t)), 0 };
	struct heap unloaded = { malloc((n ? n : 1) * sizeof(uint32_t)), 0 };
	int rc = 0;

	s->module_bounds = malloc(bounds * sizeof(*s->module_bounds));
	s->module_at = malloc(bounds * sizeof(*s->module_at));
	if (!by_start || !loaded.v || !unloaded.v || !s->module_bounds || !s->module_at) {
		rc = fail(r, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		by_start[i] = (uint32_t)i;
		s->module_bounds[nb++] = s->modules[i].start;
		s->module_bounds[nb++] = s->modules[i].end;
	}
	sort_snap = s;
	qsort(by_start, n, sizeof(*by_start), by_module_start);
	qsort(s->module_bounds, nb, sizeof(*s->module_bounds), by_u64);
	for (size_t i = 0, k = 0; i < nb; i++) /* unique */
		if (k == 0 || s->module_bounds[i] != s->module_bounds[k - 1])
			s->module_bounds[k++] = s->module_bounds[i], s->n_module_bounds = k;
	for (size_t k = 0; k < s->n_module_bounds; k++) {
		uint64_t at = s->module_bounds[k];

		for (; next < n && s->modules[by_start[next]].start <= at; next++) {
			const mp_snap_module_t *m = &s->modules[by_start[next]];

			if (m->end > m->start)
				heap_push(m->flags & MP_MODULE_UNLOADED ? &unloaded : &loaded, by_start[next]);
		}
		/* Every module in a heap starts at or before `at`: it holds `at` unless it ended. */
		while (loaded.n && s->modules[loaded.v[0]].end <= at)
			heap_pop(&loaded);
		while (unloaded.n && s->modules[unloaded.v[0]].end <= at)
			heap_pop(&unloaded);
		s->module_at[k] = loaded.n ? loaded.v[0] : unloaded.n ? unloaded.v[0] : UINT32_MAX;
	}
out:
	free(by_start);
	free(loaded.v);
	free(unloaded.v);
	return rc;
}

/* PEAK and LEAKS name traces by id: each must be one of the TRACES section. */
static int check_trace_references(struct reader *r, const mp_snapshot_t *s)
{
	for (size_t i = 0; i < s->n_peak_sites; i++)
		if (!mp_snapshot_trace(s, s->peak_sites[i].trace_id)) {
			r->section = "PEAK";
			return corrupt(r, "site %zu names trace %u, which is not in TRACES", i,
				       s->peak_sites[i].trace_id);
		}
	for (size_t i = 0; i < s->n_leaks; i++)
		if (!mp_snapshot_trace(s, s->leaks[i].trace_id)) {
			r->section = "LEAKS";
			return corrupt(r, "a loss record names trace %u, which is not in TRACES",
				       s->leaks[i].trace_id);
		}
	return 0;
}

#define MIN_SECTION_CAP_BYTES 65536u

/* The largest payload the writer can produce for a section of this type (unknown types: the
 * general cap), from the limits of snapshot_format.h. */
static uint64_t section_max_bytes(uint32_t type)
{
	uint64_t max;

	switch (type) {
	case MP_SEC_META:
		max = MP_SNAP_META_FIXED_BYTES + 3 * (MP_SNAP_STRING_LEN_BYTES + (uint64_t)MP_SNAP_MAX_STRING);
		break;
	case MP_SEC_TOTALS: max = MP_SNAP_TOTALS_BYTES; break;
	case MP_SEC_MODULES:
		max = MP_SNAP_COUNT_BYTES +
		      (uint64_t)MP_SNAP_MAX_MODULES * (MODULE_MIN_BYTES + MP_SNAP_MAX_BUILD_ID + MP_SNAP_MAX_PATH);
		break;
	case MP_SEC_SIZES: max = MP_SNAP_COUNT_BYTES + MP_SNAP_SIZE_CLASS_BYTES * MP_SNAP_MAX_SIZE_CLASSES; break;
	case MP_SEC_TIMELINE: max = MP_SNAP_COUNT_BYTES + (uint64_t)MP_SNAP_MAX_TIMELINE_POINTS * MP_SNAP_POINT_BYTES; break;
	case MP_SEC_PEAK: max = MP_SNAP_PEAK_FIXED_BYTES + (uint64_t)MP_SNAP_MAX_TRACES * MP_SNAP_PEAK_SITE_BYTES; break;
	case MP_SEC_LEAKS:
		max = MP_SNAP_LEAKS_FIXED_BYTES + (uint64_t)MP_SNAP_MAX_TRACES * MP_LEAK_INTERNAL * MP_SNAP_LEAK_BYTES;
		break;
	default: max = MP_SNAP_MAX_SECTION_BYTES; break;
	}
	/* At least 64 KiB, so that a section a little too long still gets the parser's own
	 * message ("5 bytes left after its last field"), which says more. */
	if (max < MIN_SECTION_CAP_BYTES)
		max = MIN_SECTION_CAP_BYTES;
	return max < MP_SNAP_MAX_SECTION_BYTES ? max : MP_SNAP_MAX_SECTION_BYTES;
}

/* Counts a section (header and payload) against the cap on the whole decompressed stream,
 * before any of its payload is read or skipped: a lying length fails here, in no time. */
static int check_section_length(struct reader *r, uint32_t type, uint64_t length)
{
	uint64_t max = section_max_bytes(type);
	char unknown[48];
	const char *name = r->section;

	if (!name) {
		snprintf(unknown, sizeof(unknown), "section of unknown type %u", type);
		name = unknown;
	}
	if (length > max)
		return fail(r, EFBIG, "%s%s of %llu bytes is larger than the %llu bytes allowed", name,
			    r->section ? " section" : "", (unsigned long long)length, (unsigned long long)max);
	if (length + MP_SNAP_SECTION_HEADER_BYTES > MP_SNAP_MAX_BYTES - r->consumed)
		return fail(r, EFBIG, "%s%s of %llu bytes takes the snapshot past the %llu bytes allowed "
			    "in all", name, r->section ? " section" : "", (unsigned long long)length,
			    MP_SNAP_MAX_BYTES);
	r->consumed += MP_SNAP_SECTION_HEADER_BYTES + length;
	return 0;
}

static const char *section_name(uint32_t type)
{
	switch (type) {
	case MP_SEC_META: return "META";
	case MP_SEC_TOTALS: return "TOTALS";
	case MP_SEC_MODULES: return "MODULES";
	case MP_SEC_TRACES: return "TRACES";
	case MP_SEC_SIZES: return "SIZES";
	case MP_SEC_TIMELINE: return "TIMELINE";
	case MP_SEC_PEAK: return "PEAK";
	case MP_SEC_LEAKS: return "LEAKS";
	default: return NULL;
	}
}

/* Reads a whole payload of `length` bytes. The buffer doubles only as bytes arrive, so a
 * length field that lies costs at most twice the bytes the file really holds. */
static int read_payload(struct reader *r, uint64_t length, uint8_t **out)
{
	size_t cap = length < 65536 ? (size_t)length : 65536, have = 0;
	uint8_t *buf = malloc(cap ? cap : 1);

	if (!buf)
		return fail(r, ENOMEM, "out of memory");
	while (have < length) {
		size_t got;
		int rc;

		if (have == cap) {
			size_t next = cap * 2 < length ? cap * 2 : (size_t)length;
			uint8_t *grown = realloc(buf, next);

			if (!grown) {
				free(buf);
				return fail(r, ENOMEM, "out of memory");
			}
			buf = grown;
			cap = next;
		}
		rc = read_bytes(r, buf + have, cap - have, &got);
		if (rc < 0) {
			free(buf);
			return rc;
		}
		have += got;
		if (have < cap) {
			free(buf);
			return fail(r, EINVAL, "truncated file (%s section cut short)", r->section);
		}
	}
	*out = buf;
	return 0;
}

static int skip_payload(struct reader *r, uint32_t type, uint64_t length)
{
	uint8_t scratch[65536];

	while (length) {
		size_t want = length < sizeof(scratch) ? (size_t)length : sizeof(scratch), got;
		int rc = read_bytes(r, scratch, want, &got);

		if (rc < 0)
			return rc;
		if (got < want)
			return fail(r, EINVAL, "truncated file (section of unknown type %u cut short)", type);
		length -= got;
	}
	return 0;
}

static int parse_section(struct reader *r, uint32_t type, struct cursor *c, mp_snapshot_t *s)
{
	switch (type) {
	case MP_SEC_META: return parse_meta(r, c, &s->meta);
	case MP_SEC_TOTALS: return parse_totals(r, c, &s->totals);
	case MP_SEC_MODULES: return parse_modules(r, c, s);
	case MP_SEC_TRACES: return parse_traces(r, c, s);
	case MP_SEC_SIZES: return parse_sizes(r, c, s);
	case MP_SEC_TIMELINE: return parse_timeline(r, c, s);
	case MP_SEC_PEAK: return parse_peak(r, c, s);
	case MP_SEC_LEAKS: return parse_leaks(r, c, s);
	default: return 0;
	}
}

static int read_header(struct reader *r, mp_snapshot_t *s)
{
	uint8_t hdr[MP_SNAP_FILE_HEADER_BYTES];
	size_t got;
	int rc = read_bytes(r, hdr, sizeof(hdr), &got);

	if (rc < 0)
		return rc;
	if (gzdirect(r->gz))
		return fail(r, EINVAL, "not a gzip file");
	if (got < sizeof(hdr))
		return fail(r, EINVAL, "truncated file (%zu bytes, shorter than the file header)", got);
	if (memcmp(hdr, MP_SNAP_MAGIC, MP_SNAP_MAGIC_LEN) != 0)
		return fail(r, EINVAL, "not a memprof snapshot (bad magic)");
	s->version = le32(hdr + 8);
	if (s->version == 0)
		return fail(r, EINVAL, "invalid snapshot format version 0");
	if (s->version > MP_SNAP_VERSION)
		return fail(r, ENOTSUP, "snapshot format version %u is newer than this memprof reads (%u)",
			    s->version, MP_SNAP_VERSION);
	return 0;
}

/* Requires the stream to end right after the END section, which also makes zlib check the
 * gzip trailer (CRC and length). */
static int read_trailer(struct reader *r)
{
	uint8_t extra;
	size_t got;
	int rc = read_bytes(r, &extra, 1, &got);

	if (rc < 0)
		return rc;
	if (got)
		return fail(r, EINVAL, "unexpected data after the END section");
	return 0;
}

static int read_sections(struct reader *r, mp_snapshot_t *s)
{
	unsigned seen = 0;
	int rc;

	for (;;) {
		uint8_t hdr[MP_SNAP_SECTION_HEADER_BYTES];
		uint32_t type;
		uint64_t length;
		uint8_t *payload = NULL;
		struct cursor c;
		size_t got;

		if ((rc = read_bytes(r, hdr, sizeof(hdr), &got)) < 0)
			return rc;
		if (got < sizeof(hdr))
			return fail(r, EINVAL, "truncated file (no END section)");
		type = le32(hdr);
		length = le64(hdr + 8);
		if (type == MP_SEC_END) {
			if (length != 0)
				return fail(r, EINVAL, "END section has length %llu, not 0",
					    (unsigned long long)length);
			break;
		}
		r->section = section_name(type);
		if ((rc = check_section_length(r, type, length)) < 0)
			return rc;
		if (!r->section) {
			if ((rc = skip_payload(r, type, length)) < 0)
				return rc;
			s->n_unknown_sections++;
			continue;
		}
		if (seen & (1u << type))
			return fail(r, EINVAL, "duplicate %s section", r->section);
		seen |= 1u << type;
		if ((rc = read_payload(r, length, &payload)) < 0)
			return rc;
		c.p = payload;
		c.left = (size_t)length;
		rc = parse_section(r, type, &c, s);
		free(payload);
		if (rc < 0)
			return rc;
	}
	if (!(seen & (1u << MP_SEC_META)))
		return fail(r, EINVAL, "no META section");
	if (!(seen & (1u << MP_SEC_TOTALS)))
		return fail(r, EINVAL, "no TOTALS section");
	if (check_trace_references(r, s) < 0)
		return -EINVAL;
	if ((rc = index_modules(r, s)) < 0)
		return rc;
	return read_trailer(r);
}

/* Reads the snapshot from `fd`, which it closes; `name` names it in messages. The file
 * and the memory entry points both come here, so the fuzz target sees what the CLI sees. */
static int read_fd(int fd, const char *name, mp_snapshot_t *snap, char *err, size_t err_bytes)
{
	struct reader r = { .path = name, .err = err, .err_bytes = err_bytes, .section = "?",
			    .consumed = MP_SNAP_FILE_HEADER_BYTES };
	struct stat st;
	int rc;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return fail(&r, EISDIR, "%s", strerror(EISDIR));
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
		close(fd);
		return fail(&r, EINVAL, "empty file");
	}
	r.gz = gzdopen(fd, "rb");
	if (!r.gz) {
		close(fd);
		return fail(&r, ENOMEM, "out of memory");
	}
	rc = read_header(&r, snap);
	if (rc == 0)
		rc = read_sections(&r, snap);
	gzclose(r.gz);
	if (rc < 0)
		mp_snapshot_free(snap);
	return rc;
}

int mp_snapshot_read(const char *path, mp_snapshot_t *snap, char *err, size_t err_bytes)
{
	int fd, rc;

	memset(snap, 0, sizeof(*snap));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_bytes, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	return read_fd(fd, path, snap, err, err_bytes);
}

int mp_snapshot_read_mem(const void *data, size_t n, const char *name, mp_snapshot_t *snap,
			 char *err, size_t err_bytes)
{
	int fd = memfd_create("memprof-snapshot", MFD_CLOEXEC), rc;
	size_t done = 0;

	memset(snap, 0, sizeof(*snap));
	if (fd < 0) {
		rc = -errno;
		snprintf(err, err_bytes, "%s: cannot create a memory file: %s", name, strerror(-rc));
		return rc;
	}
	while (done < n) {
		ssize_t w = write(fd, (const char *)data + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			close(fd);
			snprintf(err, err_bytes, "%s: cannot fill a memory file: %s", name, strerror(-rc));
			return rc;
		}
		done += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		rc = -errno;
		close(fd);
		snprintf(err, err_bytes, "%s: cannot rewind a memory file: %s", name, strerror(-rc));
		return rc;
	}
	return read_fd(fd, name, snap, err, err_bytes);
}

void mp_snapshot_free(mp_snapshot_t *snap)
{
	free(snap->meta.exe);
	free(snap->meta.cmdline);
	free(snap->meta.label);
	for (size_t i = 0; i < snap->n_modules; i++)
		free(snap->modules[i].path);
	free(snap->modules);
	free(snap->traces);
	free(snap->frame_pool);
	free(snap->size_classes);
	free(snap->timeline);
	free(snap->peak_sites);
	free(snap->leaks);
	free(snap->module_bounds);
	free(snap->module_at);
	memset(snap, 0, sizeof(*snap));
}

const char *mp_snap_reason_name(uint32_t reason)
{
	switch (reason) {
	case MP_REASON_EXIT: return "exit";
	case MP_REASON_UNDERSCORE_EXIT: return "_exit";
	case MP_REASON_SIGNAL: return "signal";
	case MP_REASON_INTERVAL: return "interval";
	case MP_REASON_REQUEST: return "request";
	case MP_REASON_LEAK_CHECK: return "leak-check";
	case MP_REASON_FATAL_SIGNAL: return "fatal-signal";
	default: return "unknown";
	}
}

const char *mp_leak_kind_name(uint32_t kind)
{
	switch (kind) {
	case MP_LEAK_REACHABLE: return "still reachable";
	case MP_LEAK_POSSIBLE: return "possibly lost";
	case MP_LEAK_INDIRECT: return "indirectly lost";
	case MP_LEAK_DEFINITE: return "definitely lost";
	case MP_LEAK_INTERNAL: return "internal";
	default: return "unknown";
	}
}

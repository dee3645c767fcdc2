/* SPDX-License-Identifier: MIT */
/* Deduplicated stack traces, without a lock: a fixed array of buckets, each a chain of
 * records, newest first. A new record goes in by CAS on its bucket's head; a thread whose CAS
 * fails looks only at the records added since, so that two threads seeing the same new stack
 * at once end with one record. Records are immutable once published, never move or die.
 *
 * Ids come from a counter, and by_id holds each record from before it is published, so any
 * record found has its id's entry. An id can be a hole: its record lost the race above, or
 * its thread is between taking the id and storing the entry (or vanished there, in a fork
 * child). mp_trace_by_id gives an empty record for a hole: no frames, no counts. A fork
 * child can also keep a record stored but never published (its thread vanished before the
 * CAS): the same frames may then get a second id there, whose record has no counts. */
#include "trace_table.h"

#include "options.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <string.h>

#define BUCKETS (1u << 16) /* 512 KiB of heads, touched as traces come */

static _Atomic(struct mp_trace *) *buckets; /* from mmap */
static _Atomic(struct mp_trace *) *by_id;   /* id -> record, MP_TRACE_MAX_ID + 1 of them, mmap */
static atomic_uint next_id;
static struct mp_trace hole; /* what a hole's id stands for: no frames, no counts */

static uint64_t hash_frames(const uintptr_t *frames, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	for (uint32_t i = 0; i < n; i++) {
		h ^= frames[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h | 1; /* never 0 */
}

/* The record for these frames in a chain, from `from` up to (not including) `stop`. */
static struct mp_trace *find(struct mp_trace *from, const struct mp_trace *stop, uint64_t h,
			     const uintptr_t *frames, uint32_t n)
{
	for (struct mp_trace *r = from; r != stop; r = r->next) {
		if (r->hash == h && r->n_frames == n && memcmp(r->frames, frames, n * sizeof(*frames)) == 0)
			return r;
	}
	return NULL;
}

static struct mp_trace *record_new(uint32_t id, uint64_t h, const uintptr_t *frames, uint32_t n)
{
	struct mp_trace *r = mp_arena_alloc(sizeof(*r) + n * sizeof(r->frames[0]));
	if (!r)
		return NULL;
	r->hash = h;
	r->id = id;
	r->n_frames = n;
	if (n) /* the unknown trace has no frames, and may have no array */
		memcpy(r->frames, frames, n * sizeof(*frames));
	return r;
}

int mp_traces_init(void)
{
	by_id = mp_map((MP_TRACE_MAX_ID + 1) * sizeof(*by_id));
	buckets = mp_map(BUCKETS * sizeof(*buckets));
	if (!by_id || !buckets)
		return -ENOMEM;
	/* Trace 0: allocations recorded without a backtrace. In no bucket. */
	struct mp_trace *unknown = record_new(0, 0, NULL, 0);
	if (!unknown)
		return -ENOMEM;
	atomic_store(&by_id[0], unknown);
	atomic_store(&next_id, 1);
	return 0;
}

/* The next id, or -1 when every id is taken (the counter stops at MP_TRACE_MAX_ID + 1). */
static int64_t take_id(void)
{
	uint32_t id = atomic_load_explicit(&next_id, memory_order_relaxed);
	do {
		if (id > MP_TRACE_MAX_ID)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(&next_id, &id, id + 1, memory_order_relaxed,
							memory_order_relaxed));
	return id;
}

struct mp_trace *mp_trace_intern(const uintptr_t *frames, uint32_t n_frames)
{
	MP_ASSERT(n_frames <= MP_MAX_DEPTH);
	uint64_t h = hash_frames(frames, n_frames);
	_Atomic(struct mp_trace *) *bucket = &buckets[(h >> 1) & (BUCKETS - 1)]; /* h's low bit is 1 */
	struct mp_trace *first = atomic_load_explicit(bucket, memory_order_acquire);
	struct mp_trace *r = find(first, NULL, h, frames, n_frames);
	if (r)
		return r;
	int64_t id = take_id();
	struct mp_trace *mine = id < 0 ? NULL : record_new((uint32_t)id, h, frames, n_frames);
	if (!mine)
		return NULL; /* out of ids or memory; a taken id stays a hole */
	atomic_store_explicit(&by_id[id], mine, memory_order_release);
	for (;;) {
		mine->next = first;
		if (atomic_compare_exchange_weak_explicit(bucket, &first, mine, memory_order_release,
							  memory_order_acquire))
			return mine;
		/* Records came in since `first` was read: one may be these frames. */
		r = find(first, mine->next, h, frames, n_frames);
		if (r) {
			atomic_store_explicit(&by_id[id], NULL, memory_order_relaxed);
			return r;
		}
	}
}

struct mp_trace *mp_trace_by_id(uint32_t id)
{
	struct mp_trace *r = atomic_load_explicit(&by_id[id], memory_order_acquire);
	return r ? r : &hole;
}

uint32_t mp_trace_count(void)
{
	return atomic_load_explicit(&next_id, memory_order_acquire);
}

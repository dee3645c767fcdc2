/* SPDX-License-Identifier: MIT */
/* Deduplicated stack traces. Lookups are lock-free; a new trace is added under a spinlock
 * (new call stacks are rare next to lookups), and records are immutable once published, so a
 * reader holding an older table still sees valid records. Records never move or die. */
#include "trace_table.h"

#include "options.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <string.h>

struct table {
	size_t mask;
	_Atomic(struct mp_trace *) slots[];
};

static _Atomic(struct table *) current;
static struct mp_trace **by_id; /* id -> record, MP_TRACE_MAX_ID + 1 entries, from mmap */
static atomic_uint n_traces;
static mp_spinlock_t insert_lock = MP_SPINLOCK_INIT(MP_RANK_TRACES);

void mp_traces_lock(void)
{
	mp_spin_lock(&insert_lock);
}

void mp_traces_unlock(void)
{
	mp_spin_unlock(&insert_lock);
}

static struct table *table_new(size_t cap)
{
	struct table *t = mp_map(sizeof(*t) + cap * sizeof(t->slots[0]));
	if (t)
		t->mask = cap - 1;
	return t;
}

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

static struct mp_trace *find(struct table *t, uint64_t h, const uintptr_t *frames, uint32_t n)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct mp_trace *r = atomic_load_explicit(&t->slots[i], memory_order_acquire);
		if (!r)
			return NULL;
		if (r->hash == h && r->n_frames == n && memcmp(r->frames, frames, n * sizeof(*frames)) == 0)
			return r;
	}
}

static void place(struct table *t, struct mp_trace *r)
{
	size_t i = r->hash & t->mask;
	while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
		i = (i + 1) & t->mask;
	atomic_store_explicit(&t->slots[i], r, memory_order_release);
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
	struct table *t = table_new(1u << 12);
	if (!by_id || !t)
		return -ENOMEM;
	atomic_store(&current, t);
	/* Trace 0: allocations recorded without a backtrace. */
	struct mp_trace *unknown = record_new(0, 0, NULL, 0);
	if (!unknown)
		return -ENOMEM;
	by_id[0] = unknown;
	atomic_store(&n_traces, 1);
	return 0;
}

struct mp_trace *mp_trace_intern(const uintptr_t *frames, uint32_t n_frames)
{
	MP_ASSERT(n_frames <= MP_MAX_DEPTH);
	uint64_t h = hash_frames(frames, n_frames);
	struct mp_trace *r = find(atomic_load_explicit(&current, memory_order_acquire), h, frames, n_frames);
	if (r)
		return r;

	mp_spin_lock(&insert_lock);
	struct table *t = atomic_load_explicit(&current, memory_order_relaxed);
	r = find(t, h, frames, n_frames);
	uint32_t id = atomic_load_explicit(&n_traces, memory_order_relaxed);
	if (!r && id <= MP_TRACE_MAX_ID) {
		if ((id + 1) * 2 > t->mask + 1) {
			/* Grow: readers of the old table still find every record it had. */
			struct table *bigger = table_new((t->mask + 1) * 4);
			if (bigger) {
				for (size_t i = 0; i <= t->mask; i++) {
					struct mp_trace *old = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
					if (old)
						place(bigger, old);
				}
				atomic_store_explicit(&current, bigger, memory_order_release);
				t = bigger;
			}
		}
		if ((id + 1) * 4 <= (t->mask + 1) * 3 && (r = record_new(id, h, frames, n_frames))) {
			by_id[id] = r;
			atomic_store_explicit(&n_traces, id + 1, memory_order_release);
			place(t, r);
		}
	}
	mp_spin_unlock(&insert_lock);
	return r;
}

struct mp_trace *mp_trace_by_id(uint32_t id)
{
	return by_id[id];
}

uint32_t mp_trace_count(void)
{
	return atomic_load_explicit(&n_traces, memory_order_acquire);
}

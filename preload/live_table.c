/* SPDX-License-Identifier: MIT */
/* Live blocks: pointer -> {size, trace id}, lock-free on the malloc/free path.
 *
 * An open-addressing table with linear probing. Keys are block addresses (16-aligned, so the
 * low bits are free for states): EMPTY, TOMB (removed), key|CLAIM (being inserted), key|MOVING
 * (being moved to a newer table). Each address is inserted and removed by one thread at a time
 * (malloc returns it to one caller; free must come after), which is what makes lock-free
 * tombstone reuse safe.
 *
 * Growth: a new table becomes the head; its `older` points at the previous one while the
 * grower moves every entry across (key -> key|MOVING, insert into the new table, -> TOMB),
 * then the old slots are returned to the kernel with MADV_DONTNEED (reads see zeroes, which
 * means EMPTY, so a late reader stops at once). An inserter that finds the head changed
 * under it moves its own entry; a remover probes the older table first, then the head, and
 * retries when the head changed: the order of these steps (all seq_cst) guarantees that a key
 * present in some table is found. Only growth takes a lock, and only growers wait on it. */
#include "live_table.h"

#include "arch.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>

#define EMPTY ((uintptr_t)0)
#define TOMB ((uintptr_t)1)
#define MOVING ((uintptr_t)2)
#define CLAIM ((uintptr_t)4)
#define STATE_BITS (MOVING | CLAIM)
#define N_STRIPES 16
#define HEADER_BYTES 4096
#define INITIAL_CAP (1u << 16)
#define CHECK_EVERY 128

struct slot {
	_Atomic uintptr_t key;
	_Atomic uint64_t meta;
};

/* Counters striped by thread, so that threads do not share a line. */
struct stripe {
	_Alignas(MP_CACHELINE) atomic_long used; /* slots that left EMPTY */
	atomic_long live;
};

struct ltable {
	size_t cap, mask, limit, map_bytes;
	_Atomic(struct ltable *) older;
	/* While `older` is being moved in: how many more entries other threads may claim, so
	 * that the mover always finds room (0 until the mover has counted what it moves). */
	atomic_long budget;
	struct stripe stripes[N_STRIPES];
	_Alignas(HEADER_BYTES) struct slot slots[];
};
_Static_assert(sizeof(struct ltable) == HEADER_BYTES, "slots start on their own page");

static _Atomic(struct ltable *) head;
static mp_spinlock_t grow_lock = MP_SPINLOCK_INIT(MP_RANK_LIVE_GROWTH);
static atomic_uint next_stripe;
static MP_TLS unsigned my_stripe; /* 1 + stripe index; 0 until assigned */
static MP_TLS unsigned inserts_since_check;
/* This thread's counts not yet added to its stripe of `pend_table`: a stripe is shared by
 * every 16th thread, so its updates are atomic, and batched to keep them off the hot path. */
static MP_TLS struct ltable *pend_table;
static MP_TLS long pend_used, pend_live;

static struct stripe *stripe_of(struct ltable *t)
{
	if (MP_UNLIKELY(!my_stripe))
		my_stripe = 1 + atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) % N_STRIPES;
	return &t->stripes[my_stripe - 1];
}

static void flush_pending(void)
{
	if (pend_table) {
		struct stripe *st = stripe_of(pend_table);
		atomic_fetch_add_explicit(&st->used, pend_used, memory_order_relaxed);
		atomic_fetch_add_explicit(&st->live, pend_live, memory_order_relaxed);
	}
	pend_used = pend_live = 0;
}

void mp_live_thread_exit(void)
{
	flush_pending();
	pend_table = NULL;
}

static void count(struct ltable *t, long used, long live)
{
	if (MP_UNLIKELY(pend_table != t)) {
		flush_pending();
		pend_table = t;
	}
	pend_used += used;
	pend_live += live;
	if (MP_UNLIKELY(pend_used >= 64 || pend_live >= 64 || pend_live <= -64))
		flush_pending();
}

static long sum(struct ltable *t, int live)
{
	long s = 0;
	for (int i = 0; i < N_STRIPES; i++)
		s += atomic_load_explicit(live ? &t->stripes[i].live : &t->stripes[i].used, memory_order_relaxed);
	return s;
}

static size_t home(const struct ltable *t, uintptr_t key)
{
	return (size_t)(((key >> 4) * 0x9e3779b97f4a7c15ull) >> 20) & t->mask;
}

static struct ltable *table_new(size_t cap)
{
	size_t bytes = HEADER_BYTES + cap * sizeof(struct slot);
	struct ltable *t = mp_map(bytes);
	if (!t)
		return NULL;
	t->cap = cap;
	t->mask = cap - 1;
	t->limit = cap / 4 * 3;
	t->map_bytes = bytes;
	return t;
}

/* Claim a free slot for key and fill it. Returns the slot, or NULL when the table is full. */
static struct slot *claim(struct ltable *t, uintptr_t key, uint64_t meta)
{
	size_t i = home(t, key);
	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];
		uintptr_t v = atomic_load(&s->key);
		if (v != EMPTY && v != TOMB)
			continue;
		if (!atomic_compare_exchange_strong(&s->key, &v, key | CLAIM))
			continue;
		atomic_store_explicit(&s->meta, meta, memory_order_relaxed);
		/* Release is enough: the CAS above already ordered the claim before the caller's
		 * load of the head, which is what growth relies on. */
		atomic_store_explicit(&s->key, key, memory_order_release);
		count(t, v == EMPTY, 1);
		return s;
	}
	return NULL;
}

enum { NOT_FOUND, FOUND, IS_MOVING };

static int probe_remove(struct ltable *t, uintptr_t key, uint64_t *meta, struct slot **where)
{
	size_t i = home(t, key);
	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];
		uintptr_t v = atomic_load(&s->key);
		if (v == EMPTY)
			return NOT_FOUND;
		if (v == key) {
			uint64_t m = atomic_load_explicit(&s->meta, memory_order_relaxed);
			if (atomic_compare_exchange_strong(&s->key, &v, TOMB)) {
				count(t, 0, -1);
				*meta = m;
				return FOUND;
			}
		}
		if (v == (key | MOVING)) {
			*where = s;
			return IS_MOVING;
		}
	}
	return NOT_FOUND;
}

static void wait_while(struct slot *s, uintptr_t v)
{
	for (unsigned spins = 0; atomic_load(&s->key) == v; spins++) {
		if (spins > 64)
			sched_yield();
		else
			mp_cpu_relax();
	}
}

static int grow(struct ltable *t);

void (*mp_live_grow_hook)(void);

/* Takes one claim of t's budget while an older table is being moved into it; false (and
 * nothing taken) when the budget is spent: the caller waits for the move to finish. */
static int take_budget(struct ltable *t)
{
	if (atomic_fetch_sub(&t->budget, 1) > 0)
		return 1;
	atomic_fetch_add(&t->budget, 1);
	return 0;
}

static void wait_for_move(struct ltable *t)
{
	for (unsigned spins = 0; atomic_load(&t->older); spins++) {
		if (spins > 64)
			sched_yield();
		else
			mp_cpu_relax();
	}
}

static int insert(uintptr_t key, uint64_t meta)
{
	for (;;) {
		struct ltable *t = atomic_load(&head);
		if (MP_UNLIKELY(atomic_load_explicit(&t->older, memory_order_relaxed) != NULL) &&
		    atomic_load(&t->older) && !take_budget(t)) {
			wait_for_move(t);
			continue;
		}
		if (MP_UNLIKELY(++inserts_since_check >= CHECK_EVERY)) {
			inserts_since_check = 0;
			if ((size_t)sum(t, 0) >= t->limit) {
				if (grow(t) < 0 && (size_t)sum(t, 0) >= t->cap - t->cap / 16)
					return -ENOMEM;
				continue;
			}
		}
		struct slot *s = claim(t, key, meta);
		if (!s) {
			if (grow(t) < 0)
				return -ENOMEM;
			continue;
		}
		if (MP_LIKELY(atomic_load(&head) == t))
			return 0;
		/* The table grew under us and the grower may have passed this slot: move the entry
		 * ourselves unless the grower already did. */
		uintptr_t v = key;
		if (atomic_compare_exchange_strong(&s->key, &v, key | MOVING)) {
			int r = insert(key, meta);
			atomic_store(&s->key, TOMB);
			return r;
		}
		if (v == (key | MOVING))
			return 0; /* the grower is moving it */
		/* The grower moved it (TOMB), or the old slots were dropped and perhaps reused by a
		 * late inserter (EMPTY, another key): it is in the new table or in none. */
		uint64_t m;
		if (mp_live_remove(key, &m) == 0)
			m = meta;
		return insert(key, m);
	}
}

int mp_live_insert(uintptr_t ptr, uint64_t meta)
{
	return insert(ptr, meta);
}

int mp_live_remove(uintptr_t ptr, uint64_t *meta)
{
	for (;;) {
		struct ltable *t = atomic_load(&head);
		struct ltable *o = atomic_load(&t->older);
		struct slot *s = NULL;
		int r = NOT_FOUND;
		if (o)
			r = probe_remove(o, ptr, meta, &s);
		if (r == NOT_FOUND)
			r = probe_remove(t, ptr, meta, &s);
		if (r == FOUND)
			return 1;
		if (r == IS_MOVING) {
			wait_while(s, ptr | MOVING);
			continue;
		}
		if (atomic_load(&head) == t)
			return 0;
	}
}

static int grow(struct ltable *t)
{
	mp_spin_lock(&grow_lock);
	if (atomic_load(&head) != t) {
		mp_spin_unlock(&grow_lock);
		return 0;
	}
	size_t live = (size_t)(sum(t, 1) > 0 ? sum(t, 1) : 0);
	size_t cap = t->cap;
	if (live >= cap / 8 * 3)
		cap *= 2;
	struct ltable *n = table_new(cap);
	if (!n) {
		mp_spin_unlock(&grow_lock);
		return -ENOMEM;
	}
	atomic_store(&n->older, t);
	atomic_store(&head, n);
	/* Count what is to move (t takes no new claims now, but may finish some), then let
	 * other threads claim what is left of n: with the mover's entries, never more than n
	 * holds. Without this, hundreds of threads inserting during the move could fill n, and
	 * the mover would wait forever for a free slot, holding the lock they wait on. */
	size_t to_move = 0;
	for (size_t i = 0; i < t->cap; i++) {
		uintptr_t v;
		while ((v = atomic_load(&t->slots[i].key)) & CLAIM)
			mp_cpu_relax();
		to_move += v != EMPTY && v != TOMB && !(v & MOVING);
	}
	long spare = (long)(n->cap - n->cap / 16) - (long)to_move;
	atomic_store(&n->budget, spare > 0 ? spare : 0);
	if (mp_live_grow_hook)
		mp_live_grow_hook();
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *s = &t->slots[i];
		uintptr_t v;
		while ((v = atomic_load(&s->key)) & CLAIM)
			mp_cpu_relax();
		if (v == EMPTY || v == TOMB || (v & MOVING))
			continue;
		if (!atomic_compare_exchange_strong(&s->key, &v, v | MOVING))
			continue; /* removed or moved meanwhile */
		uint64_t meta = atomic_load_explicit(&s->meta, memory_order_relaxed);
		while (!claim(n, v, meta)) /* cannot happen: the budget leaves room for it */
			sched_yield();
		atomic_store(&s->key, TOMB);
	}
	atomic_store(&n->older, NULL);
	madvise(t->slots, t->cap * sizeof(struct slot), MADV_DONTNEED);
	mp_spin_unlock(&grow_lock);
	return 0;
}

int mp_live_init(void)
{
	struct ltable *t = table_new(INITIAL_CAP);
	if (!t)
		return -ENOMEM;
	atomic_store(&head, t);
	return 0;
}

uint64_t mp_live_count(void)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	long n = sum(t, 1) + (o ? sum(o, 1) : 0);
	return n > 0 ? (uint64_t)n : 0;
}

size_t mp_live_table_bytes(void)
{
	struct ltable *t = atomic_load(&head);
	return t->map_bytes;
}

void mp_live_lock_growth(void)
{
	mp_spin_lock(&grow_lock);
}

/* In a fork child, threads that were inserting or moving an entry are gone: settle their
 * slots so that nobody waits for them. Called with the growth lock held. */
static void settle_orphans(struct ltable *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		uintptr_t v = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
		if (v > TOMB && (v & STATE_BITS))
			atomic_store_explicit(&t->slots[i].key, TOMB, memory_order_relaxed);
	}
}

void mp_live_unlock_growth(void)
{
	mp_spin_unlock(&grow_lock);
}

void mp_live_after_fork_child(void)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	settle_orphans(t);
	if (o)
		settle_orphans(o);
	mp_spin_unlock(&grow_lock);
}

/* An upper bound for mp_live_collect's count. */
size_t mp_live_capacity(void)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	return t->cap + (o ? o->cap : 0);
}

static size_t collect(struct ltable *t, struct mp_live_entry *out, size_t n, size_t cap)
{
	for (size_t i = 0; i < t->cap && n < cap; i++) {
		uintptr_t v = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
		if (v == EMPTY || v == TOMB || (v & CLAIM))
			continue; /* free, or an insertion not finished: not yet a live block */
		out[n].ptr = v & ~MOVING;
		out[n].meta = atomic_load_explicit(&t->slots[i].meta, memory_order_relaxed);
		n++;
	}
	return n;
}

/* Copy every entry into out (at most cap), in table order. An entry being moved by a growth
 * may appear twice (old and new table): the caller removes duplicates. Lock-free: safe with
 * the other threads stopped anywhere, even inside this file. */
size_t mp_live_collect(struct mp_live_entry *out, size_t cap)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	size_t n = collect(t, out, 0, cap);
	if (o)
		n = collect(o, out, n, cap);
	return n;
}

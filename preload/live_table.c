/* SPDX-License-Identifier: MIT */
/* Live blocks: pointer -> {size, trace id}, lock-free on the malloc/free path.
 *
 * An open-addressing table with linear probing. A slot is two words, key and meta, that an
 * insert fills in one compare-and-swap of both (mp_cas_pair), so that no one ever sees a key
 * half inserted. Keys are block addresses (16-aligned, so the low bits are free for states):
 * EMPTY, TOMB (removed), key (live), key|MOVING (being moved to a newer table), key|CLAIM (a
 * mover's copy in the newer table, not yet published) and key|FREED (removed while being
 * moved). Each address is inserted and removed by one thread at a time (malloc returns it to
 * one caller; free must come after), which is what makes lock-free tombstone reuse safe.
 *
 * Growth: a new table becomes the head; its `older` points at the previous one while the
 * entries move across. No thread moves them all: every insert into the head, and every
 * remove, moves the next MOVE_CHUNK slots' entries first, so a growth costs no one malloc or
 * free more than that, and the old table is empty after cap / MOVE_CHUNK of them. The thread
 * that moves the last chunk returns the old slots to the kernel with MADV_DONTNEED (reads see
 * zeroes, which means EMPTY, so a late reader stops at once). An inserter that finds the head
 * changed under it moves its own entry.
 *
 * A move never makes anyone wait. The mover marks the old slot key|MOVING, copies the entry
 * into the new table as key|CLAIM, then commits by turning the old slot to TOMB and
 * publishes the copy (CLAIM -> key). A remove that meets key|MOVING takes the entry there
 * (-> key|FREED) instead of waiting: the mover's commit then fails, and it drops its copy
 * and frees the old slot. A remove that meets only key|CLAIM in a table takes that (a
 * committed copy, not yet published); it takes a plain key first, as a copy left by a move
 * that a remove overtook belongs to an address that has been handed out again. A remover
 * probes the older table first, then the head, and retries when the head changed: the key
 * is always in the older table (key, key|MOVING) until the commit, and in the head from then
 * on, and these steps are all seq_cst, so a key present in some table is found.
 *
 * The head cannot fill while it is being moved into. Its size is chosen for an upper bound
 * of the old table's entries that does not trust the batched counts (each thread may hold up
 * to 63 uncounted, see count()), and inserts of new keys into it during the move take a
 * budget of what is left: the movers always find room. An insert waits for the move to end
 * only when that budget is spent, which takes about a quarter of the head's slots in new
 * keys while the move is not over (one thread stopped for good in the middle of a chunk,
 * say). The head does not grow again until the move is over. Only making a new table takes a
 * lock (a trylock: another thread making one means there is room left in the old). */
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
#define FREED (MOVING | CLAIM)
#define STATE_BITS (MOVING | CLAIM)
#define N_STRIPES 16
#define HEADER_BYTES 4096
#define INITIAL_CAP (1u << 16)
#define CHECK_EVERY 128
#define MOVE_CHUNK 16
#define LONG_PROBE 64 /* a claim that probed this many slots checks the fill level */

struct slot {
	_Atomic uintptr_t key;
	_Atomic uint64_t meta;
};
_Static_assert(sizeof(struct slot) == 16, "a slot is the pair that mp_cas_pair swaps");

/* Counters striped by thread, so that threads do not share a line. */
struct stripe {
	_Alignas(MP_CACHELINE) atomic_long used; /* slots that left EMPTY */
	atomic_long live;
};

struct ltable {
	size_t cap, mask, limit, map_bytes;
	_Atomic(struct ltable *) older;
	/* While `older` is being moved in: the first of its slots that no thread has taken to
	 * move yet, how many have been moved (or found with nothing to move), and how many
	 * new keys may still be inserted before the move is over. */
	atomic_size_t move_next, move_done;
	atomic_long budget;
	atomic_long moved; /* entries moved in, still counted live in `older` too */
	struct stripe stripes[N_STRIPES];
	_Alignas(HEADER_BYTES) struct slot slots[];
};
_Static_assert(sizeof(struct ltable) == HEADER_BYTES, "slots start on their own page");

static _Atomic(struct ltable *) head;
static mp_spinlock_t grow_lock = MP_SPINLOCK_INIT(MP_RANK_LIVE_GROWTH);
static atomic_uint next_stripe;
static atomic_uint stripes_left; /* by threads that ended: next_stripe - stripes_left still count */
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
	if (my_stripe) {
		my_stripe = 0;
		atomic_fetch_add_explicit(&stripes_left, 1, memory_order_relaxed);
	}
}

static void count(struct ltable *t, long used, long live)
{
	if (MP_UNLIKELY(pend_table != t)) {
		flush_pending();
		pend_table = t;
		(void)stripe_of(t); /* counted among the threads that may hold counts (uncounted) */
	}
	pend_used += used;
	pend_live += live;
	if (MP_UNLIKELY(pend_used >= 64 || pend_live >= 64 || pend_live <= -64))
		flush_pending();
}

/* What the threads' batches may hold that sum() does not see, at most. */
static size_t uncounted_bound(void)
{
	unsigned counting = atomic_load(&next_stripe) - atomic_load(&stripes_left);
	return 64 * (size_t)counting;
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

/* Fill a free slot with key (a key and its state bits) and meta, both in one step. Returns
 * the slot, or NULL when the table is full; *probes: how many slots it looked at. The swap is
 * seq_cst, which orders it before the caller's load of the head, as growth relies on. */
static struct slot *claim(struct ltable *t, uintptr_t key, uint64_t meta, size_t *probes)
{
	size_t i = home(t, key);
	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];
		uint64_t seen[2] = { atomic_load(&s->key), atomic_load_explicit(&s->meta, memory_order_relaxed) };
		while (seen[0] == EMPTY || seen[0] == TOMB) {
			if (mp_cas_pair(s, seen, key, meta)) {
				count(t, seen[0] == EMPTY, 1);
				*probes = n;
				return s;
			}
		}
	}
	*probes = t->cap;
	return NULL;
}

enum { NOT_FOUND, FOUND, RETRY };

/* Takes key out of t: a live entry (-> TOMB), an entry being moved (-> FREED: its mover
 * drops the copy) or, when t holds neither, a mover's committed copy (CLAIM -> TOMB; see the
 * top of the file). RETRY: that copy was published or dropped meanwhile. */
static int probe_remove(struct ltable *t, uintptr_t key, uint64_t *meta)
{
	struct slot *copy = NULL;
	size_t i = home(t, key);
	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];
		uintptr_t v = atomic_load(&s->key);
		if (v == EMPTY)
			break;
		while (v == key || v == (key | MOVING)) {
			uint64_t m = atomic_load_explicit(&s->meta, memory_order_relaxed);
			if (atomic_compare_exchange_strong(&s->key, &v, v == key ? TOMB : key | FREED)) {
				count(t, 0, -1);
				*meta = m;
				return FOUND;
			} /* else a mover marked it, or committed its move: v is what it is now */
		}
		if (v == (key | CLAIM) && !copy)
			copy = s;
	}
	if (!copy)
		return NOT_FOUND;
	uintptr_t v = key | CLAIM;
	uint64_t m = atomic_load_explicit(&copy->meta, memory_order_relaxed);
	if (!atomic_compare_exchange_strong(&copy->key, &v, TOMB))
		return RETRY;
	count(t, 0, -1);
	*meta = m;
	return FOUND;
}

static int grow(struct ltable *t);

/* Tests' hooks: after a growth (in the grower), and in a move after the copy is made (0) and
 * after the move is committed (1). */
void (*mp_live_grow_hook)(void);
void (*mp_live_move_hook)(uintptr_t key, int committed);

/* Slot i of o into n, unless it is free, removed or being moved by its inserter (see the
 * top of the file for the steps). 1 when an entry was moved. */
static int move_slot(struct ltable *o, struct ltable *n, size_t i)
{
	struct slot *s = &o->slots[i];
	uintptr_t v = atomic_load(&s->key);
	if (v == EMPTY || v == TOMB || (v & STATE_BITS))
		return 0;
	if (!atomic_compare_exchange_strong(&s->key, &v, v | MOVING))
		return 0; /* removed or moved meanwhile */
	uint64_t meta = atomic_load_explicit(&s->meta, memory_order_relaxed);
	struct slot *copy;
	size_t probes;
	while (!(copy = claim(n, v | CLAIM, meta, &probes))) /* cannot happen: the head has room (above) */
		sched_yield();
	if (MP_UNLIKELY(mp_live_move_hook != NULL))
		mp_live_move_hook(v, 0);
	uintptr_t marked = v | MOVING, unpublished = v | CLAIM;
	if (atomic_compare_exchange_strong(&s->key, &marked, TOMB)) {
		if (MP_UNLIKELY(mp_live_move_hook != NULL))
			mp_live_move_hook(v, 1);
		atomic_compare_exchange_strong(&copy->key, &unpublished, v); /* else a remove took it */
		return 1;
	}
	/* Removed while being moved (FREED): the copy goes, then the old slot. */
	if (atomic_compare_exchange_strong(&copy->key, &unpublished, TOMB))
		count(n, 0, -1);
	atomic_store(&s->key, TOMB);
	return 0;
}

/* Moves the next chunk of n's older table into n; the thread that ends the move drops the
 * old slots. Returns 0 when there was nothing left to take. */
static int move_chunk(struct ltable *n)
{
	struct ltable *o = atomic_load(&n->older);
	if (!o)
		return 0;
	size_t start = atomic_fetch_add(&n->move_next, MOVE_CHUNK);
	if (start >= o->cap)
		return 0; /* the other chunks are taken: their movers end the move */
	size_t end = start + MOVE_CHUNK < o->cap ? start + MOVE_CHUNK : o->cap;
	long moved = 0;
	for (size_t i = start; i < end; i++)
		moved += move_slot(o, n, i);
	/* Counted live in n by claim and still in o's count, which grow() reads as what is
	 * to be moved: mp_live_count subtracts them. */
	if (moved)
		atomic_fetch_add_explicit(&n->moved, moved, memory_order_relaxed);
	if (atomic_fetch_add(&n->move_done, end - start) + (end - start) == o->cap) {
		atomic_store(&n->older, NULL);
		madvise(o->slots, o->cap * sizeof(struct slot), MADV_DONTNEED);
	}
	return 1;
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

/* During a move: 1 when the caller may insert a new key into t, after moving a chunk; 0
 * when t's budget is spent and the move is over by now. */
static int admit(struct ltable *t)
{
	move_chunk(t);
	while (atomic_fetch_sub(&t->budget, 1) <= 0) {
		atomic_fetch_add(&t->budget, 1);
		if (!move_chunk(t)) {
			wait_for_move(t);
			return 0;
		}
	}
	return 1;
}

static int insert(uintptr_t key, uint64_t meta)
{
	for (;;) {
		struct ltable *t = atomic_load(&head);
		int moving = atomic_load_explicit(&t->older, memory_order_relaxed) != NULL;
		if (MP_UNLIKELY(moving) && !admit(t))
			continue;
		/* The fill level, every CHECK_EVERY inserts of a thread and after a long probe
		 * (a thread too young to have checked, among many). */
		if (MP_UNLIKELY(++inserts_since_check >= CHECK_EVERY) && !moving) {
			inserts_since_check = 0;
			if ((size_t)sum(t, 0) + uncounted_bound() >= t->limit) {
				if (grow(t) < 0 && (size_t)sum(t, 0) >= t->cap - t->cap / 16)
					return -ENOMEM;
				continue;
			}
		}
		size_t probes = 0;
		struct slot *s = claim(t, key, meta, &probes);
		if (MP_UNLIKELY(probes >= LONG_PROBE) && !moving)
			inserts_since_check = CHECK_EVERY;
		if (!s) {
			int g = moving ? 1 : grow(t); /* moving: cannot happen (above) */
			if (g < 0)
				return -ENOMEM;
			if (g > 0)
				sched_yield();
			continue;
		}
		if (MP_LIKELY(atomic_load(&head) == t))
			return 0;
		/* The table grew under us and the movers may have passed this slot: move the entry
		 * ourselves unless one of them did. */
		uintptr_t v = key;
		if (atomic_compare_exchange_strong(&s->key, &v, key | MOVING)) {
			int r = insert(key, meta);
			atomic_store(&s->key, TOMB);
			count(t, 0, -1);
			return r;
		}
		if (v == (key | MOVING))
			return 0; /* a mover is moving it */
		/* A mover moved it (TOMB), or the old slots were dropped and perhaps reused by a
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

/* A remove moves a chunk too, so that a move ends even when the program only frees; it
 * never waits for another thread. */
int mp_live_remove(uintptr_t ptr, uint64_t *meta)
{
	struct ltable *h = atomic_load(&head);
	if (MP_UNLIKELY(atomic_load_explicit(&h->older, memory_order_relaxed) != NULL))
		move_chunk(h);
	for (;;) {
		struct ltable *t = atomic_load(&head);
		struct ltable *o = atomic_load(&t->older);
		int r = NOT_FOUND;
		if (o)
			r = probe_remove(o, ptr, meta);
		if (r == NOT_FOUND)
			r = probe_remove(t, ptr, meta);
		if (r == FOUND)
			return 1;
		if (r == NOT_FOUND && atomic_load(&head) == t)
			return 0;
	}
}

/* At most this many entries in t to move: the counted ones (moves do not lower t's count),
 * and what every thread that counts may hold uncounted or be inserting. */
static size_t to_move(struct ltable *t)
{
	long counted = sum(t, 1);
	size_t bound = (size_t)(counted > 0 ? counted : 0) + uncounted_bound();
	return bound < t->cap ? bound : t->cap;
}

/* Makes a new head for t, the old one being moved into it from now on (move_chunk): 0, or 1
 * when another thread is making one (the caller tries again), or -ENOMEM. */
static int grow(struct ltable *t)
{
	if (!mp_spin_trylock(&grow_lock))
		return 1;
	if (atomic_load(&head) != t) {
		mp_spin_unlock(&grow_lock);
		return 0;
	}
	/* Sized so that the new keys' budget is at least a quarter of the head, for what is to
	 * move as counted now. */
	size_t cap = t->cap, estimate = to_move(t);
	while (cap - cap / 16 < estimate + cap / 4)
		cap *= 2;
	struct ltable *n = table_new(cap);
	if (!n) {
		mp_spin_unlock(&grow_lock);
		return -ENOMEM;
	}
	atomic_store(&n->older, t);
	atomic_store(&head, n);
	/* Counted again now that no new key goes into t (but one in flight per thread, which
	 * the bound covers): inserts made while n was being mapped are in. Until the budget is
	 * set, inserts move chunks. */
	size_t bound = to_move(t);
	atomic_store(&n->budget, bound < cap - cap / 16 ? (long)(cap - cap / 16 - bound) : 0);
	mp_spin_unlock(&grow_lock);
	if (mp_live_grow_hook)
		mp_live_grow_hook();
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
	long n = sum(t, 1) + (o ? sum(o, 1) - atomic_load(&t->moved) : 0);
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

/* The slot of t that holds key in exactly the state `state` (0: live), or NULL. */
static struct slot *find(struct ltable *t, uintptr_t key, uintptr_t state)
{
	size_t i = home(t, key);
	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & t->mask) {
		uintptr_t v = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
		if (v == EMPTY)
			return NULL;
		if (v == (key | state))
			return &t->slots[i];
	}
	return NULL;
}

/* The slot of the older table o where key is being moved (MOVING or FREED), or NULL. */
static struct slot *being_moved(struct ltable *o, uintptr_t key)
{
	struct slot *s = find(o, key, MOVING);
	return s ? s : find(o, key, FREED);
}

/* In a fork child, the threads that were moving an entry are gone: settle their slots, as
 * their next steps would have. In the head t, a copy whose move was committed (the old slot
 * is TOMB) is published; a copy not committed is dropped and the entry stays in the older
 * table o (or goes, if it was removed meanwhile). Then in o, an entry still marked stays,
 * unless it reached t already (its own inserter was moving it). Called with the growth lock
 * held. */
static void settle_orphans(struct ltable *t, struct ltable *o)
{
	for (size_t i = 0; i < t->cap; i++) {
		uintptr_t v = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
		if (v <= TOMB || !(v & STATE_BITS))
			continue;
		uintptr_t key = v & ~STATE_BITS;
		struct slot *src = (v & STATE_BITS) == CLAIM && o ? being_moved(o, key) : NULL;
		atomic_store_explicit(&t->slots[i].key, src ? TOMB : key, memory_order_relaxed);
	}
	for (size_t i = 0; o && i < o->cap; i++) {
		uintptr_t v = atomic_load_explicit(&o->slots[i].key, memory_order_relaxed);
		if (v <= TOMB || !(v & STATE_BITS))
			continue;
		uintptr_t key = v & ~STATE_BITS;
		int gone = (v & STATE_BITS) != MOVING || find(t, key, 0);
		atomic_store_explicit(&o->slots[i].key, gone ? TOMB : key, memory_order_relaxed);
	}
}

void mp_live_unlock_growth(void)
{
	mp_spin_unlock(&grow_lock);
}

/* The counts as the slots show them: the threads that held some uncounted are gone. */
static void recount(struct ltable *t)
{
	long used = 0, live = 0;
	for (size_t i = 0; i < t->cap; i++) {
		uintptr_t v = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
		used += v != EMPTY;
		live += v > TOMB;
	}
	for (int i = 0; i < N_STRIPES; i++) {
		atomic_store_explicit(&t->stripes[i].used, i ? 0 : used, memory_order_relaxed);
		atomic_store_explicit(&t->stripes[i].live, i ? 0 : live, memory_order_relaxed);
	}
}

void mp_live_after_fork_child(void)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	settle_orphans(t, o);
	recount(t);
	if (o) {
		recount(o);
		atomic_store(&t->moved, 0);
		/* The chunks that the parent's other threads had taken may not be done: the
		 * child moves every chunk again (what was moved is TOMB there now). */
		atomic_store(&t->move_done, 0);
		atomic_store(&t->move_next, 0);
	}
	pend_table = NULL;
	pend_used = pend_live = 0;
	atomic_store(&stripes_left, atomic_load(&next_stripe) - (my_stripe ? 1 : 0));
	mp_spin_unlock(&grow_lock);
}

/* An upper bound for mp_live_collect's count. */
size_t mp_live_capacity(void)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	return t->cap + (o ? o->cap : 0);
}

/* t's entries into out; o: the table being moved into t, or NULL. */
static size_t collect(struct ltable *t, struct ltable *o, struct mp_live_entry *out, size_t n, size_t cap)
{
	for (size_t i = 0; i < t->cap && n < cap; i++) {
		uintptr_t v = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
		if (v == EMPTY || v == TOMB || (v & STATE_BITS) == FREED)
			continue;
		/* A mover's copy counts once its move is committed (the entry has left o). */
		if ((v & STATE_BITS) == CLAIM && o && being_moved(o, v & ~STATE_BITS))
			continue;
		out[n].ptr = v & ~STATE_BITS;
		out[n].meta = atomic_load_explicit(&t->slots[i].meta, memory_order_relaxed);
		n++;
	}
	return n;
}

/* Copy every entry into out (at most cap). An entry being moved by a growth
 * may appear twice (old and new table): the caller removes duplicates. Lock-free: safe with
 * the other threads stopped anywhere, even inside this file. */
size_t mp_live_collect(struct mp_live_entry *out, size_t cap)
{
	struct ltable *t = atomic_load(&head);
	struct ltable *o = atomic_load(&t->older);
	/* The older first: entries move only from it to the head, so one moved while this
	 * runs (by a thread the leak scan could not stop) is seen at least once. */
	size_t n = o ? collect(o, NULL, out, 0, cap) : 0;
	return collect(t, o, out, n, cap);
}

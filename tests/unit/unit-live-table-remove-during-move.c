/* SPDX-License-Identifier: MIT */
/* A free never waits for the thread that is moving its block to a grown table: a hook stops
 * the mover in the middle of a move (after it has copied the entry, and again after it has
 * committed the move but before it has published the copy), and another thread then frees
 * the block, has its address handed out again, frees that and has it handed out a third time.
 * Each remove must end while the mover is stopped, find the entry with the metadata of its
 * own insert (never the mover's stale copy), and at the end every key must be in the table
 * exactly once with its last metadata, with the count exact. */
#include "live_table.h"
#include "state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void (*mp_live_move_hook)(uintptr_t key, int committed);

#define KEYS 70000 /* past the initial table's fill limit, and enough inserts after to end the move */
#define EVERY 97   /* one key in this many is freed in the middle of its move */

static int failures;
static pthread_t mover;
static _Atomic uintptr_t request;
static atomic_int answered;
static uint64_t last_meta[KEYS];
static unsigned char tested[KEYS];
static long stopped[2];
static int gave_up;

static void check(int ok, const char *what, unsigned long v)
{
	if (!ok && failures++ < 10)
		fprintf(stderr, "FAIL: %s (%lu)\n", what, v);
}

static uintptr_t key_of(long i) { return ((uintptr_t)1 << 36) + (uintptr_t)i * 16; }
static long index_of(uintptr_t k) { return (long)((k - key_of(0)) / 16); }

/* The other thread: the free, the address handed out again, freed, handed out again. */
static void *freer(void *arg)
{
	(void)arg;
	for (;;) {
		uintptr_t k;
		while (!(k = atomic_load(&request)))
			;
		if (k == 1) {
			mp_live_thread_exit();
			return NULL;
		}
		long i = index_of(k);
		uint64_t meta = 0;
		check(mp_live_remove(k, &meta) == 1, "the free finds the block being moved", (unsigned long)i);
		check(meta == last_meta[i], "and its metadata", (unsigned long)i);
		check(mp_live_insert(k, MP_META(2, i)) == 0, "the address handed out again", (unsigned long)i);
		check(mp_live_remove(k, &meta) == 1 && meta == MP_META(2, i),
		      "freed again: the new entry, not the mover's copy", (unsigned long)i);
		last_meta[i] = MP_META(3, i);
		check(mp_live_insert(k, last_meta[i]) == 0, "handed out a third time", (unsigned long)i);
		atomic_store(&request, 0);
		atomic_store(&answered, 1);
	}
}

/* Stops the mover at one of the two points of a move, alternating, for one key in EVERY,
 * until the other thread has done its frees. */
static void on_move(uintptr_t key, int committed)
{
	long i = index_of(key);
	if (gave_up || !pthread_equal(pthread_self(), mover) || i < 0 || i >= KEYS || i % EVERY ||
	    (i / EVERY) % 2 != committed || tested[i])
		return;
	tested[i] = 1;
	stopped[committed]++;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	atomic_store(&answered, 0);
	atomic_store(&request, key);
	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 2) {
			check(0, "the free waited for the stopped mover", (unsigned long)i);
			gave_up = 1; /* the free ends once the mover goes on */
			break;
		}
	} while (!atomic_load(&answered));
}

int main(void)
{
	pthread_t t;
	if (mp_live_init() != 0 || pthread_create(&t, NULL, freer, NULL) != 0)
		return 1;
	mover = pthread_self();
	mp_live_move_hook = on_move;
	for (long i = 0; i < KEYS; i++) {
		last_meta[i] = MP_META(1, i);
		check(mp_live_insert(key_of(i), last_meta[i]) == 0, "insert", (unsigned long)i);
	}
	/* Frees end any move still going. */
	uint64_t meta;
	uintptr_t extra = key_of(KEYS + 1);
	for (int n = 0; n < 70000 / 16 + 1; n++) {
		mp_live_insert(extra, 0);
		mp_live_remove(extra, &meta);
	}
	while (atomic_load(&request))
		; /* a free that waited for the mover, after the mover went on */
	atomic_store(&request, 1);
	pthread_join(t, NULL);
	mp_live_move_hook = NULL;
	check(stopped[0] > 100 && stopped[1] > 100, "the mover stopped at both points", (unsigned long)stopped[0]);

	mp_live_thread_exit();
	check(mp_live_count() == KEYS, "the count", (unsigned long)mp_live_count());
	size_t cap = mp_live_capacity();
	struct mp_live_entry *all = calloc(cap, sizeof(*all));
	size_t n = mp_live_collect(all, cap);
	check(n == KEYS, "every key collected once", (unsigned long)n);
	static unsigned char seen[KEYS];
	for (size_t j = 0; j < n; j++) {
		long i = index_of(all[j].ptr);
		if (i < 0 || i >= KEYS) {
			check(0, "a key never inserted", (unsigned long)all[j].ptr);
			continue;
		}
		check(!seen[i]++, "a key collected twice", (unsigned long)i);
		check(all[j].meta == last_meta[i], "a key's last metadata", (unsigned long)i);
	}
	for (long i = 0; i < KEYS; i++) {
		check(mp_live_remove(key_of(i), &meta) == 1 && meta == last_meta[i], "remove at the end", (unsigned long)i);
		check(mp_live_remove(key_of(i), &meta) == 0, "and only once", (unsigned long)i);
	}
	free(all);
	printf("%s: %d failures, %ld and %ld moves stopped\n", failures ? "FAIL" : "ok", failures, stopped[0], stopped[1]);
	return failures != 0;
}

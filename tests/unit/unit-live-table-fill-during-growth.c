/* SPDX-License-Identifier: MIT */
/* The live-block table while it grows: hundreds of threads insert into the new table while
 * the old one's entries are still to be moved into it. They must not fill it before the move
 * is over: a mover would then wait forever for a free slot, and the table may not grow
 * again while it is being moved into.
 *
 * A hook pauses the grower right after it has published the new table, before any entry has
 * moved; the hook starts 500 threads that insert 120 keys each (fresh threads: each checks
 * the fill level only every 128 inserts, or after a long probe), 60,000 in all, more than the
 * new table has room for. They must all succeed, with every key found afterwards. */
#include "live_table.h"
#include "state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

extern void (*mp_live_grow_hook)(void);

#define MAIN_KEYS 49152   /* the initial table's fill limit: the next check grows it */
#define MAIN_KEEP 9152    /* live after the removals: the table is rebuilt at the same size */
#define THREADS 500
#define PER_THREAD 120

static atomic_int failures, finished;
static pthread_t th[THREADS];
static int hook_ran;

static uintptr_t key_of(int t, int i) { return ((uintptr_t)(t + 2) << 32) + (uintptr_t)i * 16; }

static void check(int ok, const char *what, uintptr_t k)
{
	if (!ok && atomic_fetch_add(&failures, 1) < 10)
		fprintf(stderr, "FAIL: %s (key %#lx)\n", what, (unsigned long)k);
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (int i = 0; i < PER_THREAD; i++)
		check(mp_live_insert(key_of(t, i), MP_META(i, 1)) == 0, "insert during growth", key_of(t, i));
	mp_live_thread_exit();
	atomic_fetch_add(&finished, 1);
	return NULL;
}

/* Runs in the grower: starts the threads, gives them up to two seconds. */
static void pause_grower(void)
{
	struct timespec start, now;

	if (hook_ran++)
		return;
	for (int t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) != 0)
			check(0, "pthread_create", (uintptr_t)t);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (atomic_load(&finished) < THREADS && now.tv_sec - start.tv_sec < 2);
}

int main(void)
{
	uint64_t meta;

	if (mp_live_init() != 0)
		return 1;
	mp_live_grow_hook = pause_grower;
	for (int i = 0; i < MAIN_KEYS; i++)
		check(mp_live_insert(key_of(-1, i), MP_META(i, 2)) == 0, "insert", key_of(-1, i));
	for (int i = MAIN_KEEP; i < MAIN_KEYS; i++)
		check(mp_live_remove(key_of(-1, i), &meta) == 1, "remove", key_of(-1, i));
	/* Up to CHECK_EVERY more inserts reach the fill check, which grows the table. */
	for (int i = MAIN_KEYS; i < MAIN_KEYS + 256; i++)
		check(mp_live_insert(key_of(-1, i), MP_META(i, 2)) == 0, "insert", key_of(-1, i));
	check(hook_ran, "the table grew", 0);
	for (int t = 0; hook_ran && t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < PER_THREAD; i++)
			check(mp_live_remove(key_of(t, i), &meta) == 1 && MP_META_SIZE(meta) == (uint64_t)i,
			      "key inserted during growth found", key_of(t, i));
	for (int i = 0; i < MAIN_KEEP; i++)
		check(mp_live_remove(key_of(-1, i), &meta) == 1, "kept key found", key_of(-1, i));
	for (int i = MAIN_KEYS; i < MAIN_KEYS + 256; i++)
		check(mp_live_remove(key_of(-1, i), &meta) == 1, "late key found", key_of(-1, i));
	mp_live_thread_exit();
	check(mp_live_count() == 0, "table empty at the end", mp_live_count());
	int f = atomic_load(&failures);
	printf("%s: %d failures\n", f ? "FAIL" : "ok", f);
	return f ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/* The live-block table under concurrency: 8 threads insert and remove their own keys, hand
 * keys to each other to remove (cross-thread frees), while the table grows several times.
 * Every key inserted must be found exactly once with its metadata; none may be found twice. */
#include "live_table.h"
#include "state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 8
#define PER_THREAD 200000
#define KEEP 20000 /* per thread, live at the end: forces growth past the initial table */

static uintptr_t key_of(int t, int i)
{
	return ((uintptr_t)(t + 1) << 32) + (uintptr_t)i * 16 + 0x1000;
}

static atomic_int failures;
static _Atomic uintptr_t handoff[THREADS][1024];

static void check(int ok, const char *what, uintptr_t k)
{
	if (!ok && atomic_fetch_add(&failures, 1) < 10)
		fprintf(stderr, "FAIL: %s (key %#lx)\n", what, (unsigned long)k);
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	unsigned seed = (unsigned)t * 7919u + 1;
	for (int i = 0; i < PER_THREAD; i++) {
		uintptr_t k = key_of(t, i);
		check(mp_live_insert(k, MP_META(i, t + 1)) == 0, "insert", k);
		if (i < KEEP)
			continue;
		seed = seed * 1103515245u + 12345u;
		if (seed >> 30 == 0) {
			/* Give it to the next thread to remove; take what was left for us. */
			uintptr_t old = atomic_exchange(&handoff[(t + 1) % THREADS][i & 1023], k);
			if (old) {
				uint64_t meta;
				check(mp_live_remove(old, &meta) == 1, "remove handed-off key", old);
			}
			uintptr_t mine = atomic_exchange(&handoff[t][i & 1023], 0);
			if (mine) {
				uint64_t meta;
				check(mp_live_remove(mine, &meta) == 1, "remove key handed to us", mine);
			}
		} else {
			uint64_t meta;
			check(mp_live_remove(k, &meta) == 1, "remove own key", k);
			check(MP_META_SIZE(meta) == (uint64_t)i && MP_META_ID(meta) == (uint32_t)t + 1,
			      "metadata", k);
			check(mp_live_remove(k, &meta) == 0, "second remove finds nothing", k);
		}
	}
	mp_live_thread_exit();
	return NULL;
}

int main(void)
{
	if (mp_live_init() != 0)
		return 1;
	size_t initial = mp_live_table_bytes();
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	/* Whatever is still in the hand-off slots is live; remove it. */
	uint64_t meta;
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < 1024; i++)
			if (handoff[t][i])
				check(mp_live_remove(handoff[t][i], &meta) == 1, "remove leftover", handoff[t][i]);
	/* The first KEEP keys of every thread are live, with their metadata. */
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < KEEP; i++) {
			uintptr_t k = key_of(t, i);
			check(mp_live_remove(k, &meta) == 1 && MP_META_SIZE(meta) == (uint64_t)i, "kept key", k);
		}
	}
	mp_live_thread_exit();
	check(mp_live_count() == 0, "table empty at the end", mp_live_count());
	check(mp_live_table_bytes() > initial, "the table grew", mp_live_table_bytes());
	int f = atomic_load(&failures);
	printf("%s: %d failures, table %zu -> %zu bytes\n", f ? "FAIL" : "ok", f, initial, mp_live_table_bytes());
	return f ? 1 : 0;
}

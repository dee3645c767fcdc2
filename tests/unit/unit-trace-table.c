/* SPDX-License-Identifier: MIT */
/* The trace table under concurrency: 8 threads intern overlapping sets of stacks, then all of
 * them the same new stacks in the same order (so that they race to add each one); each
 * distinct stack must get exactly one record, with its frames. Every id maps back to its
 * record, but for holes (an id whose record lost a race), which give the empty record. */
#include "trace_table.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define STACKS 30000
#define RACED 20000 /* stacks STACKS .. STACKS + RACED - 1, interned by all in one order */

static struct mp_trace *seen[STACKS + RACED];
static pthread_barrier_t start_race;
static atomic_int failures;

static uint32_t stack_of(int s, uintptr_t *f)
{
	uint32_t n = 1 + (uint32_t)(s % 40);
	for (uint32_t i = 0; i < n; i++)
		f[i] = 0x400000 + (uintptr_t)s * 64 + i * 8 + (i == n - 1 ? (uintptr_t)s : 0);
	return n;
}

static void intern_one(int s)
{
	uintptr_t f[64];
	uint32_t n = stack_of(s, f);
	struct mp_trace *r = mp_trace_intern(f, n);
	struct mp_trace *expected = NULL;
	if (!r || r->n_frames != n || memcmp(r->frames, f, n * sizeof(f[0])) != 0 ||
	    (!atomic_compare_exchange_strong((_Atomic(struct mp_trace *) *)&seen[s], &expected, r) &&
	     expected != r)) {
		if (atomic_fetch_add(&failures, 1) < 10)
			fprintf(stderr, "FAIL: stack %d interned wrongly or twice\n", s);
	}
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int k = 0; k < STACKS; k++)
		intern_one((k * 7 + t * 3001) % STACKS);
	pthread_barrier_wait(&start_race);
	for (int s = STACKS; s < STACKS + RACED; s++)
		intern_one(s);
	return NULL;
}

int main(void)
{
	if (mp_traces_init() != 0)
		return 1;
	pthread_t th[THREADS];
	pthread_barrier_init(&start_race, NULL, THREADS);
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	uint32_t count = mp_trace_count(), records = 0, holes = 0;
	int f = atomic_load(&failures);
	for (uint32_t id = 1; id < count; id++) {
		struct mp_trace *r = mp_trace_by_id(id);
		if (r->id == id && r->n_frames) {
			records++;
		} else if (r->n_frames || r == mp_trace_by_id(0)) {
			fprintf(stderr, "FAIL: id %u maps neither to its record nor to a hole\n", id);
			f++;
			break;
		} else {
			holes++;
		}
	}
	if (records != STACKS + RACED) {
		fprintf(stderr, "FAIL: %u records for %d stacks\n", records, STACKS + RACED);
		f++;
	}
	for (int s = 0; s < STACKS + RACED; s++) {
		if (seen[s] && mp_trace_by_id(seen[s]->id) != seen[s]) {
			fprintf(stderr, "FAIL: stack %d's record is not its id's\n", s);
			f++;
			break;
		}
	}
	if (mp_trace_by_id(0)->n_frames != 0) {
		fprintf(stderr, "FAIL: trace 0 is not the empty 'unknown' trace\n");
		f++;
	}
	printf("%s: %u traces, %u ids lost to races\n", f ? "FAIL" : "ok", records, holes);
	return f ? 1 : 0;
}

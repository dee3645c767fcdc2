/* SPDX-License-Identifier: MIT */
/* The trace table under concurrency: 8 threads intern overlapping sets of stacks while the
 * table grows; each distinct stack must get exactly one record, with its frames, and ids must
 * be dense and map back to their records. */
#include "trace_table.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define STACKS 30000

static struct mp_trace *seen[STACKS];
static atomic_int failures;

static uint32_t stack_of(int s, uintptr_t *f)
{
	uint32_t n = 1 + (uint32_t)(s % 40);
	for (uint32_t i = 0; i < n; i++)
		f[i] = 0x400000 + (uintptr_t)s * 64 + i * 8 + (i == n - 1 ? (uintptr_t)s : 0);
	return n;
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	uintptr_t f[64];
	for (int k = 0; k < STACKS; k++) {
		int s = (k * 7 + t * 3001) % STACKS;
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
	return NULL;
}

int main(void)
{
	if (mp_traces_init() != 0)
		return 1;
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	uint32_t count = mp_trace_count();
	int f = atomic_load(&failures);
	if (count != STACKS + 1) {
		fprintf(stderr, "FAIL: %u records for %d stacks (+1 unknown)\n", count, STACKS);
		f++;
	}
	for (uint32_t id = 1; id < count; id++) {
		struct mp_trace *r = mp_trace_by_id(id);
		if (!r || r->id != id) {
			fprintf(stderr, "FAIL: id %u does not map to its record\n", id);
			f++;
			break;
		}
	}
	if (mp_trace_by_id(0)->n_frames != 0) {
		fprintf(stderr, "FAIL: trace 0 is not the empty 'unknown' trace\n");
		f++;
	}
	printf("%s: %u traces\n", f ? "FAIL" : "ok", count);
	return f ? 1 : 0;
}

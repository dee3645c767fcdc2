/* SPDX-License-Identifier: MIT */
/* Trace counts read while threads move them: 8 waves of 4 threads count allocations and frees
 * in bursts on 1200 traces (more than a thread's 1024 pending counters, so they keep moving
 * pending counts into the records) and exit (their states are reused by the next wave), while
 * the main thread reads every trace's counts without pause. Each read must lie between what
 * the threads had counted before it started and what they had counted when it ended: a move
 * seen half done would count a burst twice (or not at all). At the end every count is exact. */
#include "thread.h"
#include "trace_table.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACES 1200
#define WAVES 8
#define WORKERS 4
#define BURSTS 20000
#define BURST 20

static struct mp_trace *traces[TRACES + 1];
/* What the workers counted, per trace id: raised after each count (done) and before it (begun). */
static atomic_ullong begun[TRACES + 1], done[TRACES + 1];
static atomic_int stop;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct mp_thread *th = mp_thread_get();
	for (int b = 0; b < BURSTS; b++) {
		seed = seed * 1103515245u + 12345u;
		struct mp_trace *tr = traces[1 + (seed >> 8) % TRACES];
		for (int i = 0; i < BURST; i++) {
			atomic_fetch_add(&begun[tr->id], 1);
			mp_count_alloc(th, tr, 32);
			mp_count_free(th, tr, 32);
			atomic_fetch_add(&done[tr->id], 1);
		}
	}
	return NULL;
}

static struct mp_trace_counts counts[TRACES + 1];
static unsigned long long before[TRACES + 1];

/* Reads until told to stop; returns the number of reads that were wrong. */
static int check_reads(int *reads)
{
	int bad = 0;
	while (!atomic_load(&stop)) {
		for (int id = 1; id <= TRACES; id++)
			before[id] = atomic_load(&done[id]);
		mp_read_trace_counts(counts, TRACES + 1);
		for (int id = 1; id <= TRACES; id++) {
			unsigned long long after = atomic_load(&begun[id]);
			const struct mp_trace_counts *c = &counts[id];
			if (c->allocs < before[id] || c->allocs > after || c->frees > after) {
				if (bad++ < 5)
					fprintf(stderr,
						"FAIL: trace %d read %llu allocs, %llu frees while the threads had "
						"counted between %llu and %llu\n",
						id, (unsigned long long)c->allocs, (unsigned long long)c->frees,
						before[id], after);
			}
		}
		(*reads)++;
	}
	return bad;
}

static void *run_waves(void *arg)
{
	(void)arg;
	for (int w = 0; w < WAVES; w++) {
		pthread_t t[WORKERS];
		for (int i = 0; i < WORKERS; i++)
			pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(w * WORKERS + i + 1));
		for (int i = 0; i < WORKERS; i++)
			pthread_join(t[i], NULL);
	}
	atomic_store(&stop, 1);
	return NULL;
}

int main(void)
{
	if (mp_traces_init() != 0 || mp_thread_init() != 0)
		return 1;
	for (int s = 0; s < TRACES; s++) {
		uintptr_t f[2] = { 0x400000 + (uintptr_t)s * 16, 0x500000 };
		traces[1 + s] = mp_trace_intern(f, 2);
		if (!traces[1 + s] || traces[1 + s]->id != (uint32_t)(1 + s)) {
			fprintf(stderr, "FAIL: trace %d not interned with id %d\n", s, 1 + s);
			return 1;
		}
	}
	pthread_t waves;
	pthread_create(&waves, NULL, run_waves, NULL);
	int reads = 0, bad = check_reads(&reads);
	pthread_join(waves, NULL);

	/* Every thread has exited: the counts are exact. */
	mp_read_trace_counts(counts, TRACES + 1);
	unsigned long long total = 0;
	for (int id = 1; id <= TRACES; id++) {
		unsigned long long want = atomic_load(&done[id]);
		total += counts[id].allocs;
		if (counts[id].allocs != want || counts[id].frees != want ||
		    counts[id].bytes_allocated != 32 * want || counts[id].bytes_freed != 32 * want) {
			if (bad++ < 10)
				fprintf(stderr, "FAIL: trace %d ends with %llu allocs, %llu frees, not %llu\n", id,
					(unsigned long long)counts[id].allocs, (unsigned long long)counts[id].frees,
					want);
		}
	}
	if (total != (unsigned long long)WAVES * WORKERS * BURSTS * BURST) {
		fprintf(stderr, "FAIL: %llu allocations counted in all, the threads made %d\n", total,
			WAVES * WORKERS * BURSTS * BURST);
		bad++;
	}
	if (bad) {
		fprintf(stderr, "FAIL: %d wrong reads or counts (%d reads)\n", bad, reads);
		return 1;
	}
	printf("%d reads while 32 threads counted %llu allocations on %d traces; all within bounds, "
	       "exact at the end\n",
	       reads, total, TRACES);
	return 0;
}

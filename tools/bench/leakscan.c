/* SPDX-License-Identifier: MIT */
/* Benchmark workload: the leak scan on a big heap. Allocates N blocks (default 1,000,000) of
 * 16 to 2,032 bytes (1 GiB in all, every byte written), links 9 in 10 into a list hanging
 * from a global and the rest into lost chains of 10, gives every block an interior pointer
 * into an earlier kept one, then times memprof_leak_check() (which scans and writes a snapshot).
 * Without libmemprof.so the call returns -1 at once.
 *
 * Usage: leakscan [N] */
#include "../../include/memprof.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct blk {
	struct blk *next;
	char *inner;
};

static struct blk *volatile head;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct blk *kept = NULL, *lost = NULL, *prev = NULL;
	uint64_t total = 0;
	for (long i = 0; i < n; i++) {
		size_t size = 16 + (size_t)(((uint64_t)i * 2654435761u) % 2017);
		struct blk *b = malloc(size);
		if (!b)
			abort();
		memset(b, 0x5a, size); /* not a pointer into the heap */
		b->inner = prev ? (char *)prev + 8 : NULL;
		if (i % 10 == 9) { /* lost, in chains of 10: 1 definite and 9 indirect blocks each */
			b->next = i % 100 == 9 ? NULL : lost;
			lost = b;
		} else {
			b->next = kept;
			kept = b;
			prev = b;
		}
		total += size;
	}
	head = kept;
	lost = NULL;
	prev = NULL;
	double t0 = now_s();
	long long r = memprof_leak_check();
	double t1 = now_s();
	printf("leakscan: %ld blocks, %.0f MiB live; memprof_leak_check() returned %lld in %.3f s\n", n,
	       (double)total / (1 << 20), r, t1 - t0);
	return 0;
}

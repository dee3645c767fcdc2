/* SPDX-License-Identifier: MIT */
/* Benchmark workload: profiler memory per live block. Allocates N blocks of 32 bytes from a
 * few call sites, keeps them all, touches them, and exits without freeing.
 *
 * Usage: liveblocks [N]   (default 2,000,000) */
#include <stdio.h>
#include <stdlib.h>

static void *volatile *blocks;

__attribute__((noinline)) static void *site(int k)
{
	void *p = malloc(32);
	if (!p)
		abort();
	((volatile char *)p)[k & 31] = 1;
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	blocks = malloc((size_t)n * sizeof(*blocks)); /* bare and profiled alike */
	for (long i = 0; i < n; i++)
		blocks[i] = site((int)i);
	printf("liveblocks: %ld blocks of 32 bytes live\n", n);
	return 0;
}

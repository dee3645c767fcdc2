/* SPDX-License-Identifier: MIT */
/* Sample: memory that is "still reachable" at exit, not leaked. A lookup cache (a global
 * hash table of 64 buckets) memoizes results and is never freed: every entry can still be
 * reached from the global, so a program could free it and chose not to.
 *
 *   still reachable: 512 bytes in 1 blocks (the buckets) + 100 entries of 40 bytes
 *                    = 4,512 bytes in 101 blocks; nothing lost
 *
 * memcheck --leak-check=full --show-leak-kinds=all and memprof agree. heaptrack calls all of
 * it "leaked"; this is what reachability is for. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define BUCKETS 64

struct entry {
	struct entry *next;
	unsigned long key, value, hits, pad;
};

static struct entry **cache;

static unsigned long slow_square(unsigned long x) { return x * x; }

static NOINLINE unsigned long cached_square(unsigned long key)
{
	struct entry **slot, *e;

	if (!cache && !(cache = calloc(BUCKETS, sizeof(*cache))))
		exit(1);
	slot = &cache[key % BUCKETS];
	for (e = *slot; e; e = e->next)
		if (e->key == key) {
			e->hits++;
			return e->value;
		}
	e = malloc(sizeof(*e));
	if (!e)
		exit(1);
	*e = (struct entry){ .next = *slot, .key = key, .value = slow_square(key) };
	*slot = e;
	return e->value;
}

int main(void)
{
	unsigned long sum = 0;
	char line[64];
	int n;

	for (int round = 0; round < 3; round++)
		for (unsigned long k = 0; k < 100; k++)
			sum += cached_square(k);
	n = snprintf(line, sizeof(line), "sum %lu\n", sum);
	if (write(1, line, (size_t)n) != n)
		return 1;
	return 0;
}

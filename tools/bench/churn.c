/* SPDX-License-Identifier: MIT */
/* Benchmark workload: single-threaded small-allocation churn from call stacks of varied depth.
 *
 * Usage: churn [PAIRS]   (default 30,000,000)
 *
 * Each operation picks a random slot of a 1024-pointer ring; if the slot holds a block it is
 * either realloc'ed (1 in 8) or freed, and then a new block of 8..256 bytes is allocated with
 * malloc (or calloc, 1 in 8). So one operation is one allocation plus one release: "PAIRS"
 * operations make about 2 x PAIRS allocator calls (a realloc counts as one call doing both).
 * The operation runs at the bottom of a recursion of depth 3..30 (cheap PRNG), through two
 * alternating non-inlined recursive functions and one of six leaf call sites, so the profiler
 * sees a few hundred distinct stacks of different depths, not one hot stack. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_SLOTS 1024u
#define NOINLINE __attribute__((noinline))

/* The ring is volatile so that gcc cannot prove the blocks unused and delete malloc/free. */
static void *volatile ring[RING_SLOTS];
/* Written after every recursive call so that no call is a tail call (each frame stays). */
static volatile uint64_t sink;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t rng_next(void)
{
	/* xorshift64*: fast and good enough to choose sizes, slots and depths. */
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline size_t pick_size(uint64_t r)
{
	return 8 + (size_t)(r % 249); /* 8..256 bytes */
}

/* Releases (or reallocs) whatever is in `slot`, then fills it: one operation. */
static inline void churn_slot(unsigned slot, uint64_t r, int use_calloc)
{
	char *old = ring[slot];
	size_t size = pick_size(r >> 8);
	if (old != NULL && (r & 7) == 0) {
		char *p = realloc(old, size);
		if (p == NULL)
			abort();
		p[0] = (char)r;
		ring[slot] = p;
		return;
	}
	free(old);
	char *p = use_calloc ? calloc(1, size) : malloc(size);
	if (p == NULL)
		abort();
	p[size - 1] = (char)r;
	ring[slot] = p;
}

/* Six distinct leaf call sites, so traces differ in their first frame too. */
NOINLINE static void site_parse(uint64_t r) { churn_slot(r >> 40 & (RING_SLOTS - 1), r, 0); sink++; }
NOINLINE static void site_token(uint64_t r) { churn_slot(r >> 40 & (RING_SLOTS - 1), r, 0); sink++; }
NOINLINE static void site_buffer(uint64_t r) { churn_slot(r >> 40 & (RING_SLOTS - 1), r, 0); sink++; }
NOINLINE static void site_node(uint64_t r) { churn_slot(r >> 40 & (RING_SLOTS - 1), r, 0); sink++; }
NOINLINE static void site_string(uint64_t r) { churn_slot(r >> 40 & (RING_SLOTS - 1), r, 0); sink++; }
NOINLINE static void site_zeroed(uint64_t r) { churn_slot(r >> 40 & (RING_SLOTS - 1), r, 1); sink++; }

typedef void (*site_fn)(uint64_t);
static site_fn const sites[] = { site_parse, site_token, site_buffer, site_node, site_string,
				 site_parse, site_token, site_zeroed };

NOINLINE static void descend_b(unsigned depth, unsigned n_ops);

/* Recurses `depth` more levels, then performs `n_ops` operations at the bottom. */
NOINLINE static void descend_a(unsigned depth, unsigned n_ops)
{
	if (depth == 0) {
		for (unsigned i = 0; i < n_ops; i++) {
			uint64_t r = rng_next();
			sites[r >> 61](r);
		}
		return;
	}
	descend_b(depth - 1, n_ops);
	sink += depth; /* not a tail call */
}

NOINLINE static void descend_b(unsigned depth, unsigned n_ops)
{
	if (depth == 0) {
		for (unsigned i = 0; i < n_ops; i++) {
			uint64_t r = rng_next();
			sites[r >> 61](r);
		}
		return;
	}
	descend_a(depth - 1, n_ops);
	sink += depth;
}

/* Two top-level entry points, like two subsystems of a program. */
NOINLINE static void run_request(unsigned depth, unsigned n_ops) { descend_a(depth, n_ops); sink++; }
NOINLINE static void run_background(unsigned depth, unsigned n_ops) { descend_b(depth, n_ops); sink++; }

int main(int argc, char **argv)
{
	uint64_t pairs = argc > 1 ? strtoull(argv[1], NULL, 10) : 30000000ull;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	uint64_t done = 0;
	while (done < pairs) {
		uint64_t r = rng_next();
		unsigned depth = 3 + (unsigned)(r % 28); /* 3..30 frames of recursion */
		unsigned n_ops = 1 + (unsigned)(r >> 32 & 7);
		if (n_ops > pairs - done)
			n_ops = (unsigned)(pairs - done);
		if (r >> 63)
			run_request(depth, n_ops);
		else
			run_background(depth, n_ops);
		done += n_ops;
	}
	for (unsigned i = 0; i < RING_SLOTS; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("churn: %llu pairs in %.3f s (%.1f M pairs/s)\n", (unsigned long long)pairs, secs,
	       secs > 0 ? (double)pairs / secs / 1e6 : 0.0);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* Benchmark workload: a producer thread mallocs blocks and hands them through a lock-free
 * single-producer/single-consumer ring to a consumer thread that frees them, so every free
 * is a cross-thread free.
 *
 * Usage: prodcons [BLOCKS]   (default 5,000,000)
 * Prints: "prodcons: N blocks in S s, R ops/s" where an op is one malloc+free pair and S is
 * measured from thread start to join (process start-up and exit are not included). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING_SLOTS 4096u /* a power of two */

static void *slots[RING_SLOTS];
/* head is written only by the producer, tail only by the consumer; each on its own line. */
static _Alignas(64) atomic_size_t head;
static _Alignas(64) atomic_size_t tail;
static _Alignas(64) uint64_t n_blocks;
static volatile uint64_t sink;

/* Waiting: spin briefly, then give the core away (with 2 cores and a profiler's helper
 * threads, pure spinning would starve the other side). */
static void backoff(unsigned *spins)
{
	if (++*spins < 100) {
		__builtin_ia32_pause();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static void *producer(void *arg)
{
	(void)arg;
	uint32_t x = 2463534242u;
	for (uint64_t i = 0; i < n_blocks; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		size_t size = 16 + x % 241; /* 16..256 bytes */
		char *p = malloc(size);
		if (p == NULL)
			abort();
		p[0] = (char)i;
		p[size - 1] = (char)x;
		size_t h = atomic_load_explicit(&head, memory_order_relaxed);
		unsigned spins = 0;
		while (h - atomic_load_explicit(&tail, memory_order_acquire) == RING_SLOTS)
			backoff(&spins); /* ring full */
		slots[h & (RING_SLOTS - 1)] = p;
		atomic_store_explicit(&head, h + 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n_blocks; i++) {
		size_t t = atomic_load_explicit(&tail, memory_order_relaxed);
		unsigned spins = 0;
		while (atomic_load_explicit(&head, memory_order_acquire) == t)
			backoff(&spins); /* ring empty */
		char *p = slots[t & (RING_SLOTS - 1)];
		atomic_store_explicit(&tail, t + 1, memory_order_release);
		sum += (unsigned char)p[0];
		free(p);
	}
	sink = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	n_blocks = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000ull;
	struct timespec t0, t1;
	pthread_t prod, cons;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&cons, NULL, consumer, NULL) != 0 ||
	    pthread_create(&prod, NULL, producer, NULL) != 0) {
		fprintf(stderr, "prodcons: pthread_create failed\n");
		return 1;
	}
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("prodcons: %llu blocks in %.3f s, %.0f ops/s\n", (unsigned long long)n_blocks, secs,
	       secs > 0 ? (double)n_blocks / secs : 0.0);
	return 0;
}

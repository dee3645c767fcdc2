/* SPDX-License-Identifier: MIT */
/* Sample: 8 threads allocate blocks and hand each one to the next thread, which frees it, so
 * every free happens on a thread other than the one that allocated the block.
 *
 * Thread i mallocs BLOCKS_PER_THREAD blocks of 16..255 bytes (sizes fixed by the block index)
 * and pushes each onto the inbox of thread (i + 1) % 8; every thread frees everything that
 * arrives in its inbox until it has freed BLOCKS_PER_THREAD blocks. Exactly 80,000 mallocs
 * and 80,000 frees are made by the program itself, 10,834,880 bytes in all, nothing is left
 * in use; it prints "allocated 80000 blocks (10834880 bytes), freed 80000" through write(2)
 * so stdio adds no allocation of its own. (pthread_create may allocate thread bookkeeping in
 * the C library; that is not counted here.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_THREADS 8
#define BLOCKS_PER_THREAD 10000

/* A block in transit: the link lives in the block itself, so the inbox never allocates. */
struct block {
	struct block *next;
	unsigned from_thread;
	unsigned index;
};

struct inbox {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	struct block *head;
};

static struct inbox inboxes[N_THREADS];
static unsigned long bytes_allocated[N_THREADS];
static unsigned long blocks_freed[N_THREADS];

static size_t block_size(unsigned index)
{
	return 16 + (index * 37u) % 240; /* 16..255, the same sequence in every thread */
}

static void push(struct inbox *in, struct block *b)
{
	pthread_mutex_lock(&in->lock);
	b->next = in->head;
	in->head = b;
	pthread_cond_signal(&in->nonempty);
	pthread_mutex_unlock(&in->lock);
}

/* Takes the whole inbox; waits for something to arrive only if `wait` is set. */
static struct block *take_all(struct inbox *in, int wait)
{
	pthread_mutex_lock(&in->lock);
	while (wait && in->head == NULL)
		pthread_cond_wait(&in->nonempty, &in->lock);
	struct block *list = in->head;
	in->head = NULL;
	pthread_mutex_unlock(&in->lock);
	return list;
}

static unsigned free_list(struct block *b)
{
	unsigned n = 0;
	while (b != NULL) {
		struct block *next = b->next;
		free(b);
		b = next;
		n++;
	}
	return n;
}

static void *worker(void *arg)
{
	unsigned self = (unsigned)(size_t)arg;
	struct inbox *next = &inboxes[(self + 1) % N_THREADS], *mine = &inboxes[self];
	unsigned long freed = 0;
	for (unsigned i = 0; i < BLOCKS_PER_THREAD; i++) {
		size_t size = block_size(i);
		struct block *b = malloc(size);
		if (b == NULL)
			abort();
		memset(b, 0, size);
		b->from_thread = self;
		b->index = i;
		bytes_allocated[self] += size;
		push(next, b);
		if (i % 64 == 63) /* drain now and then so inboxes stay short */
			freed += free_list(take_all(mine, 0));
	}
	while (freed < BLOCKS_PER_THREAD)
		freed += free_list(take_all(mine, 1));
	blocks_freed[self] = freed;
	return NULL;
}

int main(void)
{
	pthread_t threads[N_THREADS];
	for (unsigned i = 0; i < N_THREADS; i++) {
		pthread_mutex_init(&inboxes[i].lock, NULL);
		pthread_cond_init(&inboxes[i].nonempty, NULL);
	}
	for (unsigned i = 0; i < N_THREADS; i++) {
		if (pthread_create(&threads[i], NULL, worker, (void *)(size_t)i) != 0) {
			static const char msg[] = "threads-cross-free: pthread_create failed\n";
			(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
			return 1;
		}
	}
	unsigned long bytes = 0, freed = 0;
	for (unsigned i = 0; i < N_THREADS; i++) {
		pthread_join(threads[i], NULL);
		bytes += bytes_allocated[i];
		freed += blocks_freed[i];
	}
	char out[128];
	int n = snprintf(out, sizeof(out), "allocated %u blocks (%lu bytes), freed %lu\n",
			 N_THREADS * BLOCKS_PER_THREAD, bytes, freed);
	if (n > 0 && write(STDOUT_FILENO, out, (size_t)n) != n)
		return 1;
	return freed == (unsigned long)N_THREADS * BLOCKS_PER_THREAD ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/* A small daemon for the run-time leak check: it reads commands from standard input and
 * answers each with "ok" once done, so that a test can signal it at known points.
 *
 *   leak N   leaks N blocks of 100 bytes (one site)
 *   more N   leaks N blocks of 200 bytes (another site)
 *   keep N   keeps N more blocks of 300 bytes in a list a worker thread holds (reachable)
 *   quit     exits 0
 *
 * A worker thread stays alive throughout, blocked on a condition variable, holding the head
 * of the kept list only on its stack. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
	struct node *next;
	char payload[];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct node *handoff;
static int ready;

/* Opaque to the optimizer: returns p unchanged. */
__attribute__((noinline)) static void *launder(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

/* Takes every node handed to it and keeps it in a list whose head is on its own stack. */
static void *keeper(void *arg)
{
	(void)arg;
	struct node *volatile kept = NULL;
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_broadcast(&cv);
	for (;;) {
		while (!handoff)
			pthread_cond_wait(&cv, &mu);
		struct node *n = handoff;
		handoff = NULL;
		n->next = kept;
		kept = n;
		pthread_cond_broadcast(&cv);
	}
	return NULL;
}

static void give(struct node *n)
{
	pthread_mutex_lock(&mu);
	handoff = n;
	pthread_cond_broadcast(&cv);
	while (handoff)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) static void leak(long n)
{
	for (long i = 0; i < n; i++)
		launder(malloc(100));
}

__attribute__((noinline)) static void more(long n)
{
	for (long i = 0; i < n; i++)
		launder(malloc(200));
}

/* Overwrites the stack below the caller, where dead frames held the leaked pointers, and the
 * scratch registers, where malloc's last chunk may linger while the program waits in read()
 * (a stopped thread's registers are roots). */
__attribute__((noinline)) static void scrub(void)
{
	volatile char wipe[16 * 1024];
	memset((char *)wipe, 0, sizeof(wipe));
	__asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
			 "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
			 "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d"
			 ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
}

int main(void)
{
	pthread_t t;
	char line[64];
	pthread_create(&t, NULL, keeper, NULL);
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		long n = strtol(line + 4, NULL, 10);
		if (strncmp(line, "leak", 4) == 0)
			leak(n);
		else if (strncmp(line, "more", 4) == 0)
			more(n);
		else if (strncmp(line, "keep", 4) == 0)
			for (long i = 0; i < n; i++)
				give(calloc(1, 300)); /* a node and its payload */
		else if (strncmp(line, "quit", 4) == 0)
			break;
		scrub();
		puts("ok");
	}
	scrub();
	return 0;
}

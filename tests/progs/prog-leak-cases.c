/* SPDX-License-Identifier: MIT */
/* Leak test cases of the kind valgrind's own suite uses, one per mode; the tests run each
 * under valgrind --leak-check=full and under libmemprof.so and compare the LEAK SUMMARYs.
 *
 *   case1 .. case9   memcheck manual's nine reachability cases (RRR: a global root, AAA and
 *                    BBB heap blocks, "-?->" an interior pointer)
 *   cycle            a lost 3-block cycle, and a cycle hanging from a global
 *   tree             a lost binary tree of 15 blocks, and a reachable one
 *   register         a block whose only pointer is in another thread's register
 *   tls              a block whose only pointer is in a __thread variable
 *   thread-tls       the same in another (waiting) thread's __thread variable
 *   global           a block whose only pointer is in a global
 *   dead-frame       a block whose only pointer was in a stack frame that has returned
 *   api              leaks, then prints what memprof_leak_check() returns
 *   many-threads     300 threads, each holding a 64-byte block only in a __thread variable,
 *                    all waiting; memprof_leak_check() once, then exit
 *   sigwait          every thread blocks SIGRTMAX and one waits for it with sigtimedwait;
 *                    memprof_leak_check() five times: the waiter must receive nothing
 *   busy             leaks 1,234 bytes, then calls memprof_leak_check() 20 times while four
 *                    threads churn malloc/realloc/free and a fifth blocks every signal
 *
 * Every mode ends with exit(0) after zeroing callee-saved registers, so that no stale copy
 * of a pointer survives where one of the two tools would see it and the other not. */
#include "../../include/memprof.h"
#include "leak-prog.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
	struct node *a, *b;
	char pad[32];
};

/* The roots; volatile so that the compiler keeps every store. */
static void *volatile rrr;
static void *volatile rrr2;
static __thread void *volatile tls_root;

static struct node *nalloc(void)
{
	return calloc(1, sizeof(struct node));
}

static char *interior(void *p)
{
	return (char *)launder(p) + 16; /* offset 16: no memcheck heuristic applies to zeroed blocks */
}

/* RRR -> BBB etc.: the block names follow memcheck's manual. */
__attribute__((noinline)) static void nine_cases(int c)
{
	struct node *aaa = launder(nalloc()), *bbb = launder(nalloc());
	switch (c) {
	case 1: rrr = bbb; free(aaa); break;
	case 2: rrr = aaa; aaa->a = bbb; break;
	case 3: free(aaa); break; /* BBB: nothing points to it */
	case 4: aaa->a = bbb; break;
	case 5: rrr = interior(bbb); free(aaa); break;
	case 6: rrr = aaa; aaa->a = (struct node *)interior(bbb); break;
	case 7: rrr = interior(aaa); aaa->a = bbb; break;
	case 8: rrr = interior(aaa); aaa->a = (struct node *)interior(bbb); break;
	case 9: aaa->a = (struct node *)interior(bbb); break;
	}
}

__attribute__((noinline)) static void cycles(void)
{
	struct node *x = launder(nalloc()), *y = launder(nalloc()), *z = launder(nalloc());
	x->a = y;
	y->a = z;
	z->a = x; /* lost: one definite, two indirect */
	struct node *p = launder(nalloc()), *q = launder(nalloc());
	p->a = q;
	q->a = p;
	rrr = p; /* reachable cycle */
	launder(x);
	launder(y);
	launder(z);
}

__attribute__((noinline)) static struct node *tree(int depth)
{
	struct node *n = launder(nalloc());
	if (depth > 1) {
		n->a = tree(depth - 1);
		n->b = tree(depth - 1);
	}
	return n;
}

static volatile int spinning;

/* Keeps the only pointer to a block in r12 while it spins. */
static void *spin_with_pointer(void *arg)
{
	(void)arg;
	void *p = malloc(200);
	register void *keep __asm__("r12") = launder(p);
	p = NULL;
	__asm__ volatile("" : "+r"(keep));
	spinning = 1;
	for (;;)
		__asm__ volatile("" : "+r"(keep));
	return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void *hold_in_tls(void *arg)
{
	tls_root = malloc(arg ? 64 : 300);
	pthread_mutex_lock(&mu);
	ready += 1;
	pthread_cond_broadcast(&cv);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

/* Stores the only pointer to a block deep in a frame that then returns. */
__attribute__((noinline)) static void dead_frame(void)
{
	volatile char deep[32 * 1024];
	void *volatile *slot = (void *volatile *)&deep[64];
	*slot = malloc(400);
	deep[0] = 1;
}

static volatile int stop_churn;

/* Allocates, grows and frees blocks without pause; its live blocks are in a local ring. */
static void *churn(void *arg)
{
	void *ring[64] = { 0 };
	unsigned k = (unsigned)(uintptr_t)arg;
	while (!stop_churn) {
		unsigned i = k++ % 64;
		free(ring[i]);
		ring[i] = malloc(16 + k % 512);
		if (k % 7 == 0)
			ring[i] = realloc(ring[i], 32 + k % 1024);
	}
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	return NULL;
}

static void *blocks_every_signal(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	while (!stop_churn)
		usleep(1000);
	return NULL;
}

static void *wait_for_rtmax(void *arg)
{
	(void)arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMAX);
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	while (!stop_churn) {
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			printf("waiter received signal %d\n", sig);
	}
	return NULL;
}

__attribute__((noinline)) static void leak_1234(void)
{
	launder(malloc(1234));
}

__attribute__((noinline)) static void scrub_stack(void)
{
	volatile char wipe[64 * 1024];
	memset((char *)wipe, 0, sizeof(wipe));
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (strncmp(m, "case", 4) == 0 && m[4] >= '1' && m[4] <= '9' && !m[5]) {
		nine_cases(m[4] - '0');
	} else if (strcmp(m, "cycle") == 0) {
		cycles();
	} else if (strcmp(m, "tree") == 0) {
		launder(tree(4));       /* lost: 1 definite, 14 indirect */
		rrr = tree(3);          /* reachable: 7 blocks */
	} else if (strcmp(m, "register") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, spin_with_pointer, NULL);
		while (!spinning)
			;
	} else if (strcmp(m, "tls") == 0) {
		tls_root = malloc(300);
	} else if (strcmp(m, "thread-tls") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, hold_in_tls, NULL);
		pthread_mutex_lock(&mu);
		while (!ready)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	} else if (strcmp(m, "global") == 0) {
		rrr2 = malloc(500);
		launder(malloc(600)); /* and one lost */
	} else if (strcmp(m, "dead-frame") == 0) {
		dead_frame();
		scrub_and_exit(1);
	} else if (strcmp(m, "api") == 0) {
		launder(malloc(1000));      /* definitely lost */
		launder(tree(3));           /* 1 definite + 6 indirect, 48 bytes each */
		rrr = malloc(77);           /* reachable */
		rrr2 = interior(malloc(55)); /* possibly lost */
		long long lost = memprof_leak_check();
		printf("memprof_leak_check: %lld\n", lost);
	} else if (strcmp(m, "many-threads") == 0) {
		pthread_t t;
		for (int i = 0; i < 300; i++)
			pthread_create(&t, NULL, hold_in_tls, (void *)1);
		pthread_mutex_lock(&mu);
		while (ready < 300)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		printf("memprof_leak_check: %lld\n", memprof_leak_check());
	} else if (strcmp(m, "sigwait") == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGRTMAX);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		pthread_t t;
		pthread_create(&t, NULL, wait_for_rtmax, NULL);
		leak_1234();
		scrub_stack();
		for (int i = 0; i < 5; i++)
			printf("memprof_leak_check: %lld\n", memprof_leak_check());
		stop_churn = 1;
		pthread_join(t, NULL);
	} else if (strcmp(m, "busy") == 0) {
		pthread_t t[5];
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i * 1000));
		pthread_create(&t[4], NULL, blocks_every_signal, NULL);
		leak_1234();
		scrub_stack();
		for (int i = 0; i < 20; i++)
			printf("memprof_leak_check: %lld\n", memprof_leak_check());
		stop_churn = 1;
		for (int i = 0; i < 5; i++)
			pthread_join(t[i], NULL);
	} else {
		fprintf(stderr, "usage: %s case1..case9|cycle|tree|register|tls|thread-tls|global|dead-frame|api|many-threads|sigwait|busy\n",
			argv[0]);
		return 2;
	}
	scrub_and_exit(0);
}

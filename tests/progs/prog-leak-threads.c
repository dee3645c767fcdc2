/* SPDX-License-Identifier: MIT */
/* Threaded leak cases; the tests run each under valgrind --leak-check=full and under
 * libmemprof.so and compare the four LEAK SUMMARY figures, over and over.
 *
 *   joined        8 workers each leak a block, return, and are joined        (lost)
 *   detached      8 detached workers leak a block and end well before exit  (lost)
 *   cancelled     a worker holding a block on its stack is cancelled         (lost)
 *   arg           each worker's start argument, never freed                  (lost)
 *   retval        a joined worker's return value, dropped by the joiner      (lost)
 *   dead-tls      a worker's __thread pointer, the worker joined             (lost)
 *   live-stack    a block held only on a waiting thread's stack              (reachable)
 *   live-specific a block held only in a waiting thread's pthread_setspecific slot
 *   live-tls      a block held only in a waiting thread's __thread variable
 *   stale-frame   a stale pointer in a dead frame below a waiting thread's SP (lost)
 *   pool          4 workers run 1,000 jobs; every 7th job's error path leaks  (lost)
 *   realloc-race  a thread reallocates a reachable array of 4,096 pointers (and callocs
 *                 and frees beside it) while main exits                     (reachable)
 *   check-race    the same while main calls memprof_leak_check() 20 times, printing
 *                 the lost bytes each time (all must be 0), then exits
 *
 * Every mode ends with exit(0) after scrubbing the stack and the callee-saved registers, so
 * that no stale copy of a pointer survives where one tool would see it and the other not. */
#include "../../include/memprof.h"
#include "leak-prog.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread void *volatile tls_root;
static pthread_key_t key;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

/* The threads of this process, from /proc/self/task. */
static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	if (!d)
		return 1;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void signal_ready(void)
{
	pthread_mutex_lock(&mu);
	ready++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void wait_ready(int n)
{
	pthread_mutex_lock(&mu);
	while (ready < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

/* Waits for ever (the process exits under it). */
static void park_forever(void)
{
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
}

static void *leak_and_return(void *arg)
{
	launder(malloc(100 + (size_t)(uintptr_t)arg));
	return NULL;
}

static void *leak_and_signal(void *arg)
{
	launder(malloc(200 + (size_t)(uintptr_t)arg));
	signal_ready();
	return NULL;
}

static void *hold_on_stack_until_cancelled(void *arg)
{
	(void)arg;
	void *volatile p = malloc(333);
	signal_ready();
	for (;;)
		pause(); /* a cancellation point */
	return (void *)p;
}

static void *read_arg(void *arg)
{
	return (void *)(uintptr_t)((char *)arg)[0];
}

static void *return_block(void *arg)
{
	(void)arg;
	return malloc(444);
}

static void *set_tls_and_return(void *arg)
{
	(void)arg;
	tls_root = malloc(555);
	return NULL;
}

static void *hold_on_stack(void *arg)
{
	(void)arg;
	void *volatile p = malloc(666);
	signal_ready();
	park_forever();
	return (void *)p;
}

static void *hold_in_specific(void *arg)
{
	(void)arg;
	pthread_setspecific(key, malloc(777));
	signal_ready();
	park_forever();
	return NULL;
}

static void *hold_in_tls(void *arg)
{
	(void)arg;
	tls_root = malloc(888);
	signal_ready();
	park_forever();
	return NULL;
}

/* Stores the only pointer to a block deep in a frame that then returns. */
__attribute__((noinline)) static void dead_frame(void)
{
	volatile char deep[16 * 1024];
	void *volatile *slot = (void *volatile *)&deep[64];
	*slot = malloc(1111);
	deep[0] = 1;
}

static void *stale_then_wait(void *arg)
{
	(void)arg;
	dead_frame();
	signal_ready();
	park_forever();
	return NULL;
}

/* ---- pool: a queue of jobs, four workers ---- */
#define JOBS 1000
static int next_job;

static int take_job(void)
{
	pthread_mutex_lock(&mu);
	int j = next_job < JOBS ? next_job++ : -1;
	pthread_mutex_unlock(&mu);
	return j;
}

__attribute__((noinline)) static int run_job(int j)
{
	char *buf = malloc(64 + (size_t)(j % 5) * 16);
	if (!buf)
		return -1;
	snprintf(buf, 64, "job %d", j);
	if (j % 7 == 0)
		return -1; /* the error path forgets buf */
	free(buf);
	return 0;
}

static void *worker(void *arg)
{
	(void)arg;
	int j;
	while ((j = take_job()) >= 0)
		run_job(j);
	return NULL;
}

/* ---- realloc-race: a reachable array of pointers, reallocated without pause ---- */
#define SLOTS 4096
static void **volatile array;
static volatile int started;

/* The array keeps its 4,096 pointers; its size goes up and down by 64 unused slots, and a
 * calloc'd block is freed at once beside it. */
static void *reallocate_forever(void *arg)
{
	(void)arg;
	started = 1;
	for (unsigned k = 0;; k++) {
		void **a = realloc(array, (SLOTS + (k & 1 ? 64 : 0)) * sizeof(void *));
		if (a)
			array = a;
		free(launder(calloc(1, 48)));
	}
	return NULL;
}

static void start_realloc_race(void)
{
	void **a = malloc(SLOTS * sizeof(void *));
	for (int i = 0; i < SLOTS; i++)
		a[i] = malloc(32);
	array = a;
	pthread_t t;
	pthread_create(&t, NULL, reallocate_forever, NULL);
	while (!started)
		;
	usleep(20 * 1000);
}

static void start_and_join(void *(*fn)(void *), int n)
{
	pthread_t t[8];
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, (void *)(uintptr_t)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void start_waiting(void *(*fn)(void *))
{
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	wait_ready(1);
}

__attribute__((noinline)) static void args(void)
{
	pthread_t t[8];
	for (int i = 0; i < 8; i++) {
		char *a = malloc(50);
		a[0] = (char)i;
		pthread_create(&t[i], NULL, read_arg, launder(a));
	}
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
}

__attribute__((noinline)) static void retvals(void)
{
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		void *r;
		pthread_create(&t, NULL, return_block, NULL);
		pthread_join(t, &r);
		launder(r);
	}
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	pthread_key_create(&key, NULL);
	if (strcmp(m, "joined") == 0) {
		start_and_join(leak_and_return, 8);
	} else if (strcmp(m, "detached") == 0) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		for (int i = 0; i < 8; i++) {
			pthread_t t;
			pthread_create(&t, &attr, leak_and_signal, (void *)(uintptr_t)i);
		}
		wait_ready(8);
		while (count_threads() > 1) /* until they have ended */
			usleep(1000);
	} else if (strcmp(m, "cancelled") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, hold_on_stack_until_cancelled, NULL);
		wait_ready(1);
		pthread_cancel(t);
		pthread_join(t, NULL);
	} else if (strcmp(m, "arg") == 0) {
		args();
	} else if (strcmp(m, "retval") == 0) {
		retvals();
	} else if (strcmp(m, "dead-tls") == 0) {
		start_and_join(set_tls_and_return, 4);
	} else if (strcmp(m, "live-stack") == 0) {
		start_waiting(hold_on_stack);
	} else if (strcmp(m, "live-specific") == 0) {
		start_waiting(hold_in_specific);
	} else if (strcmp(m, "live-tls") == 0) {
		start_waiting(hold_in_tls);
	} else if (strcmp(m, "stale-frame") == 0) {
		start_waiting(stale_then_wait);
	} else if (strcmp(m, "pool") == 0) {
		start_and_join(worker, 4);
	} else if (strcmp(m, "realloc-race") == 0) {
		start_realloc_race();
	} else if (strcmp(m, "check-race") == 0) {
		start_realloc_race();
		for (int i = 0; i < 20; i++)
			printf("memprof_leak_check: %lld\n", memprof_leak_check());
	} else {
		fprintf(stderr, "usage: %s joined|detached|cancelled|arg|retval|dead-tls|live-stack|"
				"live-specific|live-tls|stale-frame|pool|realloc-race|check-race\n",
			argv[0]);
		return 2;
	}
	scrub_and_exit(0);
}

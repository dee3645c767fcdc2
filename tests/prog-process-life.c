/* SPDX-License-Identifier: MIT */
/* One program for the process-life scenarios, chosen by argv[1]:
 *   fork      the child allocates 3 x 1000 bytes and leaks them, then exits; the parent waits
 *   exec      execs itself with "leaf" (a new program image)
 *   leaf      allocates 7 x 300 bytes, leaks them, exits
 *   _exit     leaks 5 x 64 bytes, then _exit(3)
 *   threads   8 threads, each allocating 10000 blocks that another thread frees
 *   dlopen    loads argv[2], calls its plugin_alloc() (which allocates), frees that, dlcloses
 *   deep      allocations from recursion of varied depth, through two call paths
 *   fork-threads  forks while 4 other threads are inside malloc/free, 20 times; each child
 *             allocates and exits normally */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

static void leak(int n, size_t size)
{
	for (int i = 0; i < n; i++)
		sink = malloc(size);
}

#define THREADS 8
#define PER_THREAD 10000
static void *volatile slots[THREADS][PER_THREAD];
static pthread_barrier_t barrier;

static void *cross_free(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < PER_THREAD; i++)
		slots[t][i] = malloc(16 + (size_t)(i % 100));
	pthread_barrier_wait(&barrier);
	int victim = (t + 1) % THREADS; /* free the blocks the next thread allocated */
	for (int i = 0; i < PER_THREAD; i++)
		free(slots[victim][i]);
	return NULL;
}

__attribute__((noinline)) static int deep(int depth, int path)
{
	if (depth == 0) {
		void *p = malloc(24);
		sink = p;
		free(p);
		return 1;
	}
	int r = path ? deep(depth - 1, path) : deep(depth - 1, path) + 0;
	sink = (void *)(intptr_t)r; /* not a tail call */
	return r + 1;
}

static volatile int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!stop) {
		void *p = malloc(64);
		sink = p;
		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			leak(3, 1000);
			exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (!strcmp(what, "exec")) {
		leak(2, 111);
		execl("/proc/self/exe", argv[0], "leaf", (char *)NULL);
		return 1;
	}
	if (!strcmp(what, "leaf")) {
		leak(7, 300);
		return 0;
	}
	if (!strcmp(what, "_exit")) {
		leak(5, 64);
		_exit(3);
	}
	if (!strcmp(what, "threads")) {
		pthread_t th[THREADS];
		pthread_barrier_init(&barrier, NULL, THREADS);
		for (int t = 0; t < THREADS; t++)
			pthread_create(&th[t], NULL, cross_free, (void *)(intptr_t)t);
		for (int t = 0; t < THREADS; t++)
			pthread_join(th[t], NULL);
		return 0;
	}
	if (!strcmp(what, "dlopen") && argc > 2) {
		for (int round = 0; round < 3; round++) {
			void *h = dlopen(argv[2], RTLD_NOW);
			if (!h)
				return 2;
			void *(*fn)(size_t) = (void *(*)(size_t))dlsym(h, "plugin_alloc");
			void *p = fn(4242);
			if (round < 2)
				free(p); /* the last one leaks: its trace points into the unloaded plugin */
			dlclose(h);
		}
		return 0;
	}
	if (!strcmp(what, "deep")) {
		int n = 0;
		for (int i = 0; i < 200000; i++)
			n += deep(i % 37, i & 1);
		return n > 0 ? 0 : 1;
	}
	if (!strcmp(what, "fork-threads")) {
		pthread_t th[4];
		for (int t = 0; t < 4; t++)
			pthread_create(&th[t], NULL, churn, NULL);
		for (int i = 0; i < 20; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				leak(1, 77);
				exit(0);
			}
			int st;
			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				return 1;
		}
		stop = 1;
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		return 0;
	}
	fprintf(stderr, "usage: prog-process-life fork|exec|leaf|_exit|threads|dlopen LIB|deep|fork-threads\n");
	return 2;
}

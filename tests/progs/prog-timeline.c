/* SPDX-License-Identifier: MIT */
/* One program for the snapshots-while-running scenarios, chosen by argv[1]:
 *   peak      site peak_ten allocates 10 x 1 MiB, site peak_five 5 x 1 MiB (a 15 MiB peak),
 *             all freed, then 3 x 1000 bytes leaked; prints "done"
 *   run DIR   keeps 1 MiB (touched, so resident) and then 1 KiB more every 5 ms until the file
 *             DIR/stop exists (the test creates it; DIR/ready says the loop runs); prints
 *             "done growing" and exits with status 3.
 *             Sleeps interrupted by a signal are resumed.
 *   label L   allocates 4 x 100 bytes, calls memprof_snapshot(L), prints its return value, and
 *             leaks 2 x 50 bytes more
 *   main-exit a thread allocates until DIR/stop exists while main calls pthread_exit: the
 *             process must end when that thread ends, with status 0 (argv[2] is DIR)
 *   diff      memprof_snapshot("before"); then diff_grow allocates 3 x 1000 bytes (kept) and
 *             2 of the 4 x 500-byte blocks diff_shrink allocated before are freed;
 *             memprof_snapshot("after"); nothing else allocates or frees in between
 *   fork DIR  forks; the child does what run does (status 3), the parent waits for it and
 *             exits with the child's status */
#include "../../include/memprof.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

static __attribute__((noinline)) void *peak_ten(void)
{
	return malloc(1 << 20);
}

static __attribute__((noinline)) void *peak_five(void)
{
	return malloc(1 << 20);
}

static __attribute__((noinline)) void *diff_grow(void)
{
	return malloc(1000);
}

static __attribute__((noinline)) void *diff_shrink(void)
{
	return malloc(500);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int stop_requested(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/stop", dir);
	return access(path, F_OK) == 0;
}

static long grow_until_stopped(const char *dir)
{
	char path[4096];
	long n = 0;
	/* At most about two minutes, so that a failed test leaves nothing running. */
	while (!stop_requested(dir) && n < 24000) {
		sink = malloc(1024);
		if (n++ == 0) { /* tell the test that the program runs (and the library is set up) */
			snprintf(path, sizeof(path), "%s/ready", dir);
			fclose(fopen(path, "w"));
		}
		sleep_ms(5);
	}
	return n;
}

static void *worker(void *arg)
{
	grow_until_stopped(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "peak") == 0) {
		void *a[15];
		for (int i = 0; i < 10; i++)
			a[i] = peak_ten();
		for (int i = 10; i < 15; i++)
			a[i] = peak_five();
		for (int i = 0; i < 15; i++)
			free(a[i]);
		for (int i = 0; i < 3; i++)
			sink = malloc(1000);
		printf("done\n");
		return 0;
	}
	if (strcmp(mode, "run") == 0 && argc > 2) {
		char *keep = malloc(1 << 20);
		memset(keep, 1, 1 << 20);
		sink = keep;
		long n = grow_until_stopped(argv[2]);
		printf("done %s\n", n > 0 ? "growing" : "without growing");
		return 3;
	}
	if (strcmp(mode, "label") == 0 && argc > 2) {
		for (int i = 0; i < 4; i++)
			sink = malloc(100);
		int r = memprof_snapshot(argv[2]);
		for (int i = 0; i < 2; i++)
			sink = malloc(50);
		printf("memprof_snapshot returned %d\n", r);
		return 0;
	}
	if (strcmp(mode, "main-exit") == 0 && argc > 2) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, argv[2]) != 0)
			return 1;
		pthread_exit(NULL);
	}
	if (strcmp(mode, "diff") == 0) {
		static void *shrink[4];
		/* volatile counters: one call site each, not an unrolled loop with several. */
		for (volatile int i = 0; i < 4; i++)
			shrink[i] = diff_shrink();
		int before = memprof_snapshot("before");
		for (volatile int i = 0; i < 3; i++)
			sink = diff_grow(); /* kept: live in the second snapshot */
		free(shrink[0]);
		free(shrink[1]);
		int after = memprof_snapshot("after");
		printf("%d %d\n", before, after);
		return 0;
	}
	if (strcmp(mode, "fork") == 0 && argc > 2) {
		sink = malloc(100);
		pid_t child = fork();
		if (child == 0) {
			grow_until_stopped(argv[2]);
			_exit(3);
		}
		int status;
		if (child < 0 || waitpid(child, &status, 0) != child)
			return 1;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	fprintf(stderr, "usage: prog-timeline peak | run DIR | label LABEL | main-exit DIR | fork DIR\n");
	return 2;
}

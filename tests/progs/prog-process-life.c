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
 *             allocates and exits normally
 *   fork-unwinding  forks 200 times while 4 other threads keep starting short threads that
 *             allocate through frames that use alloca (which the profiler never caches, so
 *             each allocation is a full unwind by libunwind), one thread opens files and
 *             writes to them through such a frame (stdio allocates the buffer holding the
 *             file's lock) and one flushes every stream (glibc's list lock, which fork takes
 *             after its handlers, then each file's), and one keeps starting threads whose
 *             first allocation is a stream's buffer (a new thread's state, taken under the
 *             file's lock); each child allocates through such a frame too and _exits.
 *             Exits 3, and says so, when a child has not ended after 10 s
 *   vfork     vfork, the child's exec fails and it calls _exit; then the parent leaks 1000 x 100
 *   sigfree   a timer signal handler frees and allocates blocks while main churns; all freed
 *   thread-exit  500 threads each calling strerror() on an unknown errno (glibc frees its
 *             buffer after the thread's key destructors); prints VmRSS growth in kB
 *   busy-exit 3 threads allocate from 600 call sites while main calls exit() */
#include <dlfcn.h>
#include <signal.h>
#include <sys/time.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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

#define SIG_SLOTS 64
static void *volatile sig_slots[SIG_SLOTS];
static volatile unsigned sig_k;

/* Not async-signal-safe, like many real handlers: what matters is that the profiler changes
 * nothing about it and counts it right. */
static void sig_handler(int s)
{
	(void)s;
	unsigned i = sig_k++ % SIG_SLOTS;
	free(sig_slots[i]);
	sig_slots[i] = malloc(1000 + 16 * (sig_k % 4000));
}

static void *strerror_thread(void *arg)
{
	(void)arg;
	sink = strerror(12345);
	void *p = malloc(10);
	free(p);
	return NULL;
}

static long vm_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

typedef void *(*alloc_fn)(size_t);
#define SITE(n) __attribute__((noinline)) static void *site##n(size_t s) { void *p = malloc(s + n); sink = p; return p; }
#define SITES10(d) SITE(d##0) SITE(d##1) SITE(d##2) SITE(d##3) SITE(d##4) SITE(d##5) SITE(d##6) SITE(d##7) SITE(d##8) SITE(d##9)
SITES10(1) SITES10(2) SITES10(3) SITES10(4) SITES10(5) SITES10(6)
#define REF10(d) site##d##0, site##d##1, site##d##2, site##d##3, site##d##4, site##d##5, site##d##6, site##d##7, site##d##8, site##d##9
static alloc_fn const many_sites[] = { REF10(1), REF10(2), REF10(3), REF10(4), REF10(5), REF10(6) };

static void *busy(void *arg)
{
	unsigned r = (unsigned)(uintptr_t)arg;
	for (;;) {
		r = r * 1103515245u + 12345u;
		void *p = many_sites[(r >> 8) % 60]((r >> 20) & 63);
		if (r & 1)
			free(p);
	}
	return NULL;
}

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

/* alloca makes the frame's size vary, so the profiler unwinds every allocation made from
 * below it instead of using its cache of traces. */
__attribute__((noinline)) static void unwound_alloc(int depth)
{
	volatile char *pad = __builtin_alloca(16 + (size_t)(depth & 3) * 16);
	pad[0] = 0;
	if (depth > 0) {
		unwound_alloc(depth - 1);
	} else {
		void *p = malloc(40);
		sink = p;
		free(p);
	}
	sink = (void *)pad; /* not a tail call */
}

static void *unwound_thread(void *arg)
{
	unwound_alloc((int)(intptr_t)arg);
	return NULL;
}

/* Each new thread starts with libunwind's per-thread trace cache empty, so that libunwind
 * takes its global lock for every frame of its first unwind. */
static void *unwinding_churn(void *arg)
{
	(void)arg;
	for (int i = 0; !stop; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, unwound_thread, (void *)(intptr_t)(8 + i % 24)) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

__attribute__((noinline)) static void unwound_write(FILE *f, int depth)
{
	char *line = __builtin_alloca(32 + (size_t)(depth & 3) * 16);
	snprintf(line, 32, "line %d\n", depth);
	fputs(line, f); /* the first write allocates the buffer, under the file's lock */
	sink = line;
}

static void *stdio_writer(void *arg)
{
	(void)arg;
	for (int i = 0; !stop; i++) {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			unwound_write(f, i);
			fclose(f);
		}
	}
	return NULL;
}

/* A new thread's first allocation is the buffer of a stream opened by its creator: it
 * takes a thread state of the profiler's while holding the file's lock. */
static void *first_write(void *arg)
{
	fputs("first\n", (FILE *)arg);
	return NULL;
}

static void *first_write_churn(void *arg)
{
	(void)arg;
	while (!stop) {
		FILE *f = fopen("/dev/null", "w");
		pthread_t t;
		if (f && pthread_create(&t, NULL, first_write, f) == 0)
			pthread_join(t, NULL);
		if (f)
			fclose(f);
	}
	return NULL;
}

static void *stdio_flusher(void *arg)
{
	(void)arg;
	while (!stop) {
		fflush(NULL);
		struct timespec ts = { 0, 20 * 1000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The child's end within 10 s, or -1 (and the child killed). */
static int wait_bounded(pid_t pid)
{
	for (int ms = 0; ms < 10000; ms++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0)
			return -1;
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

#define CHURNERS 4
static int fork_unwinding(void)
{
	pthread_t th[CHURNERS + 3];
	for (int t = 0; t < CHURNERS; t++)
		pthread_create(&th[t], NULL, unwinding_churn, NULL);
	pthread_create(&th[CHURNERS], NULL, stdio_writer, NULL);
	pthread_create(&th[CHURNERS + 1], NULL, stdio_flusher, NULL);
	pthread_create(&th[CHURNERS + 2], NULL, first_write_churn, NULL);
	int ret = 0;
	for (int i = 0; i < 200 && !ret; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			unwound_alloc(5);
			_exit(0);
		}
		int st = pid > 0 ? wait_bounded(pid) : -2;
		if (st != 0) {
			fprintf(stderr, "fork %d: child %s (%d)\n", i, st == -1 ? "hung" : "failed", st);
			ret = 3;
		}
	}
	stop = 1;
	for (int t = 0; t < CHURNERS + 3; t++)
		pthread_join(th[t], NULL);
	return ret;
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
	if (!strcmp(what, "fork-unwinding"))
		return fork_unwinding();
	if (!strcmp(what, "vfork")) {
		pid_t pid = vfork();
		if (pid == 0) {
			execl("/nonexistent/program", "x", (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		leak(1000, 100);
		return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? 0 : 1;
	}
	if (!strcmp(what, "sigfree")) {
		for (int i = 0; i < SIG_SLOTS; i++)
			sig_slots[i] = malloc(48);
		signal(SIGALRM, sig_handler);
		struct itimerval it = { { 0, 50 }, { 0, 50 } }, off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &it, NULL);
		for (long i = 0; i < 3000000; i++) {
			void *p = malloc(48);
			sink = p;
			free(p);
		}
		setitimer(ITIMER_REAL, &off, NULL);
		signal(SIGALRM, SIG_IGN);
		for (int i = 0; i < SIG_SLOTS; i++)
			free(sig_slots[i]);
		return 0;
	}
	if (!strcmp(what, "thread-exit")) {
		long before = vm_rss_kb();
		for (int i = 0; i < 500; i++) {
			pthread_t t;
			pthread_create(&t, NULL, strerror_thread, NULL);
			pthread_join(t, NULL);
		}
		printf("VmRSS grew by %ld kB\n", vm_rss_kb() - before);
		return 0;
	}
	if (!strcmp(what, "busy-exit")) {
		pthread_t t;
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, busy, (void *)(uintptr_t)(i + 1));
		usleep(300000);
		exit(0);
	}
	fprintf(stderr, "usage: prog-process-life fork|exec|leaf|_exit|threads|dlopen LIB|deep|fork-threads\n");
	return 2;
}

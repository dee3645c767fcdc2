/* SPDX-License-Identifier: MIT */
/* Scenarios in which the profiler must leave the process's life as it would be bare, chosen by
 * argv[1]:
 *   million EXIT [HANDLER] [THREADS]
 *             keeps 1,000,000 blocks of 16 bytes live, says "ready" on stdout, then ends with
 *             EXIT (_exit or exit) and status 0. HANDLER "handler": a SIGTERM handler of its
 *             own that calls _exit(1); "-": none. THREADS: that many more threads, parked in
 *             pause() (a process-directed signal may land on any of them).
 *   fault     catches, with siglongjmp out of its handlers, the abort() of glibc's double-free
 *             check inside free() and a SIGSEGV inside realloc(); then leaks 12,345 bytes
 *   stale-tmp leaves, as a run killed while writing would, the temporary files its snapshot
 *             would be written to first (argv[2] is the snapshot's path); leaks 3 x 100 bytes
 *   daemon    leaks 2 x 500 bytes, calls daemon(1, 1); the daemon waits for its parent to be
 *             gone, leaks 4 x 70 bytes and exits
 *   env       prints its environment (environ, then /proc/self/environ), then execs
 *             `prog-host-life env-child`, which prints its own
 *   lib       (linked with tests/data/ctor-allocates.c) leaks 7 x 10 bytes itself, says
 *             whether the library kept its block
 *   getattr   4 threads, one after another, whose first allocation is made inside
 *             pthread_getattr_np (which holds the thread's lock while it allocates); each
 *             then allocates 20 x 40 bytes in a loop and leaks 3 of them */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

static void on_term(int sig)
{
	(void)sig;
	_exit(1);
}

static void *parked(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int million(int argc, char **argv)
{
	const char *how = argc > 2 ? argv[2] : "_exit";
	if (argc > 3 && !strcmp(argv[3], "handler"))
		signal(SIGTERM, on_term);
	int threads = argc > 4 ? atoi(argv[4]) : 0;
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		pthread_create(&t, NULL, parked, NULL);
	}
	void **v = malloc(1000000 * sizeof(void *));
	for (int i = 0; i < 1000000; i++)
		v[i] = malloc(16);
	sink = v;
	printf("ready\n");
	fflush(stdout);
	if (!strcmp(how, "exit"))
		exit(0);
	_exit(0);
}

static sigjmp_buf back;
static void *volatile unmapped = (void *)0x10000010;

static void escape(int sig)
{
	siglongjmp(back, sig);
}

static int fault(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = escape;
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	int caught = 0;
	char *volatile p = malloc(64);
	if (sigsetjmp(back, 1) == 0) {
		free(p);
		free(p); /* glibc: "free(): double free detected in tcache 2", then abort() */
	} else {
		caught++;
	}
	if (sigsetjmp(back, 1) == 0) {
		sink = realloc(unmapped, 100); /* its header cannot be read: SIGSEGV */
	} else {
		caught++;
	}
	sink = malloc(12345);
	printf("caught %d faults\n", caught);
	return 0;
}

static int stale_tmp(const char *snap)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s.tmp.%d.0", snap, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "partial", 7) != 7)
		return 2;
	close(fd);
	snprintf(path, sizeof(path), "%s.tmp.%d.0.1", snap, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return 2;
	close(fd);
	for (int i = 0; i < 3; i++)
		sink = malloc(100);
	printf("stale files left\n");
	return 0;
}

static int run_daemon(void)
{
	for (int i = 0; i < 2; i++)
		sink = malloc(500);
	pid_t parent = getpid();
	fflush(stdout);
	if (daemon(1, 1) != 0) {
		perror("daemon");
		return 1;
	}
	while (getppid() == parent) /* the daemon's parent exits at once */
		usleep(1000);
	for (int i = 0; i < 4; i++)
		sink = malloc(70);
	return 0;
}

static void print_env(const char *who)
{
	extern char **environ;
	for (char **e = environ; *e; e++)
		printf("%s environ: %s\n", who, *e);
	char buf[65536];
	int fd = open("/proc/self/environ", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		printf("%s /proc/self/environ: %s\n", who, buf + i);
	fflush(stdout);
}

static void *first_in_getattr(void *arg)
{
	pthread_attr_t attr;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) != 0 || pthread_attr_getstacksize(&attr, &size) != 0)
		return arg;
	pthread_attr_destroy(&attr);
	void *blocks[20];
	for (int i = 0; i < 20; i++)
		blocks[i] = malloc(40);
	for (int i = 3; i < 20; i++)
		free(blocks[i]);
	sink = blocks[0];
	sink = blocks[1];
	sink = blocks[2];
	return size ? NULL : arg;
}

static int getattr_threads(void)
{
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		void *r = &r;
		if (pthread_create(&t, NULL, first_in_getattr, NULL) != 0 || pthread_join(t, &r) != 0 || r)
			return 1;
	}
	puts("4 threads asked for their attributes");
	return 0;
}

extern void *ctor_kept __attribute__((weak));

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "million"))
		return million(argc, argv);
	if (!strcmp(what, "fault"))
		return fault();
	if (!strcmp(what, "stale-tmp") && argc > 2)
		return stale_tmp(argv[2]);
	if (!strcmp(what, "daemon"))
		return run_daemon();
	if (!strcmp(what, "env")) {
		print_env("program");
		execl("/proc/self/exe", argv[0], "env-child", (char *)NULL);
		return 127;
	}
	if (!strcmp(what, "env-child")) {
		print_env("child");
		return 0;
	}
	if (!strcmp(what, "getattr"))
		return getattr_threads();
	if (!strcmp(what, "lib")) {
		for (int i = 0; i < 7; i++)
			sink = malloc(10);
		/* write(2), not stdio: its buffer would be one block more, which memcheck frees
		 * at exit (__libc_freeres) and memprof does not see freed. */
		const char *msg = &ctor_kept && ctor_kept ? "the library kept a block\n" : "the library kept nothing\n";
		if (write(1, msg, strlen(msg)) < 0)
			return 1;
		return 0;
	}
	fprintf(stderr, "usage: prog-host-life million|fault|stale-tmp|daemon|env|lib|getattr ...\n");
	return 2;
}

/* SPDX-License-Identifier: MIT */
/* Allocations on small stacks, as programs that run fine bare make them: a swapcontext
 * coroutine, a signal handler on a sigaltstack, a thread with a small stack. Every stack has
 * a guard page below it, so running out of it is a SIGSEGV.
 *   prog-small-stacks coroutine BYTES
 *   prog-small-stacks sigaltstack BYTES
 *   prog-small-stacks thread BYTES DEPTH
 *   prog-small-stacks threads BYTES DEPTH   eight such threads, one after another
 *   prog-small-stacks fork BYTES            a coroutine of BYTES in a fork child
 *   prog-small-stacks min coroutine|sigaltstack|thread [DEPTH]
 * The first three print "ok" and exit 0 when every allocation worked. `min` tries each in a
 * child process, at sizes 64 bytes apart, and prints the smallest that worked. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static void *volatile sink;

/* Each allocator call, from its own call site. */
static __attribute__((noinline)) void family(int i)
{
	void *p = malloc((size_t)i + 1);
	p = realloc(p, (size_t)i + 100);
	free(p);
	p = calloc(3, (size_t)i + 5);
	sink = p;
	free(p);
	if (posix_memalign(&p, 64, (size_t)i + 8) == 0)
		free(p);
	p = aligned_alloc(32, 64);
	free(p);
	p = memalign(128, (size_t)i + 16);
	free(p);
	sink = malloc(24);
	free(sink);
}

/* Many distinct stacks (a different chain for each i), so that unwinding misses its caches. */
static __attribute__((noinline)) void chain_a(int d, int i);
static __attribute__((noinline)) void chain_b(int d, int i)
{
	if (d > 0)
		chain_a(d - 1, i);
	else
		family(i);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void chain_a(int d, int i)
{
	if (d > 0 && (i >> d) & 1)
		chain_b(d - 1, i);
	else if (d > 0)
		chain_a(d - 1, i);
	else
		family(i);
	__asm__ volatile("" ::: "memory");
}

static void allocate_everywhere(void)
{
	for (int i = 0; i < 64; i++)
		chain_a(i % 6, i);
}

/* A stack of `bytes` with a PROT_NONE page below it. */
static void *guarded_stack(size_t bytes)
{
	size_t page = 4096, len = (bytes + page - 1) / page * page;
	char *m = mmap(NULL, len + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0) {
		perror("mmap");
		exit(2);
	}
	return m + page; /* its lowest byte just above the guard (it grows down to there) */
}

static ucontext_t main_ctx, co_ctx;

static void coroutine_main(void)
{
	allocate_everywhere();
	swapcontext(&co_ctx, &main_ctx);
	allocate_everywhere(); /* resumed: the caches hit this time */
}

static int run_coroutine(size_t bytes)
{
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = guarded_stack(bytes);
	co_ctx.uc_stack.ss_size = bytes;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine_main, 0);
	swapcontext(&main_ctx, &co_ctx);
	swapcontext(&main_ctx, &co_ctx);
	return 0;
}

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	allocate_everywhere();
	handled++;
}

static int run_sigaltstack(size_t bytes)
{
	stack_t ss = { .ss_sp = guarded_stack(bytes), .ss_size = bytes };
	if (sigaltstack(&ss, NULL) != 0) {
		perror("sigaltstack");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 3; i++)
		raise(SIGUSR1);
	return handled == 3 ? 0 : 1;
}

static int depth;

static __attribute__((noinline)) void recurse(int d)
{
	volatile char frame[128];
	frame[0] = (char)d;
	if (d > 0)
		recurse(d - 1);
	else
		allocate_everywhere();
	frame[1] = frame[0];
}

static void *thread_main(void *arg)
{
	(void)arg;
	sink = malloc(10); /* the thread's first allocation */
	free(sink);
	recurse(depth);
	return NULL;
}

static int run_thread(size_t bytes)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	/* The stack is the program's own, so that glibc takes no guard or TLS out of it. */
	if (pthread_attr_setstack(&attr, guarded_stack(bytes), bytes) != 0) {
		fprintf(stderr, "pthread_attr_setstack failed\n");
		return 2;
	}
	pthread_t t;
	if (pthread_create(&t, &attr, thread_main, NULL) != 0) {
		fprintf(stderr, "pthread_create failed\n");
		return 2;
	}
	pthread_join(t, NULL);
	return 0;
}

static int run_threads(size_t bytes)
{
	for (int i = 0; i < 8; i++) {
		int r = run_thread(bytes);
		if (r)
			return r;
	}
	return 0;
}

static int run_fork(size_t bytes)
{
	allocate_everywhere();
	pid_t pid = fork();
	if (pid == 0)
		_exit(run_coroutine(bytes));
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run(const char *what, size_t bytes)
{
	if (strcmp(what, "threads") == 0)
		return run_threads(bytes);
	if (strcmp(what, "fork") == 0)
		return run_fork(bytes);

	if (strcmp(what, "coroutine") == 0)
		return run_coroutine(bytes);
	if (strcmp(what, "sigaltstack") == 0)
		return run_sigaltstack(bytes);
	if (strcmp(what, "thread") == 0)
		return run_thread(bytes);
	fprintf(stderr, "prog-small-stacks: unknown case %s\n", what);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: prog-small-stacks coroutine|sigaltstack|thread|threads|fork BYTES [DEPTH]\n");
		return 2;
	}
	if (strcmp(argv[1], "min") == 0) {
		depth = argc > 3 ? atoi(argv[3]) : 0;
		for (size_t bytes = 512; bytes <= 256 * 1024; bytes += 64) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0)
				_exit(run(argv[2], bytes));
			int st;
			if (pid < 0 || waitpid(pid, &st, 0) != pid)
				return 2;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				printf("%s: %zu bytes\n", argv[2], bytes);
				return 0;
			}
		}
		return 1;
	}
	depth = argc > 3 ? atoi(argv[3]) : 0;
	int r = run(argv[1], argc > 2 ? (size_t)strtoul(argv[2], NULL, 0) : 0);
	if (r == 0)
		printf("ok\n");
	return r;
}

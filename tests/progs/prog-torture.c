/* SPDX-License-Identifier: MIT */
/* The torture scenarios the process-life program does not cover, chosen by argv[1]. Each
 * prints what it saw (deterministically) so that a run under the preload can be compared
 * byte for byte with a bare run:
 *   spawn         posix_spawn()s itself with "leaf" and posix_spawnp()s /bin/true; waits
 *   chain N HOW   leaks N+1 blocks of 100 bytes, then becomes level N-1: HOW "exec" execs
 *                 itself in this process, "fork" forks a child that execs it and waits
 *   leaf          leaks 7 x 300 bytes
 *   dlloop LIB N  dlopen/dlsym/plugin_alloc/free/dlclose N times
 *   deepbind LIB  dlopen LIB with RTLD_DEEPBIND; it and the program free each other's blocks
 *   longjmp       2000 times: recursion 1..60 deep allocating in every frame, then longjmp
 *                 from the bottom to the top, which frees the blocks through a list
 *   storm         6 waves of 24 threads swapping blocks through a shared pool (each frees
 *                 what another allocated) while the next wave is being created
 *   nulls         requests the real allocator refuses (1 << 62 bytes, overflowing counts;
 *                 with tests/data/fault-inject.c preloaded, sizes 777777 and 888888 too)
 *   rmdir DIR     allocates, then removes DIR (where the snapshot was to go) before exit
 *   grow N        keeps N blocks of 16 bytes live (an address-space limit may refuse some)
 *   abort         leaks, prints, then abort()s
 *   segv          leaks, prints, then dereferences NULL
 *   counts        keeps 1000 blocks of 64 bytes; 8 waves of 4 threads allocate and free
 *                 from 1200 distinct stacks (more than a thread's 1024 pending counters,
 *                 so they keep being moved to the shared ones) and exit, while another
 *                 thread writes snapshots without pause, until and through exit() */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/memprof.h"

extern char **environ;
static void *volatile sink;

static void leak(int n, size_t size)
{
	for (int i = 0; i < n; i++)
		sink = malloc(size);
}

static int wait_ok(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- longjmp out of deep allocating frames ---- */
struct frame_block {
	struct frame_block *next;
	char pad[40];
};
static struct frame_block *volatile chain_head;
static jmp_buf top;

__attribute__((noinline)) static void dive(int depth, int bottom)
{
	if (bottom < 1)
		return;
	struct frame_block *b = malloc(sizeof(*b) + (size_t)depth);
	b->next = chain_head;
	chain_head = b;
	char *scratch = malloc(8 + (size_t)depth); /* freed on the way down, never on the way up */
	sink = scratch;
	free(scratch);
	if (depth < bottom)
		dive(depth + 1, bottom);
	else
		longjmp(top, depth);
	sink = b; /* not a tail call */
}

static int do_longjmp(void)
{
	long jumps = 0, freed = 0;
	for (int round = 0; round < 2000; round++) {
		int r = setjmp(top);
		if (r == 0)
			dive(1, 1 + round % 60);
		jumps += r > 0;
		while (chain_head) {
			struct frame_block *b = chain_head;
			chain_head = b->next;
			free(b);
			freed++;
		}
	}
	printf("longjmp: %ld jumps, %ld frame blocks freed\n", jumps, freed);
	return 0;
}

/* ---- threads created and exiting while others allocate and free across threads ---- */
#define POOL 512
#define WAVES 6
#define PER_WAVE 24
#define PER_THREAD 3000
static _Atomic(void *) pool[POOL];
static atomic_long storm_allocs;

static void *storm_thread(void *arg)
{
	unsigned r = (unsigned)(uintptr_t)arg * 2654435761u;
	for (int i = 0; i < PER_THREAD; i++) {
		r = r * 1103515245u + 12345u;
		void *p = malloc(8 + (r >> 16) % 500);
		atomic_fetch_add(&storm_allocs, 1);
		free(atomic_exchange(&pool[(r >> 8) % POOL], p)); /* usually another thread's */
		if (i % 1000 == 999)
			sched_yield();
	}
	return NULL;
}

static int do_storm(void)
{
	pthread_t prev[PER_WAVE], cur[PER_WAVE];
	int n_prev = 0;
	for (int w = 0; w < WAVES; w++) {
		int n = 0;
		for (int t = 0; t < PER_WAVE; t++)
			if (pthread_create(&cur[n], NULL, storm_thread, (void *)(uintptr_t)(w * PER_WAVE + t + 1)) == 0)
				n++;
		/* The previous wave exits while this one runs. */
		for (int t = 0; t < n_prev; t++)
			pthread_join(prev[t], NULL);
		memcpy(prev, cur, sizeof(cur));
		n_prev = n;
	}
	for (int t = 0; t < n_prev; t++)
		pthread_join(prev[t], NULL);
	for (int i = 0; i < POOL; i++)
		free(atomic_exchange(&pool[i], NULL));
	printf("storm: %ld allocations by %d threads in %d waves\n", atomic_load(&storm_allocs),
	       WAVES * PER_WAVE, WAVES);
	return 0;
}

/* ---- the real allocator saying no ---- */
static void say(const char *what, const void *p, int e)
{
	printf("%-28s %s", what, p ? "ok" : "NULL");
	if (!p)
		printf(" errno=%s", e == ENOMEM ? "ENOMEM" : e == EINVAL ? "EINVAL" : "other");
	printf("\n");
}

static int do_nulls(int injected)
{
	void *p;
	/* volatile: the compiler must not see the sizes and warn about them */
	volatile size_t huge = (size_t)1 << 62, big = (size_t)1 << 40;
	void *volatile keep;
	errno = 0;
	p = malloc(huge);
	say("malloc(1<<62)", p, errno);
	errno = 0;
	p = calloc(huge, 8);
	say("calloc(1<<62, 8)", p, errno);
	errno = 0;
	p = calloc(big, big);
	say("calloc(overflow)", p, errno);
	keep = malloc(100);
	memset(keep, 'k', 100);
	errno = 0;
	p = realloc(keep, huge);
	say("realloc(keep, 1<<62)", p, errno);
	printf("kept block intact: %s\n", ((char *)keep)[99] == 'k' ? "yes" : "no");
	errno = 0;
	p = reallocarray(keep, huge, 4);
	say("reallocarray(overflow)", p, errno);
	int r = posix_memalign(&p, 64, huge);
	printf("%-28s %s\n", "posix_memalign(1<<62)", r == ENOMEM ? "ENOMEM" : r ? "error" : "ok");
	errno = 0;
	p = aligned_alloc(4096, huge);
	say("aligned_alloc(1<<62)", p, errno);
	errno = 0;
	p = memalign(64, huge);
	say("memalign(1<<62)", p, errno);
	errno = 0;
	p = valloc(huge);
	say("valloc(1<<62)", p, errno);
	if (injected) {
		/* tests/data/fault-inject.c refuses these sizes from the real allocator. */
		errno = 0;
		p = malloc(777777);
		say("malloc(777777)", p, errno);
		errno = 0;
		p = calloc(1, 888888);
		say("calloc(1, 888888)", p, errno);
		errno = 0;
		p = realloc(keep, 777777);
		say("realloc(keep, 777777)", p, errno);
		errno = 0;
		r = posix_memalign(&p, 64, 888888);
		printf("%-28s %s\n", "posix_memalign(888888)", r == ENOMEM ? "ENOMEM" : r ? "error" : "ok");
		/* Churn between refusals: the profiler's tables stay consistent. */
		for (int i = 0; i < 20000; i++) {
			void *q = malloc(i % 2 ? 777777 : (size_t)(16 + i % 300));
			free(q);
		}
		printf("churn done\n");
	}
	free(keep);
	return 0;
}

/* ---- exec chains ---- */
static int do_chain(const char *self, int level, const char *how)
{
	leak(level + 1, 100);
	if (level == 0)
		return 0;
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", level - 1);
	if (!strcmp(how, "exec")) {
		execl(self, "prog-torture", "chain", arg, how, (char *)NULL);
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, "prog-torture", "chain", arg, how, (char *)NULL);
		_exit(1);
	}
	return wait_ok(pid) ? 0 : 1;
}

/* ---- counters read while threads move them ---- */
#define COUNT_SITES 24
#define COUNT_DEPTHS 50

static __attribute__((noinline)) void *count_alloc(unsigned site, int depth)
{
	if (depth > 0) {
		void *p = count_alloc(site, depth - 1);
		sink = p; /* not a tail call: each depth is a stack of its own */
		return p;
	}
	switch (site) {
#define SITE(n) case n: return malloc(16 + n)
	SITE(0); SITE(1); SITE(2); SITE(3); SITE(4); SITE(5); SITE(6); SITE(7);
	SITE(8); SITE(9); SITE(10); SITE(11); SITE(12); SITE(13); SITE(14); SITE(15);
	SITE(16); SITE(17); SITE(18); SITE(19); SITE(20); SITE(21); SITE(22);
#undef SITE
	default: return malloc(16 + COUNT_SITES - 1);
	}
}

static void *count_worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < 6000; i++) {
		seed = seed * 1103515245u + 12345u;
		free(count_alloc((seed >> 8) % COUNT_SITES, (int)((seed >> 16) % COUNT_DEPTHS)));
	}
	return NULL;
}

static void *count_snapshotter(void *arg)
{
	(void)arg;
	for (;;) /* until the process ends: one of these runs while exit() writes its own */
		memprof_snapshot("counts");
	return NULL;
}

static int do_counts(void)
{
	static void *keep[1000];
	for (int i = 0; i < 1000; i++)
		keep[i] = malloc(64);
	pthread_t snap, t[4];
	pthread_create(&snap, NULL, count_snapshotter, NULL);
	unsigned long n = 0;
	for (int wave = 0; wave < 8; wave++) {
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, count_worker, (void *)(uintptr_t)(wave * 4 + i + 1));
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			n += 6000;
		}
	}
	printf("counts: %lu blocks allocated and freed by 32 threads, 1000 kept\n", n);
	fflush(stdout);
	exit(keep[999] ? 0 : 1);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(what, "leaf")) {
		leak(7, 300);
		return 0;
	}
	if (!strcmp(what, "spawn")) {
		pid_t pid;
		char *leaf_argv[] = { "prog-torture", "leaf", NULL };
		char *true_argv[] = { "true", NULL };
		leak(2, 50);
		if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, leaf_argv, environ) != 0 || !wait_ok(pid))
			return 1;
		if (posix_spawnp(&pid, "true", NULL, NULL, true_argv, environ) != 0 || !wait_ok(pid))
			return 1;
		printf("spawned two children\n");
		return 0;
	}
	if (!strcmp(what, "chain") && argc > 3)
		return do_chain("/proc/self/exe", atoi(argv[2]), argv[3]);
	if (!strcmp(what, "dlloop") && argc > 3) {
		int n = atoi(argv[3]);
		for (int i = 0; i < n; i++) {
			void *h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
			if (!h)
				return 2;
			void *(*fn)(size_t) = (void *(*)(size_t))dlsym(h, "plugin_alloc");
			if (!fn)
				return 3;
			free(fn(100 + (size_t)i));
			if (dlclose(h) != 0)
				return 4;
		}
		printf("dlopen/dlclose: %d rounds\n", n);
		return 0;
	}
	if (!strcmp(what, "deepbind") && argc > 2) {
		void *h = dlopen(argv[2], RTLD_NOW | RTLD_DEEPBIND);
		if (!h)
			return 2;
		void *(*lib_alloc)(size_t) = (void *(*)(size_t))dlsym(h, "lib_alloc");
		void (*lib_free)(void *) = (void (*)(void *))dlsym(h, "lib_free");
		if (!lib_alloc || !lib_free)
			return 3;
		long n = 0;
		for (int i = 0; i < 5000; i++) {
			free(lib_alloc(32 + (size_t)i % 64));   /* allocated inside, freed here */
			lib_free(malloc(32 + (size_t)i % 64)); /* allocated here, freed inside */
			void *p = lib_alloc(24);
			lib_free(p);                           /* both inside */
			n += 3;
		}
		dlclose(h);
		printf("deepbind: %ld blocks crossed the library boundary\n", n);
		return 0;
	}
	if (!strcmp(what, "longjmp"))
		return do_longjmp();
	if (!strcmp(what, "storm"))
		return do_storm();
	if (!strcmp(what, "nulls"))
		return do_nulls(argc > 2 && !strcmp(argv[2], "injected"));
	if (!strcmp(what, "rmdir") && argc > 2) {
		leak(3, 64);
		if (rmdir(argv[2]) != 0) {
			perror("rmdir");
			return 1;
		}
		printf("removed %s\n", argv[2]);
		return 0;
	}
	if (!strcmp(what, "grow") && argc > 2) {
		long n = atol(argv[2]), got = 0;
		void **blocks = calloc((size_t)n, sizeof(void *));
		if (!blocks)
			return 1;
		for (long i = 0; i < n; i++)
			got += (blocks[i] = malloc(16)) != NULL;
		for (long i = 0; i < n; i++)
			free(blocks[i]);
		free(blocks);
		printf("grow: %ld of %ld\n", got, n);
		return 0;
	}
	if (!strcmp(what, "abort")) {
		leak(4, 256);
		printf("about to abort\n");
		abort();
	}
	if (!strcmp(what, "counts"))
		return do_counts();
	if (!strcmp(what, "segv")) {
		leak(4, 256);
		printf("about to fault\n");
		volatile int *volatile nowhere = NULL;
		*nowhere = 1;
		return 0;
	}
	fprintf(stderr, "usage: prog-torture spawn|chain N exec|fork|leaf|dlloop LIB N|deepbind LIB|"
			"longjmp|storm|nulls [injected]|rmdir DIR|grow N|abort|segv|counts\n");
	return 2;
}

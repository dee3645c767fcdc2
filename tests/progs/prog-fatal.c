/* SPDX-License-Identifier: MIT */
/* Programs that die of signals, or look at their signal dispositions, for
 * tests/preload/test-preload-fatal-signal-snapshots.sh:
 *   show          print what sigaction() and the signal() family say of each signal, around
 *                 installing and removing handlers
 *   wait          leak 3 blocks, print "ready", and wait for a signal
 *   handler-exit  a SIGTERM handler that calls exit(3), then raise(SIGTERM)
 *   double-free   free a block twice: glibc aborts inside free()
 *   threads-segv  4 threads allocate and then fault at the same moment
 *   pipe          write lines until stdout's reader goes away
 *   term-in-exit  hold a million blocks and return from main, while another thread takes a
 *                 pending SIGTERM 150 ms later: as the final snapshot is being written
 *   alloc-loop    print "ready", then allocate and free without end (mostly inside malloc)
 *   small-stack   abort() in a thread with the smallest stack pthreads allows
 *   snapshot-loop print "ready", then a second thread calls memprof_snapshot() without end
 *   exit-in-snapshot [exit]  calls memprof_snapshot() without end; a SIGALRM handler calls
 *                 _exit(3) (or exit(3)) 200 ms in, nearly always while a snapshot is being
 *                 written */
#define _GNU_SOURCE
#include "../../include/memprof.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Still in the C library, no longer in its headers. */
extern sighandler_t bsd_signal(int sig, sighandler_t handler);

static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGHUP,
			    SIGINT,  SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1 };

static void on_signal(int sig)
{
	(void)sig;
}

static const char *name(void (*h)(int))
{
	return h == SIG_DFL ? "DFL" : h == SIG_IGN ? "IGN" : h == on_signal ? "ours" : "other";
}

static int show(void)
{
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		if (sigaction(sigs[i], NULL, &sa) != 0)
			return 1;
		printf("%s: %s flags %#x%s\n", sigabbrev_np(sigs[i]), name(sa.sa_handler),
		       (unsigned)sa.sa_flags, sigismember(&sa.sa_mask, sigs[i]) ? " masked" : "");
	}
	printf("signal(TERM, handler) was %s\n", name(signal(SIGTERM, on_signal)));
	printf("signal(TERM, DFL) was %s\n", name(signal(SIGTERM, SIG_DFL)));
	printf("signal(TERM, IGN) was %s\n", name(signal(SIGTERM, SIG_IGN)));
	printf("signal(TERM, DFL) was %s\n", name(signal(SIGTERM, SIG_DFL)));
	printf("sysv_signal(HUP, handler) was %s\n", name(sysv_signal(SIGHUP, on_signal)));
	printf("bsd_signal(HUP, DFL) was %s\n", name(bsd_signal(SIGHUP, SIG_DFL)));
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	printf("sigaction(SEGV, handler) was %s\n", name(old.sa_handler));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGSEGV, &sa, &old);
	printf("sigaction(SEGV, DFL) was %s\n", name(old.sa_handler));
	sigaction(SIGSEGV, NULL, &old);
	printf("SEGV now %s\n", name(old.sa_handler));
	/* A handler that runs: raise() reaches the program's own handler, not ours. */
	signal(SIGUSR1, on_signal);
	signal(SIGQUIT, on_signal);
	raise(SIGQUIT);
	printf("SIGQUIT went to the program's handler\n");
	return 0;
}

static void exit_3(int sig)
{
	(void)sig;
	exit(3);
}

static pthread_barrier_t barrier;
/* Where the blocks are kept, so that the compiler cannot leave a malloc() out. */
static void *volatile kept[8];

static void *fault(void *arg)
{
	kept[(long)arg] = malloc(1000 + (size_t)arg);
	pthread_barrier_wait(&barrier);
	volatile char *volatile nowhere = NULL;
	nowhere[0] = 1;
	return NULL;
}

static void *take_term_later(void *arg)
{
	(void)arg;
	struct timespec later = { 0, 150 * 1000 * 1000 };
	nanosleep(&later, NULL);
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	pause();
	return NULL;
}

static void *abort_now(void *arg)
{
	kept[0] = malloc(100);
	(void)arg;
	abort();
}

static void *snapshot_forever(void *arg)
{
	(void)arg;
	for (;;)
		memprof_snapshot("loop");
	return NULL;
}

static void underscore_exit_3(int sig)
{
	(void)sig;
	_exit(3);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(what, "show"))
		return show();
	if (!strcmp(what, "wait")) {
		for (int i = 0; i < 3; i++)
			kept[i] = malloc(700);
		printf("ready\n");
		for (;;)
			pause();
	}
	if (!strcmp(what, "handler-exit")) {
		kept[0] = malloc(300);
		signal(SIGTERM, exit_3);
		raise(SIGTERM);
		return 0;
	}
	if (!strcmp(what, "double-free")) {
		char *volatile p = malloc(40);
		printf("freeing twice\n");
		free(p);
		free(p);
		return 0;
	}
	if (!strcmp(what, "threads-segv")) {
		pthread_t t[4];
		pthread_barrier_init(&barrier, NULL, 4);
		for (long i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, fault, (void *)i);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	if (!strcmp(what, "term-in-exit")) {
		enum { N = 1000 * 1000 };
		void **blocks = malloc(N * sizeof(void *));
		for (int i = 0; i < N; i++)
			blocks[i] = malloc(16);
		kept[0] = blocks;
		sigset_t term;
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &term, NULL);
		pthread_t t;
		pthread_create(&t, NULL, take_term_later, NULL); /* born with SIGTERM blocked */
		kill(getpid(), SIGTERM);                        /* pending for the process */
		printf("exiting\n");
		return 0;
	}
	if (!strcmp(what, "pipe")) {
		for (long i = 0;; i++) {
			char *line = malloc(64);
			snprintf(line, 64, "line %ld\n", i);
			fputs(line, stdout);
			free(line);
		}
	}
	if (!strcmp(what, "alloc-loop")) {
		printf("ready\n");
		for (unsigned i = 0;; i++) {
			free(kept[i % 8]);
			kept[i % 8] = malloc(16 + i % 512);
		}
	}
	if (!strcmp(what, "small-stack")) {
		pthread_attr_t attr;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
		pthread_create(&t, &attr, abort_now, NULL);
		pthread_join(t, NULL);
		return 0;
	}
	if (!strcmp(what, "snapshot-loop")) {
		pthread_t t;
		pthread_create(&t, NULL, snapshot_forever, NULL);
		printf("ready\n");
		for (;;)
			pause();
	}
	if (!strcmp(what, "exit-in-snapshot")) {
		for (int i = 0; i < 20000; i++)
			kept[i % 8] = malloc(16 + (size_t)i % 64); /* something to write */
		signal(SIGALRM, argc > 2 && !strcmp(argv[2], "exit") ? exit_3 : underscore_exit_3);
		struct itimerval soon = { { 0, 0 }, { 0, 200 * 1000 } };
		setitimer(ITIMER_REAL, &soon, NULL);
		for (;;)
			memprof_snapshot("loop");
	}
	fprintf(stderr, "usage: prog-fatal show|wait|handler-exit|double-free|threads-segv|pipe|"
			"term-in-exit|alloc-loop|small-stack|snapshot-loop|exit-in-snapshot [exit]\n");
	return 2;
}

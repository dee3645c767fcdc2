/* SPDX-License-Identifier: MIT */
/* The lock-order witness of a debug build (util.c compiled here with MP_DEBUG): locks taken in
 * increasing rank, and trylocks in any order, pass; a lock taken while one of its rank or a
 * higher one is held aborts with the assertion's message. */
#define MP_DEBUG 1
#include "util.c"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL: %s\n", what);
		failures++;
	}
}

static mp_spinlock_t peak = MP_SPINLOCK_INIT(MP_RANK_PEAK);
static mp_spinlock_t timeline = MP_SPINLOCK_INIT(MP_RANK_TIMELINE);
static mp_spinlock_t modules = MP_SPINLOCK_INIT(MP_RANK_MODULES);

/* Runs fn in a child; returns its stderr's start in buf and whether it died of SIGABRT. */
static int aborts(void (*fn)(void), char *buf, size_t cap)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		fn();
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void in_order(void)
{
	mp_spin_lock(&peak);
	mp_spin_lock(&timeline);
	mp_spin_lock(&modules);
	mp_spin_unlock(&modules);
	mp_spin_unlock(&timeline);
	mp_spin_unlock(&peak);
	/* A trylock cannot wait: any order. */
	mp_spin_lock(&modules);
	check(mp_spin_trylock(&peak) == 1, "trylock of a lower rank is taken");
	mp_spin_unlock(&peak);
	mp_spin_unlock(&modules);
	check(mp_locks_held == 0, "every lock released");
}

static void out_of_order(void)
{
	mp_spin_lock(&timeline);
	mp_spin_lock(&peak); /* lower rank while a higher one is held */
}

static void twice(void)
{
	mp_spin_lock(&modules);
	mp_spin_lock(&modules); /* would wait for itself */
}

int main(void)
{
	char buf[512];
	check(aborts(in_order, buf, sizeof(buf)) == 0 && buf[0] == '\0', "locks in rank order pass");
	check(aborts(out_of_order, buf, sizeof(buf)) == 1, "a lock below a held rank aborts");
	check(strstr(buf, "memprof: assertion failed: ") == buf && strstr(buf, "ranks_held") &&
		      strstr(buf, "util.c:"), "the message names the check and its place");
	check(aborts(twice, buf, sizeof(buf)) == 1, "a lock taken twice aborts");
	if (failures)
		fprintf(stderr, "last message: %s", buf);
	else
		printf("lock witness: 4 checks passed\n");
	return failures != 0;
}

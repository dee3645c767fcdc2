/* SPDX-License-Identifier: MIT */
/* MP_ASSERT in a debug build: a true assertion passes; a false one prints its expression, file
 * and line on standard error with write(2) and aborts, past any SIGABRT handler (the library's
 * own fatal-signal handler would write a snapshot with the failing thread's locks held). */
#define MP_DEBUG 1
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

static void on_abort(int sig)
{
	(void)sig;
	static const char msg[] = "handler ran\n";
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(4);
	_exit(3);
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL: %s\n", what);
		failures++;
	}
}

int main(void)
{
	int two = 2;
	MP_ASSERT(two == 2);
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_abort;
		sigaction(SIGABRT, &sa, NULL);
		sigset_t abrt;
		sigemptyset(&abrt);
		sigaddset(&abrt, SIGABRT);
		sigprocmask(SIG_BLOCK, &abrt, NULL);
		MP_ASSERT(two == 3);
		_exit(0);
	}
	close(fds[1]);
	char buf[512];
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	int status = 0;
	waitpid(pid, &status, 0);
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "a false assertion aborts");
	check(!strstr(buf, "handler ran"), "no SIGABRT handler runs");
	check(strstr(buf, "memprof: assertion failed: two == 3 at tests/unit/unit-assert.c:") == buf,
	      "the message names the expression and the place");
	if (failures)
		fprintf(stderr, "got: %s", buf);
	else
		printf("MP_ASSERT: 3 checks passed\n");
	return failures != 0;
}

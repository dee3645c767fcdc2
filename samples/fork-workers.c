/* SPDX-License-Identifier: MIT */
/* Sample: a parent that forks worker processes. Each worker is a copy of the parent's heap
 * that lives on its own: memprof writes one snapshot per process (the pid in the name with
 * %p, or a .PID suffix), so a worker's leak shows in the worker's snapshot only.
 *
 * The parent allocates a 1,000-byte job table and frees it. Worker i (0, 1, 2) handles
 * i + 1 jobs and leaks one 100-byte result per job from worker_handle_job(): 100, 200 and
 * 300 bytes definitely lost in the three worker snapshots, nothing in the parent's (each
 * worker also still reaches the parent's job table: it exits before the parent frees it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define WORKERS 3

static NOINLINE void worker_handle_job(int worker, int job)
{
	char *result = malloc(100);

	if (result)
		snprintf(result, 100, "worker %d job %d done", worker, job);
	/* Bug: the result is neither returned nor freed. */
}

static NOINLINE void worker(int i)
{
	for (int job = 0; job <= i; job++)
		worker_handle_job(i, job);
	exit(0);
}

int main(void)
{
	char *jobs = calloc(1, 1000);
	pid_t pids[WORKERS];
	int failed = 0;

	if (!jobs)
		return 1;
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 1;
		if (pids[i] == 0)
			worker(i);
	}
	for (int i = 0; i < WORKERS; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	free(jobs);
	char line[64];
	int n = snprintf(line, sizeof(line), "%d workers done, %d failed\n", WORKERS, failed);
	return write(1, line, (size_t)n) == n ? 0 : 1;
}

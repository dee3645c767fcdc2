/* SPDX-License-Identifier: MIT */
/* The manifest of memprof run (MEMPROF_MANIFEST, a file memprof run made): a line for each
 * snapshot written, its absolute path, and a line for each event that can explain why none
 * was, starting with '#' (no path does). One O_APPEND write per line, so that the processes
 * sharing the file never mix their lines; nothing when the variable is not set. */
#include "manifest.h"

#include "options.h"
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define LINE_BYTES 4200

static void append(char *line, size_t *n, const char *s)
{
	size_t k = s ? strlen(s) : 0;
	if (k > LINE_BYTES - 2 - *n)
		k = LINE_BYTES - 2 - *n;
	for (size_t i = 0; i < k; i++)
		line[(*n)++] = s[i] == '\n' ? ' ' : s[i]; /* one line, whatever the text */
}

/* O_NONBLOCK: a FIFO without a reader must not stop the process (its open would wait for
 * one, at exit with the signals held: a hang nothing but SIGKILL ends). */
static void write_line(char *line, size_t n)
{
	int fd = open(mp_opt.manifest, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return;
	line[n++] = '\n';
	(void)!write(fd, line, n);
	close(fd);
}

void mp_manifest_snapshot(const char *path)
{
	if (!mp_opt.manifest[0])
		return;
	char line[LINE_BYTES];
	size_t n = 0;
	append(line, &n, path);
	write_line(line, n);
}

void mp_manifest_event(const char *kind, const char *text, const char *text2, const char *text3)
{
	if (!mp_opt.manifest[0])
		return;
	char line[LINE_BYTES], pid[24];
	size_t n = 0;
	mp_utoa((uint64_t)getpid(), pid);
	append(line, &n, "#");
	append(line, &n, kind);
	append(line, &n, " ");
	append(line, &n, pid);
	append(line, &n, " ");
	append(line, &n, text);
	append(line, &n, text2);
	append(line, &n, text3);
	write_line(line, n);
}

/* SPDX-License-Identifier: MIT */
/* A test shim preloaded before libmemprof.so: the rename() that puts the snapshot named by
 * $STALL_TARGET in place first writes "renaming" into the FIFO $STALL_FIFO and waits until
 * the FIFO $STALL_GO is opened and closed by the test. So the test can send a signal while the
 * final snapshot is being written, at a known point, without timing anything. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
	static int (*next)(const char *, const char *);
	if (!next)
		next = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	const char *target = getenv("STALL_TARGET"), *fifo = getenv("STALL_FIFO"), *go = getenv("STALL_GO");
	if (target && fifo && go && strcmp(to, target) == 0) {
		int fd = open(fifo, O_WRONLY);
		if (fd >= 0) {
			(void)!write(fd, "renaming\n", 9);
			close(fd);
		}
		fd = open(go, O_RDONLY);
		if (fd >= 0) {
			char c;
			while (read(fd, &c, 1) > 0)
				;
			close(fd);
		}
	}
	return next(from, to);
}

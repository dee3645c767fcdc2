/* SPDX-License-Identifier: MIT */
/* Sample: a "possibly lost" block. A message buffer is allocated, and the program keeps only
 * a cursor into its middle (past a 16-byte header) in a global. No pointer to the start of
 * the block remains, so nothing could free it, yet a pointer into it exists:
 *
 *   possibly lost: 256 bytes in 1 blocks   (allocated in read_message)
 *   still reachable: 64 bytes in 1 blocks (the header table, pointed to from its start)
 *
 * memcheck --leak-check=full and memprof agree. Possibly lost usually means a real leak
 * hidden behind pointer arithmetic; sometimes (C++ arrays, std::string) it is deliberate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

const char *body;             /* points 16 bytes into the message buffer */
char **header_table;          /* points to the start of its block: reachable */

static NOINLINE void read_message(const char *text)
{
	char *buf = malloc(256);

	if (!buf)
		exit(1);
	memset(buf, 0, 256);
	memcpy(buf, "HDR:v1;len=0042;", 16);
	strncpy(buf + 16, text, 256 - 16 - 1);
	body = buf + 16;       /* the only pointer kept */
}

static NOINLINE void make_header_table(void)
{
	header_table = calloc(8, sizeof(*header_table));
	if (!header_table)
		exit(1);
}

int main(void)
{
	char line[128];
	int n;

	make_header_table();
	read_message("hello from the interior");
	n = snprintf(line, sizeof(line), "body: %s\n", body);
	if (write(1, line, (size_t)n) != n)
		return 1;
	return 0;
}

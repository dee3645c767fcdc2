/* SPDX-License-Identifier: MIT */
/* Helpers the memprof subcommands share: one-line errors and option parsing. Kept out of
 * main.c so that programs without its main() (the fuzz target) can link the subcommands. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line, whatever the message contains. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fflush(stdout);
	fprintf(stderr, "memprof: %s\n", msg);
}

int mp_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int mp_bad_option(const char *cmd, int getopt_rc, char **argv)
{
	const char *arg = argv[optind - 1];
	char opt[64] = { '-', (char)optopt, '\0' };

	/* A long option is named as typed (without "=VALUE"); a short one alone, since it may
	 * sit inside a cluster ("-xh"). */
	if (strncmp(arg, "--", 2) == 0)
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(arg, "="), arg);
	if (getopt_rc == ':')
		mp_error("%s: option '%s' needs an argument (see 'memprof %s --help')", cmd, opt, cmd);
	else
		mp_error("%s: unknown option '%s' (see 'memprof %s --help')", cmd, opt, cmd);
	return MP_EXIT_USAGE;
}

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

/* Edits (insertions, deletions, changes) from a to b, or more than `cap` as soon as that is
 * certain; both short (option names). */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], best;

		row[0] = best = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb];
}

/* The known long option nearest to `name` (without "--"), if one is near enough to be a
 * slip: at most 2 edits, or a third of the name's length. */
static const char *nearest(const char *name, const struct option *longopts)
{
	size_t cap = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2, best = cap + 1;
	const char *found = NULL;

	for (const struct option *o = longopts; o && o->name; o++) {
		size_t d = edit_distance(name, o->name, cap);

		if (d < best) {
			best = d;
			found = o->name;
		}
	}
	return found;
}

int mp_bad_option(const char *cmd, int getopt_rc, char **argv, const struct option *longopts)
{
	const char *arg = argv[optind - 1];
	char opt[64] = { '-', (char)optopt, '\0' };
	const char *near = NULL;

	/* A long option is named as typed (without "=VALUE"); a short one alone, since it may
	 * sit inside a cluster ("-xh"). */
	if (strncmp(arg, "--", 2) == 0) {
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(arg, "="), arg);
		if (getopt_rc != ':')
			near = nearest(opt + 2, longopts);
	}
	if (getopt_rc == ':')
		mp_error("%s: option '%s' needs an argument (see 'memprof %s --help')", cmd, opt, cmd);
	else if (near)
		mp_error("%s: unknown option '%s'; did you mean '--%s'? (see 'memprof %s --help')", cmd, opt,
			 near, cmd);
	else
		mp_error("%s: unknown option '%s' (see 'memprof %s --help')", cmd, opt, cmd);
	return MP_EXIT_USAGE;
}

int mp_parse_below_main(const char *cmd, const char *arg, bool *out)
{
	if (arg && strcmp(arg, "yes") != 0 && strcmp(arg, "no") != 0) {
		mp_error("%s: --show-below-main wants yes or no, not '%s'", cmd, arg);
		return -EINVAL;
	}
	*out = !arg || strcmp(arg, "yes") == 0;
	return 0;
}

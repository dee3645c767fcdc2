/* SPDX-License-Identifier: MIT */
/* Options, snapshot reading and report contexts shared by memprof diff and memprof trend. */
#include "compare.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "snapshot_format.h"
#include "symbolize.h"
#include "text_out.h"

int mp_compare_options(mp_compare_t *c, int argc, char **argv, const char *help)
{
	enum { OPT_TOP = 256, OPT_FRAMES, OPT_NO_SYMBOLS, OPT_NO_COLOR, OPT_FORMAT, OPT_BELOW_MAIN, OPT_FULL_NAMES, OPT_FULL_STACKS };
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, OPT_TOP },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "show-below-main", optional_argument, NULL, OPT_BELOW_MAIN },
		{ "full-names", no_argument, NULL, OPT_FULL_NAMES },
		{ "full-stacks", no_argument, NULL, OPT_FULL_STACKS },
		{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool color = true;
	int opt;

	c->top = 10;
	c->frames = 12;
	c->symbols = true;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_TOP:
			if (mp_parse_uint(optarg, 1, 1000000, &c->top) < 0) {
				mp_error("%s: --top wants a number from 1 to 1000000, not '%s'", c->cmd, optarg);
				return MP_EXIT_USAGE;
			}
			break;
		case OPT_FRAMES:
			if (mp_parse_uint(optarg, 0, MP_SNAP_MAX_FRAMES, &c->frames) < 0) {
				mp_error("%s: --frames wants a number from 0 to %u, not '%s'", c->cmd,
					 MP_SNAP_MAX_FRAMES, optarg);
				return MP_EXIT_USAGE;
			}
			break;
		case OPT_FULL_NAMES:
			c->full_names = true;
			break;
		case OPT_FULL_STACKS:
			c->full_stacks = true;
			break;
		case OPT_BELOW_MAIN:
			if (mp_parse_below_main(c->cmd, optarg, &c->below_main) < 0)
				return MP_EXIT_USAGE;
			break;
		case OPT_NO_SYMBOLS:
			c->symbols = false;
			break;
		case OPT_NO_COLOR:
			color = false;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				mp_error("%s: --format wants text or json, not '%s'", c->cmd, optarg);
				return MP_EXIT_USAGE;
			}
			c->json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return mp_bad_option(c->cmd, opt, argv, longopts);
		}
	}
	/* As memprof report: bold titles only for a person at a terminal. */
	c->color = color && !c->json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	return -1;
}

int mp_compare_read(mp_compare_t *c, char **paths, size_t n)
{
	char err[512];

	c->paths = paths;
	c->snaps = calloc(n ? n : 1, sizeof(*c->snaps));
	c->reports = calloc(n ? n : 1, sizeof(*c->reports));
	if (!c->snaps || !c->reports) {
		mp_error("%s: out of memory", c->cmd);
		return MP_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		if (mp_snapshot_read(paths[i], &c->snaps[i], err, sizeof(err)) < 0) {
			mp_error("%s", err);
			return MP_EXIT_USAGE;
		}
		c->n_snaps = i + 1;
		c->reports[i] = (mp_report_t){
			.path = paths[i],
			.snap = &c->snaps[i],
			.top = c->top,
			.frames = c->frames,
			.below_main = c->below_main,
			.width = mp_output_width(),
			.full_names = c->full_names,
			.full_stacks = c->full_stacks,
			.sort = MP_SORT_ALL,
			.color = c->color,
		};
	}
	return 0;
}

void mp_compare_strip(mp_snapshot_t *snap)
{
	mp_snapshot_t kept = { .version = snap->version, .meta = snap->meta, .totals = snap->totals };

	/* The exe names the series in trend's output; a long one is cut (any real one fits). */
	if (kept.meta.exe && strlen(kept.meta.exe) >= MP_SNAP_MAX_PATH)
		kept.meta.exe[MP_SNAP_MAX_PATH - 1] = '\0';
	kept.meta.exe = kept.meta.exe ? strdup(kept.meta.exe) : NULL;
	kept.meta.cmdline = NULL;
	kept.meta.cmdline_bytes = 0;
	kept.meta.label = NULL;
	mp_snapshot_free(snap);
	*snap = kept;
}

/* Makes snapshot i of a stripped c whole again, stripping the one made whole before. */
static void reload(mp_compare_t *c, size_t i)
{
	mp_snapshot_t full, *s = &c->snaps[i];
	char err[512];

	if (c->reloaded == i)
		return;
	if (c->reloaded != SIZE_MAX) {
		mp_symbolizer_free(c->reports[c->reloaded].sym);
		c->reports[c->reloaded].sym = NULL;
		mp_compare_strip(&c->snaps[c->reloaded]);
		c->reloaded = SIZE_MAX;
	}
	if (mp_snapshot_read(c->paths[i], &full, err, sizeof(err)) < 0) {
		mp_error("%s", err);
		exit(MP_EXIT_USAGE);
	}
	if (full.meta.pid != s->meta.pid || full.meta.seq != s->meta.seq ||
	    full.meta.run_time_ns != s->meta.run_time_ns ||
	    full.meta.start_realtime_ns != s->meta.start_realtime_ns) {
		mp_error("%s: %s changed while it was being read", c->cmd, c->paths[i]);
		exit(MP_EXIT_USAGE);
	}
	mp_snapshot_free(s);
	*s = full;
	c->reloaded = i;
}

mp_report_t *mp_compare_report(mp_compare_t *c, size_t i)
{
	mp_report_t *r = &c->reports[i];

	if (c->stripped)
		reload(c, i);
	if (!r->sym && !(r->sym = mp_symbolizer_new(r->snap, c->symbols))) {
		mp_error("%s: out of memory", c->cmd);
		exit(MP_EXIT_USAGE);
	}
	return r;
}

void mp_compare_free(mp_compare_t *c)
{
	for (size_t i = 0; i < c->n_snaps; i++) {
		mp_symbolizer_free(c->reports[i].sym);
		mp_snapshot_free(&c->snaps[i]);
	}
	free(c->snaps);
	free(c->reports);
	c->snaps = NULL;
	c->reports = NULL;
	c->n_snaps = 0;
}

char *mp_fmt_change(uint64_t from, uint64_t to, char buf[MP_FMT_CHANGE_BYTES])
{
	if (from == to) {
		strcpy(buf, "0");
		return buf;
	}
	buf[0] = to > from ? '+' : '-';
	mp_fmt_u64(to > from ? to - from : from - to, buf + 1);
	return buf;
}

int mp_compare_flush(const char *cmd)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		mp_error("%s: cannot write the output: %m", cmd);
		return 1;
	}
	return 0;
}

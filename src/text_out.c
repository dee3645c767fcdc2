/* SPDX-License-Identifier: MIT */
/* Text output the commands share: strings printed safely, section titles, a snapshot's
 * command line and a site's frames. */
#include "text_out.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "sites.h"
#include "symbolize.h"

void mp_put_sanitized(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		putchar(ch < 0x20 || ch == 0x7f ? '?' : ch);
	}
}

void mp_title(const mp_report_t *r, const char *title)
{
	printf(r->color ? "\n\033[1m%s:\033[0m\n" : "\n%s:\n", title);
}

static bool needs_quotes(const char *arg, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
			    arg[i]))
			return true;
	return false;
}

/* Prints the NUL-separated command line as a shell would need it typed. */
void mp_print_cmdline(const mp_snap_meta_t *m)
{
	size_t n = m->cmdline_bytes, start = 0;

	/* A writer copying /proc/PID/cmdline leaves a NUL after the last argument too. */
	if (n && m->cmdline[n - 1] == '\0')
		n--;
	while (start <= n && n) {
		const char *arg = m->cmdline + start;
		size_t len = strnlen(arg, n - start);

		if (start)
			putchar(' ');
		if (needs_quotes(arg, len)) {
			putchar('\'');
			for (size_t i = 0; i < len; i++) {
				if (arg[i] == '\'')
					fputs("'\\''", stdout);
				else
					mp_put_sanitized(arg + i, 1);
			}
			putchar('\'');
		} else {
			mp_put_sanitized(arg, len);
		}
		start += len + 1;
	}
}

/* How many of t's return addresses a stack shows: up to the one in main, as memcheck shows
 * it (what is below, __libc_start_call_main, __libc_start_main_impl and _start, is the C
 * library's), unless r->below_main; all of them when none is in main. */
static void fit_frame(char *frame, size_t cols);

static uint32_t frames_to_main(mp_report_t *r, const mp_snap_trace_t *t)
{
	for (uint32_t i = 0; i < t->n_frames && !r->below_main; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);
		const char *fn = f->lines[f->n_lines - 1].function;
		if (fn && strcmp(fn, "main") == 0)
			return i + 1;
	}
	return t->n_frames;
}

/* How many lines, from the innermost, of t's first n return addresses are inside the
 * allocator and the runtimes; *total: how many lines there are. */
static uint32_t runtime_lines(mp_report_t *r, const mp_snap_trace_t *t, uint32_t n, uint32_t *total)
{
	uint32_t k = 0;
	bool in_runtime = true;

	*total = 0;
	for (uint32_t i = 0; i < n; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);
		for (uint32_t j = 0; j < f->n_lines; j++, (*total)++) {
			in_runtime = in_runtime && mp_line_is_runtime(r, f, j);
			k += in_runtime;
		}
	}
	return k;
}

void mp_print_frames(mp_report_t *r, const mp_snap_trace_t *t)
{
	char frame[1024];
	uint32_t n = frames_to_main(r, t), total, k = runtime_lines(r, t, n, &total), line = 0;
	uint64_t printed = 0, left = 0;
	/* Inside the allocator and the runtimes, only the first line (operator new, malloc) and
	 * the last (the call the program made, std::map<…>::operator[]) are shown, when at
	 * least two are between them and the program's own code comes after. */
	bool collapse = !r->full_stacks && k >= 4 && k < total, collapsed = false;

	if (t->n_frames == 0)
		printf("    (no stack trace)\n");
	for (uint32_t i = 0; i < n; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		/* One line per function: inlined calls first, then the function they are in. Each
		 * is a frame, and --frames counts them all. */
		for (uint32_t j = 0; j < f->n_lines; j++, line++) {
			bool hidden = collapse && line >= 1 && line <= k - 2;
			if (hidden && line > 1 && collapsed)
				continue; /* in the line that stands for them */
			if (printed == r->frames) {
				left++;
				continue;
			}
			if (hidden) {
				printf("    ... %" PRIu32 " frames in the allocator and the C/C++ runtime "
				       "(--full-stacks)\n", k - 2);
				collapsed = true;
				printed++;
				continue;
			}
			/* Room for fit_frame's "…" (3 bytes where at least 2 go). */
			mp_frame_format(r->snap, f, j, !r->full_names, frame, sizeof(frame) - 4);
			int prefix = printf("    at 0x%" PRIx64 ": ", t->frames[i]);
			if (prefix > 0 && (unsigned)prefix < mp_report_width(r))
				fit_frame(frame, mp_report_width(r) - (unsigned)prefix);
			mp_put_sanitized(frame, strlen(frame));
			putchar('\n');
			printed++;
		}
	}
	if (left)
		printf("    ... %" PRIu64 " more frame%s (--frames)\n", left, left == 1 ? "" : "s");
}

unsigned mp_output_width(void)
{
	const char *env = getenv("COLUMNS");
	unsigned long w = 0;
	struct winsize ws;

	if (env && *env) {
		char *end;
		w = strtoul(env, &end, 10);
		if (*end)
			w = 0;
	}
	if (!w && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		w = ws.ws_col;
	if (!w)
		w = 80;
	return w < MP_MIN_WIDTH ? MP_MIN_WIDTH : w > MP_MAX_WIDTH ? MP_MAX_WIDTH : (unsigned)w;
}

unsigned mp_report_width(const mp_report_t *r)
{
	return r->width ? r->width : 80;
}

static bool is_continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

size_t mp_text_cols(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += !is_continuation(*s);
	return n;
}

/* The byte offset at which s's first `cols` columns end. */
static size_t bytes_of_cols(const char *s, size_t cols)
{
	size_t i = 0;
	for (size_t n = 0; s[i]; i++) {
		if (!is_continuation(s[i]) && n++ == cols)
			break;
	}
	return i;
}

void mp_text_fit(char *s, size_t cols)
{
	if (mp_text_cols(s) <= cols)
		return;
	size_t keep = bytes_of_cols(s, cols > 3 ? cols - 3 : 0);
	memcpy(s + keep, "...", 4);
}

/* Fits a frame's text in `cols` columns: the middle of the function's name goes ("…"),
 * so that its start (at least 8 columns of it) and the file:line or module after it stay;
 * what still does not fit is cut at the end. */
static void fit_frame(char *frame, size_t cols)
{
	char *where = strstr(frame, " (");

	for (char *p = where; p; p = strstr(p + 1, " ("))
		where = p; /* the last one: "(anonymous namespace)" may come first */
	if (mp_text_cols(frame) <= cols)
		return;
	/* A module's path: its file name says enough. */
	char *slash = where && strncmp(where, " (in /", 6) == 0 ? strrchr(where, '/') : NULL;
	if (slash) {
		memmove(where + 5, slash + 1, strlen(slash + 1) + 1);
		if (mp_text_cols(frame) <= cols)
			return;
	}
	if (where) {
		size_t tail = mp_text_cols(where);
		size_t keep = cols > tail + 1 + 8 ? cols - tail - 1 : 8;
		size_t head = bytes_of_cols(frame, keep);
		if (frame + head < where) {
			memmove(frame + head + 3, where, strlen(where) + 1);
			memcpy(frame + head, "\xe2\x80\xa6", 3); /* U+2026 */
		}
	}
	mp_text_fit(frame, cols);
}

/* SPDX-License-Identifier: MIT */
/* JSON output the commands share: strings that are valid JSON for any bytes, and a site's
 * symbolized frames. */
#include "json_out.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "symbolize.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;

	if (s[0] >= 0xf5 || len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A JSON string: valid UTF-8 as is, control characters escaped, and any other byte (a path
 * is not always text) as the code point of the same value, so that the output is valid JSON
 * for any input. */
void mp_put_json_string_n(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else if (ch >= 0x80) {
			size_t len = utf8_len((const unsigned char *)s + i, n - i);

			if (len) {
				fwrite(s + i, 1, len, stdout);
				i += len - 1;
			} else {
				printf("\\u%04x", ch);
			}
		} else
			putchar(ch);
	}
	putchar('"');
}

void mp_put_json_string(const char *s)
{
	if (s)
		mp_put_json_string_n(s, strlen(s));
	else
		fputs("null", stdout);
}

static const char *const kind_names[] = {
	[MP_FRAME_UNKNOWN] = "unknown",
	[MP_FRAME_MODULE_OFFSET] = "module",
	[MP_FRAME_SYMBOL] = "symbol",
	[MP_FRAME_SOURCE] = "source",
};

static void put_frame_line(const mp_report_t *r, const mp_frame_info_t *f, uint32_t j)
{
	const mp_frame_line_t *l = &f->lines[j];

	printf("{\"addr\":\"0x%" PRIx64 "\",\"kind\":\"%s\",\"module\":", f->addr, kind_names[f->kind]);
	mp_put_json_string(f->module ? mp_module_path(r->snap, f->module) : NULL);
	printf(",\"offset\":");
	if (f->module)
		printf("\"0x%" PRIx64 "\"", f->offset);
	else
		fputs("null", stdout);
	printf(",\"function\":");
	mp_put_json_string(l->function);
	printf(",\"file\":");
	mp_put_json_string(l->file);
	printf(",\"line\":");
	if (l->line)
		printf("%" PRIu32, l->line);
	else
		fputs("null", stdout);
	printf(",\"inlined\":%s}", l->inlined ? "true" : "false");
}

void mp_put_json_frames(mp_report_t *r, const mp_snap_trace_t *t)
{
	uint32_t shown = t->n_frames < r->frames ? t->n_frames : (uint32_t)r->frames;
	bool first = true;

	putchar('[');
	for (uint32_t i = 0; i < shown; i++) {
		const mp_frame_info_t *f = mp_symbolize(r->sym, t->frames[i]);

		for (uint32_t j = 0; j < f->n_lines; j++) {
			printf("%s\n    ", first ? "" : ",");
			put_frame_line(r, f, j);
			first = false;
		}
	}
	putchar(']');
}

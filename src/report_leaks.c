/* SPDX-License-Identifier: MIT */
/* The leak part of `memprof report`: what the reachability scan of the LEAKS section found,
 * in memcheck's words. */
#include <inttypes.h>
#include <stdio.h>

#include "numfmt.h"
#include "report.h"
#include "snapshot_format.h"

void mp_leak_totals(const mp_snapshot_t *s, uint64_t bytes[], uint64_t blocks[])
{
	for (int k = 0; k <= MP_LEAK_INTERNAL; k++)
		bytes[k] = blocks[k] = 0;
	for (size_t i = 0; i < s->n_leaks; i++) {
		bytes[s->leaks[i].kind] += s->leaks[i].bytes;
		blocks[s->leaks[i].kind] += s->leaks[i].blocks;
	}
}

void mp_print_leak_summary(const mp_report_t *r)
{
	static const struct {
		int kind;
		const char *label;
	} rows[] = {
		{ MP_LEAK_DEFINITE, "   definitely lost" },
		{ MP_LEAK_INDIRECT, "   indirectly lost" },
		{ MP_LEAK_POSSIBLE, "     possibly lost" },
		{ MP_LEAK_REACHABLE, "   still reachable" },
	};
	const mp_snapshot_t *s = r->snap;
	uint64_t bytes[MP_LEAK_INTERNAL + 1], blocks[MP_LEAK_INTERNAL + 1];
	char a[MP_FMT_U64_BYTES], b[MP_FMT_U64_BYTES];

	if (!s->has_leaks)
		return;
	mp_leak_totals(s, bytes, blocks);
	mp_title(r, "LEAK SUMMARY");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%s: %s bytes in %s blocks\n", rows[i].label, mp_fmt_u64(bytes[rows[i].kind], a),
		       mp_fmt_u64(blocks[rows[i].kind], b));
	if (blocks[MP_LEAK_INTERNAL])
		printf("  not counted: %s bytes in %s blocks of glibc and ld.so (freed at exit "
		       "under memcheck)\n",
		       mp_fmt_u64(bytes[MP_LEAK_INTERNAL], a), mp_fmt_u64(blocks[MP_LEAK_INTERNAL], b));
	if (!(s->leaks_flags & MP_LEAKS_THREADS_STOPPED))
		puts("warning: not every thread could be stopped during the scan; "
		     "the figures may be off");
}

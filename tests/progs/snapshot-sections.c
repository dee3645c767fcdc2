/* SPDX-License-Identifier: MIT */
/* Test helper: prints what the preload tests check in a snapshot, one record per line, through
 * the CLI's own reader (src/snapshot_read.c), independent of how memprof report shows it:
 *   meta seq=S reason=R label=L
 *   totals allocs=A frees=F live_bytes=B peak_bytes=P
 *   point time_ns=T live_bytes=B max_live_bytes=M rss_bytes=R allocs=A frees=F
 *   peak peak_bytes=P peak_time_ns=T sites=N
 *   site trace=I live_bytes=B live_blocks=K
 * Exit status 1 with the reader's message when the file is not a valid snapshot. */
#include "snapshot_read.h"

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: snapshot-sections SNAPSHOT\n");
		return 2;
	}
	mp_snapshot_t s;
	char err[512];
	if (mp_snapshot_read(argv[1], &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("meta seq=%" PRIu32 " reason=%s label=%s\n", s.meta.seq, mp_snap_reason_name(s.meta.reason),
	       s.meta.label);
	printf("totals allocs=%" PRIu64 " frees=%" PRIu64 " live_bytes=%" PRIu64 " peak_bytes=%" PRIu64 "\n",
	       s.totals.allocs, s.totals.frees, s.totals.live_bytes, s.totals.peak_bytes);
	for (size_t i = 0; i < s.n_timeline; i++) {
		const mp_snap_point_t *p = &s.timeline[i];
		printf("point time_ns=%" PRIu64 " live_bytes=%" PRIu64 " max_live_bytes=%" PRIu64
		       " rss_bytes=%" PRIu64 " allocs=%" PRIu64 " frees=%" PRIu64 "\n",
		       p->time_ns, p->live_bytes, p->max_live_bytes, p->rss_bytes, p->allocs, p->frees);
	}
	if (s.has_peak) {
		printf("peak peak_bytes=%" PRIu64 " peak_time_ns=%" PRIu64 " sites=%zu\n", s.peak_bytes,
		       s.peak_time_ns, s.n_peak_sites);
		for (size_t i = 0; i < s.n_peak_sites; i++)
			printf("site trace=%" PRIu32 " live_bytes=%" PRIu64 " live_blocks=%" PRIu64 "\n",
			       s.peak_sites[i].trace_id, s.peak_sites[i].live_bytes, s.peak_sites[i].live_blocks);
	}
	mp_snapshot_free(&s);
	return 0;
}

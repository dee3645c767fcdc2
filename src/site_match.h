/* SPDX-License-Identifier: MIT */
/* Allocation sites of several snapshots matched by their stacks, for memprof diff and trend.
 * Trace ids are stable within one process only, and addresses move between runs (ASLR), so a
 * site is keyed by its frames, each as (module, offset from the module's load bias), the
 * module known by its build-id (by its path when it has none). */
#ifndef MEMPROF_SITE_MATCH_H
#define MEMPROF_SITE_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "snapshot_read.h"

/* One site across the snapshots of a set. */
typedef struct mp_site_series {
	uint64_t *live_bytes, *live_blocks; /* per snapshot of the set, 0 where it has no trace */
	uint32_t *trace_ids;                /* per snapshot: its trace there, UINT32_MAX: none */
	size_t index;                       /* in the set's sites[] */
	size_t n_present;                   /* how many snapshots have the site */
	size_t last;                        /* the last snapshot that has it */
	/* Its trace in snapshot `last`, to print; valid while that snapshot is in memory (memprof
	 * trend frees each snapshot once its sites are in: it finds trace_ids[last] again). */
	const mp_snap_trace_t *trace;
	uint64_t *key;                      /* per frame: module number (0: none), offset */
	size_t key_bytes;
	UT_hash_handle hh;
} mp_site_series_t;

struct mp_module_id;

typedef struct mp_site_set {
	size_t n_snaps;
	mp_site_series_t **sites; /* in the order first seen: snapshot by snapshot, trace by id */
	size_t n_sites;
	mp_site_series_t *by_key;        /* hash table of the sites */
	struct mp_module_id *module_ids; /* hash table of the module identities seen */
	uint64_t n_module_ids;
} mp_site_set_t;

/* Matches the traces of snaps[0..n_snaps) into `set` (traces of one snapshot whose frames
 * map to the same key are added together). The snapshots must outlive the set. Returns 0 or
 * -ENOMEM, with `set` then empty. */
int mp_site_set_build(mp_site_set_t *set, const mp_snapshot_t *snaps, size_t n_snaps);

/* The same one snapshot at a time, so that each can be freed once its sites are in:
 * mp_site_set_init() for n_snaps snapshots, then mp_site_set_add() of each as number
 * snap_index. The set keeps only the per-site series, never the snapshot. Return 0 or
 * -ENOMEM (free the set then). */
int mp_site_set_init(mp_site_set_t *set, size_t n_snaps);
int mp_site_set_add(mp_site_set_t *set, const mp_snapshot_t *snap, size_t snap_index);

/* Renumbers the snapshots: new number i is old number from[i] (a permutation of 0..n_snaps),
 * every series reordered and `last` recomputed; `trace` is then NULL. 0 or -ENOMEM. */
int mp_site_set_reorder(mp_site_set_t *set, const size_t *from);

void mp_site_set_free(mp_site_set_t *set);

#endif

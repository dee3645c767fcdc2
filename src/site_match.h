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
	size_t index;                       /* in the set's sites[] */
	size_t n_present;                   /* how many snapshots have the site */
	size_t last;                        /* the last snapshot that has it */
	const mp_snap_trace_t *trace;       /* its trace in snapshot `last`, to print */
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
void mp_site_set_free(mp_site_set_t *set);

#endif

/* SPDX-License-Identifier: MIT */
/* Matches the allocation sites of several snapshots by their frames (see site_match.h). */
#include "site_match.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot_format.h"
#include "symbolize.h"

/* A module as it is known across processes: "b" and its build-id, or "p" and its path. */
struct mp_module_id {
	char *name;
	uint64_t number; /* from 1 */
	UT_hash_handle hh;
};

/* One snapshot's modules, for finding the module of an address quickly. */
struct module_map {
	const mp_snapshot_t *snap;
	uint64_t *numbers;       /* per module of the snapshot */
	const mp_snap_module_t **loaded; /* loaded modules by start address */
	size_t n_loaded;
};

static int module_number(mp_site_set_t *set, const mp_snapshot_t *snap, const mp_snap_module_t *m,
			 uint64_t *out)
{
	static const char hex[] = "0123456789abcdef";
	const char *path = mp_module_path(snap, m);
	size_t n = m->build_id_bytes ? 1 + 2 * (size_t)m->build_id_bytes : 1 + strlen(path);
	struct mp_module_id *id;
	char *name = malloc(n + 1);

	if (!name)
		return -ENOMEM;
	if (m->build_id_bytes) {
		name[0] = 'b';
		for (uint32_t i = 0; i < m->build_id_bytes; i++) {
			name[1 + 2 * i] = hex[m->build_id[i] >> 4];
			name[2 + 2 * i] = hex[m->build_id[i] & 15];
		}
	} else {
		name[0] = 'p';
		memcpy(name + 1, path, n - 1);
	}
	name[n] = '\0';
	HASH_FIND_STR(set->module_ids, name, id);
	if (id) {
		free(name);
		*out = id->number;
		return 0;
	}
	id = calloc(1, sizeof(*id));
	if (!id) {
		free(name);
		return -ENOMEM;
	}
	id->name = name;
	id->number = ++set->n_module_ids;
	HASH_ADD_KEYPTR(hh, set->module_ids, id->name, n, id);
	*out = id->number;
	return 0;
}

static int by_start(const void *pa, const void *pb)
{
	const mp_snap_module_t *a = *(const mp_snap_module_t *const *)pa;
	const mp_snap_module_t *b = *(const mp_snap_module_t *const *)pb;

	return (a->start > b->start) - (a->start < b->start);
}

static int map_init(mp_site_set_t *set, struct module_map *map, const mp_snapshot_t *snap)
{
	size_t n = snap->n_modules ? snap->n_modules : 1;

	map->snap = snap;
	map->n_loaded = 0;
	map->numbers = calloc(n, sizeof(*map->numbers));
	map->loaded = calloc(n, sizeof(*map->loaded));
	if (!map->numbers || !map->loaded)
		return -ENOMEM;
	for (size_t i = 0; i < snap->n_modules; i++) {
		if (module_number(set, snap, &snap->modules[i], &map->numbers[i]) < 0)
			return -ENOMEM;
		if (!(snap->modules[i].flags & MP_MODULE_UNLOADED))
			map->loaded[map->n_loaded++] = &snap->modules[i];
	}
	qsort(map->loaded, map->n_loaded, sizeof(*map->loaded), by_start);
	return 0;
}

static void map_free(struct module_map *map)
{
	free(map->numbers);
	free(map->loaded);
}

/* The module of addr as mp_find_module() finds it (a loaded one first), faster: loaded
 * modules do not overlap, so a binary search finds the one that holds addr, if any. */
static const mp_snap_module_t *map_find(const struct module_map *map, uint64_t addr)
{
	size_t lo = 0, hi = map->n_loaded;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->loaded[mid]->start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* loaded[lo - 1] is the last module starting at or before addr. */
	if (lo && addr < map->loaded[lo - 1]->end)
		return map->loaded[lo - 1];
	return mp_find_module(map->snap, addr);
}

static int add_trace(mp_site_set_t *set, const struct module_map *map, size_t snap_index,
		     const mp_snap_trace_t *t, uint64_t *key)
{
	size_t key_bytes = (size_t)t->n_frames * 2 * sizeof(uint64_t);
	mp_site_series_t *site;

	for (uint32_t i = 0; i < t->n_frames; i++) {
		const mp_snap_module_t *m = map_find(map, t->frames[i]);

		/* Outside every module the address itself is all there is: it matches within one
		 * process only. */
		key[2 * i] = m ? map->numbers[m - map->snap->modules] : 0;
		key[2 * i + 1] = m ? t->frames[i] - m->load_bias : t->frames[i];
	}
	HASH_FIND(hh, set->by_key, key, key_bytes, site);
	if (!site) {
		if (set->n_sites % 256 == 0) {
			mp_site_series_t **grown = realloc(set->sites, (set->n_sites + 256) * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			set->sites = grown;
		}
		site = calloc(1, sizeof(*site));
		if (!site)
			return -ENOMEM;
		site->index = set->n_sites;
		set->sites[set->n_sites++] = site;
		site->live_bytes = calloc(set->n_snaps, sizeof(uint64_t));
		site->live_blocks = calloc(set->n_snaps, sizeof(uint64_t));
		site->trace_ids = malloc(set->n_snaps * sizeof(uint32_t));
		site->key = malloc(key_bytes ? key_bytes : 1);
		if (!site->live_bytes || !site->live_blocks || !site->trace_ids || !site->key)
			return -ENOMEM;
		memset(site->trace_ids, 0xff, set->n_snaps * sizeof(uint32_t));
		memcpy(site->key, key, key_bytes);
		site->key_bytes = key_bytes;
		HASH_ADD_KEYPTR(hh, set->by_key, site->key, key_bytes, site);
	}
	if (site->n_present == 0 || site->last != snap_index) {
		site->n_present++;
		site->last = snap_index;
		site->trace = t;
		site->trace_ids[snap_index] = t->id;
	}
	site->live_bytes[snap_index] = mp_sat_add(site->live_bytes[snap_index], mp_trace_live_bytes(t));
	site->live_blocks[snap_index] = mp_sat_add(site->live_blocks[snap_index], mp_trace_live_blocks(t));
	return 0;
}

int mp_site_set_init(mp_site_set_t *set, size_t n_snaps)
{
	memset(set, 0, sizeof(*set));
	set->n_snaps = n_snaps;
	return 0;
}

int mp_site_set_add(mp_site_set_t *set, const mp_snapshot_t *snap, size_t snap_index)
{
	uint64_t *key = malloc(MP_SNAP_MAX_FRAMES * 2 * sizeof(uint64_t));
	struct module_map map;
	int rc = key ? map_init(set, &map, snap) : -ENOMEM;

	for (size_t i = 0; i < snap->n_traces && rc == 0; i++)
		rc = add_trace(set, &map, snap_index, &snap->traces[i], key);
	if (key)
		map_free(&map);
	free(key);
	return rc;
}

int mp_site_set_build(mp_site_set_t *set, const mp_snapshot_t *snaps, size_t n_snaps)
{
	int rc = mp_site_set_init(set, n_snaps);

	for (size_t s = 0; s < n_snaps && rc == 0; s++)
		rc = mp_site_set_add(set, &snaps[s], s);
	if (rc < 0)
		mp_site_set_free(set);
	return rc;
}

/* Puts v[from[i]] at v[i] for every i, through tmp (room for n elements of `size`). */
static void permute(void *v, void *tmp, const size_t *from, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++)
		memcpy((char *)tmp + i * size, (const char *)v + from[i] * size, size);
	memcpy(v, tmp, n * size);
}

int mp_site_set_reorder(mp_site_set_t *set, const size_t *from)
{
	size_t n = set->n_snaps;
	void *tmp = malloc(n ? n * sizeof(uint64_t) : 1);

	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < set->n_sites; i++) {
		mp_site_series_t *site = set->sites[i];

		permute(site->live_bytes, tmp, from, n, sizeof(uint64_t));
		permute(site->live_blocks, tmp, from, n, sizeof(uint64_t));
		permute(site->trace_ids, tmp, from, n, sizeof(uint32_t));
		site->trace = NULL;
		for (size_t k = 0; k < n; k++)
			if (site->trace_ids[k] != UINT32_MAX)
				site->last = k;
	}
	free(tmp);
	return 0;
}

void mp_site_set_free(mp_site_set_t *set)
{
	struct mp_module_id *id, *next;

	HASH_CLEAR(hh, set->by_key);
	for (size_t i = 0; i < set->n_sites; i++) {
		if (!set->sites[i])
			continue;
		free(set->sites[i]->live_bytes);
		free(set->sites[i]->live_blocks);
		free(set->sites[i]->trace_ids);
		free(set->sites[i]->key);
		free(set->sites[i]);
	}
	free(set->sites);
	HASH_ITER(hh, set->module_ids, id, next) {
		HASH_DEL(set->module_ids, id);
		free(id->name);
		free(id);
	}
	memset(set, 0, sizeof(*set));
}

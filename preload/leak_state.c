/* SPDX-License-Identifier: MIT */
/* The leak scan's scratch memory, from mp_map, returned at the end of each scan. */
#include "leak_state.h"

#include "util.h"

void *mp_scan_alloc(struct mp_scan *sc, size_t bytes)
{
	if (sc->n_scratch == MP_SCAN_SCRATCH_MAX)
		return NULL;
	bytes = (bytes + MP_PAGE - 1) & ~(MP_PAGE - 1);
	void *p = mp_map(bytes ? bytes : MP_PAGE);
	if (p) {
		sc->scratch[sc->n_scratch].p = p;
		sc->scratch[sc->n_scratch].bytes = bytes ? bytes : MP_PAGE;
		sc->n_scratch++;
	}
	return p;
}

/* Give back one allocation early (the last one or any). */
void mp_scan_release(struct mp_scan *sc, void *p)
{
	for (int i = sc->n_scratch - 1; i >= 0; i--) {
		if (sc->scratch[i].p == p) {
			mp_unmap(sc->scratch[i].p, sc->scratch[i].bytes);
			sc->scratch[i] = sc->scratch[--sc->n_scratch];
			return;
		}
	}
}

void mp_scan_free_all(struct mp_scan *sc)
{
	while (sc->n_scratch > 0) {
		sc->n_scratch--;
		mp_unmap(sc->scratch[sc->n_scratch].p, sc->scratch[sc->n_scratch].bytes);
	}
}

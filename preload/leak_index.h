/* SPDX-License-Identifier: MIT */
/* The block index of a leak scan: the live blocks sorted by address, and an address -> block
 * lookup. */
#ifndef MEMPROF_LEAK_INDEX_H
#define MEMPROF_LEAK_INDEX_H

#include "leak_state.h"
#include "live_table.h"

#include <stddef.h>
#include <stdint.h>

#define GRAN_SHIFT 26               /* address index: 64 MiB granules ... */
#define SLOT_SHIFT 8                /* ... of 256-byte slots */
#define SLOTS_PER_GRAN (1ul << (GRAN_SHIFT - SLOT_SHIFT))

int mp_collect_blocks(struct mp_scan *sc); /* and the states and the mark stack: 0 or -errno */
int mp_build_index(struct mp_scan *sc);
/* Index of the first block whose address is >= a. */
size_t mp_first_block_from(struct mp_scan *sc, uintptr_t a);

static inline size_t mp_blk_size(struct mp_scan *sc, size_t i)
{
	return (size_t)MP_META_SIZE(sc->blk[i].meta);
}

static inline uintptr_t mp_blk_end(struct mp_scan *sc, size_t i)
{
	size_t s = mp_blk_size(sc, i);
	return sc->blk[i].ptr + (s ? s : 1); /* size 0 counts as 1 byte, as in memcheck */
}

static inline void mp_set_kind(struct mp_scan *sc, size_t i, int kind)
{
	sc->st[i] = (uint8_t)((sc->st[i] & ~MP_KIND_MASK) | kind);
}

/* The block holding address v (its start, inside, or a size-0 block's address), or -1. */
static inline long mp_find_block(struct mp_scan *sc, uintptr_t v)
{
	if (v - sc->g_lo >= sc->g_span)
		return -1;
	const struct mp_gran *g = &sc->grans[(v - sc->g_base) >> GRAN_SHIFT];
	uint32_t k = g->slots ? g->slots[(v >> SLOT_SHIFT) & (SLOTS_PER_GRAN - 1)] : g->cover;
	if (!k)
		return -1;
	size_t i = k - 1;
	while (sc->blk[i].ptr > v) {
		if (i == 0)
			return -1;
		i--;
	}
	return v < mp_blk_end(sc, i) ? (long)i : -1;
}

#endif

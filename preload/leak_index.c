/* SPDX-License-Identifier: MIT */
/* The block index of a leak scan: the live table's blocks copied, radix-sorted by address,
 * and indexed by 64 MiB granules of 256-byte slots. */
#include "leak_index.h"

#include <errno.h>
#include <string.h>

static void radix_sort(struct mp_scan *sc, struct mp_live_entry *a, struct mp_live_entry *tmp, size_t n)
{
	size_t *count = sc->radix_count;
	for (int shift = 0; shift < 64; shift += 8) {
		memset(count, 0, sizeof(sc->radix_count));
		for (size_t i = 0; i < n; i++)
			count[(a[i].ptr >> shift) & 255]++;
		if (count[(a[0].ptr >> shift) & 255] == n)
			continue; /* every key has the same digit here */
		size_t sum = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i].ptr >> shift) & 255]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

int mp_collect_blocks(struct mp_scan *sc)
{
	/* The count is exact with the threads stopped, within 64 per thread otherwise; a full
	 * array means the estimate was short: then the tables' capacity bounds it. */
	size_t cap = (size_t)mp_live_count() + mp_live_count() / 8 + 4096, n;
	struct mp_live_entry *a;
	for (;;) {
		a = mp_scan_alloc(sc, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		n = mp_live_collect(a, cap);
		size_t most = mp_live_capacity();
		if (n < cap || cap >= most)
			break;
		mp_scan_release(sc, a);
		cap = most;
	}
	struct mp_live_entry *tmp = mp_scan_alloc(sc, n * sizeof(*a));
	if (!tmp)
		return -ENOMEM;
	if (n)
		radix_sort(sc, a, tmp, n);
	mp_scan_release(sc, tmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && a[k - 1].ptr == a[i].ptr)
			continue; /* caught twice while being moved to a grown table */
		a[k++] = a[i];
	}
	sc->blk = a;
	sc->n_blk = k;
	sc->st = mp_scan_alloc(sc, k + 1);
	sc->stack = mp_scan_alloc(sc, (k + 1) * sizeof(*sc->stack));
	if (!sc->st || !sc->stack)
		return -ENOMEM;
	return 0;
}

int mp_build_index(struct mp_scan *sc)
{
	if (!sc->n_blk)
		return 0;
	sc->g_lo = sc->blk[0].ptr;
	uintptr_t hi = 0;
	for (size_t i = 0; i < sc->n_blk; i++) {
		if (mp_blk_end(sc, i) > hi)
			hi = mp_blk_end(sc, i);
	}
	sc->g_span = hi - sc->g_lo;
	sc->g_base = sc->g_lo & ~((1ul << GRAN_SHIFT) - 1);
	size_t n_gran = ((hi - 1 - sc->g_base) >> GRAN_SHIFT) + 1;
	sc->grans = mp_scan_alloc(sc, n_gran * sizeof(*sc->grans));
	size_t used = 0;
	uintptr_t last = UINTPTR_MAX;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uintptr_t g = (sc->blk[i].ptr - sc->g_base) >> GRAN_SHIFT;
		used += g != last;
		last = g;
	}
	uint32_t *pool = mp_scan_alloc(sc, used * SLOTS_PER_GRAN * sizeof(uint32_t));
	if (!sc->grans || !pool)
		return -ENOMEM;
	last = UINTPTR_MAX;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uintptr_t g = (sc->blk[i].ptr - sc->g_base) >> GRAN_SHIFT;
		if (g != last) {
			if (last != UINTPTR_MAX) { /* fill the slots of the finished granule */
				uint32_t *s = sc->grans[last].slots, prev = s[0] ? s[0] : sc->grans[last].cover;
				for (size_t k = 0; k < SLOTS_PER_GRAN; k++)
					s[k] = s[k] ? (prev = s[k]) : prev;
			}
			sc->grans[g].slots = pool;
			pool += SLOTS_PER_GRAN;
			sc->grans[g].cover = (uint32_t)i; /* 1 + (i - 1): the block before this granule */
			last = g;
		}
		sc->grans[g].slots[(sc->blk[i].ptr >> SLOT_SHIFT) & (SLOTS_PER_GRAN - 1)] = (uint32_t)(i + 1);
		/* A block reaching into later granules covers them. */
		uintptr_t ge = (mp_blk_end(sc, i) - 1 - sc->g_base) >> GRAN_SHIFT;
		for (uintptr_t h = g + 1; h <= ge; h++) {
			if (!sc->grans[h].slots || sc->grans[h].cover == 0)
				sc->grans[h].cover = (uint32_t)(i + 1);
		}
	}
	uint32_t *s = sc->grans[last].slots, prev = s[0] ? s[0] : sc->grans[last].cover;
	for (size_t k = 0; k < SLOTS_PER_GRAN; k++)
		s[k] = s[k] ? (prev = s[k]) : prev;
	return 0;
}

/* Index of the first block whose address is >= a. */
size_t mp_first_block_from(struct mp_scan *sc, uintptr_t a)
{
	size_t lo = 0, hi = sc->n_blk;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sc->blk[mid].ptr < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* SPDX-License-Identifier: MIT */
/* The live-block table moves its entries to a grown table a chunk at a time, not all in the
 * insert that grew it: right after the growth both tables are there (the older one still
 * holding entries), every key is found, and the count of live blocks is exact. A program
 * that then only frees ends the move too: after at most one remove per 16 slots of the old
 * table, the old one is gone. */
#include "live_table.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>

#define MOVE_CHUNK 16 /* live_table.c's */

static int failures;

static void check(int ok, const char *what, unsigned long v)
{
	if (!ok && failures++ < 10)
		fprintf(stderr, "FAIL: %s (%lu)\n", what, v);
}

static uintptr_t key_of(long i) { return ((uintptr_t)1 << 36) + (uintptr_t)i * 16; }

int main(void)
{
	uint64_t meta;
	if (mp_live_init() != 0)
		return 1;
	size_t first = mp_live_capacity();
	long n = 0;
	while (mp_live_capacity() == first && n < 10 * (long)first)
		check(mp_live_insert(key_of(n), MP_META(n % 1000, 3)) == 0, "insert", (unsigned long)n), n++;
	size_t both = mp_live_capacity();
	check(both > first, "the table grew", both);
	/* The insert that grew it moved one chunk at most: the old table is still there. */
	check(both >= first + 2 * first, "the old table is still attached after the growth", both);
	mp_live_thread_exit();
	check(mp_live_count() == (uint64_t)n, "live count during the move", mp_live_count());
	long removes = 0;
	for (long i = n - 1; i >= 0; i--) {
		check(mp_live_remove(key_of(i), &meta) == 1 && MP_META_SIZE(meta) == (uint64_t)(i % 1000),
		      "key found with its size during the move", (unsigned long)i);
		removes++;
		if (mp_live_capacity() < both)
			break;
	}
	check(mp_live_capacity() == both - first, "the old table is dropped once the removes moved it", mp_live_capacity());
	check(removes <= (long)(first / MOVE_CHUNK) + 1, "removes needed to end the move", (unsigned long)removes);
	for (long i = n - 1 - removes; i >= 0; i--)
		check(mp_live_remove(key_of(i), &meta) == 1, "key found after the move", (unsigned long)i);
	mp_live_thread_exit();
	check(mp_live_count() == 0, "table empty at the end", mp_live_count());
	printf("%s: %d failures, %ld keys, the move ended after %ld removes\n", failures ? "FAIL" : "ok", failures, n,
	       removes);
	return failures ? 1 : 0;
}

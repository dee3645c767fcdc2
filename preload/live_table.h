/* SPDX-License-Identifier: MIT */
/* Live blocks: pointer -> {size, trace id}, lock-free, growing. */
#ifndef MEMPROF_LIVE_TABLE_H
#define MEMPROF_LIVE_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* A block's metadata: its requested size (40 bits) and its trace id (24 bits). */
#define MP_META(size, id) (((uint64_t)(id) << 40) | ((uint64_t)(size) & ((1ull << 40) - 1)))
#define MP_META_SIZE(m) ((m) & ((1ull << 40) - 1))
#define MP_META_ID(m) ((uint32_t)((m) >> 40))
int mp_live_init(void);
/* Record a new block. Returns 0, or -ENOMEM when the table cannot grow. */
int mp_live_insert(uintptr_t ptr, uint64_t meta);
/* Remove a block and return 1 with its metadata, or 0 when the pointer is not tracked. */
int mp_live_remove(uintptr_t ptr, uint64_t *meta);
/* Exact once every thread that used the table has called mp_live_thread_exit() or is idle
 * with its batch flushed; otherwise within 64 per thread. */
uint64_t mp_live_count(void);
void mp_live_thread_exit(void); /* flush this thread's batched counts */
size_t mp_live_table_bytes(void);
/* The leak scan's view of the table: every settled entry (see live_table.c). */
struct mp_live_entry {
	uintptr_t ptr;
	uint64_t meta;
};
size_t mp_live_capacity(void);
size_t mp_live_collect(struct mp_live_entry *out, size_t cap);
/* Held by fork's prepare handler so that no table is half-migrated in the child. */
void mp_live_lock_growth(void);
void mp_live_unlock_growth(void);
void mp_live_after_fork_child(void); /* settles orphaned slots, unlocks growth */

#endif

/* SPDX-License-Identifier: MIT */
/* The leak scan's rules for the blocks and memory that glibc, ld.so and libstdc++ hold. */
#ifndef MEMPROF_LEAK_GLIBC_H
#define MEMPROF_LEAK_GLIBC_H

#include "leak_state.h"

#include <stddef.h>
#include <stdint.h>

/* v, which points into block i, is glibc's header of the chunk after it. */
int mp_is_next_chunk_header(struct mp_scan *sc, size_t i, uintptr_t v);
void mp_check_blocks(struct mp_scan *sc); /* unsafe blocks; non-main arenas' heaps no roots */
void mp_exclude_dead_stacks(struct mp_scan *sc, uintptr_t scanner_sp);
int mp_is_internal(struct mp_scan *sc, size_t i);
void mp_mark_environment(struct mp_scan *sc);

#endif

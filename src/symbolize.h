/* SPDX-License-Identifier: MIT */
/* Turns a return address from a snapshot into a printable frame ("prog+0x1234"). */
#ifndef MEMPROF_SYMBOLIZE_H
#define MEMPROF_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot_read.h"

/* The module that held `addr` when the snapshot was taken (start <= addr < end), preferring
 * a loaded module over a dlclose'd one that used the same range; NULL if none. */
const mp_snap_module_t *mp_find_module(const mp_snapshot_t *snap, uint64_t addr);

/* A symbolizer writes a description of `addr` (without the address itself) into buf:
 * "prog+0x1234" from the module table alone, "main (prog.c:12)" once debug information is
 * used. Report code calls through this type so that a better one can be plugged in. */
typedef void mp_symbolize_fn(const mp_snapshot_t *snap, uint64_t addr, char *buf, size_t buf_bytes);

/* Module basename plus offset from its load bias, or "???" outside every module. */
mp_symbolize_fn mp_symbolize_module_offset;

#endif

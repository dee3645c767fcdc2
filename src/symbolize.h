/* SPDX-License-Identifier: MIT */
/* Turns a return address from a snapshot into printable frames: function, file:line and
 * inlined callers from the module's debug information (elfutils libdw), or its symbol table,
 * or "prog+0x1234" from the module table alone. */
#ifndef MEMPROF_SYMBOLIZE_H
#define MEMPROF_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot_read.h"

/* The module that held `addr` when the snapshot was taken (start <= addr < end), preferring
 * a loaded module over a dlclose'd one that used the same range; NULL if none. */
const mp_snap_module_t *mp_find_module(const mp_snapshot_t *snap, uint64_t addr);

/* Path of a module as recorded (the META exe for a main executable recorded without one),
 * and its last component. */
const char *mp_module_path(const mp_snapshot_t *snap, const mp_snap_module_t *m);
const char *mp_module_basename(const mp_snapshot_t *snap, const mp_snap_module_t *m);

/* A symbolizer writes a description of `addr` (without the address itself) into buf:
 * "prog+0x1234" from the module table alone. */
typedef void mp_symbolize_fn(const mp_snapshot_t *snap, uint64_t addr, char *buf, size_t buf_bytes);

/* Module basename plus offset from its load bias, or "???" outside every module. */
mp_symbolize_fn mp_symbolize_module_offset;

enum mp_frame_kind {
	MP_FRAME_UNKNOWN,       /* in no module of the snapshot: "???" */
	MP_FRAME_MODULE_OFFSET, /* module known, nothing more: "libfoo.so+0x1234" */
	MP_FRAME_SYMBOL,        /* from .symtab/.dynsym: "parse+0x12 (in /usr/lib/libfoo.so)" */
	MP_FRAME_SOURCE,        /* from DWARF: "main (leak.c:12)", one line per inlined call */
};

/* One printable line of a frame. Strings are owned by the symbolizer. */
typedef struct mp_frame_line {
	const char *function; /* demangled; NULL if unknown */
	const char *linkage_name; /* as in the module (mangled for C++); NULL if unknown */
	const char *file;     /* as in the debug information (often absolute); NULL if unknown */
	uint32_t line;        /* 0 if unknown */
	bool inlined;         /* this function was inlined into the next line's function */
} mp_frame_line_t;

/* Everything known about one return address. */
typedef struct mp_frame_info {
	uint64_t addr;
	enum mp_frame_kind kind;
	const mp_snap_module_t *module; /* NULL for MP_FRAME_UNKNOWN */
	uint64_t offset;                /* addr - module load bias */
	uint64_t symbol_offset;         /* addr - symbol start, for MP_FRAME_SYMBOL */
	uint32_t n_lines;               /* >= 1; several when calls were inlined, innermost first */
	mp_frame_line_t *lines;
} mp_frame_info_t;

typedef struct mp_symbolizer mp_symbolizer_t;

/* A symbolizer for `snap`, which must outlive it. With use_debug_info false every frame is
 * module+offset and no file is opened. Module files are opened offline (never through
 * debuginfod) on first use; a module whose build-id differs from the recorded one gets one
 * warning on stderr and module+offset frames. NULL when out of memory. */
mp_symbolizer_t *mp_symbolizer_new(const mp_snapshot_t *snap, bool use_debug_info);
void mp_symbolizer_free(mp_symbolizer_t *sym);

/* What is known about `addr`, cached per address; never NULL (module+offset when out of
 * memory would be worse than exiting, so the caller's allocation failure aborts). */
const mp_frame_info_t *mp_symbolize(mp_symbolizer_t *sym, uint64_t addr);

/* Writes line `i` of `f` as the report prints it after "at 0x...: ": "main (leak.c:12)",
 * "parse+0x12 (in /usr/lib/libfoo.so)", "libfoo.so+0x1234" or "???"; with short_names, a C++
 * function's name as mp_short_name() shortens it. */
void mp_frame_format(const mp_snapshot_t *snap, const mp_frame_info_t *f, uint32_t i, bool short_names,
		     char *buf, size_t buf_bytes);

#endif

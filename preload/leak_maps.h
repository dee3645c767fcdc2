/* SPDX-License-Identifier: MIT */
/* The mappings a leak scan reads (/proc/self/maps), the modules that decide its roots' kind,
 * the ranges that are no roots, and reading memory through them. */
#ifndef MEMPROF_LEAK_MAPS_H
#define MEMPROF_LEAK_MAPS_H

#include "leak_state.h"

#include <stddef.h>
#include <stdint.h>

#define MP_MAX_EXCL 65536 /* entries of mp_scan.excl */

uintptr_t mp_parse_hex(const char **s); /* lower-case hex digits; advances *s past them */
int mp_read_maps(struct mp_scan *sc);
const struct mp_vma *mp_vma_at(struct mp_scan *sc, uintptr_t a); /* or NULL */
int mp_in_sys(const struct mp_scan *sc, uintptr_t a);   /* libc.so.6, ld.so, libstdc++ */
int mp_in_glibc(const struct mp_scan *sc, uintptr_t a); /* libc.so.6 or ld.so */
/* Called with the other threads running: dl_iterate_phdr and dlsym take the loader lock. */
void mp_find_modules(struct mp_scan *sc);
int mp_copy_in(struct mp_scan *sc, void *dst, uintptr_t src, size_t n); /* 0 or -1 */
int mp_vm_read_refused(void);
/* Word a of block i: through a copy when the block or the scan is unsafe. 0 or -1. */
int mp_read_word(struct mp_scan *sc, uintptr_t a, size_t i, uintptr_t *out);
void mp_exclude(struct mp_scan *sc, uintptr_t lo, uintptr_t hi); /* [lo, hi) is no root */
void mp_merge_exclusions(struct mp_scan *sc);                     /* sorted, merged */

#endif

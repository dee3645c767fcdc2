/* SPDX-License-Identifier: MIT */
/* Every module loaded during the run, for symbolizing later. */
#ifndef MEMPROF_MODULES_H
#define MEMPROF_MODULES_H

#include <stddef.h>
#include <stdint.h>

struct mp_module {
	uintptr_t bias, start, end;
	uint32_t flags;               /* MP_MODULE_* from snapshot_format.h */
	uint32_t build_id_len;
	unsigned char build_id[64];
	char path[];
};
void mp_modules_scan(void);         /* register every module loaded now */
void mp_modules_mark_unloaded(void);/* flag registered modules no longer loaded */
size_t mp_module_count(void);
const struct mp_module *mp_module_at(size_t i);
/* For fork's handlers (lifecycle.c). */
void mp_modules_lock(void);
void mp_modules_unlock(void);

#endif

/* SPDX-License-Identifier: MIT */
/* Turns a return address from a snapshot into a printable frame ("prog+0x1234"). */
#include "symbolize.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "snapshot_format.h"

const mp_snap_module_t *mp_find_module(const mp_snapshot_t *snap, uint64_t addr)
{
	const mp_snap_module_t *unloaded = NULL;

	for (size_t i = 0; i < snap->n_modules; i++) {
		const mp_snap_module_t *m = &snap->modules[i];

		if (addr < m->start || addr >= m->end)
			continue;
		if (!(m->flags & MP_MODULE_UNLOADED))
			return m;
		if (!unloaded)
			unloaded = m;
	}
	return unloaded;
}

static const char *module_name(const mp_snapshot_t *snap, const mp_snap_module_t *m)
{
	const char *path = m->path, *slash;

	/* The main executable may be recorded without a path; the META section has it. */
	if (!path[0] && (m->flags & MP_MODULE_MAIN) && snap->meta.exe)
		path = snap->meta.exe;
	if (!path[0])
		return "[unnamed]";
	slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

void mp_symbolize_module_offset(const mp_snapshot_t *snap, uint64_t addr, char *buf, size_t buf_bytes)
{
	const mp_snap_module_t *m = mp_find_module(snap, addr);

	if (!m) {
		snprintf(buf, buf_bytes, "???");
		return;
	}
	snprintf(buf, buf_bytes, "%s+0x%" PRIx64 "%s", module_name(snap, m), addr - m->load_bias,
		 (m->flags & MP_MODULE_UNLOADED) ? " (unloaded)" : "");
}

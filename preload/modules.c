/* SPDX-License-Identifier: MIT */
/* Every module (executable, shared library) loaded during the run, with its load address and
 * build-id, so that the CLI can symbolize addresses afterwards, including modules dlclose'd
 * before the snapshot. Registered at snapshot time and before every dlclose. */
#include "modules.h"

#include "options.h"
#include "state.h"
#include "util.h"

#include "snapshot_format.h"

#include <elf.h>
#include <link.h>
#include <string.h>

#define MAX_MODULES 8192

static const struct mp_module *modules[MAX_MODULES];
static atomic_size_t n_modules;
static mp_spinlock_t lock = MP_SPINLOCK_INIT(MP_RANK_MODULES);

void mp_modules_lock(void)
{
	mp_spin_lock(&lock);
}

void mp_modules_unlock(void)
{
	mp_spin_unlock(&lock);
}

struct scan {
	int mark_unloaded;
	unsigned char *seen; /* with mark_unloaded: which registered modules are still loaded */
};

static void read_build_id(const struct dl_phdr_info *info, const ElfW(Phdr) *ph, struct mp_module *m)
{
	const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
	const char *end = p + ph->p_memsz;
	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
		const char *name = p + sizeof(*n);
		const char *desc = name + ((n->n_namesz + 3) & ~3u);
		if (desc + n->n_descsz > end)
			return;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
		    n->n_descsz <= sizeof(m->build_id)) {
			memcpy(m->build_id, desc, n->n_descsz);
			m->build_id_len = n->n_descsz;
			return;
		}
		p = desc + ((n->n_descsz + 3) & ~3u);
	}
}

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct scan *sc = arg;
	int is_main = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';
	const char *path = is_main ? mp_opt.exe_path : info->dlpi_name;
	uintptr_t start = UINTPTR_MAX, end = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
		if (s < start)
			start = s;
		if (e > end)
			end = e;
	}
	if (end == 0)
		return 0; /* the vDSO has PT_LOAD; anything without one has no code */
	size_t n = atomic_load(&n_modules);
	for (size_t i = 0; i < n; i++) {
		const struct mp_module *m = modules[i];
		if (m->bias == info->dlpi_addr && m->start == start && strcmp(m->path, path) == 0 &&
		    !(m->flags & MP_MODULE_UNLOADED)) {
			if (sc->seen)
				sc->seen[i] = 1;
			return 0;
		}
	}
	if (sc->mark_unloaded || n >= MAX_MODULES)
		return 0;
	size_t len = strlen(path);
	struct mp_module *m = mp_arena_alloc(sizeof(*m) + len + 1);
	if (!m)
		return 0;
	m->bias = info->dlpi_addr;
	m->start = start;
	m->end = end;
	m->flags = is_main ? MP_MODULE_MAIN : 0;
	memcpy(m->path, path, len + 1);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_NOTE && !m->build_id_len)
			read_build_id(info, &info->dlpi_phdr[i], m);
	}
	modules[n] = m;
	atomic_store(&n_modules, n + 1);
	return 0;
}

/* Called with the hook guard set. The order is always our lock, then the loader's (taken by
 * dl_iterate_phdr); the allocator hooks never take ours, so a thread inside dlopen that
 * allocates cannot wait for it. */
void mp_modules_scan(void)
{
	struct scan sc = { 0, NULL };
	mp_spin_lock(&lock);
	dl_iterate_phdr(visit, &sc);
	mp_spin_unlock(&lock);
}

void mp_modules_mark_unloaded(void)
{
	static unsigned char seen[MAX_MODULES];
	struct scan sc = { 1, seen };
	mp_spin_lock(&lock);
	size_t n = atomic_load(&n_modules);
	memset(seen, 0, n);
	dl_iterate_phdr(visit, &sc);
	for (size_t i = 0; i < n; i++) {
		if (!seen[i])
			((struct mp_module *)modules[i])->flags |= MP_MODULE_UNLOADED;
	}
	mp_spin_unlock(&lock);
}

size_t mp_module_count(void)
{
	return atomic_load(&n_modules);
}

const struct mp_module *mp_module_at(size_t i)
{
	return modules[i];
}

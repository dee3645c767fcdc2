/* SPDX-License-Identifier: MIT */
/* Turns a return address from a snapshot into printable frames with elfutils libdw: debug
 * information first, then the symbol table, then module+offset. */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uthash.h>

#include "cli.h"
#include "short_name.h"
#include "snapshot_format.h"

/* From libstdc++ (linked with -lstdc++); weak so that a build without it still links and
 * simply shows mangled names. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status)
	__attribute__((weak));

struct symbol {
	uint64_t addr, size_bytes; /* addr in the Dwfl address space (load bias included) */
	const char *name;          /* points into the module's ELF string table */
	int rank;                  /* lower is preferred among aliases: global, weak, local */
};

enum module_status { MODULE_UNTRIED, MODULE_OPEN, MODULE_UNUSABLE };

/* One Dwfl per module: a dlclose'd module may share its address range with a later one. */
struct module_state {
	enum module_status status;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct symbol *syms; /* functions sorted by address, read on first use */
	size_t n_syms;
	bool syms_read;
};

struct cache_entry {
	uint64_t addr;
	mp_frame_info_t info;
	UT_hash_handle hh;
};

struct mp_symbolizer {
	const mp_snapshot_t *snap;
	bool use_debug_info;
	struct module_state *mods; /* parallel to snap->modules; only owners' are used */
	/* Per module: the first module of the snapshot with its path and build-id, whose state
	 * it shares. A library dlopen'd again after dlclose is recorded once per load (a crafted
	 * snapshot may repeat one record thousands of times): its file is opened once. */
	size_t *owner;
	struct cache_entry *cache;
};

struct module_key {
	UT_hash_handle hh;
	size_t first;
	size_t key_bytes;
	char key[]; /* build-id bytes, their count, then the path */
};

/* Fills sym->owner. Returns 0 or -ENOMEM. */
static int find_owners(mp_symbolizer_t *sym)
{
	const mp_snapshot_t *snap = sym->snap;
	struct module_key *keys = NULL, *k, *tmp;
	int rc = 0;

	for (size_t i = 0; i < snap->n_modules && rc == 0; i++) {
		const mp_snap_module_t *m = &snap->modules[i];
		const char *path = mp_module_path(snap, m);
		size_t path_bytes = strlen(path), n = m->build_id_bytes + 1 + path_bytes;
		struct module_key *found;

		if (!(k = malloc(sizeof(*k) + n))) {
			rc = -ENOMEM;
			break;
		}
		memcpy(k->key, m->build_id, m->build_id_bytes);
		k->key[m->build_id_bytes] = (char)m->build_id_bytes;
		memcpy(k->key + m->build_id_bytes + 1, path, path_bytes);
		k->key_bytes = n;
		k->first = i;
		HASH_FIND(hh, keys, k->key, n, found);
		if (found) {
			sym->owner[i] = found->first;
			free(k);
		} else {
			sym->owner[i] = i;
			HASH_ADD_KEYPTR(hh, keys, k->key, n, k);
		}
	}
	HASH_ITER(hh, keys, k, tmp) {
		HASH_DEL(keys, k);
		free(k);
	}
	return rc;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		mp_error("out of memory while symbolizing");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s && !p) {
		mp_error("out of memory while symbolizing");
		exit(1);
	}
	return p;
}

/* A malloc'd demangled copy of `name`, or a plain copy when it is not a C++ name. */
static char *demangled(const char *name)
{
	if (name && name[0] == '_' && name[1] == 'Z' && __cxa_demangle) {
		int status = -1;
		char *d = __cxa_demangle(name, NULL, NULL, &status);

		if (d && status == 0)
			return d;
		free(d);
	}
	return xstrdup(name);
}

const mp_snap_module_t *mp_find_module(const mp_snapshot_t *snap, uint64_t addr)
{
	const mp_snap_module_t *unloaded = NULL;

	if (snap->module_bounds) { /* the reader's index: the last interval starting at or before addr */
		size_t lo = 0, hi = snap->n_module_bounds;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (snap->module_bounds[mid] <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || snap->module_at[lo - 1] == UINT32_MAX)
			return NULL;
		return &snap->modules[snap->module_at[lo - 1]];
	}

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

const char *mp_module_path(const mp_snapshot_t *snap, const mp_snap_module_t *m)
{
	/* The main executable may be recorded without a path; the META section has it. */
	if (!m->path[0] && (m->flags & MP_MODULE_MAIN) && snap->meta.exe)
		return snap->meta.exe;
	return m->path;
}

const char *mp_module_basename(const mp_snapshot_t *snap, const mp_snap_module_t *m)
{
	const char *path = mp_module_path(snap, m), *slash;

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
	snprintf(buf, buf_bytes, "%s+0x%" PRIx64 "%s", mp_module_basename(snap, m), addr - m->load_bias,
		 (m->flags & MP_MODULE_UNLOADED) ? " (unloaded)" : "");
}

mp_symbolizer_t *mp_symbolizer_new(const mp_snapshot_t *snap, bool use_debug_info)
{
	mp_symbolizer_t *sym = calloc(1, sizeof(*sym));

	if (!sym)
		return NULL;
	sym->snap = snap;
	sym->use_debug_info = use_debug_info;
	sym->mods = calloc(snap->n_modules ? snap->n_modules : 1, sizeof(*sym->mods));
	sym->owner = calloc(snap->n_modules ? snap->n_modules : 1, sizeof(*sym->owner));
	if (!sym->mods || !sym->owner || find_owners(sym) < 0) {
		free(sym->mods);
		free(sym->owner);
		free(sym);
		return NULL;
	}
	/* Offline only: libdwfl asks debuginfod servers when this names any. */
	if (use_debug_info)
		unsetenv("DEBUGINFOD_URLS");
	return sym;
}

static void free_info(mp_frame_info_t *f)
{
	for (uint32_t i = 0; i < f->n_lines; i++) {
		free((char *)f->lines[i].function);
		free((char *)f->lines[i].linkage_name);
		free((char *)f->lines[i].file);
	}
	free(f->lines);
}

void mp_symbolizer_free(mp_symbolizer_t *sym)
{
	struct cache_entry *e, *tmp;

	if (!sym)
		return;
	HASH_ITER(hh, sym->cache, e, tmp) {
		HASH_DEL(sym->cache, e);
		free_info(&e->info);
		free(e);
	}
	for (size_t i = 0; i < sym->snap->n_modules; i++) {
		free(sym->mods[i].syms);
		if (sym->mods[i].dwfl)
			dwfl_end(sym->mods[i].dwfl);
	}
	free(sym->mods);
	free(sym->owner);
	free(sym);
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* Opens module `i` at its recorded load bias, once. A module whose file is gone stays
 * module+offset quietly; one whose build-id changed also gets a warning. */
static struct module_state *open_module(mp_symbolizer_t *sym, size_t i)
{
	struct module_state *ms = &sym->mods[i];
	const mp_snap_module_t *m = &sym->snap->modules[i];
	const char *path = mp_module_path(sym->snap, m);
	const unsigned char *bits;
	GElf_Addr vaddr;
	struct stat st;
	int n;

	if (ms->status != MODULE_UNTRIED)
		return ms->status == MODULE_OPEN ? ms : NULL;
	ms->status = MODULE_UNUSABLE;
	/* Only regular files: a crafted snapshot could name a FIFO or a device. */
	if (path[0] != '/' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	ms->dwfl = dwfl_begin(&offline_callbacks);
	if (!ms->dwfl)
		return NULL;
	dwfl_report_begin(ms->dwfl);
	ms->mod = dwfl_report_elf(ms->dwfl, mp_module_basename(sym->snap, m), path, -1, m->load_bias, false);
	dwfl_report_end(ms->dwfl, NULL, NULL);
	if (!ms->mod)
		return NULL;
	if (m->build_id_bytes) {
		n = dwfl_module_build_id(ms->mod, &bits, &vaddr);
		if (n != (int)m->build_id_bytes || memcmp(bits, m->build_id, (size_t)n) != 0) {
			mp_error("warning: %s has changed since the snapshot (build-id differs); "
				 "its frames are shown as module+offset", path);
			return NULL;
		}
	}
	ms->status = MODULE_OPEN;
	return ms;
}

static int symbol_rank(const GElf_Sym *s)
{
	switch (GELF_ST_BIND(s->st_info)) {
	case STB_GLOBAL:
		return s->st_size ? 0 : 3;
	case STB_WEAK:
		return s->st_size ? 1 : 4;
	default:
		return s->st_size ? 2 : 5;
	}
}

static int by_symbol_addr(const void *pa, const void *pb)
{
	const struct symbol *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return a->rank - b->rank;
}

/* Reads the functions of .symtab (or .dynsym) once into a sorted array: libdwfl's own
 * dwfl_module_addrinfo searches linearly, about 100 us per address. */
static void read_symbols(struct module_state *ms)
{
	int n = dwfl_module_getsymtab(ms->mod);
	size_t k = 0;

	ms->syms_read = true;
	if (n <= 1)
		return;
	ms->syms = xcalloc((size_t)n, sizeof(*ms->syms));
	for (int i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(ms->mod, i, &s, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(s.st_info);

		if (!name || !name[0] || s.st_shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		ms->syms[k++] = (struct symbol){ addr, s.st_size, name, symbol_rank(&s) };
	}
	ms->n_syms = k;
	qsort(ms->syms, k, sizeof(*ms->syms), by_symbol_addr);
}

/* The function symbol containing pc, or NULL. */
static const struct symbol *find_symbol(struct module_state *ms, uint64_t pc)
{
	size_t lo = 0, hi;
	const struct symbol *s;

	if (!ms->syms_read)
		read_symbols(ms);
	hi = ms->n_syms;
	/* First symbol above pc. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms->syms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	s = &ms->syms[lo - 1];
	while (s > ms->syms && s[-1].addr == s->addr)
		s--;
	if (s->size_bytes && pc >= s->addr + s->size_bytes)
		return NULL;
	return s;
}

static const char *die_function_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;
	const char *name = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_linkage_name, &a));

	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_MIPS_linkage_name, &a));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(d, DW_AT_name, &a));
	return name;
}

static const char *call_file(Dwarf_Die *cu, Dwarf_Word index)
{
	Dwarf_Files *files;
	size_t n;

	if (dwarf_getsrcfiles(cu, &files, &n) != 0 || index >= n)
		return NULL;
	return dwarf_filesrc(files, index, NULL, NULL);
}

static void add_line(mp_frame_info_t *f, const char *function, const char *file, int line,
		     bool inlined)
{
	mp_frame_line_t *l = realloc(f->lines, (f->n_lines + 1) * sizeof(*l));

	if (!l) {
		mp_error("out of memory while symbolizing");
		exit(1);
	}
	f->lines = l;
	l += f->n_lines++;
	l->function = demangled(function);
	l->linkage_name = xstrdup(function);
	l->file = xstrdup(file);
	l->line = line > 0 ? (uint32_t)line : 0;
	l->inlined = inlined;
}

/* Function, file:line and inlined callers of pc from the debug information. */
static void lookup_source(struct module_state *ms, uint64_t pc, mp_frame_info_t *f)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(ms->mod, pc, &bias);
	Dwarf_Die *scopes = NULL;
	Dwfl_Line *src;
	const char *file = NULL;
	int line = 0, n;

	if (!cu)
		return;
	src = dwfl_module_getsrc(ms->mod, pc);
	if (src)
		file = dwfl_lineinfo(src, NULL, &line, NULL, NULL, NULL);
	/* dwarf_getscopes() continues past an inlined call into the inlined function's own
	 * definition; the chain of callers is what dwarf_getscopes_die() gives for its DIE. */
	n = dwarf_getscopes(cu, pc - bias, &scopes);
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			Dwarf_Die innermost = scopes[i];

			free(scopes);
			scopes = NULL;
			n = dwarf_getscopes_die(&innermost, &scopes);
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		Dwarf_Die *d = &scopes[i];
		int tag = dwarf_tag(d);
		Dwarf_Attribute a;
		Dwarf_Word v;

		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		add_line(f, die_function_name(d), file, line, tag == DW_TAG_inlined_subroutine);
		if (tag == DW_TAG_subprogram)
			break;
		/* The caller's position is where this inlined call was made. */
		file = dwarf_formudata(dwarf_attr(d, DW_AT_call_file, &a), &v) == 0 ? call_file(cu, v) : NULL;
		line = dwarf_formudata(dwarf_attr(d, DW_AT_call_line, &a), &v) == 0 ? (int)v : 0;
	}
	free(scopes);
	/* Line information without a function DIE (assembly): name it from the symbol table. */
	if (f->n_lines == 0 && file) {
		const struct symbol *s = find_symbol(ms, pc);

		if (s)
			add_line(f, s->name, file, line, false);
	}
}

static void symbolize_uncached(mp_symbolizer_t *sym, uint64_t addr, mp_frame_info_t *f)
{
	const mp_snap_module_t *m = mp_find_module(sym->snap, addr);
	struct module_state *ms;
	const struct symbol *s;
	/* A return address points after the call; the call itself is one byte earlier. */
	uint64_t pc = addr ? addr - 1 : 0, shift;
	size_t owner;

	f->addr = addr;
	f->kind = MP_FRAME_UNKNOWN;
	if (!m)
		goto done;
	f->module = m;
	f->offset = addr - m->load_bias;
	f->kind = MP_FRAME_MODULE_OFFSET;
	owner = sym->owner[m - sym->snap->modules];
	if (!sym->use_debug_info || !(ms = open_module(sym, owner)))
		goto done;
	/* The owner's Dwfl has the file at the owner's load bias: move pc there (mod 2^64). */
	shift = sym->snap->modules[owner].load_bias - m->load_bias;
	pc += shift;
	lookup_source(ms, pc, f);
	if (f->n_lines) {
		f->kind = MP_FRAME_SOURCE;
		return;
	}
	s = find_symbol(ms, pc);
	if (s) {
		f->kind = MP_FRAME_SYMBOL;
		f->symbol_offset = addr + shift - s->addr;
		add_line(f, s->name, NULL, 0, false);
		return;
	}
done:
	add_line(f, NULL, NULL, 0, false);
}

const mp_frame_info_t *mp_symbolize(mp_symbolizer_t *sym, uint64_t addr)
{
	struct cache_entry *e;

	HASH_FIND(hh, sym->cache, &addr, sizeof(addr), e);
	if (e)
		return &e->info;
	e = xcalloc(1, sizeof(*e));
	e->addr = addr;
	symbolize_uncached(sym, addr, &e->info);
	HASH_ADD(hh, sym->cache, addr, sizeof(e->addr), e);
	return &e->info;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

void mp_frame_format(const mp_snapshot_t *snap, const mp_frame_info_t *f, uint32_t i, bool short_names,
		     char *buf, size_t buf_bytes)
{
	const mp_frame_line_t *l = &f->lines[i < f->n_lines ? i : 0];
	const char *fn = l->function ? l->function : "???";
	char shortened[512];

	if (short_names && l->function) {
		mp_short_name(l->function, shortened, sizeof(shortened));
		fn = shortened;
	}

	switch (f->kind) {
	case MP_FRAME_SOURCE:
		if (l->file)
			snprintf(buf, buf_bytes, "%s (%s:%" PRIu32 ")%s", fn, basename_of(l->file), l->line,
				 l->inlined ? " [inlined]" : "");
		else
			snprintf(buf, buf_bytes, "%s (in %s)%s", fn, mp_module_path(snap, f->module),
				 l->inlined ? " [inlined]" : "");
		return;
	case MP_FRAME_SYMBOL:
		snprintf(buf, buf_bytes, "%s+0x%" PRIx64 " (in %s)", fn, f->symbol_offset,
			 mp_module_path(snap, f->module));
		return;
	case MP_FRAME_MODULE_OFFSET:
		snprintf(buf, buf_bytes, "%s+0x%" PRIx64 "%s", mp_module_basename(snap, f->module), f->offset,
			 (f->module->flags & MP_MODULE_UNLOADED) ? " (unloaded)" : "");
		return;
	case MP_FRAME_UNKNOWN:
		break;
	}
	snprintf(buf, buf_bytes, "???");
}

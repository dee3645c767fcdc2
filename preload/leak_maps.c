/* SPDX-License-Identifier: MIT */
/* The leak scan's view of the address space: the mappings, from /proc/self/maps (read with
 * read(2): no stdio, no malloc), the modules that decide INTERNAL, the ranges that are no
 * roots, and reading memory safely. */
#include "leak_maps.h"

#include "modules.h"
#include "util.h"

#include "snapshot_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

uintptr_t mp_parse_hex(const char **s)
{
	uintptr_t v = 0;
	for (;; (*s)++) {
		char c = **s;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

static int read_file(struct mp_scan *sc, const char *path, char **buf, size_t *len)
{
	for (size_t cap = 1u << 20; cap <= (1u << 30); cap *= 4) {
		char *b = mp_scan_alloc(sc, cap);
		if (!b)
			return -ENOMEM;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		size_t n = 0;
		ssize_t k;
		while (n < cap && (k = read(fd, b + n, cap - n)) > 0)
			n += (size_t)k;
		close(fd);
		if (n < cap) {
			*buf = b;
			*len = n;
			return 0;
		}
	}
	return -E2BIG;
}

int mp_read_maps(struct mp_scan *sc)
{
	char *buf = NULL;
	size_t len = 0;
	int err = read_file(sc, "/proc/self/maps", &buf, &len);
	if (err)
		return err;
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	sc->vmas = mp_scan_alloc(sc, (lines + 1) * sizeof(*sc->vmas));
	if (!sc->vmas)
		return -ENOMEM;
	sc->n_vmas = 0;
	for (const char *s = buf, *end = buf + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		struct mp_vma v;
		memset(&v, 0, sizeof(v));
		v.lo = mp_parse_hex(&s);
		if (*s == '-')
			s++;
		v.hi = mp_parse_hex(&s);
		if (s + 5 < nl) {
			v.r = s[1] == 'r';
			v.w = s[2] == 'w';
			v.x = s[3] == 'x';
		}
		/* offset, dev, inode, then the path after spaces */
		int field = 0;
		while (s < nl && field < 4) {
			while (s < nl && *s == ' ')
				s++;
			while (s < nl && *s != ' ')
				s++;
			field++;
		}
		while (s < nl && *s == ' ')
			s++;
		size_t plen = (size_t)(nl - s);
		if (plen && *s == '/') {
			v.file = 1;
			/* memcheck skips device mappings, /dev/zero excepted (/dev/shm holds files) */
			v.device = plen > 5 && memcmp(s, "/dev/", 5) == 0 &&
				   !(plen >= 9 && memcmp(s, "/dev/zero", 9) == 0) &&
				   !(plen >= 9 && memcmp(s, "/dev/shm/", 9) == 0);
		} else if (plen >= 6 && memcmp(s, "[heap]", 6) == 0) {
			v.heap = 1;
		}
		if (v.hi > v.lo)
			sc->vmas[sc->n_vmas++] = v;
		s = nl + 1;
	}
	return 0;
}

/* The mapping holding address a, or NULL. */
const struct mp_vma *mp_vma_at(struct mp_scan *sc, uintptr_t a)
{
	size_t lo = 0, hi = sc->n_vmas;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sc->vmas[mid].hi <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sc->n_vmas && sc->vmas[lo].lo <= a ? &sc->vmas[lo] : NULL;
}

/* The modules and functions that decide INTERNAL, looked up before the threads stop. */

int mp_in_sys(const struct mp_scan *sc, uintptr_t a)
{
	for (int i = 0; i < sc->n_sys; i++) {
		if (mp_in_range(&sc->sys_mods[i], a))
			return 1;
	}
	return 0;
}

int mp_in_glibc(const struct mp_scan *sc, uintptr_t a)
{
	for (int i = 0; i < sc->n_sys; i++) {
		if (sc->sys_is_glibc[i] && mp_in_range(&sc->sys_mods[i], a))
			return 1;
	}
	return 0;
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

static void function_range(const char *name, struct mp_range *out)
{
	out->lo = out->hi = 0;
	void *f = dlsym(RTLD_DEFAULT, name);
	Dl_info info;
	const ElfW(Sym) *sym = NULL;
	if (f && dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size) {
		out->lo = (uintptr_t)f;
		out->hi = (uintptr_t)f + sym->st_size;
	}
}

/* The scanning thread's thread-local variables of libc and libstdc++ (gettext's and the
 * locale's caches, the C++ exception globals) are theirs, not the program's: roots of the
 * system kind, like their data segments. (Other threads' copies count as the program's.) */
static int add_system_tls(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct mp_scan *sc = arg;
	const char *b = base_name(info->dlpi_name ? info->dlpi_name : "");
	if (!info->dlpi_tls_data || sc->n_sys >= MP_SCAN_MAX_SYS ||
	    (strcmp(b, "libc.so.6") != 0 && strcmp(b, "libstdc++.so.6") != 0))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_TLS) {
			uintptr_t lo = (uintptr_t)info->dlpi_tls_data;
			sc->sys_is_glibc[sc->n_sys] = 0;
			sc->sys_mods[sc->n_sys].lo = lo;
			sc->sys_mods[sc->n_sys].hi = lo + info->dlpi_phdr[i].p_memsz;
			sc->n_sys++;
		}
	}
	return 0;
}

static void find_tcb_layout(struct mp_scan *sc)
{
	const uint32_t *size = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");
	const uint32_t *tid = dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid");
	if (!size || !tid || tid[0] != 32 || *size < 64 || *size > 65536 || tid[2] + 4 > *size)
		return;
	/* Checked on this thread: its descriptor holds its own tid there. */
	pid_t me;
	memcpy(&me, (const char *)pthread_self() + tid[2], sizeof(me));
	if (me != (pid_t)syscall(SYS_gettid))
		return;
	sc->tcb_bytes = *size;
	sc->tcb_tid_offset = tid[2];
}

/* Called with the other threads running: dl_iterate_phdr and dlsym take the loader lock. */
void mp_find_modules(struct mp_scan *sc)
{
	mp_modules_scan();
	sc->n_sys = 0;
	sc->ldso.lo = sc->ldso.hi = sc->self_mod.lo = sc->self_mod.hi = 0;
	uintptr_t me = (uintptr_t)&mp_find_modules;
	for (size_t i = 0; i < mp_module_count(); i++) {
		const struct mp_module *m = mp_module_at(i);
		if (m->flags & MP_MODULE_UNLOADED)
			continue;
		/* Page-rounded: ld.so's early allocator fills the rest of its last page. */
		struct mp_range r = { m->start & ~(MP_PAGE - 1), (m->end + MP_PAGE - 1) & ~(MP_PAGE - 1) };
		const char *b = base_name(m->path);
		if (me >= m->start && me < m->end)
			sc->self_mod = r;
		int is_ld = strncmp(b, "ld-linux", 8) == 0;
		if (is_ld)
			sc->ldso = r;
		int is_libc = strcmp(b, "libc.so.6") == 0;
		if ((is_ld || is_libc || strcmp(b, "libstdc++.so.6") == 0) && sc->n_sys < MP_SCAN_MAX_SYS) {
			sc->sys_is_glibc[sc->n_sys] = is_ld || is_libc;
			sc->sys_mods[sc->n_sys++] = r;
		}
	}
	dl_iterate_phdr(add_system_tls, sc);
	if (!sc->found_once) {
		function_range("_IO_file_doallocate", &sc->stdio_alloc[0]);
		function_range("_IO_default_doallocate", &sc->stdio_alloc[1]);
		function_range("_IO_wdefault_doallocate", &sc->stdio_alloc[2]);
		sc->environ_var = dlsym(RTLD_DEFAULT, "environ");
		find_tcb_layout(sc);
		sc->found_once = 1;
	}
}

/* Reading memory. */

/* process_vm_readv is refused (a seccomp filter that denies it with ptrace): memory is then
 * read directly, only inside the readable mappings listed, and only when every other thread
 * is stopped (otherwise the scan gives no verdict). */
int mp_copy_in(struct mp_scan *sc, void *dst, uintptr_t src, size_t n)
{
	if (MP_UNLIKELY(sc->vm_read_denied)) {
		const struct mp_vma *v = mp_vma_at(sc, src);
		if (!v || !v->r || v->device || n > v->hi - src)
			return -1;
		memcpy(dst, (const void *)src, n);
		return 0;
	}
	struct iovec l = { dst, n }, r = { (void *)src, n };
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

int mp_vm_read_refused(void)
{
	uintptr_t probe = 1, out = 0;
	struct iovec l = { &out, sizeof(out) }, r = { &probe, sizeof(probe) };
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)sizeof(out) || out != probe;
}

int mp_read_word(struct mp_scan *sc, uintptr_t a, size_t i, uintptr_t *out)
{
	if (sc->read_safely || (sc->st[i] & MP_UNSAFE))
		return mp_copy_in(sc, out, a, 8);
	*out = *(const uintptr_t *)a;
	return 0;
}

/* The ranges that are no roots. */

void mp_exclude(struct mp_scan *sc, uintptr_t lo, uintptr_t hi)
{
	if (lo < hi && sc->n_excl < MP_MAX_EXCL) {
		sc->excl[sc->n_excl].lo = lo;
		sc->excl[sc->n_excl].hi = hi;
		sc->n_excl++;
	}
}

static void sort_ranges(struct mp_range *r, size_t n)
{
	for (size_t i = 1; i < n; i++) { /* insertion sort: short, nearly sorted lists */
		struct mp_range x = r[i];
		size_t j = i;
		while (j > 0 && r[j - 1].lo > x.lo) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

void mp_merge_exclusions(struct mp_scan *sc)
{
	sort_ranges(sc->excl, sc->n_excl);
	size_t k = 0;
	for (size_t i = 0; i < sc->n_excl; i++) {
		if (k && sc->excl[i].lo <= sc->excl[k - 1].hi) {
			if (sc->excl[i].hi > sc->excl[k - 1].hi)
				sc->excl[k - 1].hi = sc->excl[i].hi;
		} else {
			sc->excl[k++] = sc->excl[i];
		}
	}
	sc->n_excl = k;
}

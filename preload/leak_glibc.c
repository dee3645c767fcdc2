/* SPDX-License-Identifier: MIT */
/* The leak scan's rules for glibc's own memory: its chunk headers, its non-main arenas' heaps
 * and the stacks of ended threads (no roots), and the INTERNAL blocks of leakscan.c's header
 * comment. */
#include "leak_glibc.h"

#include "arch.h"
#include "leak_index.h"
#include "leak_maps.h"
#include "leak_stop.h"
#include "trace_table.h"

#include <string.h>
#include <sys/mman.h>

#define GLIBC_HEAP_MAX (64ul << 20) /* HEAP_MAX_SIZE of glibc's non-main arenas, 64-bit */

/* glibc's main arena (in libc's data) points at chunk headers: its top chunk, its free
 * lists. A chunk's header overlaps the last 8 bytes of the block before it when that block's
 * size is 8 modulo 16, so such a pointer looks like an interior pointer into a live block.
 * Memcheck, which replaces malloc, never sees them. */
int mp_is_next_chunk_header(struct mp_scan *sc, size_t i, uintptr_t v)
{
	size_t req = mp_blk_size(sc, i), chunk = (req + 8 + 15) & ~(size_t)15;
	if (chunk < 32)
		chunk = 32;
	return v - sc->blk[i].ptr == chunk - 16;
}

/* Blocks not inside one readable mapping (a stale entry) are read through copies. glibc's
 * non-main arenas: a chunk with NON_MAIN_ARENA set lives in a heap at its 64 MiB boundary,
 * whose heap_info gives the heap's length (words 2 and 3: size, mprotect_size). */
void mp_check_blocks(struct mp_scan *sc)
{
	size_t v = 0;
	uintptr_t last_heap = 0;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uintptr_t a = sc->blk[i].ptr, e = mp_blk_end(sc, i);
		while (v < sc->n_vmas && sc->vmas[v].hi <= a)
			v++;
		if (v == sc->n_vmas || sc->vmas[v].lo > a - 16 || sc->vmas[v].hi < e || !sc->vmas[v].r) {
			sc->st[i] |= MP_UNSAFE;
			continue;
		}
		if (sc->vmas[v].heap)
			continue;
		uintptr_t size_field;
		if (mp_read_word(sc, a - 8, i, &size_field) != 0 || !(size_field & 4) || (size_field & 2))
			continue;
		uintptr_t h = a & ~(GLIBC_HEAP_MAX - 1);
		if (h == last_heap)
			continue;
		const struct mp_vma *hv = mp_vma_at(sc, h);
		uintptr_t info[4];
		if (!hv || !hv->r || mp_copy_in(sc, info, h, sizeof(info)) != 0)
			continue;
		size_t len = info[2] > info[3] ? info[2] : info[3];
		if (len == 0 || len > GLIBC_HEAP_MAX)
			continue;
		mp_exclude(sc, h, (h + len + MP_PAGE - 1) & ~(MP_PAGE - 1));
		last_heap = h;
	}
}

/* The stacks of threads that have ended. */

/* What is at pd: a thread descriptor whose tcb and self words point at itself (arch.h) -- of
 * a live thread (1), or of one that has ended (-1): its tid is then 0 or less, as the kernel
 * clears it when the thread ends (CLONE_CHILD_CLEARTID, what pthread_join waits for) and
 * pthread_join sets it to -1. 0: no descriptor. */
static int thread_at(struct mp_scan *sc, uintptr_t pd)
{
	uintptr_t head[3];
	int32_t tid;
	if (mp_copy_in(sc, head, pd, sizeof(head)) != 0 || !MP_ARCH_TCB_AT(head, pd) ||
	    mp_copy_in(sc, &tid, pd + sc->tcb_tid_offset, sizeof(tid)) != 0)
		return 0;
	return tid > 0 ? 1 : -1;
}

/* The same for a stack ending at page boundary top: glibc puts the descriptor at the top of
 * the stack it mapped, aligned down to the static TLS alignment. */
static int thread_of_stack_top(struct mp_scan *sc, uintptr_t top, uintptr_t lo)
{
	uintptr_t last = 0;
	for (uintptr_t align = 64; align <= MP_PAGE; align *= 2) {
		uintptr_t pd = (top - sc->tcb_bytes) & ~(align - 1);
		if (pd < lo || pd == last)
			continue;
		last = pd;
		int t = thread_at(sc, pd);
		if (t)
			return t;
	}
	return 0;
}

/* glibc keeps the stacks of ended threads mapped (its stack cache, and joinable threads not
 * yet joined), holding the dead threads' last words and their TLS. memcheck scans none of
 * that: a stack is a root only from a live thread's stack pointer up. Such a stack is a
 * readable, writable mapping right above its PROT_NONE guard page, with the descriptor at
 * its top; the mapping may have merged with a neighbour above it, so every resident page
 * boundary is a candidate top, from the mapping's end down, until a descriptor is found.
 * A mapping that holds a stopped thread's stack pointer (or the scanner's) is live. */
void mp_exclude_dead_stacks(struct mp_scan *sc, uintptr_t scanner_sp)
{
	if (!sc->tcb_bytes)
		return;
	for (size_t k = 1; k < sc->n_vmas; k++) {
		const struct mp_vma *v = &sc->vmas[k], *guard = &sc->vmas[k - 1];
		if (!v->r || !v->w || v->file || v->heap || guard->hi != v->lo || guard->r || guard->w ||
		    guard->x || guard->file || v->hi - v->lo < 2 * MP_PAGE || mp_stop_holds_sp(v->lo, v->hi) ||
		    (scanner_sp >= v->lo && scanner_sp < v->hi))
			continue;
		size_t pages = (v->hi - v->lo) / MP_PAGE;
		unsigned char *in = mp_scan_alloc(sc, pages);
		if (!in || mincore((void *)v->lo, v->hi - v->lo, in) != 0) {
			mp_scan_release(sc, in);
			continue;
		}
		/* The descriptor lies in the one or two pages below top: resident once written. */
		for (size_t p = pages; p >= 2; p--) {
			if (!((in[p - 1] | in[p - 2]) & 1))
				continue;
			uintptr_t top = v->lo + p * MP_PAGE;
			int t = thread_of_stack_top(sc, top, v->lo);
			if (t < 0)
				mp_exclude(sc, v->lo, top);
			if (t)
				break;
		}
		mp_scan_release(sc, in);
	}
}

/* INTERNAL. */

static const struct mp_trace *trace_of(struct mp_scan *sc, size_t i)
{
	uint32_t id = MP_META_ID(sc->blk[i].meta);
	const struct mp_trace *t = id < mp_trace_count() ? mp_trace_by_id(id) : NULL;
	return t && t->n_frames ? t : NULL;
}

/* A stdio FILE (fopen, fdopen, popen, open_memstream...): _flags holds _IO_MAGIC. Programs
 * own these; glibc lists them for exit's flush, which is not ownership. */
static int is_stdio_file(struct mp_scan *sc, size_t i)
{
	uintptr_t w;
	return mp_blk_size(sc, i) >= 224 && mp_read_word(sc, sc->blk[i].ptr, i, &w) == 0 && (w & 0xffff0000u) == 0xfbad0000u;
}

/* Rules (a), (b), (c) of leakscan.c's header comment. */
int mp_is_internal(struct mp_scan *sc, size_t i)
{
	const struct mp_trace *t = trace_of(sc, i);
	if (!t)
		return 0;
	uintptr_t f0 = t->frames[0];
	int kind = sc->st[i] & MP_KIND_MASK;
	if (mp_in_range(&sc->ldso, f0) && kind != MP_REACHABLE)
		return 1;
	for (int k = 0; k < 3; k++) {
		if (mp_in_range(&sc->stdio_alloc[k], f0))
			return 1;
	}
	/* libc's own caches (gettext's domains, loaded locales, NSS): allocated inside libc
	 * (frames 0 and 1) and still held by libc, whoever else points at them. */
	if ((sc->st[i] & MP_SYS_REACHED) && t->n_frames >= 2 && mp_in_glibc(sc, f0) && !mp_in_range(&sc->ldso, f0) &&
	    mp_in_glibc(sc, t->frames[1]) && !mp_in_range(&sc->ldso, t->frames[1]) && !is_stdio_file(sc, i))
		return 1;
	if (kind == MP_UNREACHED || (sc->st[i] & MP_USER_REACHED))
		return 0;
	if (mp_in_glibc(sc, f0))
		return !is_stdio_file(sc, i);
	return mp_in_sys(sc, f0) && t->n_frames >= 2 && mp_in_sys(sc, t->frames[1]);
}

/* setenv's copies of the environment (the array and its "NAME=value" strings), which
 * __libc_freeres frees; `environ` may live in the program's own data (a copy relocation). */
void mp_mark_environment(struct mp_scan *sc)
{
	uintptr_t envp;
	if (!sc->environ_var || mp_copy_in(sc, &envp, (uintptr_t)sc->environ_var, 8) != 0)
		return;
	long a = mp_find_block(sc, envp);
	if (a < 0 || envp != sc->blk[a].ptr || !trace_of(sc, (size_t)a) || !mp_in_glibc(sc, trace_of(sc, (size_t)a)->frames[0]))
		return;
	mp_set_kind(sc, (size_t)a, MP_INTERNAL);
	for (size_t k = 0; k < mp_blk_size(sc, (size_t)a) / 8; k++) {
		uintptr_t s;
		if (mp_read_word(sc, envp + 8 * k, (size_t)a, &s) != 0 || !s)
			break;
		long j = mp_find_block(sc, s);
		if (j >= 0 && s == sc->blk[j].ptr && trace_of(sc, (size_t)j) && mp_in_glibc(sc, trace_of(sc, (size_t)j)->frames[0]))
			mp_set_kind(sc, (size_t)j, MP_INTERNAL);
	}
}

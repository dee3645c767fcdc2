/* SPDX-License-Identifier: MIT */
/* The leak scan: stop the other threads, find every pointer to a live block from the roots,
 * and classify the live blocks as memcheck does (memcheck/mc_leakcheck.c's rules):
 *
 *   REACHABLE  a start pointer on a path of start pointers from the roots (or an interior
 *              pointer that one of memcheck's four heuristics accepts)
 *   POSSIBLE   reached, but only through an interior pointer somewhere on the way
 *   DEFINITE   not reached; each one leads a "clique", in address order
 *   INDIRECT   not reached, but pointed to (start or interior) by a lost block's clique
 *   INTERNAL   glibc's and ld.so's own blocks, which memcheck frees with __libc_freeres
 *              before its scan (we cannot call it: see below)
 *
 * Roots: every readable and writable mapping except the profiler's own memory (mp_map's
 * registry, this library's segments), glibc's heaps (the brk [heap] and the 64 MiB-aligned
 * heaps of the other arenas, found through the chunk headers of the blocks in them), the
 * live blocks themselves, device mappings, and the part of each thread's stack below its
 * stack pointer (minus the 128-byte red zone, which memcheck also treats as live); plus the
 * general registers of every stopped thread and the callee-saved registers of the scanning
 * thread at the scan's entry (its own frames below that entry are not roots).
 *
 * Stopping threads: a real-time signal that has no handler and that no thread keeps blocked
 * (the highest one, SIGRTMAX downwards) is sent with tgkill to every other thread of /proc/self/task. Its handler saves
 * the interrupted registers and waits on a futex until released. A thread that does not answer
 * within a second (100 ms if it blocked the signal when it was sent) is not waited for: the scan runs anyway, reading
 * blocks too with process_vm_readv (a racing munmap gives an error, not a crash), and
 * MP_LEAKS_THREADS_STOPPED stays clear. Roots are always read that way. Afterwards the signal is set to SIG_IGN (dropping a
 * copy still pending in a thread that blocked it) and its old action restored. While the
 * threads are stopped the scanner takes no lock and never calls malloc: its memory comes from
 * mp_map, the tables are read lock-free, modules were listed before the stop.
 *
 * INTERNAL (memcheck runs __libc_freeres at exit; calling it ourselves crashes programs whose
 * threads still run): (a) blocks that ld.so allocated (frame 0 in ld.so: thread DTVs, which
 * glibc points to at dtv+1 and memcheck would call "possibly lost", dlopen's bookkeeping)
 * unless a start pointer from the program reaches them; (b) stdio buffers (frame 0 in
 * _IO_file_doallocate and its siblings: freed by exit's _IO_cleanup after this scan);
 * (c) blocks that only roots inside libc.so.6, ld.so or libstdc++.so.6 reach and that were
 * allocated inside glibc (frame 0: NSS, getpwuid's static buffer...; for libstdc++ frames 0
 * and 1: the C++ emergency pool), but never a FILE the program opened (_IO_MAGIC in its first
 * word); (d) libc's caches (gettext's domains, loaded locales: frames 0 and 1 in libc.so.6,
 * and libc's own roots reach them), even when the program also points at them; (e) setenv's
 * copies of the environment.
 *
 * This file marks and classifies, and holds the entry points; the stop is leak_stop.c's, the
 * mappings and the ranges that are no roots leak_maps.c's, the block index leak_index.c's, and
 * the rules for glibc's memory leak_glibc.c's. */
#include "leakscan.h"

#include "arch.h"
#include "leak_glibc.h"
#include "leak_index.h"
#include "leak_maps.h"
#include "leak_result.h"
#include "leak_state.h"
#include "leak_stop.h"
#include "live_table.h"
#include "peak.h"
#include "snapshot.h"
#include "state.h"
#include "thread.h"
#include "trace_table.h"
#include "unwind.h"
#include "util.h"

#include "snapshot_format.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

#define RED_ZONE 128u

/* ---- scanning memory ---- */

#define COPY_BYTES (64u * 1024)

static void visit_words(struct mp_scan *sc, const uintptr_t *w, size_t n, int mode, size_t from);

/* Large mappings (a thread's whole stack, a big reservation) are mostly pages never touched:
 * those hold zeroes, so only resident pages are read. (A page swapped out is not resident
 * either: on a machine that swaps, a pointer there can be missed.) */
#define SPARSE_BYTES (16ul << 20)
static int any_resident(uintptr_t lo, uintptr_t hi)
{
	unsigned char vec[COPY_BYTES / MP_PAGE];
	uintptr_t p = lo & ~(MP_PAGE - 1);
	size_t pages = (hi - p + MP_PAGE - 1) / MP_PAGE;
	if (pages > sizeof(vec) || mincore((void *)p, hi - p, vec) != 0)
		return pages > sizeof(vec); /* unmapped meanwhile: nothing to read */
	for (size_t i = 0; i < pages; i++) {
		if (vec[i] & 1)
			return 1;
	}
	return 0;
}

/* Scan the aligned words of [lo, hi): directly, or through a copy when the memory may vanish
 * under us (pages that cannot be read are skipped). */
static void scan_memory(struct mp_scan *sc, uintptr_t lo, uintptr_t hi, int safe, int mode, size_t from)
{
	lo = (lo + 7) & ~(uintptr_t)7;
	hi &= ~(uintptr_t)7;
	if (lo >= hi)
		return;
	if (!safe) {
		visit_words(sc, (const uintptr_t *)lo, (hi - lo) / 8, mode, from);
		return;
	}
	int sparse = hi - lo >= SPARSE_BYTES;
	while (lo < hi) {
		uintptr_t end = (lo & ~(uintptr_t)(COPY_BYTES - 1)) + COPY_BYTES;
		if (end > hi)
			end = hi;
		if (sparse && !any_resident(lo, end)) {
			lo = end;
			continue;
		}
		if (mp_copy_in(sc, sc->copy_buf, lo, end - lo) == 0) {
			visit_words(sc, sc->copy_buf, (end - lo) / 8, mode, from);
		} else { /* page by page */
			for (uintptr_t p = lo; p < end;) {
				uintptr_t pe = (p & ~(MP_PAGE - 1)) + MP_PAGE;
				if (pe > end)
					pe = end;
				if (mp_copy_in(sc, sc->copy_buf, p, pe - p) == 0)
					visit_words(sc, sc->copy_buf, (pe - p) / 8, mode, from);
				p = pe;
			}
		}
		lo = end;
	}
}

/* ---- memcheck's heuristics for interior pointers (all on by default in memcheck) ---- */

static int is_vtable(struct mp_scan *sc, uintptr_t p)
{
	const struct mp_vma *v = mp_vma_at(sc, p);
	if (!v || !v->file || !v->r || (p & 7))
		return 0;
	int fns = 0;
	uintptr_t max = p + 20 * 8;
	if (max > v->hi - 8)
		max = v->hi - 8;
	for (uintptr_t a = p; a <= max; a += 8) {
		uintptr_t f;
		if (mp_copy_in(sc, &f, a, 8) != 0)
			return 0;
		if (!f)
			continue;
		const struct mp_vma *fv = mp_vma_at(sc, f);
		if (!fv || !fv->file || !fv->x)
			return 0;
		if (++fns == 2)
			return 1;
	}
	return 0;
}

static int heuristic_reachable(struct mp_scan *sc, size_t i, uintptr_t v)
{
	uintptr_t a = sc->blk[i].ptr, w0, w1;
	size_t size = mp_blk_size(sc, i);
	if (v == a + 24 && size >= 24 && mp_read_word(sc, a + 8, i, &w1) == 0 && 24 + w1 + 1 == size &&
	    mp_read_word(sc, a, i, &w0) == 0 && w0 <= w1)
		return 1; /* stdstring: length, capacity, refcount, chars */
	if (v == a + 8 && size >= 8 && mp_read_word(sc, a, i, &w0) == 0 && w0 > 0) {
		if (w0 == size - 8)
			return 1; /* length64 */
		if ((size - 8) % w0 == 0)
			return 1; /* newarray: element count before the elements */
	}
	if (!(v & 7) && v + 8 <= a + size && mp_read_word(sc, v, i, &w1) == 0 && mp_read_word(sc, a, i, &w0) == 0 &&
	    !(w1 & 7) && w1 >= MP_PAGE && !(w0 & 7) && w0 >= MP_PAGE && is_vtable(sc, w1) && is_vtable(sc, w0))
		return 1; /* multipleinheritance: vtable pointers at the start and at v */
	return 0;
}

/* ---- marking ---- */

enum { MARK_DEFINITE, MARK_POSSIBLE, MARK_CLIQUE, MARK_INTERNAL, MARK_SYSTEM };

static void push(struct mp_scan *sc, size_t i)
{
	if (!(sc->st[i] & MP_PENDING)) {
		sc->st[i] |= MP_PENDING;
		sc->stack[sc->stack_top++] = (uint32_t)i;
	}
}

/* mode MARK_CLIQUE: `from` is the clique's leader. */
static void visit(struct mp_scan *sc, size_t i, uintptr_t v, int mode, size_t from)
{
	int kind = sc->st[i] & MP_KIND_MASK;
	switch (mode) {
	case MARK_DEFINITE:
	case MARK_POSSIBLE:
		if (kind == MP_REACHABLE)
			return;
		if (mode == MARK_DEFINITE && (v == sc->blk[i].ptr || heuristic_reachable(sc, i, v))) {
			mp_set_kind(sc, i, MP_REACHABLE);
			push(sc, i);
		} else if (kind == MP_UNREACHED) {
			mp_set_kind(sc, i, MP_POSSIBLE);
			push(sc, i);
		}
		return;
	case MARK_CLIQUE:
		if (kind == MP_UNREACHED && i != from) {
			push(sc, i);
			sc->ind_bytes[from] += mp_blk_size(sc, i) + sc->ind_bytes[i];
			sc->ind_blocks[from] += 1 + sc->ind_blocks[i];
			sc->ind_bytes[i] = sc->ind_blocks[i] = 0;
			mp_set_kind(sc, i, MP_INDIRECT);
		}
		return;
	case MARK_INTERNAL:
		if (kind == MP_UNREACHED) {
			mp_set_kind(sc, i, MP_INTERNAL);
			push(sc, i);
		}
		return;
	case MARK_SYSTEM:
		if (!(sc->st[i] & MP_SYS_REACHED)) {
			sc->st[i] |= MP_SYS_REACHED;
			push(sc, i);
		}
		return;
	}
}

static void visit_words(struct mp_scan *sc, const uintptr_t *w, size_t n, int mode, size_t from)
{
	for (size_t k = 0; k < n; k++) {
		uintptr_t v = w[k];
		if (MP_LIKELY(v - sc->g_lo >= sc->g_span))
			continue;
		long i = mp_find_block(sc, v);
		if (i >= 0 && MP_UNLIKELY(sc->in_system_roots) && mp_is_next_chunk_header(sc, (size_t)i, v))
			continue;
		if (i >= 0)
			visit(sc, (size_t)i, v, mode, from);
	}
}

/* Scan the blocks on the mark stack until it is empty. leader: for MARK_CLIQUE. */
static void process(struct mp_scan *sc, int clique, size_t leader)
{
	while (sc->stack_top) {
		size_t i = sc->stack[--sc->stack_top];
		sc->st[i] &= (uint8_t)~MP_PENDING;
		int mode;
		if (clique)
			mode = MARK_CLIQUE;
		else if (sc->flood_system)
			mode = MARK_SYSTEM;
		else if ((sc->st[i] & MP_KIND_MASK) == MP_INTERNAL)
			mode = MARK_INTERNAL;
		else
			mode = (sc->st[i] & MP_KIND_MASK) == MP_POSSIBLE ? MARK_POSSIBLE : MARK_DEFINITE;
		scan_memory(sc, sc->blk[i].ptr, sc->blk[i].ptr + mp_blk_size(sc, i), sc->read_safely || (sc->st[i] & MP_UNSAFE), mode,
			    clique ? leader : 0);
	}
}

/* ---- roots ---- */

/* Scan [lo, hi) as a root, skipping the live blocks inside it. */
static void scan_root(struct mp_scan *sc, uintptr_t lo, uintptr_t hi, int safe)
{
	size_t j = mp_first_block_from(sc, lo);
	if (j > 0 && mp_blk_end(sc, j - 1) > lo)
		lo = mp_blk_end(sc, j - 1);
	while (lo < hi) {
		uintptr_t stop = j < sc->n_blk && sc->blk[j].ptr < hi ? sc->blk[j].ptr : hi;
		if (stop > lo) {
			sc->root_bytes += stop - lo;
			scan_memory(sc, lo, stop, safe, sc->root_mode, 0);
		}
		if (stop == hi)
			break;
		if (mp_blk_end(sc, j) > lo)
			lo = mp_blk_end(sc, j);
		j++;
	}
}

/* Emit [lo, hi) split by the system modules' ranges; scan the pieces of the wanted kind. */
static void scan_piece(struct mp_scan *sc, uintptr_t lo, uintptr_t hi, int safe, int system)
{
	for (uintptr_t p = lo; p < hi;) {
		int sys = mp_in_sys(sc, p);
		uintptr_t q = hi;
		for (int s = 0; s < sc->n_sys; s++) {
			if (sys && mp_in_range(&sc->sys_mods[s], p) && sc->sys_mods[s].hi < q)
				q = sc->sys_mods[s].hi;
			if (!sys && sc->sys_mods[s].lo > p && sc->sys_mods[s].lo < q)
				q = sc->sys_mods[s].lo;
		}
		if (sys == system)
			scan_root(sc, p, q, safe);
		p = q;
	}
}

/* The readable, writable mappings minus the excluded ranges (sorted, merged): the pieces
 * inside the system modules (system = 1) or outside them (system = 0). */
static void scan_roots(struct mp_scan *sc, int system)
{
	size_t x = 0;
	for (size_t k = 0; k < sc->n_vmas; k++) {
		const struct mp_vma *v = &sc->vmas[k];
		if (!v->r || !v->w || v->device || v->heap)
			continue;
		/* Roots are always read through copies: a file may be truncated under us (SIGBUS),
		 * and the profiler's helper thread, which is not stopped, may unmap or shrink its
		 * own memory (zlib's buffers, its glibc arena) meanwhile. Roots are small. */
		int safe = 1;
		uintptr_t lo = v->lo;
		while (lo < v->hi) {
			while (x < sc->n_excl && sc->excl[x].hi <= lo)
				x++;
			if (x < sc->n_excl && sc->excl[x].lo <= lo) {
				lo = sc->excl[x].hi;
				continue;
			}
			uintptr_t hi = v->hi;
			if (x < sc->n_excl && sc->excl[x].lo < hi)
				hi = sc->excl[x].lo;
			scan_piece(sc, lo, hi, safe, system);
			lo = hi;
		}
	}
}

/* ---- classification ---- */

/* What is not scanned for pointers: the profiler's memory, this library, and every stack below
 * its stack pointer (the scanning thread's below entry_sp, each stopped thread's below its red
 * zone). */
static void exclude_own_and_dead(struct mp_scan *sc, const uintptr_t *entry_regs, uintptr_t entry_sp,
				 uintptr_t (*ours)[2], size_t cap)
{
	size_t n_ours = mp_maps_list(ours, cap);
	for (size_t k = 0; k < n_ours; k++)
		mp_exclude(sc, ours[k][0], ours[k][1]);
	mp_exclude(sc, sc->self_mod.lo, sc->self_mod.hi);
	const struct mp_vma *sv = mp_vma_at(sc, entry_regs ? entry_sp : entry_sp - 1);
	if (sv)
		mp_exclude(sc, sv->lo, entry_sp);
	mp_exclude_dead_stacks(sc, entry_sp);
	size_t nt = mp_stop_n_threads();
	for (size_t k = 0; k < nt; k++) {
		uintptr_t sp;
		if (!mp_stopped_regs(k, &sp))
			continue; /* not stopped: its whole stack is scanned */
		sp -= RED_ZONE;
		const struct mp_vma *v = mp_vma_at(sc, sp);
		if (v)
			mp_exclude(sc, v->lo, sp);
	}
	mp_merge_exclusions(sc);
}

/* Pass 1 (memcheck's): the program's roots and registers, then those of the system libraries;
 * a block keeps the state it reached from the program's. Then glibc's and ld.so's own blocks,
 * and what only they point to. */
static void mark_from_roots(struct mp_scan *sc, const uintptr_t *entry_regs)
{
	scan_roots(sc, 0);
	if (entry_regs) {
		sc->root_bytes += MP_ARCH_N_CALLEE_SAVED * sizeof(uintptr_t);
		visit_words(sc, entry_regs, MP_ARCH_N_CALLEE_SAVED, MARK_DEFINITE, 0);
	}
	size_t nt = mp_stop_n_threads();
	for (size_t k = 0; k < nt; k++) {
		uintptr_t sp;
		const uintptr_t *regs = mp_stopped_regs(k, &sp);
		if (regs) {
			visit_words(sc, regs, MP_ARCH_N_GREGS, MARK_DEFINITE, 0);
			sc->root_bytes += MP_ARCH_N_GREGS * sizeof(uintptr_t);
		}
	}
	process(sc, 0, 0);
	for (size_t i = 0; i < sc->n_blk; i++) {
		if (sc->st[i] & MP_KIND_MASK)
			sc->st[i] |= MP_USER_REACHED;
	}
	sc->in_system_roots = 1;
	sc->root_mode = MARK_SYSTEM; /* first what libc's roots reach at all, whatever its state */
	sc->flood_system = 1;
	scan_roots(sc, 1);
	process(sc, 0, 0);
	sc->flood_system = 0;
	sc->root_mode = MARK_DEFINITE;
	scan_roots(sc, 1);
	sc->in_system_roots = 0;
	process(sc, 0, 0);

	mp_mark_environment(sc);
	for (size_t i = 0; i < sc->n_blk; i++) {
		if (mp_is_internal(sc, i)) {
			mp_set_kind(sc, i, MP_INTERNAL);
			push(sc, i);
		}
	}
	process(sc, 0, 0);
}

/* Pass 2: each block still unreached, in address order, leads a clique of the unreached blocks
 * it points to; a later clique may swallow an earlier leader with its clique. */
static int group_cliques(struct mp_scan *sc)
{
	sc->ind_bytes = mp_scan_alloc(sc, sc->n_blk * sizeof(*sc->ind_bytes));
	sc->ind_blocks = mp_scan_alloc(sc, sc->n_blk * sizeof(*sc->ind_blocks));
	if (sc->n_blk && (!sc->ind_bytes || !sc->ind_blocks))
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_blk; i++) {
		if ((sc->st[i] & MP_KIND_MASK) == MP_UNREACHED) {
			push(sc, i);
			process(sc, 1, i);
		}
	}
	return 0;
}

/* entry_regs NULL: the scanning thread is the profiler's own (MEMPROF_LEAK_SIGNAL's helper),
 * whose registers and stack (up to entry_sp, its top) hold none of the program's pointers. */
static int classify(struct mp_scan *sc, const uintptr_t *entry_regs, uintptr_t entry_sp)
{
	sc->n_excl = 0;
	sc->stack_top = 0;
	int err = mp_read_maps(sc);
	if (err)
		return err;
	sc->copy_buf = mp_scan_alloc(sc, COPY_BYTES);
	sc->excl = mp_scan_alloc(sc, MP_MAX_EXCL * sizeof(*sc->excl));
	if (!sc->copy_buf || !sc->excl)
		return -ENOMEM;
	if ((err = mp_collect_blocks(sc)) != 0 || (err = mp_build_index(sc)) != 0)
		return err;
	mp_check_blocks(sc);
	size_t cap = 16384;
	uintptr_t(*ours)[2] = mp_scan_alloc(sc, cap * sizeof(*ours));
	if (!ours)
		return -ENOMEM;
	exclude_own_and_dead(sc, entry_regs, entry_sp, ours, cap);
	mark_from_roots(sc, entry_regs);
	return group_cliques(sc);
}

static const uint32_t kind_of_state[] = {
	[MP_UNREACHED] = MP_LEAK_DEFINITE, [MP_POSSIBLE] = MP_LEAK_POSSIBLE, [MP_REACHABLE] = MP_LEAK_REACHABLE,
	[MP_INDIRECT] = MP_LEAK_INDIRECT,  [MP_INTERNAL] = MP_LEAK_INTERNAL,
};

/* One loss record per (trace, kind), from a hash table compacted in place. */
static int make_records(struct mp_scan *sc, struct mp_leak_result *res)
{
	size_t want = 2 * sc->n_blk + 16, traces = (size_t)mp_trace_count() * 5 * 2 + 16;
	if (want > traces)
		want = traces;
	size_t cap = 16;
	while (cap < want)
		cap *= 2;
	struct mp_leak_record *h = mp_scan_alloc(sc, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uint32_t kind = kind_of_state[sc->st[i] & MP_KIND_MASK], id = MP_META_ID(sc->blk[i].meta);
		uint64_t key = ((uint64_t)id << 3 | kind) * 0x9e3779b97f4a7c15ull;
		size_t j = (size_t)(key >> 32) & (cap - 1);
		while (h[j].kind && (h[j].kind != kind || h[j].trace_id != id))
			j = (j + 1) & (cap - 1);
		struct mp_leak_record *r = &h[j];
		r->trace_id = id;
		r->kind = kind;
		r->blocks++;
		r->bytes += mp_blk_size(sc, i);
		if (kind == MP_LEAK_DEFINITE) {
			r->indirect_blocks += sc->ind_blocks[i];
			r->indirect_bytes += sc->ind_bytes[i];
		}
		if (kind == MP_LEAK_DEFINITE || kind == MP_LEAK_INDIRECT)
			res->lost_bytes += mp_blk_size(sc, i);
	}
	size_t n = 0;
	for (size_t j = 0; j < cap; j++) {
		if (h[j].kind)
			h[n++] = h[j];
	}
	res->records = h;
	res->count = (uint32_t)n;
	return 0;
}

static mp_spinlock_t scan_lock = MP_SPINLOCK_INIT(MP_RANK_LEAKSCAN);
/* The scan's state, under scan_lock. Static, not on the stack: a scan may run on a small
 * thread stack, and is_machinery (the unwinder's predicate, which takes no argument) reads it. */
static struct mp_scan scan;

/* Every trace's counts, while no thread can change them: the snapshot's heap is then the one
 * classified. Not when a stopped thread may be reading them itself (it holds the peak lock,
 * in memprof_snapshot()'s writer): the writer then reads them after the threads resume. */
static void read_counts_while_stopped(struct mp_scan *sc, struct mp_leak_result *res)
{
	if (!mp_peak_trylock())
		return;
	uint32_t n = mp_trace_count();
	res->counts = n ? mp_scan_alloc(sc, (size_t)n * sizeof(*res->counts)) : NULL;
	if (res->counts) {
		mp_read_trace_counts(res->counts, n);
		res->n_counts = n;
	}
	mp_peak_unlock();
}

/* fork's handlers: the scan lock comes first (a scan takes the snapshot's and the modules'
 * locks inside it). In the child, the profiler's helper thread is a new one. */
void mp_leakscan_lock(void)
{
	mp_spin_lock(&scan_lock);
}

void mp_leakscan_unlock(void)
{
	mp_spin_unlock(&scan_lock);
}

void mp_leakscan_after_fork_child(void)
{
	mp_stop_after_fork_child();
	mp_spin_unlock(&scan_lock);
}

/* Frames of this library, of libc and of ld.so: exit's machinery (exit, _dl_fini, our
 * destructor) or the API's entry. Their slots hold stale copies of pointers that memcheck,
 * whose exit scan starts at _exit's frame, never sees. */
static int is_machinery(uintptr_t ip)
{
	const struct mp_scan *sc = &scan;
	return mp_in_range(&sc->self_mod, ip) || mp_in_glibc(sc, ip);
}

__attribute__((noinline)) static long long run(unsigned reason, int at_exit, const uintptr_t *entry_regs,
					      uintptr_t entry_sp)
{
	struct mp_scan *sc = &scan;
	mp_spin_lock(&scan_lock);
	uint64_t t0 = mp_now_ns();
	mp_find_modules(sc);
	/* The program's frame that called exit(), _exit() or memprof_leak_check(): the stack
	 * from there up is a root, with its callee-saved registers; everything below is ours or
	 * glibc's. Unwound before the threads stop (libunwind takes the loader's lock). */
	uintptr_t caller_regs[MP_ARCH_N_CALLEE_SAVED], caller_sp;
	if (entry_regs && mp_unwind_find_caller(is_machinery, &caller_sp, caller_regs) == 0 &&
	    caller_sp > entry_sp) {
		entry_sp = caller_sp;
		entry_regs = caller_regs;
	}
	sc->root_bytes = 0;
	/* A mapping of ours that is not in the registry (it overflowed) would be scanned as a
	 * root: the live table's among them would make every block reachable. No verdict then,
	 * and no thread is stopped for it. A leak check after the final snapshot is none. */
	int undecided = mp_maps_overflowed(), err = 0;
	sc->vm_read_denied = mp_vm_read_refused();
	if (reason == MP_REASON_LEAK_CHECK && !at_exit && atomic_load(&mp_final_written)) {
		mp_spin_unlock(&scan_lock);
		return -1;
	}
	/* A thread stopped between an mmap of ours and its registration would leave that
	 * mapping (perhaps a grown live table) looking like a root: let it finish. */
	int all = 0;
	for (int tries = 0; !undecided; tries++) {
		all = mp_stop_threads(&sc->stop);
		if (mp_maps_in_flight() == 0 || tries == 50)
			break;
		mp_resume_threads(&sc->stop);
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	sc->read_safely = !all;
	if (sc->vm_read_denied && !all)
		undecided = 1; /* a thread runs on, and its memory cannot be read safely */
	struct mp_leak_result res;
	memset(&res, 0, sizeof(res));
	if (!undecided) {
		err = classify(sc, entry_regs, entry_sp);
		if (!err)
			err = make_records(sc, &res);
	}
	if (!err && !undecided && all)
		read_counts_while_stopped(sc, &res);
	mp_resume_threads(&sc->stop);
	res.flags = (all ? MP_LEAKS_THREADS_STOPPED : 0) | (at_exit ? MP_LEAKS_AT_EXIT : 0) |
		    (undecided ? MP_LEAKS_UNDECIDED : 0);
	if (undecided && !sc->said_undecided++)
		mp_log(mp_maps_overflowed() ? "leak scan: more mappings of the profiler than its registry holds; "
					      "no leak verdict (the snapshot says so)"
					    : "leak scan: a thread could not be stopped and memory cannot be read "
					      "safely without process_vm_readv; no leak verdict (the snapshot says so)",
		       NULL, NULL);
	res.scan_time_ns = mp_now_ns() - t0;
	res.root_bytes = sc->root_bytes;
	long long ret = err || undecided ? -1 : (long long)res.lost_bytes;
	if (err)
		mp_log("leak scan failed: ", strerrordesc_np(-err), "; snapshot written without it");
	mp_snapshot_write_leaks(reason, NULL, err ? NULL : &res);
	mp_scan_free_all(sc);
	sc->blk = NULL;
	sc->n_blk = 0;
	mp_spin_unlock(&scan_lock);
	return ret;
}

/* The scan's entry: its caller's callee-saved registers are roots, and so is the stack from
 * here up; nothing below this frame is (the scanner's own frames). */
__attribute__((noinline)) static long long enter(unsigned reason, int at_exit)
{
	uintptr_t regs[MP_ARCH_N_CALLEE_SAVED], sp;
	MP_ARCH_SAVE_CALLEE_SAVED(regs, sp);
	return run(reason, at_exit, regs, sp);
}

long long mp_leak_check_snapshot_from_helper(void)
{
	if (atomic_load(&mp_failed) || !atomic_load(&mp_active))
		return -1;
	/* This thread's whole stack is left out: up to its top. */
	uintptr_t top = (uintptr_t)__builtin_frame_address(0);
	pthread_attr_t attr;
	void *lo;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &lo, &size) == 0)
			top = (uintptr_t)lo + size;
		pthread_attr_destroy(&attr);
	}
	return run(MP_REASON_LEAK_CHECK, 0, NULL, top);
}

long long mp_leak_check_snapshot(unsigned reason, int at_exit)
{
	if (atomic_load(&mp_failed))
		return -1; /* recording stopped: the table is not the heap, and no snapshot is written */
	return enter(reason, at_exit);
}

/* memprof_leak_check() of include/memprof.h. */
EXPORT long long memprof_api_leak_check(void)
{
	if (!atomic_load(&mp_active))
		return -1;
	int saved = mp_guard;
	mp_guard = 1;
	struct mp_thread *th = mp_thread_self();
	if (th)
		mp_thread_flush(th);
	long long r = enter(MP_REASON_LEAK_CHECK, 0);
	mp_guard = saved;
	return r;
}

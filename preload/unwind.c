/* SPDX-License-Identifier: MIT */
/* Backtraces for every allocation, exact, without unwinding the same stack twice.
 *
 * libunwind's unw_backtrace gives the trace on a miss. A per-thread cache, keyed by the
 * allocator call's CFA (the caller's stack pointer) and return address, remembers the trace
 * together with the stack address of every return address in it. A hit requires the same CFA,
 * the same return address and every one of those stack words unchanged: the unwinder reads
 * nothing else for frames of fixed size, so it would return the same trace.
 *
 * Where the return addresses live is learned per code address: for the frame executing at
 * return address R, the distance from its stack pointer to its CFA is fixed by the compiler's
 * frame layout; libunwind's cursor measures it once per R (the global `sizes` table). A
 * frame whose distance is ever seen to change (alloca, a signal frame) is marked variable, and
 * traces through it are never cached. Each new entry is verified word by word against the
 * trace unw_backtrace just returned before it is used. MEMPROF_VERIFY_TRACES=1 re-unwinds on
 * every hit and counts disagreements (tests require zero).
 *
 * libunwind is opened with RTLD_LOCAL so that its backtrace/_Unwind_* symbols never bind for
 * the profiled program. No lock of ours is held while unwinding.
 *
 * libunwind 1.6 checks memory it is unsure of by writing it into a pipe of its own, made
 * when it initialises and kept open; a program that closes its inherited descriptors
 * (closefrom, close_range) and opens new ones would have libunwind read from and write into
 * those. Its memory accessor is replaced here by one that needs no descriptor (read_word),
 * and the pipe it made is closed before the program runs (take_over_memory_reads).
 *
 * A miss, which unwinds, runs on the thread's own stack (ownstack.c), so that the hooks take
 * little of the program's: libunwind's cursor and context alone are some 2 KiB. */
#include "unwind.h"

#include "arch.h"
#include "options.h"
#include "ownstack.h"
#include "peak.h"
#include "state.h"
#include "thread.h"
#include "trace_table.h"
#include "util.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define CACHE_SETS 256u
#define CACHE_WAYS 8u /* one call site, reached through several stacks */
#define CACHE_ENTRIES (CACHE_SETS * CACHE_WAYS)
#define SKIP_MAX 12 /* frames of our own above the hooked function, at most */
#define SIZES_CAP (1u << 17)
#define SIZE_VARIABLE (-1)

struct entry {
	uintptr_t cfa, ra;
	struct mp_trace *trace;
	uint32_t off[]; /* off[i]: where frames[i + 1] lives, relative to cfa */
};

struct size_slot {
	_Atomic uintptr_t ip;
	atomic_int size; /* 0: not yet known, SIZE_VARIABLE, or CFA - SP of that frame */
};

static struct size_slot *sizes;
static size_t entry_stride;
static atomic_uint_fast64_t learned;

static int (*p_backtrace)(void **, int);
static int (*p_getcontext)(unw_context_t *);
static int (*p_init_local)(unw_cursor_t *, unw_context_t *);
static int (*p_step)(unw_cursor_t *);
static int (*p_get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

/* Per-thread stack bounds, to keep every cached read inside the thread's own stack. */
struct bounds {
	uintptr_t lo, hi;
};
static MP_TLS struct bounds stack;

/* ---- memory reads for libunwind, without a file descriptor ---- */

/* Pages read successfully during the current unwind of ours: reading .eh_frame touches the
 * same few again and again. Forgotten when the unwind ends (unwinding_now 0), so a page
 * unmapped later is never trusted on an old check; outside our unwinds (the program's own
 * use of libunwind) every read is checked. */
#define GOOD_PAGES 4
static MP_TLS uintptr_t good_pages[GOOD_PAGES];
static MP_TLS unsigned good_next;
static MP_TLS int unwinding_now;
/* The lowest address of this thread's stack that libunwind may be sent to read directly
 * during the current unwind (a little below the frame that began it); 0 outside. */
static MP_TLS uintptr_t stack_floor;
static MP_TLS uintptr_t own_lo, own_hi; /* the profiler's own stack (ownstack.c), read directly too */

/* Called on the stack whose frames are to be unwound, with the bounds found. */
#define UNWIND_BEGIN() unwind_begin((uintptr_t)__builtin_frame_address(0) - 512)
static void unwind_begin(uintptr_t floor)
{
	struct mp_thread *th = mp_thread_self();
	mp_own_stack_bounds(th, &own_lo, &own_hi);
	memset(good_pages, 0, sizeof(good_pages));
	good_next = 0;
	/* Only when that frame is on the thread's stack (not a coroutine's, say): the main
	 * thread's bounds reach below its mapped stack. */
	stack_floor = floor > stack.lo && floor + 8 < stack.hi ? floor : 0;
	unwinding_now = 1;
}

static void unwind_end(void)
{
	unwinding_now = 0;
	stack_floor = 0;
	own_lo = own_hi = 0;
}

/* Reads [addr, addr + 8) into *val and returns 1 if it can be read: directly inside this
 * thread's stack above the frame that began the unwind, or else as process_vm_readv finds
 * it (it fails cleanly, with EFAULT, on unmapped and PROT_NONE memory, and needs no
 * descriptor). */
static int readable(uintptr_t addr, uintptr_t *val)
{
	if ((stack_floor && addr >= stack_floor && addr <= stack.hi - 8) || (own_hi && addr >= own_lo && addr <= own_hi - 8)) {
		*val = *(const uintptr_t *)addr;
		return 1;
	}
	uintptr_t page = addr & ~(uintptr_t)4095, last = (addr + 7) & ~(uintptr_t)4095;
	if (unwinding_now && page == last) {
		for (unsigned i = 0; i < GOOD_PAGES; i++) {
			if (good_pages[i] == page && page) {
				*val = *(const uintptr_t *)addr;
				return 1;
			}
		}
	}
	struct iovec local = { val, sizeof(*val) }, remote = { (void *)addr, sizeof(*val) };
	/* getpid() each time (a system call, on this slow path only): a child forked without
	 * glibc's fork handlers (a raw clone) would otherwise read its parent's memory. */
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)sizeof(*val))
		return 0;
	if (unwinding_now && page == last && page) {
		good_pages[good_next] = page;
		good_next = (good_next + 1) % GOOD_PAGES;
	}
	return 1;
}

/* libunwind's access_mem for the local address space, in place of its own (which checks
 * through its pipe when its cursor asks for validation). Every read is checked: the cursor's
 * flag is not part of libunwind's interface. Writes are libunwind's (unw_set_reg, resume). */
static int read_word(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	(void)as;
	(void)arg;
	if (MP_UNLIKELY(write)) {
		*(unw_word_t *)addr = *val;
		return 0;
	}
	uintptr_t v;
	if (!readable((uintptr_t)addr, &v))
		return -UNW_EINVAL;
	*val = v;
	return 0;
}

/* The writable segments of libunwind.so, to find its validation pipe's two numbers. */
struct seg_find {
	uintptr_t base;
	struct { uintptr_t lo, hi; } segs[4];
	int n;
};

static int find_segs(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct seg_find *f = arg;
	if (info->dlpi_addr != f->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum && f->n < 4; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
			f->segs[f->n].lo = (info->dlpi_addr + ph->p_vaddr + 7) & ~(uintptr_t)7;
			f->segs[f->n].hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t)7;
			f->n++;
		}
	}
	return 1;
}

/* Marks, in was_unopened, every pair of ints in the segments that holds {-1, -1} (an
 * unopened pipe); with check, closes the pipe found in one of those since. */
#define SEG_WORDS_MAX (64 * 1024)
static unsigned char *was_unopened;

static void mark_unopened(const struct seg_find *f, int check)
{
	size_t k = 0;
	for (int s = 0; s < f->n; s++) {
		for (uintptr_t a = f->segs[s].lo; a + 8 <= f->segs[s].hi && k < SEG_WORDS_MAX; a += 4, k++) {
			const int *fd = (const int *)a;
			if (!check) {
				was_unopened[k] = fd[0] == -1 && fd[1] == -1;
				continue;
			}
			if (!was_unopened[k] || fd[0] < 0 || fd[1] < 0 || fd[0] == fd[1])
				continue;
			/* Two ends of one pipe, made by libunwind's initialisation just now: its
			 * own, and never to be used, since read_word replaced their only user. */
			struct stat r, w;
			if (fstat(fd[0], &r) != 0 || fstat(fd[1], &w) != 0 || !S_ISFIFO(r.st_mode) ||
			    r.st_ino != w.st_ino || r.st_dev != w.st_dev ||
			    (fcntl(fd[0], F_GETFL) & O_ACCMODE) != O_RDONLY ||
			    (fcntl(fd[1], F_GETFL) & O_ACCMODE) != O_WRONLY)
				continue;
			close(fd[0]);
			close(fd[1]);
			((int *)a)[0] = -1;
			((int *)a)[1] = -1;
		}
	}
}

/* Initialises libunwind's local address space (through get_accessors) and puts read_word in
 * place of its memory accessor; libunwind initialises once, so nothing overwrites it later.
 * The validation pipe it opened meanwhile is found by comparing its writable data before and
 * after, and closed. */
static int take_over_memory_reads(void *h)
{
	unw_accessors_t *(*get_accessors)(unw_addr_space_t) =
		(unw_accessors_t * (*)(unw_addr_space_t)) dlsym(h, MP_UNW_SYM("get_accessors"));
	unw_addr_space_t *local = (unw_addr_space_t *)dlsym(h, MP_UNWL_SYM("local_addr_space"));
	struct link_map *lm = NULL;
	if (!get_accessors || !local || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
		return -ENOENT;
	struct seg_find f = { .base = lm->l_addr };
	dl_iterate_phdr(find_segs, &f);
	was_unopened = f.n ? mp_map(SEG_WORDS_MAX) : NULL;
	if (was_unopened)
		mark_unopened(&f, 0);
	unw_accessors_t *acc = get_accessors(*local);
	if (!acc)
		return -ENOENT;
	acc->access_mem = read_word;
	if (was_unopened) {
		mark_unopened(&f, 1);
		mp_unmap(was_unopened, SEG_WORDS_MAX);
		was_unopened = NULL;
	}
	return 0;
}

/* The state's pages were just dropped (they read as zero, which is an empty cache): only the
 * calling thread's stack bounds remain to be found again. */
static void cache_reset(struct mp_thread *th)
{
	(void)th;
	stack.lo = stack.hi = 0;
}

int mp_unwind_init(void)
{
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -ENOENT;
	p_backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace");
	p_getcontext = (int (*)(unw_context_t *))dlsym(h, MP_UNW_SYM("getcontext"));
	p_init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, MP_UNWL_SYM("init_local"));
	p_step = (int (*)(unw_cursor_t *))dlsym(h, MP_UNWL_SYM("step"));
	p_get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))dlsym(h, MP_UNWL_SYM("get_reg"));
	if (!p_backtrace || !p_getcontext || !p_init_local || !p_step || !p_get_reg)
		return -ENOENT;
	int err = take_over_memory_reads(h);
	if (err)
		return err;
	sizes = mp_map(SIZES_CAP * sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;
	entry_stride = (sizeof(struct entry) + mp_opt.max_depth * sizeof(uint32_t) + 7) & ~(size_t)7;
	mp_thread_set_cache(CACHE_ENTRIES * entry_stride, cache_reset);
	return 0;
}

static struct size_slot *size_slot(uintptr_t ip, int create)
{
	size_t mask = SIZES_CAP - 1;
	size_t i = (size_t)((ip * 0x9e3779b97f4a7c15ull) >> 40) & mask;
	for (size_t n = 0; n < 64; n++, i = (i + 1) & mask) {
		uintptr_t v = atomic_load_explicit(&sizes[i].ip, memory_order_acquire);
		if (v == ip)
			return &sizes[i];
		if (v == 0) {
			if (!create)
				return NULL;
			if (atomic_compare_exchange_strong(&sizes[i].ip, &v, ip) || v == ip)
				return &sizes[i];
		}
	}
	return NULL; /* full around here: such frames are simply never cached */
}

static int frame_size(uintptr_t ip)
{
	struct size_slot *s = size_slot(ip, 0);
	return s ? atomic_load_explicit(&s->size, memory_order_relaxed) : 0;
}

static void note_size(uintptr_t ip, long size)
{
	struct size_slot *s = size_slot(ip, 1);
	if (!s)
		return;
	int v = size > 0 && size < (1 << 30) && size % 8 == 0 ? (int)size : SIZE_VARIABLE;
	int old = 0;
	if (!atomic_compare_exchange_strong(&s->size, &old, v) && old != v)
		atomic_store(&s->size, SIZE_VARIABLE);
	else if (old == 0)
		atomic_fetch_add_explicit(&learned, 1, memory_order_relaxed);
}

/* Measure the frame sizes of the stack above the allocator call with libunwind's cursor. */
static void learn(uintptr_t cfa, uintptr_t ra)
{
	unw_context_t uc;
	unw_cursor_t c;
	if (p_getcontext(&uc) < 0 || p_init_local(&c, &uc) < 0)
		return;
	int found = 0;
	unw_word_t prev_ip = 0, prev_sp = 0;
	for (unsigned n = 0; n < mp_opt.max_depth + SKIP_MAX && p_step(&c) > 0; n++) {
		unw_word_t ip, sp;
		if (p_get_reg(&c, UNW_REG_IP, &ip) < 0 || p_get_reg(&c, UNW_REG_SP, &sp) < 0)
			return;
		if (found)
			note_size(prev_ip, (long)(sp - prev_sp));
		else if (ip == ra && sp == cfa)
			found = 1;
		prev_ip = ip;
		prev_sp = sp;
	}
}

MP_TLS int mp_in_getattr;

/* Left unknown (0, 0) inside pthread_getattr_np, which would wait for the lock this thread
 * holds there: that unwind reads the stack with process_vm_readv and caches nothing, and the
 * next one asks again. */
static void find_stack_bounds(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	if (mp_in_getattr)
		return;
	stack.lo = 1;
	stack.hi = 1; /* an empty range: nothing is cached if the bounds cannot be had */
	/* glibc allocates and frees inside (a cpuset; the main thread's /proc/self/maps): with
	 * the guard at MP_IN_HOOK those frees would pass for a signal handler's (hooks.c's
	 * defer_removal) and be counted as frees of blocks never seen. */
	int saved = mp_guard;
	mp_guard = 1;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			stack.lo = (uintptr_t)addr;
			stack.hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&attr);
	}
	mp_guard = saved;
}

/* Fill e for trace tr at (cfa, ra), checking each stack word; 0 when it cannot be cached. */
static int build_entry(struct entry *e, uintptr_t cfa, uintptr_t ra, struct mp_trace *tr)
{
	const uintptr_t *f = tr->frames;
	uintptr_t sp = cfa;
	int relearned = 0;
	for (uint32_t i = 0; i + 1 < tr->n_frames; i++) {
		int size = frame_size(f[i]);
		if (size == 0 && !relearned) {
			learn(cfa, ra);
			relearned = 1;
			size = frame_size(f[i]);
		}
		if (size <= 0)
			return 0;
		uintptr_t slot = sp + (uintptr_t)size - 8;
		if (slot + 8 > stack.hi || slot - cfa > UINT32_MAX)
			return 0;
		if (*(const uintptr_t *)slot != f[i + 1]) {
			/* The measured size does not hold here: never trust it again. */
			note_size(f[i], -1);
			return 0;
		}
		e->off[i] = (uint32_t)(slot - cfa);
		sp += (uintptr_t)size;
	}
	e->cfa = cfa;
	e->ra = ra;
	e->trace = tr;
	return 1;
}

static struct mp_trace *full_unwind(uintptr_t ra)
{
	void *buf[MP_MAX_DEPTH + SKIP_MAX];
	int n = p_backtrace(buf, (int)mp_opt.max_depth + SKIP_MAX);
	int s = -1;
	for (int i = 0; i < n && i < SKIP_MAX; i++) {
		if ((uintptr_t)buf[i] == ra) {
			s = i;
			break;
		}
	}
	if (s < 0) {
		/* Our own frames could not be unwound: keep what is certain, the caller. */
		uintptr_t one = ra;
		return mp_trace_intern(&one, 1);
	}
	uint32_t depth = (uint32_t)(n - s);
	if (depth > mp_opt.max_depth)
		depth = mp_opt.max_depth;
	return mp_trace_intern((const uintptr_t *)&buf[s], depth);
}

static int still_valid(const struct entry *e, uintptr_t cfa)
{
	const struct mp_trace *tr = e->trace;
	uint32_t last = tr->n_frames - 1;
	/* Stacks that share a call site tend to differ near the root: look there first. */
	if (last && *(const uintptr_t *)(cfa + e->off[last - 1]) != tr->frames[last])
		return 0;
	for (uint32_t i = 1; i < last; i++) {
		if (*(const uintptr_t *)(cfa + e->off[i - 1]) != tr->frames[i])
			return 0;
	}
	return 1;
}

/* The deep part of a capture, run on the thread's own stack (ownstack.c): libunwind's cursor
 * and context and full_unwind's buffer are several KiB. */
struct miss {
	struct mp_thread *th;
	uintptr_t cfa, ra;
	struct entry *victim; /* NULL: verify a hit only */
	struct mp_trace *tr;
	uintptr_t floor; /* for unwind_begin: a little below the frame that switched stacks */
};

/* ---- fork: no other thread inside libunwind ----
 *
 * libunwind's locks are not fork-safe. The lock of its cache of register states, taken for
 * each frame a thread has not unwound before, would be inherited held by a child forked while
 * another thread had it, and the child's first unwind would hang. Fork's prepare handler
 * (mp_unwind_hold_for_fork) therefore closes a gate in front of libunwind and waits until no
 * other thread's capture is inside it. The gate stays closed until fork has returned, and
 * a capture never waits at it: glibc's fork takes more locks after the handlers (stdio's list,
 * the arenas), and a thread waiting at the gate while holding one would hang the fork. A
 * capture that finds it closed records its allocation without a trace (trace 0, counted as
 * lost), as the tables do when they are out of memory. The leak scan's own unwind
 * (mp_unwind_find_caller) needs no gate: fork takes the scan's lock first.
 *
 * Each thread state's unwind_seq is odd while its owner is inside libunwind; the forker waits
 * for every odd one to change, at most FORK_WAIT_NS in all, and remembers one that did not
 * (unwind_stuck: a thread stopped there for good), so as not to wait for it again. */
static atomic_int gate_closed;
#define FORK_WAIT_NS (200 * 1000 * 1000ull)

/* 1: inside until gate_leave; 0: the gate is closed. */
static int gate_enter(struct mp_thread *th)
{
	atomic_fetch_add(&th->unwind_seq, 1);
	if (MP_LIKELY(!atomic_load(&gate_closed)))
		return 1;
	atomic_fetch_add(&th->unwind_seq, 1);
	return 0;
}

static void gate_leave(struct mp_thread *th)
{
	atomic_fetch_add(&th->unwind_seq, 1);
}

/* Waits until th's unwind in progress (seq) ends; 0 when *deadline passed first. */
static int wait_for_unwind(struct mp_thread *th, unsigned seq, uint64_t *deadline)
{
	for (int tries = 0; atomic_load(&th->unwind_seq) == seq; tries++) {
		if (!mp_wait_step(tries, deadline, FORK_WAIT_NS))
			return 0;
	}
	return 1;
}

/* The calling thread's own unwind (a fork from a signal handler that interrupted it) is not
 * waited for. */
void mp_unwind_hold_for_fork(void)
{
	atomic_store(&gate_closed, 1);
	struct mp_thread *me = mp_thread_self();
	uint64_t deadline = 0;
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all) {
		unsigned seq = atomic_load(&th->unwind_seq);
		if (th == me || !(seq & 1) || seq == th->unwind_stuck)
			continue;
		if (!wait_for_unwind(th, seq, &deadline))
			th->unwind_stuck = seq;
	}
}

void mp_unwind_release_after_fork(void)
{
	atomic_store(&gate_closed, 0);
}

/* The child's only thread is this one: the others' unwinds ended with them. */
void mp_unwind_after_fork_child(void)
{
	struct mp_thread *me = mp_thread_self();
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all) {
		if (th != me)
			atomic_store(&th->unwind_seq, 0);
		th->unwind_stuck = 0;
	}
	atomic_store(&gate_closed, 0);
}

static void miss_path(void *arg)
{
	struct miss *m = arg;
	/* Here too because pthread_getattr_np reads /proc/self/maps with stdio for the main
	 * thread: over 3 KiB of stack. */
	if (MP_UNLIKELY(!stack.hi))
		find_stack_bounds();
	m->tr = NULL;
	if (!gate_enter(m->th))
		return; /* another thread is forking */
	unwind_begin(m->floor);
	m->tr = full_unwind(m->ra);
	if (m->victim && m->tr && m->cfa >= stack.lo && m->cfa < stack.hi)
		build_entry(m->victim, m->cfa, m->ra, m->tr);
	unwind_end();
	gate_leave(m->th);
	mp_peak_reserve(mp_trace_count()); /* a new trace, perhaps: room for it in a peak capture */
}

/* Called on the program's stack: the frames above this one are read directly. */
static __attribute__((noinline)) struct mp_trace *unwind_on_own_stack(struct mp_thread *th, struct miss *m)
{
	m->floor = (uintptr_t)__builtin_frame_address(0) - 512;
	mp_call_on_own_stack(th, miss_path, m);
	return m->tr;
}

struct mp_trace *mp_capture(struct mp_thread *th, uintptr_t cfa, uintptr_t ra)
{
	size_t set = (size_t)(((cfa ^ (ra * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull) >> 56) & (CACHE_SETS - 1);
	unsigned char *base = th->cache + set * CACHE_WAYS * entry_stride;
	struct entry *victim = NULL;
	for (unsigned w = 0; w < CACHE_WAYS; w++) {
		struct entry *e = (struct entry *)(base + w * entry_stride);
		if (!e->trace) {
			if (!victim)
				victim = e;
			continue;
		}
		if (e->cfa != cfa || e->ra != ra || !still_valid(e, cfa))
			continue;
		MP_BUMP(th->cache_hits);
		if (MP_UNLIKELY(mp_opt.verify_traces)) {
			struct miss m = { th, cfa, ra, NULL, NULL, 0 };
			struct mp_trace *again = unwind_on_own_stack(th, &m);
			if (again && again != e->trace) /* NULL: not unwound, during a fork */
				MP_BUMP(th->cache_mismatches);
		}
		return e->trace;
	}
	MP_BUMP(th->cache_misses);
	if (!victim) /* every way taken: replace one, in turn */
		victim = (struct entry *)(base + (MP_READ(th->cache_misses) % CACHE_WAYS) * entry_stride);
	victim->trace = NULL;
	struct miss m = { th, cfa, ra, victim, NULL, 0 };
	return unwind_on_own_stack(th, &m);
}

void mp_unwind_stats(struct mp_unwind_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all) {
		out->hits += MP_READ(th->cache_hits);
		out->misses += MP_READ(th->cache_misses);
		out->mismatches += MP_READ(th->cache_mismatches);
	}
	out->learned = atomic_load(&learned);
}

/* The first frame up from here whose code `skip` does not claim (the leak scan's caller in
 * the program): its stack pointer and its callee-saved registers (rbx, rbp, r12-r15), as
 * they were when it made the call. Returns 0, or -1 when the stack cannot be walked. */
static __attribute__((noinline)) int find_caller(int (*skip)(uintptr_t ip), uintptr_t *sp_out, uintptr_t regs[MP_ARCH_N_CALLEE_SAVED])
{
	static const unw_regnum_t saved[MP_ARCH_N_CALLEE_SAVED] = MP_ARCH_UNW_CALLEE_SAVED;
	unw_context_t uc;
	unw_cursor_t c;
	if (p_getcontext(&uc) < 0 || p_init_local(&c, &uc) < 0)
		return -1;
	for (int n = 0; n < 256; n++) {
		unw_word_t ip, sp;
		if (p_get_reg(&c, UNW_REG_IP, &ip) < 0 || p_get_reg(&c, UNW_REG_SP, &sp) < 0)
			return -1;
		if (!skip(ip)) {
			for (int r = 0; r < MP_ARCH_N_CALLEE_SAVED; r++) {
				unw_word_t v;
				regs[r] = p_get_reg(&c, saved[r], &v) == 0 ? v : 0;
			}
			*sp_out = sp;
			return 0;
		}
		if (p_step(&c) <= 0)
			return -1;
	}
	return -1;
}

int mp_unwind_find_caller(int (*skip)(uintptr_t ip), uintptr_t *sp_out, uintptr_t regs[MP_ARCH_N_CALLEE_SAVED])
{
	if (MP_UNLIKELY(!stack.hi))
		find_stack_bounds();
	UNWIND_BEGIN();
	int r = find_caller(skip, sp_out, regs);
	unwind_end();
	return r;
}

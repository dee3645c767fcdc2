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
 * the profiled program. No lock of ours is held while unwinding. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "mp.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

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

int mp_unwind_init(void)
{
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -ENOENT;
	p_backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace");
	p_getcontext = (int (*)(unw_context_t *))dlsym(h, "_Ux86_64_getcontext");
	p_init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, "_ULx86_64_init_local");
	p_step = (int (*)(unw_cursor_t *))dlsym(h, "_ULx86_64_step");
	p_get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))dlsym(h, "_ULx86_64_get_reg");
	if (!p_backtrace || !p_getcontext || !p_init_local || !p_step || !p_get_reg)
		return -ENOENT;
	sizes = mp_map(SIZES_CAP * sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;
	entry_stride = (sizeof(struct entry) + mp_opt.max_depth * sizeof(uint32_t) + 7) & ~(size_t)7;
	return 0;
}

size_t mp_thread_cache_bytes(void)
{
	return CACHE_ENTRIES * entry_stride;
}

/* The state's pages were just dropped (they read as zero, which is an empty cache): only the
 * calling thread's stack bounds remain to be found again. */
void mp_thread_cache_reset(struct mp_thread *th)
{
	(void)th;
	stack.lo = stack.hi = 0;
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

static void find_stack_bounds(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	stack.lo = 1;
	stack.hi = 1; /* an empty range: nothing is cached if the bounds cannot be had */
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		stack.lo = (uintptr_t)addr;
		stack.hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
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
		th->cache_hits++;
		if (MP_UNLIKELY(mp_opt.verify_traces) && full_unwind(ra) != e->trace)
			th->cache_mismatches++;
		return e->trace;
	}
	th->cache_misses++;
	struct mp_trace *tr = full_unwind(ra);
	if (!tr)
		return NULL;
	if (MP_UNLIKELY(!stack.hi))
		find_stack_bounds();
	if (!victim) /* every way taken: replace one, in turn */
		victim = (struct entry *)(base + (th->cache_misses % CACHE_WAYS) * entry_stride);
	victim->trace = NULL;
	if (cfa >= stack.lo && cfa < stack.hi)
		build_entry(victim, cfa, ra, tr);
	return tr;
}

void mp_unwind_stats(struct mp_unwind_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (struct mp_thread *th = mp_thread_list(); th; th = th->next_all) {
		out->hits += th->cache_hits;
		out->misses += th->cache_misses;
		out->mismatches += th->cache_mismatches;
	}
	out->learned = atomic_load(&learned);
}

/* The first frame up from here whose code `skip` does not claim (the leak scan's caller in
 * the program): its stack pointer and its callee-saved registers (rbx, rbp, r12-r15), as
 * they were when it made the call. Returns 0, or -1 when the stack cannot be walked. */
int mp_unwind_find_caller(int (*skip)(uintptr_t ip), uintptr_t *sp_out, uintptr_t regs[6])
{
	static const unw_regnum_t saved[6] = { UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
					       UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15 };
	unw_context_t uc;
	unw_cursor_t c;
	if (p_getcontext(&uc) < 0 || p_init_local(&c, &uc) < 0)
		return -1;
	for (int n = 0; n < 256; n++) {
		unw_word_t ip, sp;
		if (p_get_reg(&c, UNW_REG_IP, &ip) < 0 || p_get_reg(&c, UNW_REG_SP, &sp) < 0)
			return -1;
		if (!skip(ip)) {
			for (int r = 0; r < 6; r++) {
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

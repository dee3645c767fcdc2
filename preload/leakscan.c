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
 * copies of the environment. */
#include "leakscan.h"

#include "arch.h"
#include "leak_result.h"
#include "leak_state.h"
#include "live_table.h"
#include "modules.h"
#include "peak.h"
#include "snapshot.h"
#include "state.h"
#include "thread.h"
#include "trace_table.h"
#include "unwind.h"
#include "util.h"

#include "snapshot_format.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#define RED_ZONE 128u
#define GLIBC_HEAP_MAX (64ul << 20) /* HEAP_MAX_SIZE of glibc's non-main arenas, 64-bit */
#define GRAN_SHIFT 26               /* address index: 64 MiB granules ... */
#define SLOT_SHIFT 8                /* ... of 256-byte slots */
#define SLOTS_PER_GRAN (1ul << (GRAN_SHIFT - SLOT_SHIFT))
#define STOP_WAIT_NS 1000000000ull   /* for a thread to stop, at most */
#define BLOCKED_WAIT_NS 100000000ull  /* the same for one that blocked the signal when sent */

/* ---- the mappings, from /proc/self/maps (read with read(2): no stdio, no malloc) ---- */

static uintptr_t parse_hex(const char **s)
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

static int read_maps(struct mp_scan *sc)
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
		v.lo = parse_hex(&s);
		if (*s == '-')
			s++;
		v.hi = parse_hex(&s);
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
static const struct mp_vma *vma_at(struct mp_scan *sc, uintptr_t a)
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

/* ---- modules and functions that decide INTERNAL, looked up before the threads stop ---- */

static int in_sys(const struct mp_scan *sc, uintptr_t a)
{
	for (int i = 0; i < sc->n_sys; i++) {
		if (mp_in_range(&sc->sys_mods[i], a))
			return 1;
	}
	return 0;
}

static int in_glibc(const struct mp_scan *sc, uintptr_t a)
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
static void find_modules(struct mp_scan *sc)
{
	mp_modules_scan();
	sc->n_sys = 0;
	sc->ldso.lo = sc->ldso.hi = sc->self_mod.lo = sc->self_mod.hi = 0;
	uintptr_t me = (uintptr_t)&find_modules;
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

/* ---- stopping the other threads ---- */

enum { T_SENT = 1, T_STOPPED = 2, T_DONE = 3, T_SKIPPED = 4 };
struct thread_regs {
	pid_t tid;
	_Atomic int state;
	int blocked; /* blocked the signal when it was sent: waited for briefly */
	uintptr_t sp;
	uintptr_t regs[16]; /* REG_R8 .. REG_RSP of the interrupted context */
};
/* Never unmapped: a handler that runs late may still look at it. */
static struct thread_regs *threads;
static size_t threads_cap;
static _Atomic size_t n_threads;
static atomic_int release_gen; /* odd while threads are held */
static _Atomic pid_t ignored_tids[8];

void mp_leakscan_ignore_this_thread(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	for (int i = 0; i < 8; i++) {
		pid_t z = 0;
		if (atomic_compare_exchange_strong(&ignored_tids[i], &z, tid))
			return;
	}
}

static long futex(atomic_int *addr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* Saves the registers of the context to be scanned, then waits to be released. gen: the
 * release generation the stop was asked in. */
static void park(int gen, const ucontext_t *uc)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	size_t n = atomic_load(&n_threads);
	for (size_t i = 0; i < n; i++) {
		struct thread_regs *t = &threads[i];
		if (t->tid != tid || atomic_load(&t->state) != T_SENT)
			continue;
		if (atomic_load(&release_gen) != gen)
			return; /* that scan ended; the next one's signal is on its way */
		for (int r = 0; r < 16; r++)
			t->regs[r] = (uintptr_t)uc->uc_mcontext.gregs[REG_R8 + r];
		t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		atomic_store(&t->state, T_STOPPED);
		/* Bounded: a scanner that never comes back must not hold this thread forever. */
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		for (int k = 0; k < 600 && atomic_load(&release_gen) == gen; k++)
			futex(&release_gen, FUTEX_WAIT_PRIVATE, gen, &ts);
		atomic_store(&t->state, T_DONE);
		break;
	}
}

/* The stop that on_stop_signal deferred, with this point's registers (a scanner that gave up
 * on this thread meanwhile has moved on: nothing to do). Every signal is blocked while the
 * thread waits, as in the signal handler: a handler of the program's that ran meanwhile could
 * allocate and free while the scanner reads the tables. */
static void stop_after_move(void)
{
	int saved = errno, gen = atomic_load(&release_gen);
	ucontext_t uc;
	sigset_t all, old;
	memset(&uc, 0, sizeof(uc)); /* getcontext leaves the scratch registers as they were */
	if (gen & 1) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (getcontext(&uc) == 0)
			park(gen, &uc);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	errno = saved;
}

MP_TLS volatile int mp_stop_deferred;

/* The stop that on_stop_signal deferred to the end of an allocator hook (hooks.c's
 * leave_hook, with the guard already clear). */
void mp_leakscan_deferred_stop(void)
{
	mp_stop_deferred = 0;
	stop_after_move();
}

/* Async-signal-safe: stops the thread (park). A thread interrupted inside an allocator hook
 * finishes the hook first and stops as it leaves (mp_leakscan_deferred_stop): between
 * realloc's removal of the old block and its insertion of the new one, or between a table
 * update and its counts, the tables do not describe the heap. A thread interrupted while it
 * moves its pending trace counts (thread.c) outside a hook finishes the move first and then
 * stops (stop_after_move): the snapshot written while the world is stopped must not find a
 * move half done. */
static void on_stop_signal(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	int saved = errno;
	int gen = atomic_load(&release_gen);
	if (si->si_pid != getpid() || !(gen & 1)) {
		errno = saved;
		return;
	}
	if (mp_guard == MP_IN_HOOK) {
		mp_stop_deferred = 1;
		errno = saved;
		return;
	}
	/* Only the move itself, not a handler of the program's that interrupted it, waits. */
	struct mp_thread *me = mp_thread_self();
	const ucontext_t *uc = ucv;
	if (me && atomic_load_explicit(&me->counts_lock, memory_order_relaxed) == 1 &&
	    mp_in_counts_move((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]))
		mp_after_move = stop_after_move;
	else
		park(gen, ucv);
	errno = saved;
}

static int is_ignored(pid_t tid)
{
	for (int i = 0; i < 8; i++) {
		if (atomic_load(&ignored_tids[i]) == tid)
			return 1;
	}
	return 0;
}

/* 1 when the thread blocks sig (from /proc/self/task/TID/status), 0 otherwise. */
static uint64_t blocked_mask(pid_t tid)
{
	char path[64] = "/proc/self/task/", buf[4096];
	size_t k = strlen(path);
	k += mp_utoa((uint64_t)tid, path + k);
	memcpy(path + k, "/status", 8);
	if (mp_read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	const char *s = strstr(buf, "SigBlk:");
	if (!s)
		return 0;
	s += 7;
	while (*s == ' ' || *s == '\t')
		s++;
	return parse_hex(&s);
}

static int blocks_signal(pid_t tid, int sig)
{
	return (blocked_mask(tid) >> (sig - 1)) & 1;
}

/* The real-time signals that some thread blocks on purpose: a program that waits for a
 * signal with sigwaitinfo blocks it everywhere (a thread inside sigwaitinfo shows it as
 * unblocked, but the others, this one included, show it blocked) and would receive ours.
 * A thread that blocks every real-time signal is in a passing state (being created) and is
 * left out. */
/* Calls fn(tid, arg) for every thread of the process, from /proc/self/task read with
 * getdents64 (no allocation, no stdio); fn may be NULL. Returns how many, or -1. */
static long for_each_thread(void (*fn)(pid_t tid, void *arg), void *arg)
{
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[8192];
	long n, count = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, 2);
			const char *name = buf + off + 19;
			off += reclen;
			pid_t tid = 0;
			for (const char *c = name; *c >= '0' && *c <= '9'; c++)
				tid = tid * 10 + (*c - '0');
			if (tid <= 0)
				continue; /* "." and ".." */
			count++;
			if (fn)
				fn(tid, arg);
		}
	}
	close(fd);
	return count;
}

struct signals_in_use {
	pid_t self;
	uint64_t rt, used;
};

static void note_blocked(pid_t tid, void *arg)
{
	struct signals_in_use *u = arg;
	if (tid == u->self || is_ignored(tid))
		return;
	uint64_t m = blocked_mask(tid) & u->rt;
	if (m != u->rt)
		u->used |= m;
}

static uint64_t signals_in_use(pid_t self)
{
	struct signals_in_use u = { .self = self };
	sigset_t mine;
	pthread_sigmask(SIG_SETMASK, NULL, &mine);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++) {
		u.rt |= 1ull << (sig - 1);
		if (sigismember(&mine, sig))
			u.used |= 1ull << (sig - 1);
	}
	if (u.used == u.rt)
		u.used = 0;
	if (for_each_thread(note_blocked, &u) < 0)
		return 0;
	return u.used;
}

/* The table of threads is sized before any signal goes out and never moves while handlers
 * may write to it. (An old table stays mapped: a late handler may still look at it.) */
static int reserve_threads(void)
{
	long n = for_each_thread(NULL, NULL);
	size_t want = (size_t)(n > 0 ? n : 1) * 2 + 64;
	if (threads_cap >= want)
		return 0;
	size_t cap = threads_cap ? threads_cap : 256;
	while (cap < want)
		cap *= 2;
	struct thread_regs *t = mp_map(cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	threads = t;
	threads_cap = cap;
	return 0;
}

struct new_threads {
	pid_t self;
	size_t added;
	struct mp_stop *stop;
};

/* Adds one thread to the table and signals it, unless it is there already. */
static void signal_thread(pid_t tid, void *arg)
{
	struct new_threads *nt_arg = arg;
	struct mp_stop *stop = nt_arg->stop;
	if (tid == nt_arg->self || is_ignored(tid))
		return;
	size_t nt = atomic_load(&n_threads), i;
	for (i = 0; i < nt && threads[i].tid != tid; i++)
		;
	if (i < nt)
		return;
	if (nt == threads_cap) {
		stop->too_many = 1; /* started after the count: not stopped */
		return;
	}
	struct thread_regs *t = &threads[nt];
	t->tid = tid;
	t->sp = 0;
	/* A thread may block the signal for a moment (a new thread does until it is set up)
	 * or for good: it gets the signal anyway, and a shorter wait. */
	t->blocked = blocks_signal(tid, stop->sig);
	atomic_store(&t->state, T_SENT);
	atomic_store(&n_threads, nt + 1);
	nt_arg->added++;
	if (syscall(SYS_tgkill, getpid(), tid, stop->sig) != 0)
		atomic_store(&t->state, T_SKIPPED); /* gone meanwhile */
}

/* Adds threads not yet in the table and signals them. Returns how many were new. */
static size_t signal_new_threads(struct mp_stop *stop, pid_t self)
{
	struct new_threads arg = { .self = self, .stop = stop };
	for_each_thread(signal_thread, &arg);
	return arg.added;
}

static void wait_states(int from, uint64_t deadline_ns, uint64_t blocked_deadline_ns)
{
	for (size_t i = 0; i < atomic_load(&n_threads); i++) {
		uint64_t until = threads[i].blocked ? blocked_deadline_ns : deadline_ns;
		while (atomic_load(&threads[i].state) == from && mp_now_ns() < until) {
			struct timespec ts = { 0, 50 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* Returns 1 when every other thread is stopped, 0 otherwise (including no free signal). */
static int stop_threads(struct mp_stop *stop)
{
	atomic_store(&n_threads, 0);
	stop->sig = 0;
	/* The highest real-time signal with no handler that no thread keeps blocked; if every
	 * free one is blocked somewhere, the highest free one. */
	pid_t me = (pid_t)syscall(SYS_gettid);
	uint64_t used = signals_in_use(me);
	for (int pass = 0; pass < 2 && !stop->sig; pass++) {
		for (int s = SIGRTMAX; s >= SIGRTMIN; s--) {
			struct sigaction cur;
			if ((pass == 0 && ((used >> (s - 1)) & 1)) || sigaction(s, NULL, &cur) != 0 ||
			    (cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
				continue;
			stop->sig = s;
			stop->old_action = cur;
			break;
		}
	}
	if (!stop->sig || reserve_threads() != 0) {
		stop->sig = 0;
		return 0;
	}
	stop->too_many = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(stop->sig, &sa, NULL) != 0) {
		stop->sig = 0;
		return 0;
	}
	atomic_fetch_add(&release_gen, 1); /* odd: hold */
	pid_t self = (pid_t)syscall(SYS_gettid);
	uint64_t start = mp_now_ns(), deadline = start + STOP_WAIT_NS, blocked_deadline = start + BLOCKED_WAIT_NS;
	/* Threads started by a thread not yet stopped show up in a later listing. */
	for (int round = 0; round < 8; round++) {
		if (signal_new_threads(stop, self) == 0)
			break;
		wait_states(T_SENT, deadline, blocked_deadline);
	}
	int all = !stop->too_many;
	for (size_t i = 0; i < atomic_load(&n_threads); i++) {
		if (atomic_load(&threads[i].state) != T_STOPPED)
			all = 0;
	}
	return all;
}

static void resume_threads(struct mp_stop *stop)
{
	if (!stop->sig)
		return;
	atomic_fetch_add(&release_gen, 1); /* even: release */
	futex(&release_gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	uint64_t deadline = mp_now_ns() + STOP_WAIT_NS;
	wait_states(T_STOPPED, deadline, deadline);
	/* SIG_IGN drops a copy still pending in a thread that blocked it; then the old action. */
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(stop->sig, &ign, NULL);
	sigaction(stop->sig, &stop->old_action, NULL);
	stop->sig = 0;
}

/* ---- the live blocks, sorted by address, and an address -> block index ---- */

static size_t bsize(struct mp_scan *sc, size_t i)
{
	return (size_t)MP_META_SIZE(sc->blk[i].meta);
}

static uintptr_t bend(struct mp_scan *sc, size_t i)
{
	size_t s = bsize(sc, i);
	return sc->blk[i].ptr + (s ? s : 1); /* size 0 counts as 1 byte, as in memcheck */
}

static void radix_sort(struct mp_scan *sc, struct mp_live_entry *a, struct mp_live_entry *tmp, size_t n)
{
	size_t *count = sc->radix_count;
	for (int shift = 0; shift < 64; shift += 8) {
		memset(count, 0, sizeof(sc->radix_count));
		for (size_t i = 0; i < n; i++)
			count[(a[i].ptr >> shift) & 255]++;
		if (count[(a[0].ptr >> shift) & 255] == n)
			continue; /* every key has the same digit here */
		size_t sum = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i].ptr >> shift) & 255]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
}

static int collect_blocks(struct mp_scan *sc)
{
	/* The count is exact with the threads stopped, within 64 per thread otherwise; a full
	 * array means the estimate was short: then the tables' capacity bounds it. */
	size_t cap = (size_t)mp_live_count() + mp_live_count() / 8 + 4096, n;
	struct mp_live_entry *a;
	for (;;) {
		a = mp_scan_alloc(sc, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		n = mp_live_collect(a, cap);
		size_t most = mp_live_capacity();
		if (n < cap || cap >= most)
			break;
		mp_scan_release(sc, a);
		cap = most;
	}
	struct mp_live_entry *tmp = mp_scan_alloc(sc, n * sizeof(*a));
	if (!tmp)
		return -ENOMEM;
	if (n)
		radix_sort(sc, a, tmp, n);
	mp_scan_release(sc, tmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && a[k - 1].ptr == a[i].ptr)
			continue; /* caught twice while being moved to a grown table */
		a[k++] = a[i];
	}
	sc->blk = a;
	sc->n_blk = k;
	sc->st = mp_scan_alloc(sc, k + 1);
	sc->stack = mp_scan_alloc(sc, (k + 1) * sizeof(*sc->stack));
	if (!sc->st || !sc->stack)
		return -ENOMEM;
	return 0;
}

static int build_index(struct mp_scan *sc)
{
	if (!sc->n_blk)
		return 0;
	sc->g_lo = sc->blk[0].ptr;
	uintptr_t hi = 0;
	for (size_t i = 0; i < sc->n_blk; i++) {
		if (bend(sc, i) > hi)
			hi = bend(sc, i);
	}
	sc->g_span = hi - sc->g_lo;
	sc->g_base = sc->g_lo & ~((1ul << GRAN_SHIFT) - 1);
	size_t n_gran = ((hi - 1 - sc->g_base) >> GRAN_SHIFT) + 1;
	sc->grans = mp_scan_alloc(sc, n_gran * sizeof(*sc->grans));
	size_t used = 0;
	uintptr_t last = UINTPTR_MAX;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uintptr_t g = (sc->blk[i].ptr - sc->g_base) >> GRAN_SHIFT;
		used += g != last;
		last = g;
	}
	uint32_t *pool = mp_scan_alloc(sc, used * SLOTS_PER_GRAN * sizeof(uint32_t));
	if (!sc->grans || !pool)
		return -ENOMEM;
	last = UINTPTR_MAX;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uintptr_t g = (sc->blk[i].ptr - sc->g_base) >> GRAN_SHIFT;
		if (g != last) {
			if (last != UINTPTR_MAX) { /* fill the slots of the finished granule */
				uint32_t *s = sc->grans[last].slots, prev = s[0] ? s[0] : sc->grans[last].cover;
				for (size_t k = 0; k < SLOTS_PER_GRAN; k++)
					s[k] = s[k] ? (prev = s[k]) : prev;
			}
			sc->grans[g].slots = pool;
			pool += SLOTS_PER_GRAN;
			sc->grans[g].cover = (uint32_t)i; /* 1 + (i - 1): the block before this granule */
			last = g;
		}
		sc->grans[g].slots[(sc->blk[i].ptr >> SLOT_SHIFT) & (SLOTS_PER_GRAN - 1)] = (uint32_t)(i + 1);
		/* A block reaching into later granules covers them. */
		uintptr_t ge = (bend(sc, i) - 1 - sc->g_base) >> GRAN_SHIFT;
		for (uintptr_t h = g + 1; h <= ge; h++) {
			if (!sc->grans[h].slots || sc->grans[h].cover == 0)
				sc->grans[h].cover = (uint32_t)(i + 1);
		}
	}
	uint32_t *s = sc->grans[last].slots, prev = s[0] ? s[0] : sc->grans[last].cover;
	for (size_t k = 0; k < SLOTS_PER_GRAN; k++)
		s[k] = s[k] ? (prev = s[k]) : prev;
	return 0;
}

/* The block holding address v (its start, inside, or a size-0 block's address), or -1. */
static inline long find_block(struct mp_scan *sc, uintptr_t v)
{
	if (v - sc->g_lo >= sc->g_span)
		return -1;
	const struct mp_gran *g = &sc->grans[(v - sc->g_base) >> GRAN_SHIFT];
	uint32_t k = g->slots ? g->slots[(v >> SLOT_SHIFT) & (SLOTS_PER_GRAN - 1)] : g->cover;
	if (!k)
		return -1;
	size_t i = k - 1;
	while (sc->blk[i].ptr > v) {
		if (i == 0)
			return -1;
		i--;
	}
	return v < bend(sc, i) ? (long)i : -1;
}

/* Index of the first block whose address is >= a. */
static size_t first_block_from(struct mp_scan *sc, uintptr_t a)
{
	size_t lo = 0, hi = sc->n_blk;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sc->blk[mid].ptr < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- reading memory ---- */

#define COPY_BYTES (64u * 1024)

/* process_vm_readv is refused (a seccomp filter that denies it with ptrace): memory is then
 * read directly, only inside the readable mappings listed, and only when every other thread
 * is stopped (otherwise the scan gives no verdict). */
static int copy_in(struct mp_scan *sc, void *dst, uintptr_t src, size_t n)
{
	if (MP_UNLIKELY(sc->vm_read_denied)) {
		const struct mp_vma *v = vma_at(sc, src);
		if (!v || !v->r || v->device || n > v->hi - src)
			return -1;
		memcpy(dst, (const void *)src, n);
		return 0;
	}
	struct iovec l = { dst, n }, r = { (void *)src, n };
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

static int vm_read_refused(void)
{
	uintptr_t probe = 1, out = 0;
	struct iovec l = { &out, sizeof(out) }, r = { &probe, sizeof(probe) };
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)sizeof(out) || out != probe;
}

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
		if (copy_in(sc, sc->copy_buf, lo, end - lo) == 0) {
			visit_words(sc, sc->copy_buf, (end - lo) / 8, mode, from);
		} else { /* page by page */
			for (uintptr_t p = lo; p < end;) {
				uintptr_t pe = (p & ~(MP_PAGE - 1)) + MP_PAGE;
				if (pe > end)
					pe = end;
				if (copy_in(sc, sc->copy_buf, p, pe - p) == 0)
					visit_words(sc, sc->copy_buf, (pe - p) / 8, mode, from);
				p = pe;
			}
		}
		lo = end;
	}
}

static int read_word(struct mp_scan *sc, uintptr_t a, size_t i, uintptr_t *out)
{
	if (sc->read_safely || (sc->st[i] & MP_UNSAFE))
		return copy_in(sc, out, a, 8);
	*out = *(const uintptr_t *)a;
	return 0;
}

/* ---- memcheck's heuristics for interior pointers (all on by default in memcheck) ---- */

static int is_vtable(struct mp_scan *sc, uintptr_t p)
{
	const struct mp_vma *v = vma_at(sc, p);
	if (!v || !v->file || !v->r || (p & 7))
		return 0;
	int fns = 0;
	uintptr_t max = p + 20 * 8;
	if (max > v->hi - 8)
		max = v->hi - 8;
	for (uintptr_t a = p; a <= max; a += 8) {
		uintptr_t f;
		if (copy_in(sc, &f, a, 8) != 0)
			return 0;
		if (!f)
			continue;
		const struct mp_vma *fv = vma_at(sc, f);
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
	size_t size = bsize(sc, i);
	if (v == a + 24 && size >= 24 && read_word(sc, a + 8, i, &w1) == 0 && 24 + w1 + 1 == size &&
	    read_word(sc, a, i, &w0) == 0 && w0 <= w1)
		return 1; /* stdstring: length, capacity, refcount, chars */
	if (v == a + 8 && size >= 8 && read_word(sc, a, i, &w0) == 0 && w0 > 0) {
		if (w0 == size - 8)
			return 1; /* length64 */
		if ((size - 8) % w0 == 0)
			return 1; /* newarray: element count before the elements */
	}
	if (!(v & 7) && v + 8 <= a + size && read_word(sc, v, i, &w1) == 0 && read_word(sc, a, i, &w0) == 0 &&
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

static inline void set_kind(struct mp_scan *sc, size_t i, int kind)
{
	sc->st[i] = (uint8_t)((sc->st[i] & ~MP_KIND_MASK) | kind);
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
			set_kind(sc, i, MP_REACHABLE);
			push(sc, i);
		} else if (kind == MP_UNREACHED) {
			set_kind(sc, i, MP_POSSIBLE);
			push(sc, i);
		}
		return;
	case MARK_CLIQUE:
		if (kind == MP_UNREACHED && i != from) {
			push(sc, i);
			sc->ind_bytes[from] += bsize(sc, i) + sc->ind_bytes[i];
			sc->ind_blocks[from] += 1 + sc->ind_blocks[i];
			sc->ind_bytes[i] = sc->ind_blocks[i] = 0;
			set_kind(sc, i, MP_INDIRECT);
		}
		return;
	case MARK_INTERNAL:
		if (kind == MP_UNREACHED) {
			set_kind(sc, i, MP_INTERNAL);
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

/* glibc's main arena (in libc's data) points at chunk headers: its top chunk, its free
 * lists. A chunk's header overlaps the last 8 bytes of the block before it when that block's
 * size is 8 modulo 16, so such a pointer looks like an interior pointer into a live block.
 * Memcheck, which replaces malloc, never sees them. */
static int is_next_chunk_header(struct mp_scan *sc, size_t i, uintptr_t v)
{
	size_t req = bsize(sc, i), chunk = (req + 8 + 15) & ~(size_t)15;
	if (chunk < 32)
		chunk = 32;
	return v - sc->blk[i].ptr == chunk - 16;
}

static void visit_words(struct mp_scan *sc, const uintptr_t *w, size_t n, int mode, size_t from)
{
	for (size_t k = 0; k < n; k++) {
		uintptr_t v = w[k];
		if (MP_LIKELY(v - sc->g_lo >= sc->g_span))
			continue;
		long i = find_block(sc, v);
		if (i >= 0 && MP_UNLIKELY(sc->in_system_roots) && is_next_chunk_header(sc, (size_t)i, v))
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
		scan_memory(sc, sc->blk[i].ptr, sc->blk[i].ptr + bsize(sc, i), sc->read_safely || (sc->st[i] & MP_UNSAFE), mode,
			    clique ? leader : 0);
	}
}

/* ---- roots ---- */

#define MAX_EXCL 65536

static void exclude(struct mp_scan *sc, uintptr_t lo, uintptr_t hi)
{
	if (lo < hi && sc->n_excl < MAX_EXCL) {
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

/* Blocks not inside one readable mapping (a stale entry) are read through copies. glibc's
 * non-main arenas: a chunk with NON_MAIN_ARENA set lives in a heap at its 64 MiB boundary,
 * whose heap_info gives the heap's length (words 2 and 3: size, mprotect_size). */
static void check_blocks(struct mp_scan *sc)
{
	size_t v = 0;
	uintptr_t last_heap = 0;
	for (size_t i = 0; i < sc->n_blk; i++) {
		uintptr_t a = sc->blk[i].ptr, e = bend(sc, i);
		while (v < sc->n_vmas && sc->vmas[v].hi <= a)
			v++;
		if (v == sc->n_vmas || sc->vmas[v].lo > a - 16 || sc->vmas[v].hi < e || !sc->vmas[v].r) {
			sc->st[i] |= MP_UNSAFE;
			continue;
		}
		if (sc->vmas[v].heap)
			continue;
		uintptr_t size_field;
		if (read_word(sc, a - 8, i, &size_field) != 0 || !(size_field & 4) || (size_field & 2))
			continue;
		uintptr_t h = a & ~(GLIBC_HEAP_MAX - 1);
		if (h == last_heap)
			continue;
		const struct mp_vma *hv = vma_at(sc, h);
		uintptr_t info[4];
		if (!hv || !hv->r || copy_in(sc, info, h, sizeof(info)) != 0)
			continue;
		size_t len = info[2] > info[3] ? info[2] : info[3];
		if (len == 0 || len > GLIBC_HEAP_MAX)
			continue;
		exclude(sc, h, (h + len + MP_PAGE - 1) & ~(MP_PAGE - 1));
		last_heap = h;
	}
}

/* ---- the stacks of threads that have ended ---- */

/* What is at pd: a thread descriptor whose tcb and self words point at itself (x86-64's
 * tcbhead_t) -- of a live thread (1), or of one that has ended (-1): its tid is then 0 or
 * less, as the kernel clears it when the thread ends (CLONE_CHILD_CLEARTID, what
 * pthread_join waits for) and pthread_join sets it to -1. 0: no descriptor. */
static int thread_at(struct mp_scan *sc, uintptr_t pd)
{
	uintptr_t head[3];
	int32_t tid;
	if (copy_in(sc, head, pd, sizeof(head)) != 0 || head[0] != pd || head[2] != pd ||
	    copy_in(sc, &tid, pd + sc->tcb_tid_offset, sizeof(tid)) != 0)
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

static int holds_stopped_sp(const struct mp_vma *v)
{
	size_t nt = atomic_load(&n_threads);
	for (size_t k = 0; k < nt; k++) {
		if (atomic_load(&threads[k].state) == T_STOPPED && threads[k].sp >= v->lo && threads[k].sp < v->hi)
			return 1;
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
static void exclude_dead_stacks(struct mp_scan *sc, uintptr_t scanner_sp)
{
	if (!sc->tcb_bytes)
		return;
	for (size_t k = 1; k < sc->n_vmas; k++) {
		const struct mp_vma *v = &sc->vmas[k], *guard = &sc->vmas[k - 1];
		if (!v->r || !v->w || v->file || v->heap || guard->hi != v->lo || guard->r || guard->w ||
		    guard->x || guard->file || v->hi - v->lo < 2 * MP_PAGE || holds_stopped_sp(v) ||
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
				exclude(sc, v->lo, top);
			if (t)
				break;
		}
		mp_scan_release(sc, in);
	}
}

/* Scan [lo, hi) as a root, skipping the live blocks inside it. */
static void scan_root(struct mp_scan *sc, uintptr_t lo, uintptr_t hi, int safe)
{
	size_t j = first_block_from(sc, lo);
	if (j > 0 && bend(sc, j - 1) > lo)
		lo = bend(sc, j - 1);
	while (lo < hi) {
		uintptr_t stop = j < sc->n_blk && sc->blk[j].ptr < hi ? sc->blk[j].ptr : hi;
		if (stop > lo) {
			sc->root_bytes += stop - lo;
			scan_memory(sc, lo, stop, safe, sc->root_mode, 0);
		}
		if (stop == hi)
			break;
		if (bend(sc, j) > lo)
			lo = bend(sc, j);
		j++;
	}
}

/* Emit [lo, hi) split by the system modules' ranges; scan the pieces of the wanted kind. */
static void scan_piece(struct mp_scan *sc, uintptr_t lo, uintptr_t hi, int safe, int system)
{
	for (uintptr_t p = lo; p < hi;) {
		int sys = in_sys(sc, p);
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

static void merge_exclusions(struct mp_scan *sc)
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

/* ---- classification ---- */

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
	return bsize(sc, i) >= 224 && read_word(sc, sc->blk[i].ptr, i, &w) == 0 && (w & 0xffff0000u) == 0xfbad0000u;
}

/* Rules (a), (b), (c) of the header comment. */
static int is_internal(struct mp_scan *sc, size_t i)
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
	if ((sc->st[i] & MP_SYS_REACHED) && t->n_frames >= 2 && in_glibc(sc, f0) && !mp_in_range(&sc->ldso, f0) &&
	    in_glibc(sc, t->frames[1]) && !mp_in_range(&sc->ldso, t->frames[1]) && !is_stdio_file(sc, i))
		return 1;
	if (kind == MP_UNREACHED || (sc->st[i] & MP_USER_REACHED))
		return 0;
	if (in_glibc(sc, f0))
		return !is_stdio_file(sc, i);
	return in_sys(sc, f0) && t->n_frames >= 2 && in_sys(sc, t->frames[1]);
}

/* setenv's copies of the environment (the array and its "NAME=value" strings), which
 * __libc_freeres frees; `environ` may live in the program's own data (a copy relocation). */
static void mark_environment(struct mp_scan *sc)
{
	uintptr_t envp;
	if (!sc->environ_var || copy_in(sc, &envp, (uintptr_t)sc->environ_var, 8) != 0)
		return;
	long a = find_block(sc, envp);
	if (a < 0 || envp != sc->blk[a].ptr || !trace_of(sc, (size_t)a) || !in_glibc(sc, trace_of(sc, (size_t)a)->frames[0]))
		return;
	set_kind(sc, (size_t)a, MP_INTERNAL);
	for (size_t k = 0; k < bsize(sc, (size_t)a) / 8; k++) {
		uintptr_t s;
		if (read_word(sc, envp + 8 * k, (size_t)a, &s) != 0 || !s)
			break;
		long j = find_block(sc, s);
		if (j >= 0 && s == sc->blk[j].ptr && trace_of(sc, (size_t)j) && in_glibc(sc, trace_of(sc, (size_t)j)->frames[0]))
			set_kind(sc, (size_t)j, MP_INTERNAL);
	}
}

/* entry_regs NULL: the scanning thread is the profiler's own (MEMPROF_LEAK_SIGNAL's helper),
 * whose registers and stack (up to entry_sp, its top) hold none of the program's pointers. */
static int classify(struct mp_scan *sc, const uintptr_t *entry_regs, uintptr_t entry_sp)
{
	sc->n_excl = 0;
	sc->stack_top = 0;
	int err = read_maps(sc);
	if (err)
		return err;
	sc->copy_buf = mp_scan_alloc(sc, COPY_BYTES);
	sc->excl = mp_scan_alloc(sc, MAX_EXCL * sizeof(*sc->excl));
	if (!sc->copy_buf || !sc->excl)
		return -ENOMEM;
	if ((err = collect_blocks(sc)) != 0 || (err = build_index(sc)) != 0)
		return err;
	check_blocks(sc);

	/* The profiler's memory, this library, and every stack below its stack pointer. */
	size_t cap = 16384;
	uintptr_t(*ours)[2] = mp_scan_alloc(sc, cap * sizeof(*ours));
	if (!ours)
		return -ENOMEM;
	size_t n_ours = mp_maps_list(ours, cap);
	for (size_t k = 0; k < n_ours; k++)
		exclude(sc, ours[k][0], ours[k][1]);
	exclude(sc, sc->self_mod.lo, sc->self_mod.hi);
	const struct mp_vma *sv = vma_at(sc, entry_regs ? entry_sp : entry_sp - 1);
	if (sv)
		exclude(sc, sv->lo, entry_sp);
	exclude_dead_stacks(sc, entry_sp);
	size_t nt = atomic_load(&n_threads);
	for (size_t k = 0; k < nt; k++) {
		if (atomic_load(&threads[k].state) != T_STOPPED)
			continue; /* not stopped: its whole stack is scanned */
		uintptr_t sp = threads[k].sp - RED_ZONE;
		const struct mp_vma *v = vma_at(sc, sp);
		if (v)
			exclude(sc, v->lo, sp);
	}
	merge_exclusions(sc);

	/* Pass 1 (memcheck's): the program's roots and registers, then those of the system
	 * libraries; a block keeps the state it reached from the program's. */
	scan_roots(sc, 0);
	if (entry_regs) {
		sc->root_bytes += 6 * 8;
		visit_words(sc, entry_regs, 6, MARK_DEFINITE, 0);
	}
	for (size_t k = 0; k < nt; k++) {
		if (atomic_load(&threads[k].state) == T_STOPPED) {
			visit_words(sc, threads[k].regs, 16, MARK_DEFINITE, 0);
			sc->root_bytes += 16 * 8;
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

	/* glibc's and ld.so's own blocks, and what only they point to. */
	mark_environment(sc);
	for (size_t i = 0; i < sc->n_blk; i++) {
		if (is_internal(sc, i)) {
			set_kind(sc, i, MP_INTERNAL);
			push(sc, i);
		}
	}
	process(sc, 0, 0);

	/* Pass 2: each block still unreached, in address order, leads a clique of the unreached
	 * blocks it points to; a later clique may swallow an earlier leader with its clique. */
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
		r->bytes += bsize(sc, i);
		if (kind == MP_LEAK_DEFINITE) {
			r->indirect_blocks += sc->ind_blocks[i];
			r->indirect_bytes += sc->ind_bytes[i];
		}
		if (kind == MP_LEAK_DEFINITE || kind == MP_LEAK_INDIRECT)
			res->lost_bytes += bsize(sc, i);
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
	for (int i = 0; i < 8; i++)
		atomic_store(&ignored_tids[i], 0);
	mp_stop_deferred = 0; /* a stop meant for the parent's scan */
	mp_after_move = NULL;
	mp_spin_unlock(&scan_lock);
}

/* Frames of this library, of libc and of ld.so: exit's machinery (exit, _dl_fini, our
 * destructor) or the API's entry. Their slots hold stale copies of pointers that memcheck,
 * whose exit scan starts at _exit's frame, never sees. */
static int is_machinery(uintptr_t ip)
{
	const struct mp_scan *sc = &scan;
	return mp_in_range(&sc->self_mod, ip) || in_glibc(sc, ip);
}

__attribute__((noinline)) static long long run(unsigned reason, int at_exit, const uintptr_t *entry_regs,
					      uintptr_t entry_sp)
{
	struct mp_scan *sc = &scan;
	mp_spin_lock(&scan_lock);
	uint64_t t0 = mp_now_ns();
	find_modules(sc);
	/* The program's frame that called exit(), _exit() or memprof_leak_check(): the stack
	 * from there up is a root, with its callee-saved registers; everything below is ours or
	 * glibc's. Unwound before the threads stop (libunwind takes the loader's lock). */
	uintptr_t caller_regs[6], caller_sp;
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
	sc->vm_read_denied = vm_read_refused();
	if (reason == MP_REASON_LEAK_CHECK && !at_exit && atomic_load(&mp_final_written)) {
		mp_spin_unlock(&scan_lock);
		return -1;
	}
	/* A thread stopped between an mmap of ours and its registration would leave that
	 * mapping (perhaps a grown live table) looking like a root: let it finish. */
	int all = 0;
	for (int tries = 0; !undecided; tries++) {
		all = stop_threads(&sc->stop);
		if (mp_maps_in_flight() == 0 || tries == 50)
			break;
		resume_threads(&sc->stop);
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
	resume_threads(&sc->stop);
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
	uintptr_t regs[6], sp;
	__asm__ volatile("movq %%rbx, 0(%1)\n\t"
			 "movq %%rbp, 8(%1)\n\t"
			 "movq %%r12, 16(%1)\n\t"
			 "movq %%r13, 24(%1)\n\t"
			 "movq %%r14, 32(%1)\n\t"
			 "movq %%r15, 40(%1)\n\t"
			 "movq %%rsp, %0"
			 : "=r"(sp)
			 : "r"(regs)
			 : "memory");
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

/* SPDX-License-Identifier: MIT */
/* The state of one leak scan (struct mp_scan), which leakscan.c owns and hands by pointer to
 * the parts of the scan, and the scan's scratch memory. */
#ifndef MEMPROF_LEAK_STATE_H
#define MEMPROF_LEAK_STATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define MP_PAGE 4096ul

/* A block's state in mp_scan.st: its kind (memcheck's, below MP_KIND_MASK) and flags. */
enum { MP_UNREACHED = 0, MP_POSSIBLE = 1, MP_REACHABLE = 2, MP_INDIRECT = 3, MP_INTERNAL = 4 };
#define MP_KIND_MASK 0x7
#define MP_USER_REACHED 0x10 /* reached from the program's roots (not only libc's) */
#define MP_SYS_REACHED 0x40  /* reached from the system libraries' roots (own flood) */
#define MP_UNSAFE 0x20       /* not inside one readable mapping: read with process_vm_readv */
#define MP_PENDING 0x80      /* on the mark stack */

struct mp_range {
	uintptr_t lo, hi;
};
static inline int mp_in_range(const struct mp_range *r, uintptr_t a)
{
	return a >= r->lo && a < r->hi;
}

/* One line of /proc/self/maps. */
struct mp_vma {
	uintptr_t lo, hi;
	unsigned r : 1, w : 1, x : 1, file : 1, device : 1, heap : 1;
};

/* One 64 MiB granule of the block index. */
struct mp_gran {
	uint32_t *slots; /* per 256-byte slot: 1 + the last block starting before its end */
	uint32_t cover;  /* no slots: 1 + a block that covers the granule's start, or 0 */
};

/* The signal a scan stops the other threads with. */
struct mp_stop {
	int sig;
	struct sigaction old_action;
	int too_many; /* a thread started after the table was sized: not stopped */
};

#define MP_SCAN_SCRATCH_MAX 64
#define MP_SCAN_MAX_SYS 16
struct mp_live_entry;
/* Everything one scan changes. One scan runs at a time (leakscan.c's scan lock); the fields
 * under "found once" are looked up by the first scan and kept for the next ones. */
struct mp_scan {
	/* Scratch memory, from mp_map, returned at the end of each scan. */
	struct {
		void *p;
		size_t bytes;
	} scratch[MP_SCAN_SCRATCH_MAX];
	int n_scratch;

	struct mp_stop stop;

	/* The modules that decide INTERNAL, looked up before the threads stop. */
	struct mp_range sys_mods[MP_SCAN_MAX_SYS]; /* libc.so.6, ld.so, libstdc++.so.6 */
	int sys_is_glibc[MP_SCAN_MAX_SYS];         /* libc.so.6 or ld.so */
	int n_sys;
	struct mp_range ldso, self_mod;
	/* Found once. */
	int found_once;
	char ***environ_var;            /* the program's `environ` */
	struct mp_range stdio_alloc[3]; /* _IO_file_doallocate and siblings */
	/* glibc's thread descriptor (struct pthread), as libc describes it to debuggers (nptl_db's
	 * _thread_db_* symbols: bits, count, offset): its size, and where the thread's tid is.
	 * 0: unknown (then no stack is taken for a dead thread's). */
	uint32_t tcb_bytes, tcb_tid_offset;

	/* The mappings, and the ranges of them that are no roots (sorted, merged). */
	struct mp_vma *vmas;
	size_t n_vmas;
	struct mp_range *excl;
	size_t n_excl;
	int vm_read_denied; /* process_vm_readv is refused: copy_in reads directly */
	int read_safely; /* some thread runs: copy memory with process_vm_readv */

	/* The live blocks, sorted by address, their states, and an address -> block index. */
	struct mp_live_entry *blk;
	size_t n_blk;
	uint8_t *st;
	size_t radix_count[256];
	uintptr_t g_lo, g_span, g_base;
	struct mp_gran *grans;

	/* Marking. */
	uint32_t *stack;
	size_t stack_top;
	uint64_t *ind_bytes, *ind_blocks;
	uintptr_t *copy_buf;
	int flood_system; /* process() runs the MARK_SYSTEM flood */
	int root_mode; /* how the roots mark what they reach: MARK_DEFINITE (0) but in the flood */
	int in_system_roots;
	uint64_t root_bytes;

	int said_undecided;
};

/* Scratch memory: page-rounded, NULL when out of memory (or of slots). */
void *mp_scan_alloc(struct mp_scan *sc, size_t bytes);
void mp_scan_release(struct mp_scan *sc, void *p); /* give back one allocation early */
void mp_scan_free_all(struct mp_scan *sc);

#endif

/* SPDX-License-Identifier: MIT */
/* Everything of libmemprof.so that depends on the processor (x86-64 only, for now). */
#ifndef MEMPROF_ARCH_H
#define MEMPROF_ARCH_H

#if !defined(__x86_64__)
#error "libmemprof.so supports x86-64 only: port preload/arch.h first"
#endif
/* The snapshot writer puts integers out as they are in memory; the format is little-endian. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the snapshot writer assumes a little-endian processor"
#endif

#include <cpuid.h>
#include <stdint.h>

/* A spin-wait loop's pause. */
static inline void mp_cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* 1 when the processor has what the library needs beyond the x86-64 baseline: cmpxchg16b
 * (every x86-64 processor since 2006 but the first Athlon 64s). */
static inline int mp_arch_supported(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_CMPXCHG16B);
}

/* Two adjacent words, 16-aligned, compared and swapped as one: 1 when swapped; otherwise 0,
 * and expected[] holds what was there. Sequentially consistent (a locked instruction). */
typedef unsigned __int128 mp_pair_t __attribute__((may_alias, aligned(16)));
__attribute__((target("cx16"))) static inline int mp_cas_pair(void *p, uint64_t expected[2], uint64_t lo,
							      uint64_t hi)
{
	mp_pair_t old = (mp_pair_t)expected[1] << 64 | expected[0];
	mp_pair_t seen = __sync_val_compare_and_swap((mp_pair_t *)p, old, (mp_pair_t)hi << 64 | lo);
	expected[0] = (uint64_t)seen;
	expected[1] = (uint64_t)(seen >> 64);
	return seen == old;
}

/* A call pushes its return address in the word just below the caller's CFA. */
#define MP_ARCH_RA_SLOT(cfa) ((const uintptr_t *)((cfa) - 8))

/* The stack pointer of an interrupted context (a ucontext_t from a signal handler). */
#define MP_ARCH_UCONTEXT_SP(uc) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_RSP])

/* The general registers of an interrupted context, which a leak scan reads as roots: glibc's
 * gregs from REG_R8 to REG_RSP (r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp), and where it
 * was interrupted. */
#define MP_ARCH_N_GREGS 16
#define MP_ARCH_UCONTEXT_GREG(uc, i) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_R8 + (i)])
#define MP_ARCH_UCONTEXT_PC(uc) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_RIP])

/* A thread descriptor (glibc's tcbhead_t) begins with a pointer to itself (tcb), the dtv and
 * another pointer to itself (self): its first three words, head, hold such a descriptor at pd. */
#define MP_ARCH_TCB_AT(head, pd) ((head)[0] == (pd) && (head)[2] == (pd))

/* libunwind's entry points are named for the architecture (_U: generic, _UL: local). */
#define MP_UNW_SYM(name) "_Ux86_64_" name
#define MP_UNWL_SYM(name) "_ULx86_64_" name
/* The callee-saved registers (rbx, rbp, r12-r15) as libunwind numbers them: the six values a
 * stopped caller may hold pointers in. Needs <libunwind.h>. */
#define MP_ARCH_N_CALLEE_SAVED 6
#define MP_ARCH_UNW_CALLEE_SAVED                                                              \
	{ UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12, UNW_X86_64_R13, UNW_X86_64_R14, \
	  UNW_X86_64_R15 }
/* The same six registers of the function it is written in, into regs[MP_ARCH_N_CALLEE_SAVED],
 * in that order, and its stack pointer into sp. */
#define MP_ARCH_SAVE_CALLEE_SAVED(regs, sp)              \
	__asm__ volatile("movq %%rbx, 0(%1)\n\t"        \
			 "movq %%rbp, 8(%1)\n\t"        \
			 "movq %%r12, 16(%1)\n\t"       \
			 "movq %%r13, 24(%1)\n\t"       \
			 "movq %%r14, 32(%1)\n\t"       \
			 "movq %%r15, 40(%1)\n\t"       \
			 "movq %%rsp, %0"                \
			 : "=r"(sp)                      \
			 : "r"(regs)                     \
			 : "memory")

/* void mp_run_on_stack(void *arg, void (*fn)(void *), void *top): fn(arg) with the stack
 * pointer at top (16-byte aligned), back on the caller's stack afterwards. Its frame's CFI
 * gives the caller's CFA from %rbp, which holds the stack pointer of the caller's stack, so
 * that an unwinder started on the new stack walks on into the caller's; before switching it
 * pushes the callee-saved registers onto the caller's stack, where a leak scan that stops the
 * thread meanwhile finds them. Emitted once, by ownstack.c. */
#define MP_ARCH_RUN_ON_STACK_ASM               \
	".text\n"                              \
	".globl mp_run_on_stack\n"             \
	".hidden mp_run_on_stack\n"            \
	".type mp_run_on_stack, @function\n"   \
	"mp_run_on_stack:\n"                   \
	".cfi_startproc\n"                     \
	"	pushq %rbp\n"                  \
	".cfi_def_cfa_offset 16\n"             \
	".cfi_offset %rbp, -16\n"              \
	"	movq %rsp, %rbp\n"             \
	".cfi_def_cfa_register %rbp\n"         \
	"	pushq %rbx\n"                  \
	"	pushq %r12\n"                  \
	"	pushq %r13\n"                  \
	"	pushq %r14\n"                  \
	"	pushq %r15\n"                  \
	"	movq %rdx, %rsp\n"             \
	"	callq *%rsi\n"                 \
	"	movq %rbp, %rsp\n"             \
	"	popq %rbp\n"                   \
	".cfi_restore %rbp\n"                  \
	".cfi_def_cfa %rsp, 8\n"               \
	"	ret\n"                         \
	".cfi_endproc\n"                       \
	".size mp_run_on_stack, .-mp_run_on_stack\n"

#endif

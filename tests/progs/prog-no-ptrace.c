/* SPDX-License-Identifier: MIT */
/* Runs a command under a seccomp filter that kills the process at its first ptrace(2) call:
 * `prog-no-ptrace [--deny-vm-read] CMD ARGS...`; with --deny-vm-read, process_vm_readv(2)
 * and process_vm_writev(2) fail with EPERM as well, as strict container profiles have it.
 * The leak scan stops threads with a signal of its own, never with ptrace, so a profiled CMD
 * runs as usual. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int deny_vm_read = argc > 1 && strcmp(argv[1], "--deny-vm-read") == 0;
	argv += deny_vm_read;
	argc -= deny_vm_read;
	if (argc < 2) {
		fprintf(stderr, "usage: prog-no-ptrace [--deny-vm-read] CMD [ARGS...]\n");
		return 2;
	}
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, deny_vm_read ? SECCOMP_RET_ERRNO | EPERM : SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		fprintf(stderr, "%s: cannot install the seccomp filter: %s\n", argv[0], strerror(errno));
		return 77;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "%s: cannot run %s: %s\n", argv[0], argv[1], strerror(errno));
	return 127;
}

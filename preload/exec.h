/* SPDX-License-Identifier: MIT */
/* The exec family, interposed: an exec in place keeps the program profiled. */
#ifndef MEMPROF_EXEC_H
#define MEMPROF_EXEC_H

/* The constructor's part: finds the C library's exec functions now, so that no exec (in a
 * vfork child, say) has to call dlsym. The interposed functions have the C library's names
 * (execve, execv, execvp, execvpe, execl, execlp, execle, fexecve). */
void mp_exec_init(void);

#endif

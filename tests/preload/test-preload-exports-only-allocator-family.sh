#!/usr/bin/env bash
# libmemprof.so exports the allocator functions it interposes (with the process-life and exec
# functions and pthread_getattr_np that it watches), the signal functions through which it
# hides its fatal-signal handlers, and the memprof_api_* entry points of
# include/memprof.h, nothing else: no libunwind or zlib symbol may leak into the
# profiled program's namespace.
source "$(dirname "$0")/../lib/lib.sh"
nm -D --defined-only "$LIBMEMPROF" | awk '{print $3}' | sed 's/@.*//' | sort >got
printf '%s\n' _Exit _exit aligned_alloc calloc daemon dlclose free malloc malloc_usable_size memalign \
	memprof_api_leak_check memprof_api_snapshot posix_memalign pthread_getattr_np pvalloc realloc reallocarray strdup strndup valloc \
	sigaction signal bsd_signal ssignal sysv_signal __sysv_signal \
	execve execv execvp execvpe execl execlp execle fexecve | sort >want
diff want got || fail "exported symbols differ (left: expected, right: exported)"
readelf -d "$LIBMEMPROF" | grep -q 'libunwind' && fail "libunwind is a DT_NEEDED: its symbols would be global"
exit 0

/* SPDX-License-Identifier: MIT */
/* The MEMPROF_* environment variables, read once by the constructor (getenv is safe there),
 * and the process facts a snapshot needs (program name, command line, working directory). */
#include "mp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mp_options mp_opt;

static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int env_flag(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0 && strcmp(v, "no") != 0;
}

static void read_cmdline(void)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, mp_opt.cmdline, sizeof(mp_opt.cmdline) - 1);
	close(fd);
	mp_opt.cmdline_len = n > 0 ? (size_t)n : 0;
	/* Drop the trailing NUL: the format separates arguments, it does not end them. */
	if (mp_opt.cmdline_len && mp_opt.cmdline[mp_opt.cmdline_len - 1] == '\0')
		mp_opt.cmdline_len--;
}

/* Remove our own entry from LD_PRELOAD, in place, so programs this one execs are not
 * profiled (as valgrind without --trace-children). The loader has already read it. */
static void strip_ld_preload(void)
{
	char *v = getenv("LD_PRELOAD");
	if (!v)
		return;
	char *out = v;
	for (char *p = v; *p;) {
		size_t len = strcspn(p, ": ");
		int ours = len >= 13 && memcmp(p + len - 13, "libmemprof.so", 13) == 0;
		if (!ours) {
			if (out != v)
				*out++ = ':';
			memmove(out, p, len);
			out += len;
		}
		p += len;
		while (*p == ':' || *p == ' ')
			p++;
	}
	*out = '\0';
}

void mp_options_init(void)
{
	const char *v = getenv("MEMPROF_OUTPUT");
	copy(mp_opt.output, sizeof(mp_opt.output), v && *v ? v : "memprof.%e.%p.gz");
	v = getenv("MEMPROF_MANIFEST");
	copy(mp_opt.manifest, sizeof(mp_opt.manifest), v ? v : "");
	mp_opt.max_depth = MP_DEFAULT_DEPTH;
	v = getenv("MEMPROF_DEPTH");
	if (v && *v) {
		char *end;
		unsigned long d = strtoul(v, &end, 10);
		if (*end || d < 1 || d > MP_MAX_DEPTH)
			mp_log("MEMPROF_DEPTH must be a number from 1 to 256; using 64, not ", v, NULL);
		else
			mp_opt.max_depth = (unsigned)d;
	}
	mp_opt.follow_children = env_flag("MEMPROF_FOLLOW_CHILDREN");
	mp_opt.verify_traces = env_flag("MEMPROF_VERIFY_TRACES");
	if (!getcwd(mp_opt.cwd, sizeof(mp_opt.cwd)))
		mp_opt.cwd[0] = '\0';
	ssize_t n = readlink("/proc/self/exe", mp_opt.exe_path, sizeof(mp_opt.exe_path) - 1);
	mp_opt.exe_path[n > 0 ? n : 0] = '\0';
	extern char *program_invocation_short_name;
	copy(mp_opt.exe, sizeof(mp_opt.exe),
	     program_invocation_short_name && *program_invocation_short_name
		     ? program_invocation_short_name : "unknown");
	read_cmdline();
	if (!mp_opt.follow_children)
		strip_ld_preload();
}

/* SPDX-License-Identifier: MIT */
/* Sample: a leak inside a plugin loaded with dlopen(). The host loads libleaky-plugin.so
 * (from the directory of its own executable, or the path given as its argument), calls its
 * init and fini functions and unloads it with dlclose() before exit. The plugin's
 * plugin_scratch() leaks 200 bytes in 1 block (definitely lost); its name table is freed.
 *
 * The plugin is gone when the program exits, yet the backtrace still names plugin_scratch
 * (leaky-plugin.c): memprof records every module at load time, so frames of unloaded
 * modules are symbolized from the file later. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	void *plugin;
	int (*init)(void);
	void (*fini)(void);
	int n;

	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else {
		ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
		char *slash;

		if (len < 0)
			return 1;
		path[len] = '\0';
		slash = strrchr(path, '/');
		snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "libleaky-plugin.so");
	}
	plugin = dlopen(path, RTLD_NOW);
	if (!plugin) {
		fprintf(stderr, "plugin-host: %s\n", dlerror());
		return 1;
	}
	*(void **)&init = dlsym(plugin, "plugin_init");
	*(void **)&fini = dlsym(plugin, "plugin_fini");
	if (!init || !fini)
		return 1;
	n = init();
	fini();
	dlclose(plugin);
	char line[64];
	int len = snprintf(line, sizeof(line), "plugin registered %d names\n", n);
	return write(1, line, (size_t)len) == len ? 0 : 1;
}

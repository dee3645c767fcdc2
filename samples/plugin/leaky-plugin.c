/* SPDX-License-Identifier: MIT */
/* The plugin loaded by samples/plugin-host.c: its init function registers a name table and
 * forgets one allocation; the host unloads it with dlclose() before exiting. */
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static char *names[4];
size_t plugin_scratch_used;

/* Leaks: the scratch buffer is never freed, and nothing keeps a pointer to it. */
static NOINLINE void plugin_scratch(void)
{
	char *scratch = malloc(200);

	if (scratch) {
		strcpy(scratch, "scratch space for the plugin");
		plugin_scratch_used = strlen(scratch);
	}
}

int plugin_init(void)
{
	static const char *const defaults[] = { "alpha", "beta", "gamma", "delta" };

	for (int i = 0; i < 4; i++)
		names[i] = strdup(defaults[i]);
	plugin_scratch();
	return 4;
}

void plugin_fini(void)
{
	for (int i = 0; i < 4; i++)
		free(names[i]);
}

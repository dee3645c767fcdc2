/* SPDX-License-Identifier: MIT */
/* Sample for `make demo`: a small config parser that leaks from exactly one function.
 *
 * It tokenizes the embedded CONFIG text, builds an array of key/value records (strdup,
 * malloc, realloc to grow the array), looks a few keys up, frees every record and the array,
 * and prints one line. What stays in use at exit, all allocated in remember_include():
 *
 *   3 blocks, 3 x 48 = 144 bytes   (one struct include_ref per "include" line, the list
 *                                   head is a local variable that goes out of scope)
 *
 * Output goes through write(2), not stdio, so no stdio buffer is allocated: a profiler should
 * report exactly 3 blocks / 144 bytes in use at exit for this program's own allocations
 * (plus whatever the C library and loader keep, which on glibc 2.36 is nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static const char CONFIG[] =
	"# demo configuration\n"
	"name = leaky-parser\n"
	"include = base.conf\n"
	"threads = 4\n"
	"log.level = info\n"
	"log.file = /var/log/demo.log\n"
	"include = network.conf\n"
	"listen = 0.0.0.0:8080\n"
	"timeout_ms = 2500\n"
	"# a comment line\n"
	"cache.size = 64m\n"
	"include = storage.conf\n"
	"storage.path = /srv/data\n"
	"retries = 3\n";

struct record {
	char *key;
	char *value;
	unsigned line;
};

struct config {
	struct record *records; /* grown with realloc */
	size_t n_records, capacity;
};

/* 8 + 32 + 4 + 4 = 48 bytes on LP64. */
struct include_ref {
	struct include_ref *next;
	char path[32];
	unsigned line;
	unsigned flags;
};

/* Returns a malloc'ed copy of [start, end) with surrounding blanks removed. */
NOINLINE static char *trimmed_copy(const char *start, const char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	char *s = malloc((size_t)(end - start) + 1);
	if (s == NULL)
		abort();
	memcpy(s, start, (size_t)(end - start));
	s[end - start] = '\0';
	return s;
}

NOINLINE static void add_record(struct config *cfg, char *key, char *value, unsigned line)
{
	if (cfg->n_records == cfg->capacity) {
		size_t cap = cfg->capacity ? cfg->capacity * 2 : 2;
		struct record *r = realloc(cfg->records, cap * sizeof(*r));
		if (r == NULL)
			abort();
		cfg->records = r;
		cfg->capacity = cap;
	}
	/* The key is interned with strdup so the record owns its own copy. */
	cfg->records[cfg->n_records].key = strdup(key);
	cfg->records[cfg->n_records].value = value;
	cfg->records[cfg->n_records].line = line;
	cfg->n_records++;
	free(key);
}

/* THE LEAK: the list built here is never freed; its head is dropped by the caller. */
NOINLINE static struct include_ref *remember_include(struct include_ref *head, const char *path,
						     unsigned line)
{
	struct include_ref *ref = malloc(sizeof(*ref));
	if (ref == NULL)
		abort();
	memset(ref, 0, sizeof(*ref));
	snprintf(ref->path, sizeof(ref->path), "%s", path);
	ref->line = line;
	ref->next = head;
	return ref;
}

/* Tokenizes CONFIG line by line into `cfg`; returns the number of include lines seen. */
NOINLINE static unsigned parse(struct config *cfg, const char *text)
{
	struct include_ref *includes = NULL;
	unsigned n_includes = 0, line = 0;
	const char *p = text;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		line++;
		const char *eq = memchr(p, '=', (size_t)(eol - p));
		if (*p != '#' && eq != NULL) {
			char *key = trimmed_copy(p, eq);
			char *value = trimmed_copy(eq + 1, eol);
			if (strcmp(key, "include") == 0) {
				includes = remember_include(includes, value, line);
				n_includes++;
			}
			add_record(cfg, key, value, line);
		}
		p = *eol ? eol + 1 : eol;
	}
	/* Bug on purpose: `includes` goes out of scope here without being freed. */
	return includes != NULL ? n_includes : 0;
}

NOINLINE static const char *lookup(const struct config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->n_records; i++)
		if (strcmp(cfg->records[i].key, key) == 0)
			return cfg->records[i].value;
	return NULL;
}

NOINLINE static void free_config(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_records; i++) {
		free(cfg->records[i].key);
		free(cfg->records[i].value);
	}
	free(cfg->records);
	cfg->records = NULL;
	cfg->n_records = cfg->capacity = 0;
}

int main(void)
{
	struct config cfg = { 0 };
	unsigned n_includes = parse(&cfg, CONFIG);
	char out[256];
	int n = snprintf(out, sizeof(out), "leaky-parser: %zu records, %u includes, name=%s listen=%s\n",
			 cfg.n_records, n_includes, lookup(&cfg, "name"), lookup(&cfg, "listen"));
	free_config(&cfg);
	if (n > 0 && write(STDOUT_FILENO, out, (size_t)n) != n)
		return 1;
	return 0;
}

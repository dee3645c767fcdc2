/* SPDX-License-Identifier: MIT */
/* Leak suppressions for memprof report: memcheck's suppression files (their Memcheck:Leak
 * entries) and LeakSanitizer's (leak:PATTERN lines), read and matched against the stacks of
 * loss records. Knows nothing of snapshots or symbolization: frames come in as strings. */
#ifndef MEMPROF_SUPPRESS_H
#define MEMPROF_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A suppression file bigger than this is refused (a real one is a few KiB). */
#define MP_SUPP_MAX_FILE_BYTES (16u << 20)

/* One frame of a stack as suppressions see it. A symbolized return address gives one frame
 * per function: the inlined calls it is in first, then the function they were inlined into
 * (memcheck treats inlined calls as frames of their own the same way). */
typedef struct mp_supp_frame {
	const char *function;  /* as in the module (mangled for C++); NULL if unknown */
	const char *demangled; /* NULL if unknown */
	const char *file;      /* source file as in the debug information; NULL if unknown */
	uint32_t line;         /* 0 if unknown */
	const char *module;    /* path of the module; NULL if in no known module */
} mp_supp_frame_t;

enum mp_supp_format { MP_SUPP_MEMCHECK, MP_SUPP_LSAN };

struct mp_supp_loc;

typedef struct mp_supp {
	char *name;       /* memcheck: its name line; LSan: the whole line, "leak:PATTERN" */
	const char *path; /* the file it was read from (owned by the set) */
	uint32_t line;    /* where it starts in that file */
	enum mp_supp_format format;
	uint32_t kinds;   /* MP_LEAK_KIND_BIT() of each kind it matches */
	struct mp_supp_loc *locs; /* memcheck: fun:/obj:/src:/... lines, outermost last */
	size_t n_locs;
	char *pattern;    /* LSan: the pattern */
	/* What it suppressed, counted by the caller. */
	uint64_t n_records, bytes, blocks;
} mp_supp_t;

typedef struct mp_supp_set {
	mp_supp_t *supps; /* in the order read: the first that matches wins */
	size_t n_supps;
	char **paths;
	size_t n_paths;
} mp_supp_set_t;

#define MP_LEAK_KIND_BIT(kind) (1u << (kind))
/* definite, indirect, possible, reachable */
#define MP_LEAK_KINDS_ALL                                                                      \
	(MP_LEAK_KIND_BIT(MP_LEAK_DEFINITE) | MP_LEAK_KIND_BIT(MP_LEAK_INDIRECT) |             \
	 MP_LEAK_KIND_BIT(MP_LEAK_POSSIBLE) | MP_LEAK_KIND_BIT(MP_LEAK_REACHABLE))
/* memcheck's default for --show-leak-kinds and --errors-for-leak-kinds */
#define MP_LEAK_KINDS_DEFAULT (MP_LEAK_KIND_BIT(MP_LEAK_DEFINITE) | MP_LEAK_KIND_BIT(MP_LEAK_POSSIBLE))

/* Parses memcheck's leak-kind set: "all", "none", or a comma-separated list of definite,
 * indirect, possible, reachable. Returns 0 with the MP_LEAK_KIND_BIT()s in *kinds, or
 * -EINVAL. */
int mp_parse_leak_kinds(const char *s, uint32_t *kinds);

/* The memcheck word for a kind in a kind set: "definite", "indirect", ... or NULL. */
const char *mp_leak_kind_keyword(uint32_t kind);

/* Reads the suppression file at `path` and appends its suppressions to `set`. The format is
 * detected per file: memcheck's if the first line that is neither blank nor a # comment is
 * "{", LSan's otherwise. Returns 0, or a negative errno with one line in err
 * ("leaks.supp:12: expected fun:, obj:, src:, ... or }"); on error nothing of that file is
 * kept. */
int mp_supp_load(mp_supp_set_t *set, const char *path, char *err, size_t err_bytes);

/* The same for the `n` bytes at `text`, named `name` in messages and in mp_supp_t.path. */
int mp_supp_parse(mp_supp_set_t *set, const char *name, const char *text, size_t n, char *err,
		  size_t err_bytes);

/* Frees what the set holds; safe on a zeroed set. */
void mp_supp_free(mp_supp_set_t *set);

/* The first suppression of `set` that matches a loss record of `kind` (enum mp_leak_kind)
 * allocated at `frames` (innermost first: frames[0] is the function that called the
 * allocator), or NULL. */
mp_supp_t *mp_supp_match(const mp_supp_set_t *set, uint32_t kind, const mp_supp_frame_t *frames,
			 size_t n_frames);

/* memcheck's wildcards: whether `s` as a whole matches `pattern`, where * matches any run of
 * characters (also none) and ? any one character. Linear in practice, never exponential. */
bool mp_wildcard_match(const char *pattern, const char *s);

#endif

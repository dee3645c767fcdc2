/* SPDX-License-Identifier: MIT */
/* Reads memcheck's and LeakSanitizer's suppression files and matches their entries against
 * loss records' stacks (see memprof(1), SUPPRESSIONS). */
#include "suppress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "snapshot_format.h"

enum loc_type { LOC_FUN, LOC_OBJ, LOC_SRC, LOC_DOTS };

/* One line of a memcheck suppression's stack. */
struct mp_supp_loc {
	enum loc_type type;
	char *pattern;         /* NULL for LOC_DOTS */
	uint32_t line;         /* LOC_SRC: the line number, 0 for any */
	bool names_allocator;  /* LOC_FUN matching the name of an allocator function */
};

/* The functions memcheck shows as frame 0 of a leak's stack. memprof's stacks start at their
 * caller, so a suppression's leading fun: lines that match these may stand for them. */
static const char *const allocator_names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
	"aligned_alloc", "valloc", "pvalloc", "strdup", "strndup",
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
	"_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t",
	"_ZnamSt11align_val_tRKSt9nothrow_t",
	"operator new(unsigned long)", "operator new[](unsigned long)",
};

/* Suppression types of the other sanitizers, which may share a file with LSan's. */
static const char *const other_sanitizer_types[] = {
	"race", "race_top", "mutex", "thread", "signal", "called_from_lib", "deadlock",
	"interceptor_name", "interceptor_via_fun", "interceptor_via_lib", "odr_violation",
	"vptr_check",
};

static const char *const kind_keywords[] = {
	[MP_LEAK_REACHABLE] = "reachable",
	[MP_LEAK_POSSIBLE] = "possible",
	[MP_LEAK_INDIRECT] = "indirect",
	[MP_LEAK_DEFINITE] = "definite",
};

const char *mp_leak_kind_keyword(uint32_t kind)
{
	return kind < sizeof(kind_keywords) / sizeof(kind_keywords[0]) ? kind_keywords[kind] : NULL;
}

int mp_parse_leak_kinds(const char *s, uint32_t *kinds)
{
	uint32_t set = 0;

	if (strcmp(s, "all") == 0) {
		*kinds = MP_LEAK_KINDS_ALL;
		return 0;
	}
	if (strcmp(s, "none") == 0) {
		*kinds = 0;
		return 0;
	}
	for (;;) {
		size_t n = strcspn(s, ",");
		uint32_t bit = 0;

		for (uint32_t k = 0; k < sizeof(kind_keywords) / sizeof(kind_keywords[0]); k++)
			if (kind_keywords[k] && strlen(kind_keywords[k]) == n && strncmp(s, kind_keywords[k], n) == 0)
				bit = MP_LEAK_KIND_BIT(k);
		if (!bit)
			return -EINVAL;
		set |= bit;
		if (!s[n])
			break;
		s += n + 1;
	}
	*kinds = set;
	return 0;
}

/* The matcher for both formats: `*` any run of characters; `?` one character when
 * question_is_wild (memcheck), itself otherwise (LSan). On a mismatch it resumes after the
 * last `*` only, which is enough for patterns without other operators: O(len(p) * len(s)). */
static bool wild(const char *p, const char *s, bool question_is_wild)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
		} else if (*p && (*p == *s || (question_is_wild && *p == '?'))) {
			p++;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool mp_wildcard_match(const char *pattern, const char *s) { return wild(pattern, s, true); }

/* --- Reading ------------------------------------------------------------------------- */

struct reader {
	const char *name, *text;
	size_t n, pos;
	uint32_t lineno; /* of the line last returned */
	char *line;      /* the line last returned, trimmed, NUL-terminated */
	size_t line_cap;
	char *err;
	size_t err_bytes;
};

__attribute__((format(printf, 3, 4))) static int fail_at(struct reader *rd, uint32_t lineno,
							  const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->err_bytes, "%s:%u: %s", rd->name, lineno, msg);
	return -EINVAL;
}

static int out_of_memory(struct reader *rd)
{
	snprintf(rd->err, rd->err_bytes, "%s: out of memory", rd->name);
	return -ENOMEM;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* The next line that is neither blank nor a # comment, trimmed, in rd->line: 1, 0 at the
 * end of the text, or a negative errno. */
static int next_line(struct reader *rd)
{
	while (rd->pos < rd->n) {
		const char *start = rd->text + rd->pos, *nl = memchr(start, '\n', rd->n - rd->pos);
		size_t len = nl ? (size_t)(nl - start) : rd->n - rd->pos;

		rd->pos += len + (nl ? 1 : 0);
		rd->lineno++;
		if (memchr(start, '\0', len))
			return fail_at(rd, rd->lineno, "NUL byte (not a text file?)");
		while (len && is_space(*start))
			start++, len--;
		while (len && is_space(start[len - 1]))
			len--;
		if (len == 0 || start[0] == '#')
			continue;
		if (len + 1 > rd->line_cap) {
			char *p = realloc(rd->line, len + 1);

			if (!p)
				return out_of_memory(rd);
			rd->line = p;
			rd->line_cap = len + 1;
		}
		memcpy(rd->line, start, len);
		rd->line[len] = '\0';
		return 1;
	}
	return 0;
}

static char *trimmed_dup(const char *s)
{
	size_t len;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len && is_space(s[len - 1]))
		len--;
	return strndup(s, len);
}

static void free_supp(mp_supp_t *s)
{
	for (size_t i = 0; i < s->n_locs; i++)
		free(s->locs[i].pattern);
	free(s->locs);
	free(s->name);
	free(s->pattern);
}

/* Appends a zeroed suppression to the set; NULL when out of memory. */
static mp_supp_t *new_supp(mp_supp_set_t *set, const char *path, uint32_t line,
			   enum mp_supp_format format)
{
	mp_supp_t *p = realloc(set->supps, (set->n_supps + 1) * sizeof(*p));

	if (!p)
		return NULL;
	set->supps = p;
	p += set->n_supps++;
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->line = line;
	p->format = format;
	p->kinds = MP_LEAK_KINDS_ALL;
	return p;
}

static bool names_allocator(const char *pattern)
{
	for (size_t i = 0; i < sizeof(allocator_names) / sizeof(allocator_names[0]); i++)
		if (wild(pattern, allocator_names[i], true))
			return true;
	return false;
}

/* Adds the location on rd->line ("fun:NAME", "obj:PATH", "src:FILE[:LINE]", "...") to s. */
static int add_loc(struct reader *rd, mp_supp_t *s)
{
	const char *l = rd->line;
	struct mp_supp_loc loc = { .type = LOC_DOTS };
	struct mp_supp_loc *p;

	if (strcmp(l, "...") != 0) {
		if (strncmp(l, "fun:", 4) == 0)
			loc.type = LOC_FUN;
		else if (strncmp(l, "obj:", 4) == 0)
			loc.type = LOC_OBJ;
		else if (strncmp(l, "src:", 4) == 0)
			loc.type = LOC_SRC;
		else
			return fail_at(rd, rd->lineno, "expected fun:, obj:, src:, ... or } in suppression "
				       "'%.80s', not '%.80s'", s->name, l);
		loc.pattern = trimmed_dup(l + 4);
		if (!loc.pattern)
			return out_of_memory(rd);
		if (loc.type == LOC_SRC) {
			char *colon = strrchr(loc.pattern, ':');

			/* src:FILE:LINE; a colon not followed by digits only belongs to FILE. */
			if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
				unsigned long v = strtoul(colon + 1, NULL, 10);

				if (v == 0 || v > UINT32_MAX || strlen(colon + 1) > 10) {
					free(loc.pattern);
					return fail_at(rd, rd->lineno, "bad line number in '%.80s'", l);
				}
				loc.line = (uint32_t)v;
				*colon = '\0';
			}
		}
		if (!loc.pattern[0]) {
			free(loc.pattern);
			return fail_at(rd, rd->lineno, "empty pattern in '%.80s'", l);
		}
		loc.names_allocator = loc.type == LOC_FUN && names_allocator(loc.pattern);
	}
	p = realloc(s->locs, (s->n_locs + 1) * sizeof(*p));
	if (!p) {
		free(loc.pattern);
		return out_of_memory(rd);
	}
	s->locs = p;
	s->locs[s->n_locs++] = loc;
	return 0;
}

/* Whether the comma-separated tool list before the colon of "Memcheck,Helgrind:Leak" names
 * memcheck. */
static bool names_memcheck(const char *tools, size_t n)
{
	while (n) {
		size_t len = 0;

		while (len < n && tools[len] != ',')
			len++;
		if (len == 8 && strncmp(tools, "Memcheck", 8) == 0)
			return true;
		tools += len;
		n -= len;
		if (n) {
			tools++;
			n--;
		}
	}
	return false;
}

/* memcheck's format: entries "{", name, "TOOL:KIND", for Memcheck:Leak an optional
 * "match-leak-kinds: SET", then stack lines, "}". Other tools' and kinds' entries are
 * skipped. */
static int parse_memcheck(struct reader *rd, mp_supp_set_t *set, const char *path)
{
	int rc;

	while ((rc = next_line(rd)) > 0) {
		uint32_t start = rd->lineno;
		const char *colon;
		mp_supp_t *s;
		bool leak;

		if (strcmp(rd->line, "{") != 0)
			return fail_at(rd, rd->lineno, "expected '{' to start a suppression, not '%.80s'", rd->line);
		if ((rc = next_line(rd)) <= 0)
			goto unterminated;
		if (strcmp(rd->line, "{") == 0 || strcmp(rd->line, "}") == 0)
			return fail_at(rd, rd->lineno, "expected the name of the suppression started on line %u",
				       start);
		s = new_supp(set, path, start, MP_SUPP_MEMCHECK);
		if (!s || !(s->name = strdup(rd->line)))
			return out_of_memory(rd);
		if ((rc = next_line(rd)) <= 0)
			goto unterminated;
		colon = strchr(rd->line, ':');
		if (!colon || colon == rd->line || strcmp(rd->line, "}") == 0)
			return fail_at(rd, rd->lineno, "expected TOOL:KIND (Memcheck:Leak) in suppression '%.80s', "
				       "not '%.80s'", s->name, rd->line);
		leak = names_memcheck(rd->line, (size_t)(colon - rd->line)) && strcmp(colon + 1, "Leak") == 0;
		if (!leak) {
			/* Another tool's or kind's: skip to its end. */
			free_supp(s);
			set->n_supps--;
			while ((rc = next_line(rd)) > 0 && strcmp(rd->line, "}") != 0)
				;
			if (rc <= 0)
				goto unterminated;
			continue;
		}
		if ((rc = next_line(rd)) <= 0)
			goto unterminated;
		if (strncmp(rd->line, "match-leak-kinds:", 17) == 0) {
			char *value = trimmed_dup(rd->line + 17);

			if (!value)
				return out_of_memory(rd);
			if (mp_parse_leak_kinds(value, &s->kinds) < 0) {
				rc = fail_at(rd, rd->lineno, "match-leak-kinds wants definite, indirect, possible, "
					     "reachable (comma-separated), all or none, not '%.80s'", value);
				free(value);
				return rc;
			}
			free(value);
			if ((rc = next_line(rd)) <= 0)
				goto unterminated;
		}
		while (strcmp(rd->line, "}") != 0) {
			if ((rc = add_loc(rd, s)) < 0)
				return rc;
			if ((rc = next_line(rd)) <= 0)
				goto unterminated;
		}
		if (s->n_locs == 0)
			return fail_at(rd, rd->lineno, "suppression '%.80s' has no fun:, obj:, src: or ... line",
				       s->name);
		continue;
	unterminated:
		return rc < 0 ? rc : fail_at(rd, start, "suppression not ended by '}'");
	}
	return rc;
}

static bool is_other_sanitizer_type(const char *type, size_t n)
{
	/* UBSan's types are check names, all with a dash: signed-integer-overflow. */
	if (memchr(type, '-', n))
		return true;
	for (size_t i = 0; i < sizeof(other_sanitizer_types) / sizeof(other_sanitizer_types[0]); i++)
		if (strlen(other_sanitizer_types[i]) == n && strncmp(type, other_sanitizer_types[i], n) == 0)
			return true;
	return false;
}

/* LSan's format: "TYPE:PATTERN" lines; leak: ones are ours, other sanitizers' are skipped. */
static int parse_lsan(struct reader *rd, mp_supp_set_t *set, const char *path)
{
	int rc;

	while ((rc = next_line(rd)) > 0) {
		const char *colon = strchr(rd->line, ':');
		size_t type_len = colon ? (size_t)(colon - rd->line) : 0;
		char *pattern;
		size_t len;
		bool start, end;
		mp_supp_t *s;

		if (!colon || type_len == 0)
			return fail_at(rd, rd->lineno, "expected leak:PATTERN (or '{' for memcheck's format), not "
				       "'%.80s'", rd->line);
		if (type_len != 4 || strncmp(rd->line, "leak", 4) != 0) {
			if (is_other_sanitizer_type(rd->line, type_len))
				continue;
			return fail_at(rd, rd->lineno, "unknown suppression type '%.*s' (expected leak:PATTERN)",
				       (int)(type_len > 80 ? 80 : type_len), rd->line);
		}
		pattern = trimmed_dup(colon + 1);
		if (!pattern)
			return out_of_memory(rd);
		len = strlen(pattern);
		start = len && pattern[0] == '^';
		end = len > (size_t)start && pattern[len - 1] == '$';
		if (len - start - end == 0) {
			free(pattern);
			return fail_at(rd, rd->lineno, "empty pattern in '%.80s'", rd->line);
		}
		s = new_supp(set, path, rd->lineno, MP_SUPP_LSAN);
		if (!s || !(s->name = strdup(rd->line)) || !(s->pattern = malloc(len + 3))) {
			free(pattern);
			return out_of_memory(rd);
		}
		/* Unanchored ends match anywhere: "*CORE*". */
		snprintf(s->pattern, len + 3, "%s%.*s%s", start ? "" : "*", (int)(len - start - end),
			 pattern + start, end ? "" : "*");
		free(pattern);
	}
	return rc;
}

int mp_supp_parse(mp_supp_set_t *set, const char *name, const char *text, size_t n, char *err,
		  size_t err_bytes)
{
	struct reader rd = { .name = name, .text = text, .n = n, .err = err, .err_bytes = err_bytes };
	size_t n_before = set->n_supps;
	char **paths = realloc(set->paths, (set->n_paths + 1) * sizeof(*paths));
	char *path;
	int rc;

	if (!paths)
		return out_of_memory(&rd);
	set->paths = paths;
	path = set->paths[set->n_paths] = strdup(name);
	if (!path)
		return out_of_memory(&rd);
	set->n_paths++;
	/* The first line that says anything decides the format. */
	rc = next_line(&rd);
	if (rc > 0) {
		bool memcheck = strcmp(rd.line, "{") == 0;

		rd.pos = 0;
		rd.lineno = 0;
		rc = memcheck ? parse_memcheck(&rd, set, path) : parse_lsan(&rd, set, path);
	}
	free(rd.line);
	if (rc < 0) {
		while (set->n_supps > n_before)
			free_supp(&set->supps[--set->n_supps]);
		return rc;
	}
	return 0;
}

int mp_supp_load(mp_supp_set_t *set, const char *path, char *err, size_t err_bytes)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *text;
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, err_bytes, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	/* Only regular files: reading a FIFO or a device could block or never end. */
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		snprintf(err, err_bytes, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size > (off_t)MP_SUPP_MAX_FILE_BYTES) {
		fclose(f);
		snprintf(err, err_bytes, "%s: too big for a suppression file (over %u MiB)", path,
			 MP_SUPP_MAX_FILE_BYTES >> 20);
		return -EFBIG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		fclose(f);
		snprintf(err, err_bytes, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(text, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, err_bytes, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
		fclose(f);
		free(text);
		return rc;
	}
	fclose(f);
	rc = mp_supp_parse(set, path, text, n, err, err_bytes);
	free(text);
	return rc;
}

void mp_supp_free(mp_supp_set_t *set)
{
	for (size_t i = 0; i < set->n_supps; i++)
		free_supp(&set->supps[i]);
	for (size_t i = 0; i < set->n_paths; i++)
		free(set->paths[i]);
	free(set->supps);
	free(set->paths);
	memset(set, 0, sizeof(*set));
}

/* --- Matching ------------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool loc_matches(const struct mp_supp_loc *loc, const mp_supp_frame_t *f)
{
	switch (loc->type) {
	case LOC_FUN:
		/* memcheck matches the name as in the module (mangled); the demangled one is
		 * accepted too, so that "fun:ns::Parser::parse*" works. An unknown function is
		 * "???", as in memcheck. */
		return wild(loc->pattern, f->function ? f->function : "???", true) ||
		       (f->demangled && wild(loc->pattern, f->demangled, true));
	case LOC_OBJ:
		return wild(loc->pattern, f->module ? f->module : "???", true);
	case LOC_SRC:
		if (!f->file || (loc->line && loc->line != f->line))
			return false;
		return wild(loc->pattern, f->file, true) || wild(loc->pattern, base_name(f->file), true);
	case LOC_DOTS:
		break;
	}
	return true;
}

/* Whether locs match the start of the stack: each location one frame, "..." any number of
 * frames (also none); frames past the last location do not matter. Resumes after the last
 * "..." only, as wild() does: O(n_locs * n_frames). */
static bool locs_match(const struct mp_supp_loc *locs, size_t n_locs, const mp_supp_frame_t *frames,
		       size_t n_frames)
{
	size_t i = 0, j = 0, star_i = 0, star_j = 0;
	bool star = false;

	while (i < n_locs) {
		if (locs[i].type == LOC_DOTS) {
			star = true;
			star_i = ++i;
			star_j = j;
		} else if (j < n_frames && loc_matches(&locs[i], &frames[j])) {
			i++;
			j++;
		} else if (star && star_j < n_frames) {
			i = star_i;
			j = ++star_j;
		} else {
			return false;
		}
	}
	return true;
}

static bool memcheck_matches(const mp_supp_t *s, const mp_supp_frame_t *frames, size_t n_frames)
{
	/* memcheck's stacks start in the allocator (fun:malloc), memprof's at its caller: leading
	 * lines naming allocators may stand for frames memprof does not have, or for real ones
	 * (a wrapper named like one). */
	for (size_t skip = 0; skip <= s->n_locs; skip++) {
		if (locs_match(s->locs + skip, s->n_locs - skip, frames, n_frames))
			return true;
		if (skip == s->n_locs || !s->locs[skip].names_allocator)
			break;
	}
	return false;
}

static bool lsan_hits(const char *pattern, const char *s) { return s && s[0] && wild(pattern, s, false); }

static bool lsan_matches(const mp_supp_t *s, const mp_supp_frame_t *frames, size_t n_frames)
{
	/* LSan matches any frame's module, function (demangled) or source file. */
	for (size_t i = 0; i < n_frames; i++) {
		const mp_supp_frame_t *f = &frames[i];

		if (lsan_hits(s->pattern, f->module) || lsan_hits(s->pattern, f->file) ||
		    lsan_hits(s->pattern, f->demangled ? f->demangled : f->function))
			return true;
	}
	return false;
}

mp_supp_t *mp_supp_match(const mp_supp_set_t *set, uint32_t kind, const mp_supp_frame_t *frames,
			 size_t n_frames)
{
	for (size_t i = 0; i < set->n_supps; i++) {
		mp_supp_t *s = &set->supps[i];

		if (kind >= 32 || !(s->kinds & MP_LEAK_KIND_BIT(kind)))
			continue;
		if (s->format == MP_SUPP_MEMCHECK ? memcheck_matches(s, frames, n_frames)
						  : lsan_matches(s, frames, n_frames))
			return s;
	}
	return NULL;
}

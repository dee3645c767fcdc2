/* SPDX-License-Identifier: MIT */
/* Short C++ names: see short_name.h. A demangled name is scanned once. At the top level, a
 * '<' opens template arguments, written as "<…>", and a '(' a parameter list, dropped with
 * the qualifiers after it ("const", "&&") unless a nested name follows it ("f(int)::x").
 * What is not an argument list is kept as it is: "(anonymous namespace)", an operator's own
 * characters ("operator<", "operator()", "operator->"), and a lambda's braces (whose
 * parameters are dropped as a function's). The return type that a function template's name
 * begins with goes too ("std::string& std::vector<…>::emplace_back<…>"). */
#include "short_name.h"

#include <stdbool.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 in UTF-8 */

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
		o->buf[o->len++] = s[i];
	o->buf[o->len] = '\0';
}

/* The index just past the bracket that closes the one at s[i] ('<' or '('), counting both
 * kinds, or strlen(s) when it is not closed. */
static size_t skip_group(const char *s, size_t i)
{
	int depth = 0;
	for (; s[i]; i++) {
		if (s[i] == '<' || s[i] == '(')
			depth++;
		else if ((s[i] == '>' || s[i] == ')') && --depth == 0)
			return i + 1;
	}
	return i;
}

static bool ends_with_operator(const struct out *o)
{
	static const char op[] = "operator";
	size_t n = sizeof(op) - 1;
	if (o->len < n || memcmp(o->buf + o->len - n, op, n) != 0)
		return false;
	char before = o->len > n ? o->buf[o->len - n - 1] : ':';
	return !(before == '_' || (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
		 (before >= '0' && before <= '9'));
}

/* The length of an operator's own characters at s ("<<=", "()", "[]", "->*", ...). */
static size_t operator_chars(const char *s)
{
	if ((s[0] == '(' && s[1] == ')') || (s[0] == '[' && s[1] == ']'))
		return 2;
	return strspn(s, "<>=!+-*/%^&|~,");
}

/* Where the name proper begins in a short name: after the last space outside brackets that
 * ends a return type (not one inside "operator new" or before "<…>" or "[clone"). */
static size_t after_return_type(const char *s)
{
	size_t start = 0;
	int depth = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '(' || s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == ')' || s[i] == '}' || s[i] == ']') && depth)
			depth--;
		else if (s[i] == ' ' && !depth && s[i + 1] != '<' && s[i + 1] != '[' &&
			 !(i >= 8 && strncmp(s + i - 8, "operator", 8) == 0))
			start = i + 1;
	}
	return start;
}

void mp_short_name(const char *name, char *buf, size_t buf_bytes)
{
	struct out o = { buf, 0, buf_bytes };
	static const char anon[] = "(anonymous namespace)";
	int braces = 0; /* inside a lambda's or an unnamed type's braces */

	if (!buf_bytes)
		return;
	buf[0] = '\0';
	for (size_t i = 0; name[i];) {
		char c = name[i];
		if (ends_with_operator(&o) && operator_chars(name + i)) {
			size_t n = operator_chars(name + i);
			put(&o, name + i, n);
			i += n;
		} else if (c == '(' && strncmp(name + i, anon, sizeof(anon) - 1) == 0) {
			put(&o, anon, sizeof(anon) - 1);
			i += sizeof(anon) - 1;
		} else if (c == '<') {
			put(&o, "<" ELLIPSIS ">", sizeof(ELLIPSIS) + 1);
			i = skip_group(name, i);
		} else if (c == '(') {
			i = skip_group(name, i);
			if (!braces && strncmp(name + i, "::", 2) != 0)
				break; /* the parameters' qualifiers, a clone's suffix */
		} else {
			braces += c == '{' ? 1 : c == '}' && braces ? -1 : 0;
			put(&o, &c, 1);
			i++;
		}
	}
	size_t start = after_return_type(buf);
	memmove(buf, buf + start, o.len - start + 1);
}

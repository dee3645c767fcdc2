#!/usr/bin/env bash
# The Makefile adds the user's CFLAGS, CPPFLAGS and LDFLAGS to its own flags (a command-line
# CFLAGS=-O0 keeps -std, the include paths and the dependency files), and every object and
# program has a dependency file, so that a changed header rebuilds what includes it.
source "$(dirname "$0")/../lib/lib.sh"
cd "$TOP"
make -n -B CFLAGS=-O0 CPPFLAGS=-DMP_FLAG_TEST LDFLAGS=-Wl,-z,noexecstack BUILD="$T/b" \
	all "$T/b/tests/prog-leak-threads" >"$T/plan.txt"
grep -E '^cc .* -c (preload|src)/' "$T/plan.txt" >"$T/compiles.txt" || fail "no compile lines"
[ "$(wc -l <"$T/compiles.txt")" -gt 20 ] || fail "too few compile lines"
for want in -std=gnu11 -MMD -Isrc -Ipreload -D_GNU_SOURCE -O0 -DMP_FLAG_TEST; do
	n=$(grep -c -e " $want " "$T/compiles.txt" || true)
	[ "$n" = "$(wc -l <"$T/compiles.txt")" ] || fail "$want missing from $(grep -vc -e " $want " "$T/compiles.txt") compile lines"
done
expect_match "^cc -shared .*-Wl,-z,noexecstack .*libmemprof.so" "$T/plan.txt"
expect_match "^cc -Wl,-z,noexecstack -o $T/b/memprof " "$T/plan.txt"
expect_match "^cc .*-MMD .*-DMP_FLAG_TEST -O0 .*-Wl,-z,noexecstack -o $T/b/tests/prog-leak-threads " "$T/plan.txt"
# The build make check made: every object and program has its dependency file, and a header
# changed (-W: as if) rebuilds its users, the CLI's and the library's, and the test programs.
for o in "$BUILD"/preload/*.o "$BUILD"/src/*.o "$BUILD"/tests/prog-leak-threads; do
	[ -e "${o%.o}.d" ] || fail "no dependency file for $o"
done
make -n -W src/snapshot_format.h all >"$T/fmt.txt"
expect_match "-c src/snapshot_read.c" "$T/fmt.txt"
expect_match "-c preload/snapshot.c" "$T/fmt.txt"
make -n -W tests/progs/leak-prog.h "$BUILD/tests/prog-leak-threads" >"$T/prog.txt"
expect_match "-o $BUILD/tests/prog-leak-threads tests/progs/prog-leak-threads.c" "$T/prog.txt"
make -n -W preload/util.h "$BUILD/tests/unit-assert" >"$T/unit.txt"
expect_match "-o $BUILD/tests/unit-assert tests/unit/unit-assert.c" "$T/unit.txt"

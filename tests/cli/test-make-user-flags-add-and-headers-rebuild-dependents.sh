#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Makefile takes the user's CFLAGS, CPPFLAGS and LDFLAGS (command line or environment) in
# addition to its own: every compile line still has -std, -I and -MMD, and the user's flags on
# it; every link line has LDFLAGS. Every file the compiler writes has its .d file, and after a
# header changes, every object, library and test binary that read it is rebuilt and nothing
# else is stale. Done on a copy of the tree, so the build the other tests use is not touched.
source "$(dirname "$0")/../lib/lib.sh"
mkdir src-copy
(cd "$TOP" && tar -cf - Makefile include man memprof.pc.in preload samples src tests/unit tests/progs) |
	tar -xf - -C src-copy
cd src-copy
M="make -s --no-print-directory"
USER_FLAGS=(CFLAGS=-O0 CPPFLAGS=-DMP_TEST_USER_CPPFLAGS LDFLAGS=-Wl,-z,mp-test-ldflags)

# compile_lines FILE: the lines of make -n output FILE that compile a .c or .cc file.
compile_lines() { grep -E '^(cc|gcc|clang|c\+\+|g\+\+) .* [^ ]+\.cc? ' "$1" | grep -v -- '-shared .*\.o ' || true; }
# check_lines FILE WHAT: every compile line in FILE has the project's and the user's flags.
check_lines() {
	local n
	n=$(compile_lines "$1" | wc -l)
	[ "$n" -ge 40 ] || { cat "$1"; fail "$2: only $n compile lines in make -n"; }
	compile_lines "$1" | while read -r line; do
		for want in -std= -MMD -MP -O0 -DMP_TEST_USER_CPPFLAGS; do
			case " $line " in *" $want"*) ;; *) fail "$2: no $want in: $line" ;; esac
		done
		# The user's -O0 comes after the project's -O2 or -O1, so it is the one in force.
		case $line in *" -O0 "*" -O1 "* | *" -O0 "*" -O2 "*) fail "$2: -O0 before the project's -O: $line" ;; esac
	done
	case $(compile_lines "$1" | grep -c -- '-Isrc') in 0) fail "$2: no -Isrc on any compile line" ;; esac
	# Link lines (an -o without -c): LDFLAGS on each.
	grep -E '^(cc|gcc|clang|c\+\+|g\+\+) ' "$1" | grep -v ' -c ' | while read -r line; do
		case $line in *-Wl,-z,mp-test-ldflags*) ;; *) fail "$2: no LDFLAGS on link line: $line" ;; esac
	done
}
$M -n -B BUILD=b "${USER_FLAGS[@]}" check-build >cmdline.txt 2>&1 || { cat cmdline.txt; fail "make -n failed"; }
check_lines cmdline.txt "flags on the command line"
env "${USER_FLAGS[@]}" $M -n -B BUILD=b check-build >environ.txt 2>&1 || { cat environ.txt; fail "make -n failed"; }
check_lines environ.txt "flags in the environment"
# make debug keeps -DMP_DEBUG (MP_ASSERT reads it) with the user's flags added.
$M -n -B CFLAGS=-O0 debug >debug.txt 2>&1 || { cat debug.txt; fail "make -n debug failed"; }
[ "$(compile_lines debug.txt | grep -c -- -DMP_DEBUG)" -ge 20 ] || { cat debug.txt; fail "make debug: no -DMP_DEBUG"; }

# A real build (at -O0, quicker) with the user's flags: every output has its .d file.
$M -j2 BUILD=b CFLAGS=-O0 check-build >build.log 2>&1 || { cat build.log; fail "make check-build failed"; }
# depfile OUT: the dependency file the compiler writes for OUT (-MMD names it after -o, its
# suffix replaced).
depfile() { case ${1##*/} in *.*) echo "${1%.*}.d" ;; *) echo "$1.d" ;; esac; }
n_out=0
for f in b/preload/*.o b/src/*.o b/tests/* b/samples/*; do
	case $f in *.d) continue ;; esac
	[ -f "$f" ] || continue
	n_out=$((n_out + 1))
	[ -s "$(depfile "$f")" ] || fail "$f has no dependency file $(depfile "$f")"
done
[ "$n_out" -ge 60 ] || fail "only $n_out built files"
$M -q BUILD=b CFLAGS=-O0 check-build || fail "a fresh build is not up to date"

# touched HEADER: make -n rebuilds exactly what reads HEADER, directly or not.
touched() {
	local h=$1 src out
	sleep 1 # a new mtime, even on a coarse clock
	touch "$h"
	$M -n BUILD=b CFLAGS=-O0 check-build >rebuild.txt 2>&1 || { cat rebuild.txt; fail "make -n failed"; }
	# Every source that includes the header (by its base name) must be rebuilt.
	for src in $(grep -l "#include \"$(basename "$h")\"" preload/*.c src/*.c tests/unit/*.c tests/progs/*.c samples/*.c); do
		case $src in
		preload/*) out=b/preload/$(basename "$src" .c).o ;;
		src/*) out=b/src/$(basename "$src" .c).o ;;
		tests/*) out=b/tests/$(basename "$src" .c) ;;
		samples/*) out=b/samples/$(basename "$src" .c) ;;
		esac
		grep -q -- "-o $out\( \|$\)" rebuild.txt || { cat rebuild.txt; fail "$h changed, $out (from $src) not rebuilt"; }
	done
	# And a source that does not read it is left alone.
	! grep -q -- "-o b/samples/leaky-parser\( \|$\)" rebuild.txt || fail "$h changed, an unrelated sample rebuilt"
	$M -j2 BUILD=b CFLAGS=-O0 check-build >rebuild.log 2>&1 || { cat rebuild.log; fail "rebuild failed"; }
	$M -q BUILD=b CFLAGS=-O0 check-build || fail "$h changed: still something stale after make"
}
touched src/snapshot_format.h
grep -q -- '-o b/tests/mksnap' rebuild.txt || fail "src/snapshot_format.h changed, the test snapshot writer not rebuilt"
# The preload library's shared-state leaf, which util.h and so nearly every module reads.
touched preload/state.h
grep -q -- '-o b/libmemprof.so' rebuild.txt || fail "preload/state.h changed, libmemprof.so not relinked"
grep -q -- '-o b/tests/unit-live-table ' rebuild.txt || fail "preload/state.h changed, the unit tests not rebuilt"
grep -q -- '-o b/tests/unit-assert ' rebuild.txt || fail "preload/state.h changed, unit-assert (through util.h) not rebuilt"
echo "ok: $n_out outputs with .d files; flags and header changes checked"

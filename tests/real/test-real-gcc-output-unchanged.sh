#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gcc compiling a C file with -O2 -g and linking a program, its children followed
# (MEMPROF_FOLLOW_CHILDREN: the driver, cc1, as, collect2 and ld each write a snapshot): the
# object file is byte for byte the bare one, the program links and runs, a compile error is
# reported the same way with the same exit status, and every snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
need gcc
SRC=$TOP/tests/progs/prog-torture.c
compile() { gcc -O2 -g -Wall -c "$SRC" -o "$T/$1.o"; }
run_capture bare compile bare
MEMPROF_FOLLOW_CHILDREN=1 run_capture prof profile "$T/snap.%p.gz" compile prof
[ "$(cat bare.rc)" = 0 ] || { cat bare.err; fail "gcc fails bare"; }
same_output bare prof
cmp bare.o prof.o || fail "the object file differs from the bare compiler's"
# The driver, cc1 and as: cc1 alone makes tens of thousands of allocations.
check_snapshots 3 20000
for f in "$T"/snap.*.gz; do "$MEMPROF" report --no-symbols "$f" >"$f.txt"; done
grep -l '^program: .*/cc1$' "$T"/snap.*.txt >/dev/null || fail "no snapshot of cc1"

rm -f "$T"/snap.*.gz
printf '#include <stdio.h>\nint main(void) { puts("linked"); return 0; }\n' >hello.c
printf 'int main(void) { return undeclared_thing; }\n' >broken.c
link() { gcc -O1 -o "$T/hello" hello.c && "$T/hello"; }
broken() { gcc -c broken.c -o broken.o; }
run_capture bare link
MEMPROF_FOLLOW_CHILDREN=1 run_capture prof profile "$T/snap.%p.gz" link
same_output bare prof
expect_match '^linked$' prof.out
run_capture bare broken
MEMPROF_FOLLOW_CHILDREN=1 run_capture prof profile "$T/snap.%p.gz" broken
[ "$(cat bare.rc)" = 1 ] || fail "the broken file compiled"
same_output bare prof
check_snapshots 5 1000

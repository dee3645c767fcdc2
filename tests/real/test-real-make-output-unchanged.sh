#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make -j2 on a Makefile of pattern rules, automatic variables, functions ($(foreach),
# $(shell), $(patsubst)) and 12 targets built two at a time by shell recipes (sort, tr, wc),
# with a failing target in a second run; its children followed (make, every sh and every
# command write a snapshot). Output, exit status and the files built are as bare, and every
# snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
need make
cat >Makefile.work <<'EOF2'
N := $(shell seq 1 12)
PARTS := $(foreach n,$(N),part$(n).txt)
all: total.txt
	@cat total.txt
part%.txt:
	@seq $* $$(( $* * 20 )) | sort -r | tr 0-9 a-j > $@
total.txt: $(PARTS)
	@for f in $(sort $(PARTS)); do printf '%s %s\n' "$$f" "$$(wc -l < $$f)"; done > $@
	@echo "$(words $(PARTS)) parts, $(patsubst part%.txt,%,$(firstword $(PARTS)))..$(patsubst part%.txt,%,$(lastword $(PARTS)))" >> $@
broken: total.txt
	@false
EOF2
build_in() { rm -rf "$T/$1" && mkdir "$T/$1" && cp Makefile.work "$T/$1/Makefile" && make -s -j2 -C "$T/$1" --no-print-directory "${@:2}"; }
export LC_ALL=C
run_capture bare build_in bare
MEMPROF_FOLLOW_CHILDREN=1 run_capture prof profile "$T/snap.%p.gz" build_in prof
[ "$(cat bare.rc)" = 0 ] || { cat bare.err; fail "make fails bare"; }
expect_match '^12 parts, 1\.\.12$' bare.out
same_output bare prof
diff -r bare prof || fail "the files built differ from the bare run's"
# make, one sh per recipe and what the recipes run: dozens of processes.
check_snapshots 40 1000

rm -f "$T"/snap.*.gz
run_capture bare build_in bare broken
MEMPROF_FOLLOW_CHILDREN=1 run_capture prof profile "$T/snap.%p.gz" build_in prof broken
[ "$(cat bare.rc)" = 2 ] || { cat bare.err; fail "make broken: exit $(cat bare.rc), expected 2"; }
same_output bare prof
check_snapshots 40 1000

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dlopen, call into the module (it allocates), free, dlclose: 300 times. Output as bare, the
# snapshot adds up, and the module's allocations are all there (300, whatever address each
# load got), still named after the module was unloaded.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
cc -shared -fPIC -O1 -g -o "$T/libplugin-allocates.so" "$TOP/tests/data/plugin-allocates.c"
bare_and_profiled "$T/snap.gz" "$P" dlloop "$T/libplugin-allocates.so" 300
expect_match '^dlopen/dlclose: 300 rounds$' prof.out
check_snapshot "$T/snap.gz"
"$MEMPROF" report --sort allocs --top 1000 snap.gz >r.txt
# Sum the allocs of every site (in the by-allocations list) whose innermost frame is the
# module's plugin_inner.
n=$(awk '/^[A-Z]/ { on = /^TOP SITES BY NUMBER OF ALLOCATIONS/ } !on { next }
	/^#[0-9]+ live/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^allocs/) a = $i; first = 1; next }
	first && /^ +at / { if ($0 ~ /plugin_inner \(plugin-allocates\.c:7\)/) sum += a; first = 0 }
	END { print sum + 0 }' r.txt)
[ "$n" -eq 300 ] || { head -n 60 r.txt; fail "$n allocations attributed to plugin_inner, expected 300"; }

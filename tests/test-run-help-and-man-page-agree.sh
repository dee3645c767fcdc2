#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every option `memprof run --help` lists is documented in the run section of memprof(1),
# and every option that section documents is in the help.
source "$(dirname "$0")/lib.sh"
"$MEMPROF" run --help | grep -oE '^  (-h, )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u >help.txt
# The tag line after each .TP of that section names the option.
sed -n '/^\.SS "memprof run/,/^\.SS "memprof report/p' "$TOP/man/memprof.1" |
	awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }' | grep -oE '\\-\\-[a-z\\-]+' |
	sed 's/\\//g' | sort -u >man.txt
[ "$(wc -l <help.txt)" -ge 5 ] || { cat help.txt; fail "too few options in the help"; }
grep -qx -- --report help.txt || fail "memprof run --help does not list --report"
diff -u help.txt man.txt || fail "memprof run --help and memprof(1) list different options"

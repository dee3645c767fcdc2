#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every option `memprof report --help` lists is documented in the report section of
# memprof(1), and every option that section documents is in the help.
source "$(dirname "$0")/lib.sh"
"$MEMPROF" report --help | grep -oE '^  (-h, )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u >help.txt
# The tag line after each .TP of that section names the option.
sed -n '/^\.SS "memprof report/,/^\.SS "JSON output"/p' "$TOP/man/memprof.1" |
	awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }' | grep -oE '\\-\\-[a-z\\-]+' |
	sed 's/\\//g' | sort -u >man.txt
[ "$(wc -l <help.txt)" -ge 8 ] || { cat help.txt; fail "too few options in the help"; }
diff -u help.txt man.txt || fail "memprof report --help and memprof(1) list different options"

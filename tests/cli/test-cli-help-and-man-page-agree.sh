#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# For each command (run, report, diff, trend), every option `memprof CMD --help` lists is
# documented in that command's section of memprof(1), and every option the section documents
# is in the help.
source "$(dirname "$0")/../lib/lib.sh"
# check CMD NEXT_SECTION MIN_OPTIONS: NEXT_SECTION is the .SS title that ends CMD's section.
check() {
	local cmd=$1 next=$2 min=$3
	"$MEMPROF" "$cmd" --help | grep -oE '^  (-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u >help-$cmd.txt
	# The tag line after each .TP of the section names the option.
	sed -n "/^\\.SS \"memprof $cmd/,/^\\.SS \"$next/p" "$TOP/man/memprof.1" |
		awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }' | grep -oE '\\-\\-[a-z\\-]+' |
		sed 's/\\//g' | sort -u >man-$cmd.txt
	[ "$(wc -l <help-$cmd.txt)" -ge "$min" ] || { cat help-$cmd.txt; fail "too few options in memprof $cmd --help"; }
	diff -u help-$cmd.txt man-$cmd.txt || fail "memprof $cmd --help and memprof(1) list different options"
}
check run "memprof report" 5
grep -qx -- --report help-run.txt || fail "memprof run --help does not list --report"
check report "JSON output" 8
check export "memprof diff" 3
check diff "memprof trend" 6
check trend "memprof help" 6
check check "memprof export" 10

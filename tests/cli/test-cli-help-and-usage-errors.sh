#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof --help / help / COMMAND --help describe every command and option on stdout with
# exit 0; --version prints 0.1.0; unknown commands and options and bad arguments are usage
# errors: exit 2 and one "memprof: " line on stderr.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

"$MEMPROF" --help >help.txt
for word in 'run \[OPTIONS\] -- PROGRAM' 'report \[OPTIONS\] SNAPSHOT' 'help \[COMMAND\]' '--version' \
	'memprof\(1\)' 'libmemprof\(3\)' 'memprof-snapshot\(5\)'; do
	expect_match "$word" help.txt
done
"$MEMPROF" -h | diff -u help.txt - || fail "-h differs from --help"
"$MEMPROF" help | diff -u help.txt - || fail "help differs from --help"

"$MEMPROF" run --help >run.txt
"$MEMPROF" help run | diff -u run.txt - || fail "help run differs from run --help"
for word in '^Usage: memprof run \[OPTIONS\] -- PROGRAM \[ARGS\.\.\.\]' '--output PATTERN' 'MEMPROF_OUTPUT' \
	'--depth N' 'MEMPROF_DEPTH' '--follow-children' 'MEMPROF_FOLLOW_CHILDREN=1' 'MEMPROF_LIB' '--help'; do
	expect_match "$word" run.txt
done
"$MEMPROF" report --help >report.txt
"$MEMPROF" help report | diff -u report.txt - || fail "help report differs from report --help"
for word in '^Usage: memprof report \[OPTIONS\] SNAPSHOT' '--top N' '--frames N' '--help'; do
	expect_match "$word" report.txt
done

for cmd in diff trend; do
	"$MEMPROF" $cmd --help >$cmd.txt
	"$MEMPROF" help $cmd | diff -u $cmd.txt - || fail "help $cmd differs from $cmd --help"
	for word in '--top N' '--frames N' '--no-symbols' '--format FORMAT' '--help'; do
		expect_match "$word" $cmd.txt
	done
done
expect_match '^Usage: memprof diff \[OPTIONS\] OLD NEW' diff.txt
expect_match '^Usage: memprof trend \[OPTIONS\] SNAPSHOT\.\.\.' trend.txt
expect_match 'diff \[OPTIONS\] OLD NEW' help.txt
expect_match 'trend \[OPTIONS\] SNAPSHOT\.\.\.' help.txt

[ "$("$MEMPROF" --version)" = "memprof 0.1.0" ] || fail "--version: $("$MEMPROF" --version)"

# No command: usage on stderr, exit 2.
rc=0; "$MEMPROF" >out.txt 2>usage.txt || rc=$?
[ $rc -eq 2 ] && [ ! -s out.txt ] || fail "memprof without arguments: exit $rc"
expect_match '^Usage: memprof COMMAND' usage.txt

expect_error "unknown command 'frobnicate'" "$MEMPROF" frobnicate
expect_error "unknown option '--frobnicate'" "$MEMPROF" --frobnicate
expect_error "no help for unknown command 'frobnicate'" "$MEMPROF" help frobnicate
expect_error "help: too many arguments" "$MEMPROF" help run report
expect_error "report: unknown option '--frobnicate'" "$MEMPROF" report --frobnicate x.gz
expect_error "report: unknown option '-x'" "$MEMPROF" report -x x.gz
expect_error "report: option '--top' needs an argument" "$MEMPROF" report --top
expect_error "report: no snapshot given" "$MEMPROF" report
expect_error "report: give exactly one snapshot" "$MEMPROF" report a.gz b.gz
for bad in -1 x 1x '' 99999999999999999999; do
	expect_error "report: --top wants a number from 0 to 1000000, not '$bad'" "$MEMPROF" report --top "$bad" x.gz
done
expect_error "report: --frames wants a number from 0 to 1024, not '1025'" "$MEMPROF" report --frames 1025 x.gz
expect_error "report: --show-below-main wants yes or no, not 'maybe'" "$MEMPROF" report --show-below-main=maybe x.gz
expect_error "diff: --show-below-main wants yes or no, not 'maybe'" "$MEMPROF" diff --show-below-main=maybe x.gz y.gz
expect_error "run: unknown option '--frobnicate'" "$MEMPROF" run --frobnicate -- true
expect_error "run: option '--depth' needs an argument" "$MEMPROF" run --depth
expect_error "run: no program given" "$MEMPROF" run
expect_error "run: no program given" "$MEMPROF" run --depth 3 --
for bad in 0 257 x -3; do
	expect_error "run: --depth wants a number from 1 to 256, not '$bad'" "$MEMPROF" run --depth "$bad" -- true
done
expect_error "run: --output wants a non-empty file name pattern" "$MEMPROF" run --output '' -- true

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Colours where they help, on a terminal only: check's PASS green and FAIL red, report's
# lost kinds red; none when the output is piped, and none with NO_COLOR set.
source "$(dirname "$0")/../lib/lib.sh"
command -v script >/dev/null || skip "script(1) is not installed (util-linux)"
"$MEMPROF" run --output "$T/s.gz" -- "$SAMPLES/leaky-parser" >/dev/null 2>&1 || fail "cannot profile the sample"
# tty CMD: CMD's output as on a terminal (script(1) gives it a pseudo-terminal).
tty() { script -qec "$*" /dev/null | tr -d '\r'; }
esc=$'\033'
tty "'$MEMPROF' check --no-symbols '$T/s.gz'" >tty-check.txt || true
grep -q "${esc}\[1;31mFAIL${esc}\[0m" tty-check.txt || { cat -v tty-check.txt; fail "check's FAIL not red on a terminal"; }
tty "'$MEMPROF' check --no-symbols --fail-on none '$T/s.gz'" >tty-pass.txt
grep -q "${esc}\[32mPASS${esc}\[0m" tty-pass.txt || { cat -v tty-pass.txt; fail "check's PASS not green on a terminal"; }
tty "'$MEMPROF' report --no-symbols '$T/s.gz'" >tty-report.txt
grep -q "are ${esc}\[31mdefinitely lost${esc}\[0m in loss record" tty-report.txt ||
	{ cat -v tty-report.txt | head -30; fail "report's definitely lost not red on a terminal"; }
tty "NO_COLOR=1 '$MEMPROF' check --no-symbols '$T/s.gz'" >nc-check.txt || true
tty "NO_COLOR=1 '$MEMPROF' report --no-symbols '$T/s.gz'" >nc-report.txt
"$MEMPROF" check --no-symbols s.gz >piped-check.txt || true
"$MEMPROF" report --no-symbols s.gz >piped-report.txt
for f in nc-check.txt nc-report.txt piped-check.txt piped-report.txt; do
	[ -s $f ] || fail "$f is empty"
	! grep -q "$esc" $f || { cat -v $f | head; fail "$f has colour codes"; }
done

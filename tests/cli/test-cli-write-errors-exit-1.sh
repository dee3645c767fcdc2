#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Output that cannot be written (a full disk: /dev/full) is one line on stderr naming the
# command, and exit status 1 for report, export, diff and trend, as their --help and
# memprof(1) say; 2 for check, whose 1 means that a rule failed.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
[ -w /dev/full ] || skip "no /dev/full"

mksnap_gz full full.gz
mksnap_gz diff-old old.gz
mksnap_gz diff-new new.gz
for k in 1 2 3; do mksnap_gz "series-$k" "s$k.gz"; done

# write_fails RC REGEX CMD...: CMD with stdout on /dev/full exits RC with one line on stderr.
write_fails() {
	local want=$1 regex=$2 rc=0
	shift 2
	"$@" >/dev/full 2>err.txt || rc=$?
	[ "$rc" -eq "$want" ] || { cat err.txt; fail "$* >/dev/full exited $rc, not $want"; }
	[ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt; fail "$* >/dev/full: not one line on stderr"; }
	expect_match "^memprof: $regex: No space left on device$" err.txt
}
write_fails 1 'cannot write the report' "$MEMPROF" report full.gz
write_fails 1 'export: cannot write the output' "$MEMPROF" export --format folded full.gz
write_fails 1 'diff: cannot write the output' "$MEMPROF" diff old.gz new.gz
write_fails 1 'trend: cannot write the output' "$MEMPROF" trend s1.gz s2.gz s3.gz
write_fails 2 'check: cannot write the output' "$MEMPROF" check --fail-on none full.gz

# And their help says so.
for cmd in report export diff trend; do
	"$MEMPROF" "$cmd" --help | tr '\n' ' ' >help.txt
	expect_match 'Exit status: 0, 1 if the output could not be written, 2 on' help.txt
done
exit 0

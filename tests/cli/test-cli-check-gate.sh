#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof check, the CI gate: exit 0 when every rule holds, 1 when one fails (naming the rule
# and the loss records or sites that broke it), 2 on a usage error or an unreadable snapshot;
# the default rule fails on definitely and indirectly lost bytes; --max-leaked, --max-peak,
# --max-in-use with K/M/G sizes, --baseline with --max-growth, suppressions in memcheck's and
# LSan's formats; JSON and JUnit XML output that parse; memprof run --check exits with the
# program's status when the gate passes and --error-exitcode when it fails.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz full full.gz   # 4,096 definitely + 2,000,000 indirectly lost; in use 3,010,248; peak 3,500,000
mksnap_gz valid valid.gz # no leak scan

# gate RC ARGS...: memprof check ARGS... must exit RC; its output is in gate.out.
gate() {
	local want=$1 rc=0
	shift
	"$MEMPROF" check "$@" >gate.out 2>gate.err || rc=$?
	[ "$rc" -eq "$want" ] || { cat gate.out gate.err; fail "memprof check $* exited $rc, not $want"; }
}

gate 1 full.gz
expect_match '^FAIL full\.gz leaks: definite\+indirect: 2,004,096 bytes \(limit 0\)$' gate.out
expect_match '^2,004,096 \(4,096 direct, 2,000,000 indirect\) bytes in 4 blocks are definitely lost$' gate.out
expect_match '^2,000,000 bytes in 2 blocks are indirectly lost$' gate.out
expect_no_match 'possibly lost|still reachable' gate.out
expect_match '^memprof check: 0 of 1 snapshots passed$' gate.out
gate 0 --max-leaked 2004096 full.gz
gate 1 --max-leaked 2004095 full.gz
gate 0 --max-leaked 2M full.gz
gate 1 --fail-on definite,indirect,possible full.gz
expect_match 'definite\+indirect\+possible: 3,004,096 bytes' gate.out
gate 1 --fail-on all --max-leaked 3010239 full.gz
gate 0 --fail-on all --max-leaked 3010240 full.gz  # all four kinds, glibc's own 8 bytes not counted
# Loss records whose bytes add up past 2^64 must not wrap around to a sum under the limit.
mksnap_gz leak-bytes-wrap wrap.gz
gate 1 --max-leaked 1T wrap.gz
expect_match '^FAIL wrap\.gz leaks: definite\+indirect: 18,446,744,073,709,551,615 bytes' gate.out

gate 0 --fail-on none --max-in-use 3010248 --max-peak 3500000 full.gz
gate 1 --fail-on none --max-in-use 2M full.gz
expect_match '^FAIL full\.gz max-in-use: in use: 3,010,248 bytes \(limit 2,097,152\)$' gate.out
expect_match '^largest sites by live bytes at the end:$' gate.out
gate 1 --fail-on none --max-peak 3499999 full.gz
expect_match '^FAIL full\.gz max-peak: peak: 3,500,000 bytes' gate.out
# Named by the sites at the peak (PEAK), not those still live at the end: trace 1 held
# 379,904 bytes then and 10,240 at the end.
expect_match '^largest sites at the peak:$' gate.out
expect_match '^379,904 bytes in 371 blocks$' gate.out
expect_no_match 'at the end' gate.out
gate 0 --fail-on none valid.gz
expect_match '^PASS valid\.gz: no rule to check$' gate.out

# Suppressions: every lost record of mksnap's snapshot has its innermost frame in /usr/bin/leaky.
printf '{\n   all-leaky\n   Memcheck:Leak\n   match-leak-kinds: definite,indirect\n   obj:/usr/bin/leaky\n   ...\n}\n' >leaky.supp
gate 0 --suppressions leaky.supp full.gz
printf 'leak:libc.so.6\n' >lsan.supp   # the definite record only: its stack passes through libc
gate 1 --suppressions lsan.supp full.gz
expect_match 'definite\+indirect: 2,000,000 bytes' gate.out

# Growth against a baseline: mksnap's snapshot against a small real run.
profile base.gz "$SAMPLES/leaky-parser" >/dev/null || fail "leaky-parser failed under the profiler"
gate 0 --fail-on none --baseline full.gz --max-growth 0 full.gz
# Above 2^53 bytes a double is not exact: the same figures must still pass --max-growth 0.
mksnap_gz totals-above-2-53 big.gz
gate 0 --fail-on none --baseline big.gz --max-growth 0 big.gz
gate 1 --fail-on none --baseline base.gz --max-growth 50% full.gz
expect_match '^FAIL full\.gz growth-in-use: in use vs baseline: 3,010,248 bytes' gate.out
expect_match '^FAIL full\.gz growth-peak: peak vs baseline: 3,500,000 bytes' gate.out

# Many snapshots with few descriptors: each snapshot's module files are closed once its part
# of the output is written (a long --interval run outnumbered the descriptors, and the later
# snapshots lost their symbols).
for i in $(seq 1 16); do cp base.gz "many.$i.gz"; done
(ulimit -n 12; "$MEMPROF" check --fail-on none --max-peak 1 many.*.gz >gate.out 2>gate.err) || true
expect_match '^memprof check: 0 of 16 snapshots passed$' gate.out
[ "$(grep -c '^FAIL many\.[0-9]*\.gz max-peak' gate.out)" -eq 16 ] || fail "not every snapshot was checked"
expect_no_match 'leaky-parser\+0x' gate.out
[ "$(grep -c 'leaky-parser\.c:' gate.out)" -ge 16 ] || { cat gate.out; fail "frames without symbols"; }

gate 1 --format junit full.gz valid.gz --fail-on none --max-in-use 1K
python3 - gate.out <<'PY' || fail "the JUnit output is not the XML it should be"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites" and root.get("failures") == "2", root.attrib
cases = root.findall("./testsuite/testcase")
assert [c.get("name") for c in cases] == ["full.gz", "valid.gz"]
assert all(len(c.findall("failure")) == 1 for c in cases)
assert cases[0].find("failure").get("type") == "max-in-use"
PY
gate 1 --format json full.gz
python3 - gate.out <<'PY' || fail "the JSON output is not what it should be"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] is False
rule = d["snapshots"][0]["rules"][0]
assert rule["rule"] == "leaks" and rule["value"] == 2004096 and rule["limit"] == 0
assert sorted(r["bytes"] for r in rule["loss_records"]) == [4096, 2000000]
PY

# A file name that is not UTF-8 still gives valid JSON.
cp full.gz "$(printf 'f\xffll.gz')"
gate 1 --format json "$(printf 'f\xffll.gz')"
python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' gate.out ||
	fail "check --format json is not valid JSON for a file name that is not UTF-8"

expect_error 'valid\.gz: no leak scan in this snapshot' "$MEMPROF" check valid.gz
expect_error "check: --max-peak wants a size in bytes \\(with K, M or G\\), not '12Q'" "$MEMPROF" check --max-peak 12Q full.gz
expect_error "check: --fail-on wants all, none or a comma list" "$MEMPROF" check --fail-on lost full.gz
# strtoull() takes blanks and a sign: " -1" must not become a limit of 2^64 - 1 bytes.
expect_error "check: --max-peak wants a size in bytes \\(with K, M or G\\), not ' -1'" "$MEMPROF" check --max-peak ' -1' full.gz
expect_error "check: --max-in-use wants a size in bytes \\(with K, M or G\\), not ' 5M'" "$MEMPROF" check --max-in-use ' 5M' full.gz
expect_error 'check: --baseline and --max-growth go together' "$MEMPROF" check --baseline full.gz full.gz
expect_error 'check: no snapshot given' "$MEMPROF" check
expect_error "check: --format wants text, json or junit, not 'xml'" "$MEMPROF" check --format xml full.gz
expect_error 'cannot open missing\.gz' "$MEMPROF" check full.gz missing.gz

# memprof run --check: the program's status when the gate passes, --error-exitcode when not.
cat >prog.c <<'END'
#include <stdlib.h>
int main(int argc, char **argv)
{
	char *p = malloc(100000);
	p[0] = 1;
	return argc > 1 ? atoi(argv[1]) : 0;
}
END
cc -O0 -g -o prog prog.c
rc=0; "$MEMPROF" run --fail-on none --max-in-use 1M -- ./prog 3 >run.out 2>run.err || rc=$?
[ "$rc" -eq 3 ] || { cat run.err; fail "run --check that passes exited $rc, not the program's 3"; }
expect_match '^PASS .* max-in-use: in use: 100,000 bytes' run.err
rc=0; "$MEMPROF" run --check --fail-on none --max-in-use 10K -- ./prog 3 >run.out 2>run.err || rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "run --check that fails exited $rc, not 1"; }
expect_match '^FAIL .* max-in-use' run.err
rc=0; "$MEMPROF" run --error-exitcode 42 --fail-on none --max-in-use 10K -- ./prog 0 >run.out 2>run.err || rc=$?
[ "$rc" -eq 42 ] || { cat run.err; fail "run --check --error-exitcode 42 exited $rc"; }
[ ! -s run.out ] || fail "run --check printed on the program's standard output"
# Real programs under run --check: leaking, suppressed, clean (still reachable is not a
# leak by default), over budget.
rc=0; "$MEMPROF" run --check -- "$SAMPLES/leaky-parser" >run.out 2>run.err || rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "run --check on a leaking program exited $rc, not 1"; }
expect_match '^FAIL .* leaks: definite\+indirect: 144 bytes \(limit 0\)$' run.err
expect_match 'are definitely lost' run.err
expect_match 'remember_include \(leaky-parser\.c:[0-9]+\)' run.err
printf 'leak:remember_include\n' >parser.supp
rc=0; "$MEMPROF" run --suppressions parser.supp -- "$SAMPLES/leaky-parser" >run.out 2>run.err || rc=$?
[ "$rc" -eq 0 ] || { cat run.err; fail "run --check with the leak suppressed exited $rc, not 0"; }
rc=0; "$MEMPROF" run --check -- "$SAMPLES/reachable-cache" >run.out 2>run.err || rc=$?
[ "$rc" -eq 0 ] || { cat run.err; fail "run --check on a program with only reachable blocks exited $rc"; }
rc=0; "$MEMPROF" run --fail-on all -- "$SAMPLES/reachable-cache" >run.out 2>run.err || rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "run --fail-on all on reachable blocks exited $rc, not 1"; }
rc=0; "$MEMPROF" run --max-in-use 4K -- "$SAMPLES/reachable-cache" >run.out 2>run.err || rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "run --max-in-use 4K on 4,512 bytes in use exited $rc, not 1"; }
expect_match '^FAIL .* max-in-use: in use: 4,512 bytes \(limit 4,096\)$' run.err

# Periodic snapshots are not checked by run --check: the rules are about how the run ended.
cat >slow.c <<'END'
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	for (int i = 0; i < 30; i++) {
		free(malloc(64));
		usleep(10000);
	}
	return 0;
}
END
cc -O0 -g -o slow slow.c
rc=0; "$MEMPROF" run --interval 50ms --output "$T/slow.%n.gz" --fail-on none --max-in-use 1K -- ./slow >run.out 2>run.err || rc=$?
[ "$rc" -eq 0 ] || { cat run.err; fail "run --check with --interval exited $rc"; }
expect_match 'memprof check: 1 of 1 snapshots passed \([0-9]+ taken while the program ran not checked\)' run.err
# A program that leaves only snapshots taken while it ran (it execs another, unprofiled with
# MEMPROF_FOLLOW_EXEC=0): nothing says how the run ended, so the gate does not pass.
cat >execer.c <<'END'
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	for (int i = 0; i < 30; i++) {
		free(malloc(64));
		usleep(10000);
	}
	execl("/bin/true", "true", (char *)0);
	return 1;
}
END
cc -O0 -o execer execer.c
rc=0; MEMPROF_FOLLOW_EXEC=0 "$MEMPROF" run --check --interval 50ms --output "$T/ex.%n.gz" -- ./execer >run.out 2>run.err || rc=$?
[ "$rc" -eq 1 ] || { cat run.err; fail "run --check with only running snapshots exited $rc, not 1"; }
expect_match '^memprof: check: no snapshot taken as the program ended, only while it ran$' run.err
# Followed (the default), the exec'd true writes the final snapshot, numbered on from the
# execer's (none is written over), and the gate judges it.
rm -f ex.*.gz
rc=0; "$MEMPROF" run --check --interval 50ms --output "$T/ex.%n.gz" -- ./execer >run.out 2>run.err || rc=$?
[ "$rc" -eq 0 ] || { cat run.err; fail "run --check of the followed exec exited $rc, not 0"; }
n=$(grep -c 'snapshot written to' run.err)
[ "$(ls ex.*.gz | wc -l)" -eq "$n" ] || { cat run.err; ls; fail "a snapshot was written over (same %n twice)"; }
expect_match "^PASS $T/ex\.$((n - 1))\.gz leaks" run.err
expect_error "run: --error-exitcode wants a number from 1 to 255, not '0'" "$MEMPROF" run --error-exitcode 0 -- ./prog
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof run --check --junit FILE (and --json FILE) in one step: one test case per process,
# named from its command line (or --name), never from the pid, so two runs give the same
# names; a fork child killed by SIGTERM is reported, skipped, and does not fail a gate that
# the program's own status passes (it did: no leak scan, exit 1); loss records come definite
# first, then the indirect ones it owns, as memcheck lists kinds.
source "$(dirname "$0")/../lib/lib.sh"
cat >forky.c <<'EOC'
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	void *volatile p = malloc(10);
	free(p);
	for (int i = 0; i < 2; i++) {
		pid_t c = fork();
		if (c == 0) {
			if (i == 1)
				raise(SIGTERM);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	return 0;
}
EOC
cc -O1 -o forky forky.c || fail "cannot build the test program"
for k in 1 2; do
	rc=0
	"$MEMPROF" run --check --junit "$T/j$k.xml" --json "$T/j$k.json" -- ./forky >out$k.txt 2>err$k.txt || rc=$?
	[ $rc = 0 ] || { cat err$k.txt; fail "run $k: a killed fork child failed the gate (status $rc)"; }
	expect_match '^NOTE .*: not checked: process [0-9]+ was killed by SIGTERM$' err$k.txt
	expect_match '^memprof check: 2 of 2 snapshots passed \(1 of processes killed by a signal, not checked\)$' err$k.txt
done
python3 - j1.xml j2.xml j1.json <<'PY' || fail "the JUnit or JSON output is not what it should be"
import json, sys, xml.etree.ElementTree as ET
names = []
for f in sys.argv[1:3]:
    root = ET.parse(f).getroot()
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "0" and suite.get("skipped") == "1", suite.attrib
    cases = suite.findall("testcase")
    names.append([c.get("name") for c in cases])
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(skipped) == 1 and "SIGTERM" in skipped[0].find("skipped").get("message")
assert names[0] == names[1], names
assert sorted(names[0]) == ["./forky", "./forky (fork child)", "./forky (fork child) #2"], names[0]
d = json.load(open(sys.argv[3]))
assert d["passed"] is True
assert sorted(s["name"] for s in d["snapshots"]) == sorted(names[0])
assert sum(1 for s in d["snapshots"] if s.get("killed_by") == "SIGTERM") == 1
PY
"$MEMPROF" run --check --name unit-tests --junit "$T/n.xml" -- ./forky >/dev/null 2>&1 || fail "run --name failed"
python3 - n.xml <<'PY' || fail "--name is not the test cases' name"
import sys, xml.etree.ElementTree as ET
names = sorted(c.get("name") for c in ET.parse(sys.argv[1]).getroot().iter("testcase"))
assert names == ["unit-tests", "unit-tests (fork child)", "unit-tests (fork child) #2"], names
PY
# Snapshots taken while the program ran (--interval) are no test cases, and do not change the
# names: the one that counts is named as without them.
"$MEMPROF" run --check --interval 20ms --junit "$T/iv.xml" -- sh -c 'sleep 0.3' >/dev/null 2>iv.txt ||
	{ cat iv.txt; fail "run --check --interval failed"; }
python3 - iv.xml <<'PY' || fail "--interval snapshots became test cases"
import sys, xml.etree.ElementTree as ET
names = [c.get("name") for c in ET.parse(sys.argv[1]).getroot().iter("testcase")]
assert names == ["sh -c sleep 0.3"], names
PY
# A killed program leaves no file of an earlier run: a failed test case says why.
echo STALE >k.xml
"$MEMPROF" run --check --junit "$T/k.xml" -- sh -c 'kill -SEGV $$' >/dev/null 2>&1 && fail "a killed program exited 0"
python3 - k.xml <<'PY' || fail "the killed program's JUnit file is not a failure saying why"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
f = root.find("./testsuite/testcase/failure")
assert root.get("failures") == "1" and f is not None and "SIGSEGV" in f.get("message"), ET.tostring(root)
PY
# Loss records: definite ones first, though the indirect record their children make (10 x
# 1,000 bytes from one call stack) is larger than any of them (16 + 1,000 bytes each).
cat >owners.c <<'EOC'
#include <stdlib.h>
void *volatile keep;
static void *kids[10];
__attribute__((noinline)) static void make_kids(void)
{
	for (int i = 0; i < 10; i++)
		kids[i] = malloc(1000); /* one call stack for all ten */
}
#define ROOT(n) __attribute__((noinline)) static void root##n(void) \
	{ void **r = malloc(16); keep = r; *r = kids[n]; kids[n] = 0; keep = 0; }
ROOT(0) ROOT(1) ROOT(2) ROOT(3) ROOT(4) ROOT(5) ROOT(6) ROOT(7) ROOT(8) ROOT(9)
int main(void)
{
	make_kids();
	root0(); root1(); root2(); root3(); root4(); root5(); root6(); root7(); root8(); root9();
	return 0;
}
EOC
cc -O1 -g -o owners owners.c || fail "cannot build owners.c"
rc=0
"$MEMPROF" run --check --fail-on definite,indirect -- ./owners >/dev/null 2>lp.txt || rc=$?
[ $rc = 1 ] || { cat lp.txt; fail "owners passed the gate"; }
kinds=$(sed -nE 's/.* are (definitely|indirectly) lost.*/\1/p' lp.txt | uniq | tr '\n' ' ')
[ "$kinds" = "definitely indirectly " ] || { cat lp.txt; fail "loss records not definite first: $kinds"; }
expect_match '^10,000 bytes in 10 blocks are indirectly lost' lp.txt

#!/usr/bin/env bash
# memprof_leak_check() (include/memprof.h) scans at once, writes a snapshot of reason
# leak-check holding the result, and returns the bytes definitely and indirectly lost: the
# same as memcheck's figures at exit (the program changes nothing after the call) and as the
# snapshot's. Without the library the call returns -1 and the program runs as usual.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/leak-lib.sh"
prog=$TESTBIN/prog-leak-cases

"$prog" api >bare.out || fail "the program failed without the library"
expect_match "^memprof_leak_check: -1$" bare.out

MEMPROF_OUTPUT=$PWD/snap.%n.gz LD_PRELOAD=$LIBMEMPROF "$prog" api >mp.out 2>mp.err || { cat mp.err; fail "run failed"; }
returned=$(sed -n 's/^memprof_leak_check: //p' mp.out)
[ -s snap.0.gz ] && [ -s snap.1.gz ] || fail "expected two snapshots (leak check, exit): $(ls)"
"$MEMPROF" report snap.0.gz >r0.txt
expect_match "^reason: *leak.check" r0.txt
report_figures snap.0.gz at_call.txt
report_figures snap.1.gz at_exit.txt
vg_figures vg.txt "$prog" api
read -r _ d _ _ i _ _ <at_call.txt
[ "$returned" = $((d + i)) ] || fail "returned $returned, the snapshot says $d definite + $i indirect"
diff vg.txt at_call.txt || fail "the leak check's figures differ from memcheck's"
diff vg.txt at_exit.txt || fail "the exit scan's figures differ from memcheck's"
[ "$returned" -gt 0 ] || fail "the program leaks, yet the call returned $returned"
echo "ok: returned $returned = memcheck's definite + indirect ($(cat vg.txt))"

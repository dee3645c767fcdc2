#!/usr/bin/env bash
# MEMPROF_LEAK_CHECK=0 (or no, off) turns the exit scan off: the final snapshot has no LEAKS
# section. By default the exit snapshot has one.
source "$(dirname "$0")/../lib/lib.sh"
for v in 0 no off; do
	MEMPROF_LEAK_CHECK=$v profile off.gz "$TESTBIN/prog-leak-cases" global
	"$MEMPROF" report off.gz >off.txt
	expect_no_match "LEAK SUMMARY" off.txt
done
profile on.gz "$TESTBIN/prog-leak-cases" global
"$MEMPROF" report on.gz >on.txt
expect_match "LEAK SUMMARY" on.txt
expect_match "definitely lost: 600 bytes in 1 blocks" on.txt

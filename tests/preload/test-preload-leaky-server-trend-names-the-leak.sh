#!/usr/bin/env bash
# End to end on samples/leaky-server: periodic snapshots of a running server, and memprof
# trend over them names the slow leak (copy_upload_metadata, on the upload path) as a suspect
# and not the response cache, which grows for most of the run and is then released.
source "$(dirname "$0")/../lib/lib.sh"
MEMPROF_INTERVAL=200ms MEMPROF_OUTPUT="$T/server.%n.gz" "$MEMPROF" run -- "$SAMPLES/leaky-server" 3 >out.txt 2>err.txt ||
	{ cat err.txt; fail "leaky-server failed under memprof run"; }
expect_match '^leaky-server: .* all released$' out.txt
n=$(ls "$T"/server.*.gz | wc -l)
[ "$n" -ge 5 ] || { ls "$T"; fail "$n snapshots"; }
"$MEMPROF" trend "$T"/server.*.gz >trend.txt 2>trend-err.txt || { cat trend-err.txt; fail "memprof trend failed"; }
sed -n '/^LEAK SUSPECTS/,$p' trend.txt | sed '/^[0-9]* other site/,$d' >suspects.txt
sed -n '/^#1 /,/^$/p' suspects.txt >first.txt
expect_match 'copy_upload_metadata \(leaky-server\.c:[0-9]+\)' first.txt
expect_no_match 'cache_store' suspects.txt
# ... though the cache was the biggest site while it grew (the second snapshot, at 0.4 s of 3).
"$MEMPROF" report --sort live --top 1 "$T/server.1.gz" >early.txt
expect_match 'cache_store \(leaky-server\.c:[0-9]+\)' early.txt
exit 0

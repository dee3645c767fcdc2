#!/usr/bin/env bash
# A vfork child shares its parent's memory and TLS; its _exit (through the profiler's hook)
# must leave them as they were: the parent goes on being profiled, and only it writes.
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/snap.%p.gz" "$TESTBIN/prog-process-life" vfork || fail "exit status changed"
n=$(find "$T" -name 'snap.*.gz' | wc -l)
[ "$n" -eq 1 ] || fail "expected 1 snapshot (the parent's), found $n"
"$MEMPROF" report --sort live --no-symbols "$T"/snap.*.gz >r.txt
expect_match 'live 100,000 bytes in 1,000 blocks' r.txt

#!/usr/bin/env bash
# glibc frees a thread's strerror buffer after the thread's key destructors ran; that late
# free must not take a fresh per-thread state (hundreds of KiB each) that is never given back.
# 500 such threads, one after another, may not grow the resident set by more than 40 MB.
source "$(dirname "$0")/../lib/lib.sh"
profile "$T/snap.gz" "$TESTBIN/prog-process-life" thread-exit >out.txt || fail "exit status changed"
kb=$(sed -n 's/^VmRSS grew by \(-*[0-9]*\) kB$/\1/p' out.txt)
[ -n "$kb" ] || { cat out.txt; fail "no VmRSS line"; }
[ "$kb" -lt 40000 ] || fail "VmRSS grew by $kb kB over 500 threads: thread states leak"
"$MEMPROF" report --no-symbols "$T/snap.gz" >/dev/null

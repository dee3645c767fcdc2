#!/usr/bin/env bash
# A program that closes every inherited descriptor (closefrom, close_range, a close loop) and
# opens pipes and a socketpair on the freed numbers reads back exactly what it wrote, never
# blocks, and sees the same open descriptors as bare, before and after the close: libunwind's
# validation pipe (libunwind 1.6 kept two descriptors open and read and wrote through them)
# is neither kept nor used, also where it unwinds a frame without unwind information.
source "$(dirname "$0")/../lib/lib.sh"
P=$TESTBIN/prog-fd-reuse
for how in closefrom close_range loop; do
	rc=0
	timeout -k 2 30 "$P" $how >bare.out 2>bare.err || rc=$?
	[ $rc -eq 0 ] || { cat bare.err; fail "$how: bare run exited $rc"; }
	rc=0
	timeout -k 2 30 env MEMPROF_OUTPUT="$T/$how.gz" LD_PRELOAD=$LIBMEMPROF "$P" $how >prof.out 2>prof.err || rc=$?
	[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "$how: the profiled program hung"
	[ $rc -eq 0 ] || { cat prof.err; fail "$how: profiled run exited $rc"; }
	cmp bare.out prof.out || { diff bare.out prof.out; fail "$how: output differs from the bare run"; }
	[ -s "$T/$how.gz" ] || fail "$how: no snapshot"
done
expect_match '^pipe: 8 bytes: ABCDEFGH$' prof.out
expect_match '^socket: 17 bytes: request-from-peer$' prof.out

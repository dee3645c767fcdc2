#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exec chains (a -> b -> c, by exec in one process and by fork + exec) and posix_spawn, with
# and without MEMPROF_FOLLOW_CHILDREN: output and exit status as bare, and each profiled
# process writes its own snapshot (an exec in place is followed either way, unless
# MEMPROF_FOLLOW_EXEC=0). With a pattern lacking %p, a followed child's file gets
# ".<pid>" (as a fork child's does) instead of replacing its parent's.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
P=$TESTBIN/prog-torture
# blocks_of FILE, pid_of FILE: the blocks in use at exit, the process ID of a snapshot.
blocks_of() { "$MEMPROF" report --no-symbols "$1" | sed -nE 's/.*in use at exit: [0-9,]+ bytes? in ([0-9,]+) blocks?$/\1/p'; }
pid_of() { "$MEMPROF" report --no-symbols "$1" | sed -nE 's/^pid: +([0-9]+) .*/\1/p'; }
count() { find "$T" -maxdepth 1 -name "$1" | wc -l; }

# Not followed: only the first process is profiled.
for how in fork exec; do
	run_capture bare "$P" chain 2 $how
	run_capture prof profile "$T/n$how.%p.gz" "$P" chain 2 $how
	same_output bare prof
done
[ "$(count 'nfork.*.gz')" -eq 1 ] || { ls; fail "chain by fork, not followed: expected 1 snapshot"; }
[ "$(blocks_of nfork.*.gz)" = 3 ] || fail "the first process leaks 3 blocks"
# An exec in place is followed all the same: the last image writes the one snapshot (level 0
# leaks 1 block); the images that exec'd write none.
[ "$(count 'nexec.*.gz')" -eq 1 ] || { ls; fail "chain by exec, not followed: expected the last image's snapshot"; }
[ "$(blocks_of nexec.*.gz)" = 1 ] || fail "nexec is not the last image's snapshot"
# With MEMPROF_FOLLOW_EXEC=0 the exec'd images are not profiled: nothing is written.
MEMPROF_FOLLOW_EXEC=0 run_capture prof profile "$T/oexec.%p.gz" "$P" chain 2 exec
same_output bare prof
[ "$(count 'oexec.*.gz')" -eq 0 ] || { ls; fail "MEMPROF_FOLLOW_EXEC=0: the exec'd image was profiled"; }

export MEMPROF_FOLLOW_CHILDREN=1
# Followed, pattern with %p: one file per process, named by its pid.
run_capture prof profile "$T/p.%p.gz" "$P" chain 2 fork
same_output bare prof
[ "$(count 'p.*.gz')" -eq 3 ] || { ls; fail "chain by fork, followed: expected 3 snapshots"; }
for f in p.*.gz; do
	[ "$f" = "p.$(pid_of "$f").gz" ] || fail "$f holds pid $(pid_of "$f")"
	check_snapshot "$T/$f" >/dev/null
done
[ "$(for f in p.*.gz; do blocks_of "$f"; done | sort | tr '\n' ' ')" = "1 2 3 " ] ||
	fail "the three levels leak 3, 2 and 1 blocks"

# Followed, pattern without %p: the first process writes the name itself, the exec'd children
# name.<pid>; none replaces another.
run_capture prof profile "$T/fixed.gz" "$P" chain 2 fork
same_output bare prof
[ -f fixed.gz ] || { ls; fail "the first process did not write fixed.gz"; }
[ "$(blocks_of fixed.gz)" = 3 ] || fail "fixed.gz is not the first process's snapshot"
[ "$(count 'fixed.gz.*')" -eq 2 ] || { ls; fail "expected fixed.gz.<pid> from each of the 2 exec'd children"; }
for f in fixed.gz.*; do
	[ "$f" = "fixed.gz.$(pid_of "$f")" ] || fail "$f holds pid $(pid_of "$f")"
done
[ "$(for f in fixed.gz.*; do blocks_of "$f"; done | sort | tr '\n' ' ')" = "1 2 " ] ||
	fail "the exec'd children leak 2 and 1 blocks"

# exec in the same process: the last image writes the first process's name; 1 block (level 0).
bare_and_profiled "$T/same.gz" "$P" chain 2 exec
[ -f same.gz ] && [ "$(count 'same.gz.*')" -eq 0 ] || { ls; fail "an exec in the first process keeps its name"; }
[ "$(blocks_of same.gz)" = 1 ] || fail "same.gz is not the last image's snapshot"

# posix_spawn and posix_spawnp: followed, each child has its own file.
bare_and_profiled "$T/sp.gz" "$P" spawn
[ "$(count 'sp.gz.*')" -eq 2 ] || { ls; fail "expected a snapshot from each spawned child"; }
for f in sp.gz sp.gz.*; do check_snapshot "$T/$f" >/dev/null; done
for f in sp.gz.*; do "$MEMPROF" report --no-symbols "$f"; done | grep -q '^program: *.*/true$' ||
	fail "no snapshot of the spawned true"
unset MEMPROF_FOLLOW_CHILDREN
run_capture prof profile "$T/nsp.%p.gz" "$P" spawn
same_output bare prof
[ "$(count 'nsp.*.gz')" -eq 1 ] || { ls; fail "spawned children were profiled though not followed"; }

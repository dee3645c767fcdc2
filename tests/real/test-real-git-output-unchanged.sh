#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# git init/add/commit/log/diff/status on a repository of a few hundred files, each git command
# profiled on its own: output and exit statuses are unchanged, and every snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
need git
[ -f "$LIBMEMPROF" ] || fail "$LIBMEMPROF is missing (make all)"

# A fixed identity, dates and configuration, so both runs produce the same commit ids.
export GIT_CONFIG_NOSYSTEM=1 HOME=$T XDG_CONFIG_HOME=$T/.config LC_ALL=C TZ=UTC
export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=tester@example.com
export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=tester@example.com
export GIT_AUTHOR_DATE='2024-01-02T03:04:05Z' GIT_COMMITTER_DATE='2024-01-02T03:04:05Z'
export GIT_PAGER=cat PAGER=cat GIT_TERMINAL_PROMPT=0

# step RUNNER... -- GIT_ARGS...: one git command, its exit status printed with its output.
step() {
	local runner=() rc=0
	while [ "$1" != "--" ]; do runner+=("$1"); shift; done
	shift
	"${runner[@]}" git "$@" || rc=$?
	echo "[git $1: exit $rc]"
}

# workload RUNNER...: the whole scenario in $T/repo, each git command run through RUNNER.
workload() {
	rm -rf "$T/repo"
	mkdir "$T/repo"
	cd "$T/repo"
	step "$@" -- init -q -b main .
	for i in $(seq 1 300); do
		mkdir -p "dir$((i % 10))"
		printf 'file %d\nline two of %d\n%s\n' "$i" "$i" "$(printf 'x%.0s' $(seq 1 $((i % 50))))" \
			>"dir$((i % 10))/f$i.txt"
	done
	step "$@" -- add .
	step "$@" -- commit -q -m "initial import"
	for i in $(seq 1 300 | awk 'NR % 15 == 0'); do echo "changed $i" >>"dir$((i % 10))/f$i.txt"; done
	rm dir3/f3.txt dir3/f13.txt
	echo new >dir0/new.txt
	step "$@" -- status --porcelain
	step "$@" -- add -A
	step "$@" -- commit -q -m "second commit"
	step "$@" -- log --stat --format='%H %an %s'
	step "$@" -- diff --stat HEAD~1 HEAD
	step "$@" -- show --format=%s HEAD:dir0/new.txt
	step "$@" -- rev-parse HEAD~5 # fails: exit status and message must match too
	step "$@" -- fsck --no-progress
	cd "$T"
}

run_capture bare workload
run_capture prof workload profile "$T/snap.%p.gz"
expect_match '^\[git rev-parse: exit 128\]' bare.out
expect_match 'dir0/new.txt' bare.out
same_output bare prof
# Each git command is profiled directly, so there is at least one snapshot per command;
# children that git starts may add more, and those must add up as well.
check_snapshots 11 1000

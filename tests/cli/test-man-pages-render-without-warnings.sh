#!/usr/bin/env bash
# Every man page renders with groff's warnings on and nothing to say.
source "$(dirname "$0")/../lib/lib.sh"
command -v groff >/dev/null || skip "groff is not installed"
for m in "$TOP"/man/*.[1-9]; do
	groff -man -ww -z "$m" 2>w.txt
	[ ! -s w.txt ] || { cat w.txt; fail "$(basename "$m") renders with warnings"; }
done

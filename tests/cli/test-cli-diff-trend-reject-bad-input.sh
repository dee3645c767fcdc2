#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof diff and memprof trend reject bad input with one line on stderr, nothing on stdout
# and exit status 2: a missing file, a corrupt or non-snapshot file, the wrong number of
# snapshots, bad option values and unknown options.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

mksnap_gz diff-old old.gz
mksnap_gz no-end corrupt.gz
mksnap_gz series-1 s1.gz
mksnap_gz series-2 s2.gz
mksnap_gz series-3 s3.gz
echo "not a snapshot" >text.gz

expect_error 'diff: give two snapshots, OLD and NEW \(usage: memprof diff \[OPTIONS\] OLD NEW\)$' "$MEMPROF" diff old.gz
expect_error 'diff: give two snapshots' "$MEMPROF" diff
expect_error 'diff: give exactly two snapshots' "$MEMPROF" diff old.gz old.gz old.gz
expect_error 'cannot open missing\.gz: No such file or directory$' "$MEMPROF" diff old.gz missing.gz
expect_error 'corrupt\.gz: truncated file \(no END section\)$' "$MEMPROF" diff corrupt.gz old.gz
expect_error 'text\.gz: ' "$MEMPROF" diff old.gz text.gz
expect_error 'diff: --top wants a number from 1 to 1000000, not .0.$' "$MEMPROF" diff --top 0 old.gz old.gz
expect_error 'diff: --frames wants a number from 0 to 1024' "$MEMPROF" diff --frames x old.gz old.gz
expect_error 'diff: --format wants text or json' "$MEMPROF" diff --format xml old.gz old.gz
expect_error "diff: unknown option '--sort'" "$MEMPROF" diff --sort live old.gz old.gz

expect_error 'trend: no snapshot given' "$MEMPROF" trend
expect_error 'trend: needs at least 3 snapshots of one process, got 1$' "$MEMPROF" trend s1.gz
expect_error 'cannot open missing\.gz: No such file or directory$' "$MEMPROF" trend s1.gz s2.gz missing.gz
expect_error 'corrupt\.gz: truncated file \(no END section\)$' "$MEMPROF" trend s1.gz corrupt.gz s2.gz
expect_error 'text\.gz: ' "$MEMPROF" trend s1.gz s2.gz text.gz
expect_error "trend: option '--top' needs an argument" "$MEMPROF" trend s1.gz s2.gz s3.gz --top
expect_error "trend: unknown option '--filter'" "$MEMPROF" trend --filter x s1.gz s2.gz s3.gz
"$MEMPROF" trend s1.gz s2.gz s3.gz >ok.txt || fail "three good snapshots rejected"
"$MEMPROF" diff old.gz old.gz >same.txt || fail "a snapshot against itself rejected"
expect_match '^  sites: 0 grew, 0 shrank, 5 unchanged$' same.txt
[ "$(sed -n "/^SITES THAT CHANGED/,\$p" same.txt | sed 1d)" = "    (none)" ] || fail "a snapshot against itself lists changes"

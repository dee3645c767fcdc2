#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report rejects every defect tests/progs/mksnap.c can put in a well-compressed snapshot
# (bad magic, future version, counts and lengths the section cannot hold, too many frames,
# missing END, duplicates...) with exit 2 and one line naming the file and the reason, and
# a lying section length cannot make it allocate what the file does not hold.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"

declare -A reason=(
	[bad-magic]='snap.gz: not a memprof snapshot \(bad magic\)$'
	[version-99]='snap.gz: snapshot format version 99 is newer than this memprof reads \(1\)$'
	[version-0]='snap.gz: invalid snapshot format version 0$'
	[traces-count-too-big]='snap.gz: corrupt TRACES section: count 100000 does not fit'
	[modules-count-too-big]='snap.gz: corrupt MODULES section: count 1000 does not fit'
	[too-many-frames]='snap.gz: corrupt TRACES section: trace 4 has 1025 frames \(limit 1024\)$'
	[frames-past-end]='snap.gz: corrupt TRACES section: trace 4 has 256 frames but only 0 bytes remain$'
	[string-too-long]='snap.gz: corrupt META section: exe is 1048577 bytes long \(limit 1048576\)$'
	[string-past-end]='snap.gz: corrupt META section: exe is 100000 bytes long but only'
	[build-id-too-long]='snap.gz: corrupt MODULES section: module 0 has a build id of 65 bytes'
	[no-end]='snap.gz: truncated file \(no END section\)$'
	[section-past-end]='snap.gz: truncated file \(TRACES section cut short\)$'
	[big-section]='snap.gz: truncated file \(TRACES section cut short\)$'
	[huge-section]='snap.gz: SIZES section of [0-9]+ bytes is larger than the 65536 bytes allowed$'
	[huge-unknown-section]='snap.gz: section of unknown type 204 of [0-9]+ bytes is larger than the 1073741824 bytes allowed$'
	[duplicate-section]='snap.gz: duplicate TOTALS section$'
	[duplicate-trace-id]='snap.gz: corrupt TRACES section: trace id 1 appears twice$'
	[frees-exceed-allocs]='snap.gz: corrupt TRACES section: trace 2 frees more than it allocated$'
	[no-meta]='snap.gz: no META section$'
	[no-totals]='snap.gz: no TOTALS section$'
	[trailing-bytes]='snap.gz: corrupt TOTALS section: 1 bytes left after its last field$'
	[data-after-end]='snap.gz: unexpected data after the END section$'
	[short-header]='snap.gz: truncated file \(10 bytes, shorter than the file header\)$'
	[timeline-backwards]='snap.gz: corrupt TIMELINE section: point 3 is older than the point before it$'
	[peak-unknown-trace]='snap.gz: corrupt PEAK section: site 1 names trace 99, which is not in TRACES$'
	[leak-unknown-trace]='snap.gz: corrupt LEAKS section: a loss record names trace 99, which is not in TRACES$'
	[leak-bad-kind]='snap.gz: corrupt LEAKS section: loss record 4 has unknown kind 9$'
	[leak-duplicate]='snap.gz: corrupt LEAKS section: two loss records for trace 1 and kind 4$'
	[leak-count-too-big]='snap.gz: corrupt LEAKS section: 1000 entries need 40000 bytes, the section has 200 left$'
)

# Every defect case of the generator has an expected reason here, and only those.
n=0
for c in $("$MKSNAP" list); do
	case $c in valid|unknown-section|full|leak-threads-running|leak-ties|leak-bytes-wrap|totals-above-2-53|timeline-one-point|timeline-empty|timeline-999ms|peak-exact|peak-sites-exceed|peak-after-run|diff-*|series-*|modules-repeated) continue ;; esac
	# Beyond the writer's limits, and bombs: test-cli-hostile-snapshots-rejected-in-bounded-memory.sh
	case $c in *-over-limit|*-at-limit|peak-more-than-traces|unknown-past-total|bomb-*) continue ;; esac
	[ -n "${reason[$c]:-}" ] || fail "mksnap case $c has no expected reason in this test"
	mksnap_gz "$c" snap.gz
	expect_error "${reason[$c]}" "$MEMPROF" report snap.gz
	n=$((n + 1))
done
[ "$n" -eq "${#reason[@]}" ] || fail "tested $n cases, expected ${#reason[@]}"

# A section that claims 512 MiB it does not hold fails on the missing bytes, not on memory,
# even with the address space limited to 64 MiB.
# (A sanitizer build cannot start at all under the limit: then this check is left out.)
mksnap_gz big-section snap.gz
if (ulimit -v 65536; "$MEMPROF" --version) >/dev/null 2>&1; then
	(
		ulimit -v 65536
		expect_error 'snap.gz: truncated file \(TRACES section cut short\)$' "$MEMPROF" report snap.gz
	) || fail "big-section under ulimit -v"
else
	echo "memprof cannot run with ulimit -v 65536 (sanitizer build?): memory bound not checked"
fi
echo "$n defect cases rejected"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Counters of a snapshot near 2^64 (a corrupt or hostile file the reader accepts) never wrap
# around in the figures the CLI derives from them: export --format folded saturates the sum of
# merged stacks, diff's JSON prints a change above 2^63 with its true sign and size, and trend
# does not call a site that fell by nearly 2^64 bytes steady growth, and a site that merges
# traces of one stack saturates.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

# Snapshots written by hand, in the layout of man/memprof-snapshot.5.
python3 - <<'PY' || fail "cannot write the snapshots"
import gzip, struct
def u32(v): return struct.pack('<I', v)
def u64(v): return struct.pack('<Q', v % 2**64)
def string(b): return u32(len(b)) + b
def section(t, payload): return u32(t) + u32(0) + u64(len(payload)) + payload
def snap(path, traces, live, pid=100, seq=0, reason=1, run_ns=10**9):
    """traces: (id, frames, allocs, bytes_allocated), nothing freed."""
    start = 1700000000 * 10**9
    out = b'MEMPROF\x1a' + u32(1) + u32(0)
    out += section(1, u32(pid) + u32(1) + u32(reason) + u32(seq) + u64(start) + u64(start + run_ns) +
                   u64(run_ns) + u32(64) + u32(0) + string(b'/usr/bin/big') + string(b'big\0') + string(b''))
    out += section(2, b''.join(u64(v) for v in (1, 0, live, 0, live, 1, live, 1, 0, 0)))
    out += section(3, u32(1) + u64(0x400000) + u64(0x400000) + u64(0x500000) + u32(2) + u32(2) +
                   b'\xbe\xef' + string(b'/usr/bin/big'))
    out += section(4, u32(len(traces)) + b''.join(
        u32(i) + u32(len(fr)) + u64(a) + u64(0) + u64(b) + u64(0) + b''.join(u64(f) for f in fr)
        for i, fr, a, b in traces))
    out += u32(0xffff) + u32(0) + u64(0)
    open(path, 'wb').write(gzip.compress(out))
H = 2**63
# Two traces with the same stack, each above 2^63 bytes: folded merges them.
snap('merged.gz', [(1, [0x400100], 1, H + 10), (2, [0x400100], 1, H + 10)], 2**64 - 1)
# One site from 10 bytes to 2^63 + 100.
snap('old.gz', [(1, [0x400100], 1, 10)], 10)
snap('new.gz', [(1, [0x400100], 1, H + 100)], H + 100, pid=101)
# A series in which the site ends a little above where it started, after falling by ~2^64.
for k, v in enumerate([0, 2**64 - 10, 1, 2**64 - 5]):
    snap('s%d.gz' % k, [(1, [0x400100], 1, v)], v, seq=k, reason=4, run_ns=(k + 1) * 10**9)
PY

"$MEMPROF" export --format folded --no-symbols merged.gz >folded.txt || fail "folded export failed"
expect_match '^big\+0x100 18446744073709551615$' folded.txt

"$MEMPROF" diff --no-symbols --format json old.gz new.gz >diff.json || fail "diff failed"
python3 - diff.json <<'PY' || { cat diff.json; fail "diff's JSON change is not exact"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["totals"]["live_bytes_change"] == 2**63 + 90, d["totals"]
assert d["sites"][0]["live_bytes_change"] == 2**63 + 90, d["sites"]
assert d["sites"][0]["live_blocks_change"] == 0, d["sites"]
PY
"$MEMPROF" diff --no-symbols --format json new.gz old.gz >diff.json || fail "diff failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["totals"]["live_bytes_change"] == -(2**63 + 90), d' \
	diff.json || { cat diff.json; fail "diff's JSON change is not exact"; }

"$MEMPROF" trend --no-symbols --format json s0.gz s1.gz s2.gz s3.gz >trend.json || fail "trend failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["total_suspects"] == 0, d' trend.json ||
	{ cat trend.json; fail "trend calls a site that fell by almost 2^64 bytes steady growth"; }

# Two traces of one stack are one site in diff: its live bytes saturate, never wrap to 20.
"$MEMPROF" diff --no-symbols --format json old.gz merged.gz >merged.json || fail "diff failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["sites"][0]["live_bytes_change"] == 2**64 - 1 - 10, d["sites"]' \
	merged.json || { cat merged.json; fail "diff's merged site wrapped around"; }
exit 0

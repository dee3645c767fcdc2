#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# memprof report --format json carries the leak check: the scan's flags, the summary (with
# suppressed and glibc's internal blocks), the records of the kinds listed in memcheck's order
# with their numbers, bytes, indirect bytes, site and frames, which suppression took each,
# and the suppressions used; "leaks" is null without a LEAKS section.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/cli-lib.sh"
command -v /usr/bin/python3 >/dev/null || skip "python3 not found"

mksnap_gz full full.gz
mksnap_gz valid valid.gz
printf 'leak:libc.so\n' >libc.supp
"$MEMPROF" report --format json --show-leak-kinds=all --suppressions libc.supp --frames 1 full.gz >all.json ||
	fail "json report failed"
"$MEMPROF" report --format json full.gz >default.json || fail "json report failed"
"$MEMPROF" report --format json valid.gz >valid.json || fail "json report failed"
/usr/bin/python3 - <<'END' || fail "JSON leaks differ"
import json
d = json.load(open("all.json"))["leaks"]
assert d["threads_stopped"] is True and d["at_exit"] is True, d
assert d["scan_time_ns"] == 1500000 and d["root_bytes"] == 1 << 20, d
assert d["show_leak_kinds"] == ["definite", "indirect", "possible", "reachable"], d["show_leak_kinds"]
s = d["summary"]
assert s["definite"] == {"bytes": 0, "blocks": 0}, s
assert s["indirect"] == {"bytes": 2000000, "blocks": 2}, s
assert s["possible"] == {"bytes": 1000000, "blocks": 1}, s
assert s["reachable"] == {"bytes": 0, "blocks": 0}, s
assert s["suppressed"] == {"bytes": 10240, "blocks": 10}, s
assert s["internal"] == {"bytes": 8, "blocks": 1}, s
assert d["n_records"] == 4, d["n_records"]
recs = d["records"]
got = [(r["record"], r["kind"], r["bytes"], r["blocks"], r["indirect_bytes"], r["indirect_blocks"], r["site_id"])
       for r in recs]
assert got == [(1, "reachable", 6144, 6, 0, 0, 1), (2, "possible", 1000000, 1, 0, 0, 3),
               (3, "indirect", 2000000, 2, 0, 0, 3), (4, "definite", 4096, 4, 2000000, 2, 1)], got
supp = {"name": "leak:libc.so", "file": "libc.supp", "line": 1}
assert [r["suppressed_by"] for r in recs] == [supp, None, None, supp], recs
assert "suppression" not in recs[0], recs[0]
f = recs[3]["frames"]
assert len(f) == 1 and f[0]["addr"] == "0x401234" and f[0]["module"] == "/usr/bin/leaky", f
assert d["suppressions_used"] == [dict(supp, records=2, bytes=10240, blocks=10)], d["suppressions_used"]

d = json.load(open("default.json"))["leaks"]
assert d["show_leak_kinds"] == ["definite", "possible"], d["show_leak_kinds"]
assert [r["record"] for r in d["records"]] == [2, 4], d["records"]
assert d["summary"]["reachable"] == {"bytes": 6144, "blocks": 6}, d["summary"]
assert d["suppressions_used"] == [], d
assert len(d["records"][1]["frames"]) == 3, d["records"][1]

assert json.load(open("valid.json"))["leaks"] is None
END
exit 0

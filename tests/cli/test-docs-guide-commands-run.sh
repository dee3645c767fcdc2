#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every command of docs/guide.md's console blocks runs, in order, in one scratch directory
# (samples/ holds the built samples, memprof is on PATH), with the exit status the guide
# states (0 unless the line ends with "# exit status N"); the output lines the guide shows
# after a command appear in its output in that order ("..." stands for anything: a whole
# line of "..." for any number of lines). So the guide cannot go stale.
source "$(dirname "$0")/../lib/lib.sh"
ln -s "$SAMPLES" samples
PATH=$(dirname "$MEMPROF"):$PATH MEMPROF_LIB=$LIBMEMPROF python3 - "$TOP/docs/guide.md" <<'PY' || fail "docs/guide.md and memprof disagree (above)"
import re, subprocess, sys

steps, block, indent = [], False, 0
for line in open(sys.argv[1]).read().splitlines():
    if line.strip().startswith("```"):
        block = line.strip() == "```console"
        indent = len(line) - len(line.lstrip())  # a block inside a list item is indented
        continue
    if not block:
        continue
    text = line = line[indent:]
    if text.startswith("$ "):
        cmd, want = text[2:], 0
        m = re.search(r"\s+# exit status (\d+)$", cmd)
        if m:
            cmd, want = cmd[:m.start()], int(m.group(1))
        steps.append((cmd, want, []))
    elif steps:
        steps[-1][2].append(line.rstrip())

def pattern(shown):
    return re.compile("^" + ".*".join(re.escape(p) for p in shown.split("...")) + "$")

bad = 0
for cmd, want, shown in steps:
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    got = (p.stdout + p.stderr).splitlines()
    if p.returncode != want:
        print(f"$ {cmd}\n  exited {p.returncode}, the guide says {want}\n" + p.stderr[-2000:])
        bad += 1
        continue
    shown = [s for s in shown if s.strip() != "..." and s.strip() != ""]
    i = 0
    for s in shown:
        pat = pattern(s)
        while i < len(got) and not pat.match(got[i].rstrip()):
            i += 1
        if i == len(got):
            print(f"$ {cmd}\n  the guide shows {s!r}, which is not in the output (in order):")
            print("\n".join("  | " + g for g in got[:80]))
            bad += 1
            break
        i += 1
print(f"{len(steps)} commands of the guide run, {bad} disagree")
sys.exit(1 if bad or not steps else 0)
PY
exit 0

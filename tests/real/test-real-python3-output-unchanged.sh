#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# /usr/bin/python3 with PYTHONMALLOC=malloc (every object a malloc/free), threads and a non-zero
# exit: the preload changes neither its output nor its exit status, and the snapshot adds up.
source "$(dirname "$0")/../lib/lib.sh"
source "$TOP/tests/lib/real-program.sh"
PY=/usr/bin/python3 # the real interpreter, not a pyenv shim script
[ -x "$PY" ] || skip "$PY is not installed"
[ -f "$LIBMEMPROF" ] || fail "$LIBMEMPROF is missing (make all)"

cat >work.py <<'EOF'
import json, re, sys, threading
from collections import OrderedDict, defaultdict

class Node:
    def __init__(self, name, parent=None):
        self.name, self.parent, self.children, self.attrs = name, parent, [], {}
    def add(self, name):
        child = Node(name, self)
        self.children.append(child)
        return child
    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

class Leaf(Node):
    def weight(self):
        return len(self.name) * 3

root = Node("root")
for i in range(300):
    branch = root.add("branch-%d" % i)
    for j in range(20):
        leaf = Leaf("leaf-%d-%d" % (i, j), branch)
        leaf.attrs = {"i": i, "j": j, "tag": "t%d" % ((i * j) % 13)}
        branch.children.append(leaf)
weights = sum(n.weight() for n in root.walk() if isinstance(n, Leaf))

by_tag = defaultdict(list)
for n in root.walk():
    if n.attrs:
        by_tag[n.attrs["tag"]].append(n.name)
doc = json.dumps(OrderedDict(sorted((k, v[:5]) for k, v in by_tag.items())), indent=1)
back = json.loads(doc)
words = re.findall(r"[a-z]+-\d+", " ".join(n.name for n in root.walk()))

results = {}
def worker(k):
    results[k] = sum(len(str(x) * 3) for x in range(20000 + k))
threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()

print("nodes", sum(1 for _ in root.walk()), "weights", weights)
print("tags", len(back), "json bytes", len(doc), "words", len(words))
print("threads", sorted(results.items()))
print("to stderr", file=sys.stderr)
sys.exit(3)
EOF

export PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
run_capture bare "$PY" work.py
run_capture prof profile "$T/snap.%p.gz" "$PY" work.py
[ "$(cat bare.rc)" = 3 ] || { cat bare.err; fail "the workload itself is broken: exit $(cat bare.rc), expected 3"; }
same_output bare prof
check_snapshots 1 20000

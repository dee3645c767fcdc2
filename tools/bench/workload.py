# SPDX-License-Identifier: MIT
# Benchmark workload for /usr/bin/python3 with PYTHONMALLOC=malloc: dicts, lists, strings, a
# small class hierarchy and JSON round-trips, so nearly every object is a malloc/free.
# Usage: python3 workload.py [ROUNDS]   (default 150; about 3 s bare on a 2-core machine)
import json
import sys


class Shape:
    __slots__ = ("name", "tags")

    def __init__(self, name, tags):
        self.name = name
        self.tags = tags

    def area(self):
        return 0.0

    def describe(self):
        return {"kind": type(self).__name__, "name": self.name, "area": round(self.area(), 3),
                "tags": list(self.tags)}


class Rect(Shape):
    __slots__ = ("w", "h")

    def __init__(self, name, tags, w, h):
        super().__init__(name, tags)
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Square(Rect):
    __slots__ = ()

    def __init__(self, name, tags, side):
        super().__init__(name, tags, side, side)


class Circle(Shape):
    __slots__ = ("r",)

    def __init__(self, name, tags, r):
        super().__init__(name, tags)
        self.r = r

    def area(self):
        return 3.14159 * self.r * self.r


def build_shapes(seed, n):
    shapes = []
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        tags = ["t%d" % (x % 17), "g%d" % (i % 5)]
        kind = x % 3
        if kind == 0:
            shapes.append(Rect("rect-%d" % i, tags, x % 13 + 1, x % 7 + 1))
        elif kind == 1:
            shapes.append(Square("sq-%d" % i, tags, x % 11 + 1))
        else:
            shapes.append(Circle("circle-%d" % i, tags, (x % 9 + 1) / 2))
    return shapes


def one_round(seed):
    shapes = build_shapes(seed, 4000)
    docs = [s.describe() for s in shapes]
    text = json.dumps(docs)
    back = json.loads(text)
    by_tag = {}
    for d in back:
        for t in d["tags"]:
            by_tag.setdefault(t, []).append(d["name"])
    words = " ".join(d["name"] for d in back).split(" ")
    counts = {}
    for w in words:
        key = w.split("-")[0].upper()
        counts[key] = counts.get(key, 0) + 1
    total = sum(d["area"] for d in back)
    return len(text), len(by_tag), sorted(counts.items()), round(total, 3)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    acc = 0
    last = None
    for r in range(rounds):
        last = one_round(r + 1)
        acc += last[0]
    print("workload.py: %d rounds, %d JSON bytes, last %r" % (rounds, acc, last[2]))


main()

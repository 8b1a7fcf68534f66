#!/usr/bin/env python3
"""Import cycles between the modules of one crate.

A module here is a file (`lib.rs`/`main.rs` is the crate root, `mod.rs` its
folder). Module A depends on module B when A's code names a path into B:
`use crate::b::…`, `crate::b::X` in an expression, `super::b::…`. The path is
resolved to the longest module it names, so `crate::agent::runner::Call`
counts as a dependency on `agent::runner`.

Inline test modules (`#[cfg(test)] mod tests { … }`) are left out: nothing
imports them, so what they use cannot close a cycle in the code that ships.
Dependencies between a module and one of its ancestors are left out too: a
folder's `mod.rs` declaring and re-exporting its children, and the children
using `super::` items, is how Rust lays out a module tree, not a cycle. What
is reported are strongly connected groups of modules that are not ancestor
and descendant of each other (siblings, cousins), printed with one cycle
each, e.g. `agent::context -> agent::runner -> agent::context`.

Usage: module_cycles.py CRATE_SRC_DIR [...]. Exits 1 when any crate has a
cycle, so the test command fails on a new one.
"""
import os
import re
import sys

USE_RE = re.compile(r"\buse\s+((?:crate|super|self)(?:::[^;]*)?);", re.S)
PATH_RE = re.compile(r"\b((?:crate|super)(?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)")
LINE_COMMENT = re.compile(r"//[^\n]*")
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def modules(src):
    """Maps module path tuples to files."""
    found = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            if rel == "main.rs" and os.path.exists(os.path.join(src, "lib.rs")):
                continue  # the binary is a crate of its own over the library
            if rel.startswith("bin" + os.sep):
                continue
            found[tuple(parts)] = os.path.join(root, name)
    return found


def expand(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner, rest = tree[:start], tree[start + 1 : i], tree[i + 1 :]
                out = []
                for item in split_top(inner):
                    joined = prefix + item if item != "self" else prefix.rstrip(":")
                    out.extend(expand(joined + rest))
                return out
    return [tree]


def split_top(s):
    items, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    if cur:
        items.append(cur)
    return items


TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+\w+\s*\{")


def without_test_modules(code):
    """The code with each inline `#[cfg(test)] mod … { … }` cut out."""
    while True:
        m = TEST_MOD.search(code)
        if not m:
            return code
        depth, i = 1, m.end()
        while i < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        code = code[: m.start()] + code[i:]


def resolve(path, here, known):
    """The longest known module a path names, seen from module `here`."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    else:
        base, rest = here, parts
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1]
            rest = rest[1:]
    rest = [p.split(" as ")[0] for p in rest if p and p != "*"]
    best = base
    for i in range(1, len(rest) + 1):
        candidate = base + tuple(rest[:i])
        if candidate in known:
            best = candidate
    return best


def related(a, b):
    return a[: len(b)] == b or b[: len(a)] == a


def graph(src):
    known = modules(src)
    edges = {m: set() for m in known}
    for module, path in known.items():
        code = open(path, encoding="utf-8").read()
        code = STRING.sub('""', BLOCK_COMMENT.sub("", LINE_COMMENT.sub("", code)))
        code = without_test_modules(code)
        paths = []
        for use in USE_RE.findall(code):
            paths.extend(expand(use))
        paths.extend(PATH_RE.findall(code))
        for p in paths:
            target = resolve(p.replace(" ", ""), module, known)
            if target != module and target in known and not related(module, target):
                edges[module].add(target)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components of size > 1."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def one_cycle(group, edges):
    """A shortest cycle through the group's first module, for the report."""
    members = set(group)
    start = group[0]
    frontier, seen = [[start]], {start}
    while frontier:
        nxt = []
        for route in frontier:
            for w in sorted(edges[route[-1]] & members):
                if w == start:
                    return route + [start]
                if w not in seen:
                    seen.add(w)
                    nxt.append(route + [w])
        frontier = nxt
    return group


def main(dirs):
    failed = False
    for src in dirs:
        edges = graph(src)
        found = cycles(edges)
        name = lambda m: "::".join(m) or "crate"
        if not found:
            print(f"{src}: {len(edges)} modules, no import cycle")
        for group in found:
            failed = True
            route = " -> ".join(name(m) for m in one_cycle(group, edges))
            print(f"{src}: import cycle among {', '.join(name(m) for m in group)}: {route}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

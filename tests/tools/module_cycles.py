#!/usr/bin/env python3
"""Import cycles between the modules of one crate.

A module here is a file (`lib.rs`/`main.rs` is the crate root, `mod.rs` its
folder). Module A depends on module B when A's code names a path into B:
`use crate::b::…`, `crate::b::X` in an expression, `super::b::…`. The path is
resolved to the longest module it names, so `crate::agent::runner::Call`
counts as a dependency on `agent::runner`.

Inline test modules (`#[cfg(test)] mod tests { … }`) are left out: nothing
imports them, so what they use cannot close a cycle in the code that ships.
A module's own dependencies on its descendants are left out too: a
folder's `mod.rs` declaring and re-exporting its children is how Rust lays
out a module tree. A child's use of its parent's items counts, so a child
that a sibling's state holds and that reaches back up through its parent
is a cycle. Each strongly connected group of modules is printed with one
cycle, e.g. `agent::context -> agent::runner -> agent::context`.

Usage: module_cycles.py CRATE_SRC_DIR [...]. Exits 1 when any crate has a
cycle, so the test command fails on a new one.
"""
import os
import re
import sys

USE_RE = re.compile(r"\buse\s+((?:crate|super|self)(?:::[^;]*)?);", re.S)
PATH_RE = re.compile(r"\b((?:crate|super)(?:\s*::\s*(?:super|[A-Za-z_][A-Za-z0-9_]*))+)")


def code_only(text):
    """The source with comments, string and char literals blanked, in one
    pass (a `//` inside a string is not a comment, a `"` inside a comment
    or a char literal is not a string). Line breaks are kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c == "r" and re.match(r'r#*"', text[i:]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = len(re.match(r"r(#*)", text[i:]).group(1))
            end = text.find('"' + "#" * hashes, i + 2 + hashes)
            i = n if end == -1 else end + 1 + hashes
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}', '"') or a lifetime ('a).
            m = re.match(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'", text[i:])
            if m:
                i += m.end()
                out.append("' '")
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


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
    tree = re.sub(r"\s*(::|,|\{|\})\s*", r"\1", tree.strip())
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
    rest = [p.split(" as ")[0].strip() for p in rest if p and p != "*"]
    best = base
    for i in range(1, len(rest) + 1):
        candidate = base + tuple(rest[:i])
        if candidate in known:
            best = candidate
    return best


def is_descendant(child, ancestor):
    return len(child) > len(ancestor) and child[: len(ancestor)] == ancestor


def graph(src):
    known = modules(src)
    edges = {m: set() for m in known}
    for module, path in known.items():
        code = without_test_modules(code_only(open(path, encoding="utf-8").read()))
        paths = []
        for use in USE_RE.findall(code):
            paths.extend(expand(use))
        paths.extend(PATH_RE.findall(code))
        for p in paths:
            target = resolve(re.sub(r"\s*::\s*", "::", p.strip()), module, known)
            if target != module and target in known and not is_descendant(target, module):
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

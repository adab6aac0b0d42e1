#!/usr/bin/env python3
"""Lists, for src/Enrichment.Portal.Core, which top-level folder imports which other folder, and prints the
import cycles between folders.

A folder X "imports" folder Y when a .cs file under X has `using Enrichment.Portal.Core.Y...` (also
`global using` / `using static` / aliases) or a fully-qualified reference `Enrichment.Portal.Core.Y.`.
Files directly in the project root form the folder "(root)". Generated code (obj/, bin/, Migrations/) is skipped.

Usage: scripts/folder-deps.py [--why] [path-to-Core-project]   (--why: the files behind each import)   exit code 1 when a cycle exists.
"""
import os
import re
import sys

ROOT_NS = "Enrichment.Portal.Core"


def folder_of(rel):
    parts = rel.split(os.sep)
    return parts[0] if len(parts) > 1 else "(root)"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    core = args[0] if args else os.path.join(here, "..", "src", ROOT_NS)
    core = os.path.abspath(core)
    folders = sorted(d for d in os.listdir(core)
                     if os.path.isdir(os.path.join(core, d)) and d not in ("obj", "bin", "Properties"))
    ref = re.compile(r"\b" + re.escape(ROOT_NS) + r"\.([A-Za-z_][A-Za-z0-9_]*)")
    # Inside `namespace Enrichment.Portal.Core.X` a type of folder Y can also be named `Y.Type` (no using):
    # count `Y.Type` when Type is declared in folder Y.
    decl = re.compile(r"\b(?:class|record|struct|interface|enum)\s+(?:struct\s+|class\s+)?([A-Z]\w*)")
    files, declared = [], {}
    for dirpath, dirnames, filenames in os.walk(core):
        dirnames[:] = [d for d in dirnames if d not in ("obj", "bin", "Migrations")]
        for name in filenames:
            if not name.endswith(".cs"):
                continue
            path = os.path.join(dirpath, name)
            src_folder = folder_of(os.path.relpath(path, core))
            with open(path, encoding="utf-8-sig") as f:
                text = f.read()
            # drop comments so a <see cref> or a // note does not count as an import
            text = re.sub(r"//[^\n]*", "", text)
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
            text = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)
            files.append((src_folder, text, os.path.relpath(path, core)))
            declared.setdefault(src_folder, set()).update(decl.findall(text))
    short = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, folders)) + r")\.([A-Z]\w*)") if folders else None
    edges = {}
    why = {}
    for src_folder, text, rel in files:
        targets = set(m.group(1) for m in ref.finditer(text))
        if short:
            targets |= set(m.group(1) for m in short.finditer(text) if m.group(2) in declared.get(m.group(1), ()))
        for target in targets:
            if target in folders and target != src_folder:
                edges.setdefault(src_folder, set()).add(target)
                why.setdefault((src_folder, target), []).append(rel)
    print("Folder imports (src/%s):" % ROOT_NS)
    for f in sorted(set(folders) | set(edges)):
        print("  %-12s -> %s" % (f, ", ".join(sorted(edges.get(f, ()))) or "(none)"))
    cycles = find_cycles(edges)
    if "--why" in sys.argv:
        print()
        print("Files behind each import:")
        for (a, b), rels in sorted(why.items()):
            print("  %s -> %s: %s" % (a, b, ", ".join(sorted(rels))))
    print()
    if not cycles:
        print("Import cycles: none")
        return 0
    print("Import cycles (%d strongly connected groups):" % len(cycles))
    for group, pairs, loop in cycles:
        print("  {%s}" % ", ".join(group))
        if pairs:
            print("    two-way: " + "; ".join("%s <-> %s" % p for p in pairs))
        print("    e.g. " + " -> ".join(loop))
    return 1


def find_cycles(edges):
    """Tarjan's strongly connected components; each group of size > 1 is a cycle."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    nodes = sorted(set(edges) | {t for ts in edges.values() for t in ts})

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
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

    for n in nodes:
        if n not in index:
            strong(n)
    result = []
    for group in out:
        g = set(group)
        pairs = sorted((a, b) for a in group for b in group if a < b and b in edges.get(a, ()) and a in edges.get(b, ()))
        result.append((group, pairs, shortest_loop(group[0], edges, g)))
    return result


def shortest_loop(start, edges, within):
    from collections import deque
    prev, q = {}, deque([start])
    seen = {start}
    while q:
        v = q.popleft()
        for w in sorted(edges.get(v, ())):
            if w not in within:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in seen:
                seen.add(w)
                prev[w] = v
                q.append(w)
    return [start]


if __name__ == "__main__":
    sys.exit(main())

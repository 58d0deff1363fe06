#!/usr/bin/env python3
"""Fails when the files of a crate import each other in a circle.

A file's imports are its `crate::` paths outside comments and test modules; a name
taken from the crate root (`crate::{Outgoing, ...}`) counts as an import of the file
that the root re-exports it from.
"""
import os
import re
import sys

CRATES = ["crates/core", "crates/contract", "crates/enrich", "crates/sim", "."]


def modules(src):
    """Each module's path (`queue::sqs`; the root is '') and its non-test, non-comment text."""
    found = {}
    for folder, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs") or folder.startswith(os.path.join(src, "bin")):
                continue
            rel = os.path.relpath(os.path.join(folder, name), src)[:-3]
            module = rel.replace("/mod", "").replace("/", "::")
            module = "" if module in ("lib", "main") else module
            text = open(os.path.join(folder, name)).read().split("#[cfg(test)]\nmod tests")[0]
            found[module] = "\n".join(
                line for line in text.splitlines() if not line.strip().startswith("//")
            )
    return found


def imports(found):
    """Module -> the modules it imports from."""
    reexported = {}
    for module, names in re.findall(r"pub use (\w+)::\{?([^;]+?)\}?;", found.get("", "")):
        for name in re.findall(r"\w+", names):
            reexported[name] = module
    graph = {module: set() for module in found if module}
    for module in graph:
        for path, names in re.findall(r"crate::((?:\w+::)*)\{?([\w, :\n]+)\}?", found[module]):
            path = path.rstrip(":")
            targets = [path if path in graph else path.split("::")[0]] if path else [
                reexported.get(name) for name in re.findall(r"\w+", names)
            ]
            graph[module] |= {t for t in targets if t in graph and t != module}
    return graph


def circles(graph):
    found = set()

    def walk(start, node, path):
        for next_node in graph[node]:
            if next_node == start:
                found.add(tuple(sorted(path)))
            elif next_node not in path:
                walk(start, next_node, path + [next_node])

    for start in graph:
        walk(start, start, [start])
    return sorted(found)


failed = False
for crate in CRATES:
    for circle in circles(imports(modules(os.path.join(crate, "src")))):
        print(f"check-circles: {crate}: {' <-> '.join(circle)} import each other", file=sys.stderr)
        failed = True
if failed:
    sys.exit(1)
print(f"check-circles: no import circle in {', '.join(CRATES)}")

#!/usr/bin/env python3
"""Import cycles in kiln, and lines of code per package (architecture figures).

    .venv/bin/python bench/import_cycles.py            # summary
    .venv/bin/python bench/import_cycles.py --list     # every cycle group, with its modules
    .venv/bin/python bench/import_cycles.py --json     # the figures as JSON

The import graph comes from grimp (the library import-linter uses); every `import`
statement counts, those inside functions too (a lazy import is still a dependency), and
those under `if TYPE_CHECKING:` are left out (they never run). A "cycle group" is a
strongly connected component of more than one module: modules that reach each other
through imports. `pairs` counts two modules importing each other directly. The same is
computed between kiln's top-level packages (`kiln.engine`, `kiln.plan`, ...).
`--type-checking` counts the `TYPE_CHECKING` imports too (import-linter's contracts do).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of more than one node, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def module_graph(*, type_checking: bool = False) -> dict[str, set[str]]:
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    g = grimp.build_graph("kiln", exclude_type_checking_imports=not type_checking, cache_dir=None)
    return {m: set(g.find_modules_directly_imported_by(m)) for m in g.modules}


def top_package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def package_graph(modules: Mapping[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, imported in modules.items():
        src = top_package(module)
        for target in imported:
            dst = top_package(target)
            if dst != src:
                out.setdefault(src, set()).add(dst)
        out.setdefault(src, set())
    return out


def lines_per_package() -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in sorted((SRC / "kiln").rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        name = top_package(".".join(rel.parts).removesuffix(".__init__"))
        counts[name] = counts.get(name, 0) + len(path.read_text().splitlines())
    return dict(sorted(counts.items()))


def figures(*, type_checking: bool = False) -> dict[str, object]:
    modules = module_graph(type_checking=type_checking)
    groups = strongly_connected(modules)
    pairs = sorted({tuple(sorted((a, b))) for a, bs in modules.items() for b in bs
                    if a in modules.get(b, set()) and a != b})  # fmt: skip
    packages = package_graph(modules)
    package_groups = strongly_connected(packages)
    lines = lines_per_package()
    return {
        "modules": len(modules),
        "cycle_groups": len(groups),
        "modules_in_cycles": sum(len(g) for g in groups),
        "mutual_pairs": len(pairs),
        "package_cycle_groups": len(package_groups),
        "groups": groups,
        "package_groups": package_groups,
        "pairs": [list(p) for p in pairs],
        "lines": lines,
        "lines_total": sum(lines.values()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print every cycle group")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument(
        "--type-checking",
        action="store_true",
        help="count `if TYPE_CHECKING:` imports too (as import-linter does)",
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if any module takes part in an import cycle (./dev lint runs this)",
    )
    args = ap.parse_args()
    f = figures(type_checking=args.type_checking)
    if args.check:
        for group in f["groups"]:  # type: ignore[attr-defined]
            print("import cycle: " + " -> ".join(group), file=sys.stderr)
        return 1 if f["groups"] else 0
    if args.json:
        print(json.dumps(f, indent=2))
        return 0
    print(f"modules: {f['modules']}")
    in_cycles, pairs = f["modules_in_cycles"], f["mutual_pairs"]
    print(f"cycle groups between modules: {f['cycle_groups']} "
          f"({in_cycles} modules in them; {pairs} mutual pairs)")  # fmt: skip
    print(f"cycle groups between top-level packages: {f['package_cycle_groups']}")
    if args.list:
        for group in f["groups"]:  # type: ignore[attr-defined]
            print("  module cycle: " + ", ".join(group))
        for group in f["package_groups"]:  # type: ignore[attr-defined]
            print("  package cycle: " + ", ".join(group))
    print("lines per package:")
    for name, count in f["lines"].items():  # type: ignore[attr-defined]
        print(f"  {name:32} {count:6}")
    print(f"  {'total':32} {f['lines_total']:6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

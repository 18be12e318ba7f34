"""What an expression refers to: `var.x`, `local.y`, … (for ordering locals, and for
telling which values a template uses)."""

from __future__ import annotations

from collections.abc import Iterator

from kiln.template.hcl2 import ast


def traversals(expr: object) -> Iterator[ast.ScopeTraversal]:
    """Every variable reference inside `expr`, outermost first."""
    if isinstance(expr, ast.ScopeTraversal):
        yield expr
        for step in expr.steps:
            if isinstance(step, ast.Index):
                yield from traversals(step.key)
        return
    for item in ast.children(expr):
        yield from traversals(item)


def references(expr: object, root: str) -> list[tuple[str, ast.Range]]:
    """`root.NAME` references (e.g. every `local.x`) as (NAME, range)."""
    out = []
    for t in traversals(expr):
        if t.root == root and t.steps and isinstance(t.steps[0], ast.GetAttr):
            out.append((t.steps[0].name, t.range))
    return out

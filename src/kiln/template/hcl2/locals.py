"""Evaluate `locals` in dependency order; a cycle is one clear error naming its path."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kiln.template.hcl2 import ast
from kiln.template.hcl2.diagnostics import Diagnostic
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.refs import references
from kiln.template.hcl2.values import Value, object_val


def evaluate_locals(
    definitions: Mapping[str, ast.Attribute],
    make_context: Callable[[dict[str, Value]], EvalContext],
) -> tuple[dict[str, Value], list[Diagnostic]]:
    """Each local's value; `make_context(locals_so_far)` gives the scope to evaluate in.

    Locals that depend on a failed or cyclic local are not evaluated (their own error
    would only repeat the first one).
    """
    deps = {
        name: [r for r, _ in references(attr.expr, "local") if r in definitions]
        for name, attr in definitions.items()
    }
    order: list[str] = []
    state: dict[str, str] = {}
    diags: list[Diagnostic] = []
    in_cycle: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = [*path[path.index(name) :], name]
            if not in_cycle.intersection(cycle):
                attr = definitions[name]
                diags.append(
                    Diagnostic(
                        "Cycle in local values",
                        "The local values refer to each other in a loop: "
                        + " → ".join(f"local.{n}" for n in cycle)
                        + ". Break the loop so that each value can be computed from others "
                        "that do not need it.",
                        attr.name_range,
                    )
                )
            in_cycle.update(cycle)
            return
        state[name] = "active"
        for dep in deps[name]:
            visit(dep, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in definitions:
        visit(name, [])
    values: dict[str, Value] = {}
    failed: set[str] = set(in_cycle)
    for name in order:
        if name in failed or any(d in failed for d in deps[name]):
            failed.add(name)
            continue
        ctx = make_context(values)
        try:
            values[name] = evaluate(definitions[name].expr, ctx)
        except EvalError as err:
            diags.extend(err.diagnostics)
            failed.add(name)
    return values, diags


def locals_object(values: Mapping[str, Value]) -> Value:
    return object_val(values)

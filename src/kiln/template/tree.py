"""Rendering every string of an option tree (a builder's, a provisioner's options)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from kiln.errors import TemplateError
from kiln.template.engine import render


def render_tree(
    value: object,
    data: Mapping[str, object],
    funcs: Mapping[str, Callable[..., object]],
    *,
    late: Collection[str] = (),
    where: str = "",
    errors: list[str],
    observe: Callable[[str, str], None] | None = None,
) -> Any:
    """`value` with every string rendered; top-level keys in `late` are left raw.

    Errors are appended to `errors` (the string is kept as it was), so one pass reports
    every bad expression in the tree. `observe(where, result)` is called after each string
    (kiln.template.taint learns there which variables it read).
    """
    if isinstance(value, str):
        try:
            text = render(value, data, funcs, where=where or "value")
        except TemplateError as err:
            errors.append(str(err))
            text = value
        if observe is not None:
            observe(where, text)
        return text
    if isinstance(value, list):
        return [
            render_tree(v, data, funcs, where=f"{where}[{i}]", errors=errors, observe=observe)
            for i, v in enumerate(value)
        ]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not where and key in late:
                out[key] = item
            else:
                child = f"{where}.{key}" if where else str(key)
                out[key] = render_tree(
                    item, data, funcs, where=child, errors=errors, observe=observe
                )
        return out
    return value

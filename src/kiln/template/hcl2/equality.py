"""cty's value equality (the `==` operator, `contains`, `distinct`, `index`, …)."""

from __future__ import annotations

from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.values import Value


def equals(a: Value, b: Value) -> bool:
    """cty's `Equals`: nulls equal only nulls; otherwise same type and same content."""
    if a.is_null or b.is_null:
        return a.is_null and b.is_null
    if a.type != b.type:
        return False
    if isinstance(a.v, tuple):
        return len(a.v) == len(b.v) and all(equals(x, y) for x, y in zip(a.v, b.v, strict=True))
    if isinstance(a.v, dict):
        return a.v.keys() == b.v.keys() and all(equals(a.v[k], b.v[k]) for k in a.v)
    if isinstance(a.v, Number):
        return a.v.compare(b.v) == 0
    return bool(a.v == b.v)

"""hashicorp/go-version constraints (`>= 1.7.0, < 2`, `~> 1.6`), as `required_version` uses."""

from __future__ import annotations

import re

_CONSTRAINT = re.compile(r"\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+)*)(?:[-+][0-9A-Za-z.-]*)?\s*$")


def _parts(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def _pad(a: tuple[int, ...], n: int) -> tuple[int, ...]:
    return a + (0,) * (n - len(a))


def check(constraints: str, version: str) -> bool:
    """Does `version` satisfy every comma-separated constraint? ValueError if malformed."""
    have = _parts(version)
    for raw in constraints.split(","):
        m = _CONSTRAINT.match(raw)
        if m is None:
            raise ValueError(f"malformed constraint: {raw.strip()!r}")
        op, want_text = m.group(1) or "=", m.group(2)
        want = _parts(want_text)
        n = max(len(have), len(want), 3)
        h, w = _pad(have, n), _pad(want, n)
        ok = {
            "=": h == w,
            "!=": h != w,
            ">": h > w,
            "<": h < w,
            ">=": h >= w,
            "<=": h <= w,
        }.get(op)
        if op == "~>":
            # ~> 1.6 means >= 1.6, < 2; ~> 1.6.2 means >= 1.6.2, < 1.7
            prefix = want[: max(len(want) - 1, 1)]
            ok = h >= w and h[: len(prefix)] == prefix
        if not ok:
            return False
    return True

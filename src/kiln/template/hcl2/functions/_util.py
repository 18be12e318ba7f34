"""Small helpers shared by the function modules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from kiln.template.hcl2.function import ArgError
from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.values import Value


@cache
def _grapheme() -> Any:
    import regex  # only when a function counts characters (it takes ~40 ms to import)

    return regex.compile(r"\X")


def graphemes(s: str) -> list[str]:
    """User-perceived characters, as cty counts them (textseg grapheme clusters)."""
    if s.isascii() and "\r\n" not in s:
        return list(s)
    found: list[str] = _grapheme().findall(s)
    return found


def whole(args: Sequence[Value], i: int, what: str = "") -> int:
    """Argument i as an integer (cty's gocty conversion to int)."""
    n: Number = args[i].as_number()
    if n.inf or not n.is_int():
        raise ArgError(i, f"{what or 'value'} must be a whole number")
    v = n.to_int()
    if not -(2**63) <= v < 2**63:
        raise ArgError(i, "value must be a whole number, between -9223372036854775808 and "
                       "9223372036854775807")  # fmt: skip
    return v


def go_json_string(s: str) -> str:
    """Go's `json.Marshal` of a string: HTML-safe escapes for <, >, & and U+2028/2029."""
    out = json.dumps(s, ensure_ascii=False)
    return (
        out.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
        .replace("\x7f", "\x7f")
    )

"""Small helpers shared by the function modules."""

from __future__ import annotations

from collections.abc import Sequence

import regex

from kiln.template.hcl2.function import ArgError
from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.values import Value

_GRAPHEME = regex.compile(r"\X")


def graphemes(s: str) -> list[str]:
    """User-perceived characters, as cty counts them (textseg grapheme clusters)."""
    return _GRAPHEME.findall(s)


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

"""Reading the JSON kiln is given (templates, `-var-file`s) within bounds.

A template or var file is the user's, but it can be anything: `/dev/zero`, a file nested
10 000 levels deep, a number with 5 000 digits. kiln reads at most `MAX_BYTES` of it,
accepts at most `MAX_DEPTH` levels of nesting and integers of at most `MAX_INT_DIGITS`
digits, and numbers that fit a 64-bit float — far beyond any real template — and says
which bound was met instead of failing deep inside Python (MemoryError, RecursionError,
"Exceeds the limit (4300 digits)").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100
MAX_INT_DIGITS = 400


class JsonLimitError(ValueError):
    """The JSON is well-formed (as far as it was read) but beyond one of kiln's bounds."""


def read_bounded(path: Path) -> str:
    """The file's text (UTF-8), at most `MAX_BYTES`; works on FIFOs and devices too.

    Raises `OSError`, `UnicodeDecodeError`, or `JsonLimitError` for a longer file.
    """
    with path.open("rb") as f:
        return read_bounded_stream(f)


def read_bounded_stream(stream: BinaryIO) -> str:
    """`read_bounded` of an open binary stream (the template from stdin)."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise JsonLimitError(
            f"larger than {MAX_BYTES // (1024 * 1024)} MiB: kiln reads at most "
            f"{MAX_BYTES // (1024 * 1024)} MiB of a template or var file"
        )
    return data.decode("utf-8")


def loads(
    text: str, *, object_pairs_hook: Callable[[list[tuple[str, object]]], object] | None = None
) -> object:
    """`json.loads` within kiln's bounds (`object_pairs_hook` as json's).

    Raises `json.JSONDecodeError` for bad syntax (with its position), `JsonLimitError`
    (a `ValueError`) for a value beyond a bound.
    """

    def reject_constant(name: str) -> object:
        raise JsonLimitError(f"invalid JSON value {name}")

    def finite_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise JsonLimitError(f"number {literal} is out of range for a 64-bit float")
        return value

    def bounded_int(literal: str) -> int:
        digits = len(literal.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            raise JsonLimitError(
                f"a number with {digits} digits is out of range (at most {MAX_INT_DIGITS})"
            )
        return int(literal)

    try:
        value = json.loads(
            text,
            object_pairs_hook=object_pairs_hook,
            parse_constant=reject_constant,
            parse_float=finite_float,
            parse_int=bounded_int,
        )
    except RecursionError:
        raise JsonLimitError(_too_deep()) from None
    if depth(value) > MAX_DEPTH:
        raise JsonLimitError(_too_deep())
    return value


def _too_deep() -> str:
    return f"the JSON is nested too deeply (kiln reads at most {MAX_DEPTH} levels)"


def depth(value: object) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest

"""cty values: a type and a Python payload.

payloads: string → `str` (NFC-normalised, as cty does); number → `Number`; bool → `bool`;
list/tuple/set → `tuple[Value, ...]` (sets kept in cty's order); map/object →
`dict[str, Value]` with keys sorted (cty iterates maps and objects in key order);
null → `None` (of any type).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    Type,
    friendly_name,
    list_of,
    map_of,
    object_of,
    set_of,
    tuple_of,
)


class Value:
    __slots__ = ("type", "v")

    def __init__(self, type_: Type, v: Any) -> None:
        self.type = type_
        self.v = v

    @property
    def is_null(self) -> bool:
        return self.v is None

    def __eq__(self, other: object) -> bool:
        """Raw equality: same type and same content (what tests compare)."""
        return isinstance(other, Value) and self.type == other.type and self.v == other.v

    def __hash__(self) -> int:
        return hash((self.type, _hashable(self.v)))

    def __repr__(self) -> str:
        if self.v is None:
            return f"null({self.type!r})"
        return f"Value({self.type!r}, {self.v!r})"

    # payload accessors
    def as_str(self) -> str:
        assert isinstance(self.v, str)
        return self.v

    def as_number(self) -> Number:
        assert isinstance(self.v, Number)
        return self.v

    def items(self) -> tuple[Value, ...]:
        assert isinstance(self.v, tuple)
        return self.v

    def attrs(self) -> dict[str, Value]:
        assert isinstance(self.v, dict)
        return self.v

    def length(self) -> int:
        return len(self.v)


def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(v.items())
    return v


def string_val(s: str) -> Value:
    return Value(STRING, unicodedata.normalize("NFC", s) if not s.isascii() else s)


def number_val(n: Number) -> Value:
    return Value(NUMBER, n)


def number_literal(text: str) -> Value:
    return Value(NUMBER, Number.parse(text))


def int_val(i: int) -> Value:
    return Value(NUMBER, Number.from_int(i))


def float_val(f: float) -> Value:
    return Value(NUMBER, Number.from_float(f))


def bool_val(b: bool) -> Value:
    return TRUE if b else FALSE


TRUE = Value(BOOL, True)
FALSE = Value(BOOL, False)
NULL = Value(DYNAMIC, None)


def null_of(t: Type) -> Value:
    return Value(t, None)


def list_val(items: Iterable[Value], elem: Type) -> Value:
    return Value(list_of(elem), tuple(items))


def tuple_val(items: Iterable[Value]) -> Value:
    items = tuple(items)
    return Value(tuple_of([i.type for i in items]), items)


def map_val(items: Mapping[str, Value], elem: Type) -> Value:
    return Value(map_of(elem), dict(sorted(items.items())))


def object_val(items: Mapping[str, Value]) -> Value:
    ordered = dict(sorted(items.items()))
    return Value(object_of({k: v.type for k, v in ordered.items()}), ordered)


def set_val(items: Iterable[Value], elem: Type) -> Value:
    unique: dict[Any, Value] = {}
    for item in items:
        unique.setdefault(set_key(item), item)
    ordered = sorted(unique.values(), key=set_order)
    return Value(set_of(elem), tuple(ordered))


def set_key(v: Value) -> Any:
    """Identity of a set element (cty compares set elements by value)."""
    return (v.type, _deep_key(v))


def _deep_key(v: Value) -> Any:
    if v.v is None:
        return None
    if isinstance(v.v, tuple):
        return tuple(_deep_key(i) for i in v.v)
    if isinstance(v.v, dict):
        return tuple((k, _deep_key(i)) for k, i in v.v.items())
    return v.v


def set_order(v: Value) -> Any:
    """cty's set order: strings lexically, numbers by value, false before true; else a
    canonical text (cty uses a hash there, so that order is unspecified anyway)."""
    if v.v is None:
        return (3, "")
    if v.type == STRING:
        return (0, v.v)
    if v.type == NUMBER:
        n: Number = v.v
        return (1, n.to_float() if n.inf else n.fraction())
    if v.type == BOOL:
        return (2, v.v)
    return (4, repr(_deep_key(v)))


# --- Python ⇄ cty --------------------------------------------------------------------------


def from_python(obj: object) -> Value:
    """JSON-shaped Python data (as a JSON var file or `jsondecode` gives) as cty values:
    lists become tuples and dicts objects, as cty's JSON decoder does."""
    if obj is None:
        return NULL
    if isinstance(obj, bool):
        return bool_val(obj)
    if isinstance(obj, int):
        return Value(NUMBER, Number.from_int(obj, 512))
    if isinstance(obj, float):
        return Value(NUMBER, Number.from_fraction(_exact(obj), 512))
    if isinstance(obj, str):
        return string_val(obj)
    if isinstance(obj, list | tuple):
        return tuple_val(from_python(i) for i in obj)
    if isinstance(obj, dict):
        return object_val({str(k): from_python(v) for k, v in obj.items()})
    if isinstance(obj, Value):
        return obj
    raise TypeError(f"cannot represent {type(obj).__name__} as an HCL value")


def _exact(f: float) -> Any:
    from fractions import Fraction

    if not math.isfinite(f):
        raise ValueError("a number must be finite")
    return Fraction(repr(f))


def to_python(v: Value) -> object:
    """A value as plain JSON-shaped Python: numbers become int when whole, else float."""
    if v.v is None:
        return None
    t = v.type
    if t == STRING:
        return v.v
    if t == BOOL:
        return v.v
    if t == NUMBER:
        n: Number = v.v
        if n.inf:
            return n.to_float()
        if n.is_int():
            return n.to_int()
        return n.to_float()
    if isinstance(v.v, tuple):
        return [to_python(i) for i in v.v]
    if isinstance(v.v, dict):
        return {k: to_python(i) for k, i in v.v.items()}
    raise TypeError(f"unexpected value {v!r}")  # pragma: no cover


def describe(v: Value) -> str:
    """A short description for messages: `"abc"`, `2`, `list of string with 3 elements`."""
    if v.v is None:
        return "null"
    if v.type == STRING:
        return json.dumps(v.v, ensure_ascii=False)
    if v.type in (NUMBER, BOOL):
        return str(v.v).lower() if v.type == BOOL else v.as_number().text()
    return friendly_name(v.type)

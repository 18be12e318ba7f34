"""Option values from an HCL2 template, typed as Packer types them.

Packer decodes a JSON template with mapstructure's weak typing (`kiln.options.weak`: a
single string for a list, split on commas; `true` for a string is "1"), but an HCL2 block
with its HCL2 spec (hcldec), which converts each attribute to the option's cty type: a
string for a list, `"0x10"` for a number or `1` for a bool are errors there, and `true`
for a string is `"true"`. `hcl_value` applies cty's conversion rules to an evaluated
attribute (plain Python, as the HCL loader hands it over) before the weak decoding, and
words a mismatch as Packer 1.6.6 does:

    Inappropriate value for attribute "boot_command": list of string required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from enum import Enum
from typing import TYPE_CHECKING, Any, get_args, get_origin

from kiln.options.spec import Duration, option_specs
from kiln.options.weak import DecodeProblem

if TYPE_CHECKING:
    from decimal import Decimal

# cty's number syntax for a string converted to a number (cty.ParseNumberVal).
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


class _Mismatch(Exception):
    """A value that cty cannot convert: the message, after the element path."""


def _kind(typ: Any) -> str | None:
    """The option's cty type, by name (`list of string`), or None where kiln keeps the
    JSON decoding (objects of their own shape: `qemu_img_args`, vagrant's `override`)."""
    if typ is str or typ is Duration or (isinstance(typ, type) and issubclass(typ, Enum)):
        return "string"
    if typ is bool or typ == bool | None:
        return "bool"
    if typ is int:
        return "number"
    origin, args = get_origin(typ), get_args(typ)
    if origin is list and args:
        inner = _kind(args[0])
        return f"list of {inner}" if inner else None
    if origin is dict and args == (str, str):
        return "map of string"
    return None


def _convert(kind: str, value: object, path: str) -> object:
    if value is None:
        return None
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return value
        raise _Mismatch(f"{path}string required")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if value in ("true", "false"):
                return value == "true"
            raise _Mismatch(f"{path}a bool is required")
        raise _Mismatch(f"{path}bool required")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Mismatch(f"{path}number required")
        if isinstance(value, str) and not _NUMBER.match(value):
            raise _Mismatch(f"{path}a number is required")
        if isinstance(value, str):
            from decimal import Decimal  # imported for a number written as text only

            number: Decimal | int | float = Decimal(value)
        else:
            number = value
        if number != int(number):  # Packer: "value must be a whole number" (gocty)
            raise _Mismatch(f"{path}a whole number is required")
        return int(number)
    if kind.startswith("list of "):
        if not isinstance(value, list):
            raise _Mismatch(f"{path}{kind} required")
        inner = kind.removeprefix("list of ")
        return [_convert(inner, item, f"{path}element {i}: ") for i, item in enumerate(value)]
    if kind == "map of string":
        if not isinstance(value, dict):
            raise _Mismatch(f"{path}{kind} required")
        return {k: _convert("string", v, f'{path}element "{k}": ') for k, v in value.items()}
    raise AssertionError(kind)  # pragma: no cover - _kind returns only the kinds above


def hcl_value(key: str, typ: Any, value: object) -> object:
    """`value` converted to the option's HCL type as cty converts it; `DecodeProblem` in
    Packer's words when it cannot be."""
    kind = _kind(typ)
    if kind is None:
        return value
    try:
        return _convert(kind, value, "")
    except _Mismatch as err:
        raise DecodeProblem(f'Inappropriate value for attribute "{key}": {err}.') from None


def hcl_typed(raw: Mapping[str, object], classes: Sequence[type]) -> dict[str, object]:
    """`raw` with each option the classes declare converted by `hcl_value` (a value that
    does not convert stays as it is, for `decode_sections(hcl=True)` to report): what a
    step decodes again at run time then reads the values as Packer's HCL2 spec gave them."""
    types = {row.name: row.type for cls in classes for row in option_specs(cls)}
    out = dict(raw)
    for key, value in raw.items():
        if key in types:
            with suppress(DecodeProblem):
                out[key] = hcl_value(key, types[key], value)
    return out

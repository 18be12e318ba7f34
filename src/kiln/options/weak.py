"""Weakly-typed decoding, as Packer's mapstructure does it (`WeaklyTypedInput: true`).

JSON gives us str, int/float, bool, list, dict and None. Packer accepts `"1024"` for an int,
`"true"` for a bool, a number for a string, a single value for a list, and splits a string
given for a list on commas. The messages keep
Packer's wording (`cannot parse 'memory' as int: ...`) and add what is allowed.
"""

from __future__ import annotations

import math
import re
from typing import Any, get_args, get_origin

from kiln.errors import KilnError
from kiln.golang.duration import parse_go_duration
from kiln.golang.strconv import format_float, quote
from kiln.jsonkind import json_kind
from kiln.options.spec import Duration, QemuImgArgs, is_choice_enum


class DecodeProblem(Exception):
    """A value that cannot become the option's type; the message names the key."""


def to_str(key: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # mapstructure: true -> "1", false -> "0"
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, "f")  # Go: strconv.FormatFloat(f, 'f', -1, 64)
    if value is None:
        return ""
    raise DecodeProblem(f"'{key}' expected a string, got {json_kind(value)}")


_GO_INT = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)\Z")


def parse_go_int(text: str) -> int:
    """strconv.ParseInt(s, 0, 64): base prefixes, a leading 0 means octal, `_` separators."""
    if not _GO_INT.match(text) or "__" in text or text.endswith("_"):
        raise ValueError(text)
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").replace("_", "")
    if body[:2] in ("0x", "0X"):
        number = int(body[2:], 16)
    elif body[:2] in ("0b", "0B"):
        number = int(body[2:], 2)
    elif body[:2] in ("0o", "0O"):
        number = int(body[2:], 8)
    elif body.startswith("0") and len(body) > 1:
        number = int(body[1:], 8)
    else:
        number = int(body)
    return sign * number


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _in_range(key: str, number: int, shown: str) -> int:
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise DecodeProblem(f"'{key}' expected a 64-bit integer, got {shown}: value out of range")
    return number


def to_int(key: str, value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return _in_range(key, value, str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DecodeProblem(f"'{key}' expected an integer, got {value}")
        return _in_range(key, int(value), format_float(value, "g"))  # Go truncates
    if value is None:
        return 0
    if isinstance(value, str):
        text = value or "0"
        try:
            number = parse_go_int(text)
        except ValueError:
            raise DecodeProblem(
                f"cannot parse '{key}' as int: strconv.ParseInt: parsing {_go_quote(value)}: "
                "invalid syntax (expected a whole number such as 1024)"
            ) from None
        if not _INT64_MIN <= number <= _INT64_MAX:
            raise DecodeProblem(
                f"cannot parse '{key}' as int: strconv.ParseInt: parsing {_go_quote(value)}: "
                "value out of range (integers are 64-bit)"
            )
        return number
    raise DecodeProblem(f"'{key}' expected an integer, got {json_kind(value)}")


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False", ""}


def to_bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if value is None:
        return False
    if isinstance(value, str):
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise DecodeProblem(
            f"cannot parse '{key}' as bool: strconv.ParseBool: parsing {_go_quote(value)}: "
            "invalid syntax (expected true or false)"
        )
    raise DecodeProblem(f"'{key}' expected a boolean, got {json_kind(value)}")


def to_trilean(key: str, value: object) -> bool | None:
    """Packer's `config.Trilean`: unset (`null`, `""`) stays None, else a bool."""
    if value is None or value == "":
        return None
    return to_bool(key, value)


def to_duration(key: str, value: object) -> Duration:
    if value is None:
        return Duration(0.0, "0s")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DecodeProblem(
            f"'{key}' expected a duration string such as \"5s\", got {json_kind(value)}"
        )
    text = to_str(key, value)
    if not isinstance(value, str) and text != "0":
        # Packer reads a bare JSON number as nanoseconds: never what a template means.
        raise DecodeProblem(
            f"error decoding '{key}': the number {text} has no unit: write a duration string "
            f'such as "{text}s" or "1m30s"'
        )
    if text == "":
        return Duration(0.0, "0s")
    try:
        seconds = parse_go_duration(text)
    except (ValueError, KilnError) as err:
        raise DecodeProblem(
            f'error decoding \'{key}\': {err} (expected a duration such as "5s" or "1m30s")'
        ) from None
    return Duration(seconds, text)


def _items(value: object) -> list[object]:
    """A list option's items: a string is split on commas (`"a,b"` → a, b; `""` → none),
    as mapstructure's StringToSliceHookFunc(",") in Packer's config.Decode does; any
    other single value becomes a one-item list (mapstructure's weak rule)."""
    if isinstance(value, str):
        return list(value.split(",")) if value else []
    return value if isinstance(value, list) else [value]


def to_str_list(key: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        if not value:
            return []
        raise DecodeProblem(f"'{key}' expected a list of strings, got an object")
    return [to_str(f"{key}[{i}]", item) for i, item in enumerate(_items(value))]


def to_int_list(key: str, value: object) -> list[int]:
    if value is None:
        return []
    return [to_int(f"{key}[{i}]", item) for i, item in enumerate(_items(value))]


def to_str_list_list(key: str, value: object) -> list[list[str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DecodeProblem(
            f'\'{key}\' expected a list of lists of strings, e.g. [["-m", "1024M"]], '
            f"got {json_kind(value)}"
        )
    return [to_str_list(f"{key}[{i}]", row) for i, row in enumerate(value)]


def to_str_map(key: str, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list) and not value:
        return {}
    if not isinstance(value, dict):
        raise DecodeProblem(f"'{key}' expected an object of strings, got {json_kind(value)}")
    return {str(k): to_str(f"{key}.{k}", v) for k, v in value.items()}


def to_object_map(key: str, value: object) -> dict[str, dict[str, object]]:
    """An object of objects kept raw (e.g. the vagrant post-processor's `override`: provider
    name → options, decoded later against the post-processor's own table)."""
    if value is None or (isinstance(value, list) and not value):
        return {}
    if not isinstance(value, dict):
        raise DecodeProblem(f"'{key}' expected an object of objects, got {json_kind(value)}")
    result: dict[str, dict[str, object]] = {}
    for name, inner in value.items():
        if not isinstance(inner, dict):
            raise DecodeProblem(
                f"'{key}.{name}' expected an object of options, got {json_kind(inner)}"
            )
        result[str(name)] = dict(inner)
    return result


def to_qemu_img_args(key: str, value: object) -> QemuImgArgs:
    if value is None or value == []:
        return QemuImgArgs()
    if not isinstance(value, dict):
        raise DecodeProblem(
            f"'{key}' expected an object with 'convert', 'create' and/or 'resize' lists, "
            f"got {json_kind(value)}"
        )
    allowed = ("convert", "create", "resize")
    unknown = sorted(k for k in value if k not in allowed)
    if unknown:
        raise DecodeProblem(
            f"'{key}' has unknown key(s) {', '.join(repr(k) for k in unknown)}; "
            "allowed: convert, create, resize"
        )
    lists = {k: tuple(to_str_list(f"{key}.{k}", value.get(k))) for k in allowed}
    return QemuImgArgs(**lists)


def convert(key: str, typ: Any, value: object) -> object:
    """Convert a JSON value to the declared field type `typ`."""
    if typ is str:
        return to_str(key, value)
    if typ is bool:
        return to_bool(key, value)
    if typ == bool | None:
        return to_trilean(key, value)
    if typ is int:
        return to_int(key, value)
    if typ is Duration:
        return to_duration(key, value)
    if typ is QemuImgArgs:
        return to_qemu_img_args(key, value)
    if is_choice_enum(typ):  # a value outside the enum stays a string: the choice check names it
        text = to_str(key, value)
        return typ(text) if text in typ._value2member_map_ else text
    origin, args = get_origin(typ), get_args(typ)
    if origin is list and args == (str,):
        return to_str_list(key, value)
    if origin is list and args == (int,):
        return to_int_list(key, value)
    if origin is list and args and get_origin(args[0]) is list:
        return to_str_list_list(key, value)
    if origin is dict and args and args[1] is not str:
        return to_object_map(key, value)
    if origin is dict:
        return to_str_map(key, value)
    raise TypeError(f"option {key!r} has an undecodable type {typ!r}")  # a kiln bug


def _go_quote(text: str) -> str:
    """Go's %q, as strconv's errors print the value."""
    return quote(text)

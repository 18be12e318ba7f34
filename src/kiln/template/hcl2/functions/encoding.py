"""Encoding functions: base64, JSON and YAML (cty's encoders), urlencode, csvdecode."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.functions._util import go_json_string
from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.types import DYNAMIC, NUMBER, STRING, Type, object_of
from kiln.template.hcl2.values import (
    NULL,
    Value,
    bool_val,
    list_val,
    number_val,
    object_val,
    string_val,
    tuple_val,
)

S = Param("str", STRING)


@fn(S)
def _base64encode(a: Sequence[Value]) -> Value:
    import base64

    return string_val(base64.b64encode(a[0].as_str().encode()).decode())


@fn(S)
def _base64decode(a: Sequence[Value]) -> Value:
    import base64
    import binascii

    s = a[0].as_str()
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise ArgError(0, f"failed to decode base64 data '{s}'") from None
    try:
        return string_val(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ArgError(0, "the result of decoding the provided string is not valid UTF-8") from None


@fn(S)
def _base64gzip(a: Sequence[Value]) -> Value:
    import base64
    import gzip

    data = gzip.compress(a[0].as_str().encode(), mtime=0)
    return string_val(base64.b64encode(data).decode())


_URL_SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


@fn(S)
def _urlencode(a: Sequence[Value]) -> Value:
    """Go's url.QueryEscape."""
    out = []
    for byte in a[0].as_str().encode():
        if byte in _URL_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return string_val("".join(out))


# --- JSON ---------------------------------------------------------------------------------


def json_encode(v: Value) -> str:
    """cty's JSON marshalling: sorted keys, numbers as `Text('f', -1)`, Go string escapes."""
    if v.is_null:
        return "null"
    t = v.type
    if t == STRING:
        return go_json_string(v.as_str())
    if t == NUMBER:
        n = v.as_number()
        if n.inf:
            raise FunctionError("cannot serialize infinity as JSON")
        return n.text()
    if t.kind == "bool":
        return "true" if v.v else "false"
    if isinstance(v.v, tuple):
        return "[" + ",".join(json_encode(i) for i in v.v) + "]"
    if isinstance(v.v, dict):
        return "{" + ",".join(f"{go_json_string(k)}:{json_encode(i)}" for k, i in v.v.items()) + "}"
    raise FunctionError(f"cannot serialize {t!r} as JSON")  # pragma: no cover


@fn(Param("val", DYNAMIC))  # null only inside a value, as cty 1.4 (Packer 1.6.6) has it
def _jsonencode(a: Sequence[Value]) -> Value:
    return string_val(json_encode(a[0]))


class _Num(str):
    """A JSON number literal, kept as text until it becomes a cty number."""


def _from_json(obj: Any) -> Value:
    if obj is None:
        return NULL
    if isinstance(obj, bool):
        return bool_val(obj)
    if isinstance(obj, _Num):
        return number_val(Number.parse(obj))
    if isinstance(obj, str):
        return string_val(obj)
    if isinstance(obj, list):
        return tuple_val(_from_json(i) for i in obj)
    if isinstance(obj, dict):
        return object_val({k: _from_json(i) for k, i in obj.items()})
    raise TypeError(obj)  # pragma: no cover


def json_decode(text: str) -> Value:
    return _from_json(
        json.loads(
            text,
            parse_int=_Num,
            parse_float=_Num,
            parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"invalid value {c}")),
        )
    )


@fn(S)
def _jsondecode(a: Sequence[Value]) -> Value:
    try:
        return json_decode(a[0].as_str())
    except json.JSONDecodeError as err:
        raise ArgError(0, f"{err.msg} at line {err.lineno}, column {err.colno}") from None
    except (ValueError, RecursionError) as err:
        raise ArgError(0, str(err)) from None


# --- YAML ---------------------------------------------------------------------------------


@cache
def _loader() -> Any:
    """YAML 1.1 like go-yaml, with go-cty-yaml's choices (built on first use: PyYAML takes
    ~60 ms to import)."""
    import yaml

    class Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
        pass

    def construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        text = str(loader.construct_scalar(node)).replace("_", "")
        if text.lower() in (".inf", "+.inf", "-.inf", ".nan"):
            raise ValueError(f"cannot represent {text} as a number")
        return _Num(text)

    def construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        text = str(loader.construct_scalar(node))
        if not re.fullmatch(r"[-+]?[0-9][0-9_]*", text):
            return text  # go-cty-yaml keeps 0x1F, 0o17, 1:30 as strings
        return _Num(str(int(text.replace("_", ""))))

    def construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        """go-cty-yaml turns a timestamp into an RFC 3339 string (UTC when unzoned)."""
        import datetime as dt

        value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        elif value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        text = value.replace(microsecond=0).isoformat()
        return text.replace("+00:00", "Z")

    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)
    return Loader


@fn(Param("src", STRING))
def _yamldecode(a: Sequence[Value]) -> Value:
    import yaml

    try:
        docs = list(yaml.load_all(a[0].as_str(), Loader=_loader()))
    except yaml.YAMLError as err:
        raise FunctionError(f"on line {_yaml_line(err)}: {_yaml_problem(err)}") from None
    except (ValueError, RecursionError) as err:
        raise FunctionError(str(err)) from None
    if not docs:
        return NULL
    if len(docs) > 1:
        raise FunctionError("multiple documents are not supported")
    return _from_yaml(docs[0])


def _yaml_line(err: Any) -> int:
    mark = getattr(err, "problem_mark", None)
    return mark.line + 1 if mark is not None else 1


def _yaml_problem(err: Any) -> str:
    return str(getattr(err, "problem", None) or err)


def _from_yaml(obj: Any) -> Value:
    import base64

    if isinstance(obj, dict):
        return object_val({_yaml_key(k): _from_yaml(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple_val(_from_yaml(i) for i in obj)
    if isinstance(obj, bytes):
        return string_val(base64.b64encode(obj).decode())
    return _from_json(obj)


def _yaml_key(k: Any) -> str:
    if isinstance(k, _Num):
        return Number.parse(k).text()
    if isinstance(k, bool):
        return "true" if k else "false"
    if k is None:
        return "null"
    return str(k)


def _yaml_scalar(v: Value) -> str:
    if v.is_null:
        return "null"
    if v.type == STRING:
        return (
            go_json_string(v.as_str())
            .replace("\\u003c", "<")
            .replace("\\u003e", ">")
            .replace("\\u0026", "&")
        )
    if v.type == NUMBER:
        n = v.as_number()
        if n.inf:
            return "-.inf" if n.neg else "+.inf"
        return n.text()
    return "true" if v.v else "false"


def _is_block(v: Value) -> bool:
    return not v.is_null and v.type == STRING and "\n" in v.as_str()


def _yaml_block(s: str, indent: str) -> str:
    chomp = "-" if not s.endswith("\n") else ("+" if s.endswith("\n\n") else "")
    body = s[:-1] if s.endswith("\n") else s
    lines = [indent + line if line else "" for line in body.split("\n")]
    return f"|{chomp}\n" + "\n".join(lines)


def yaml_encode(v: Value) -> str:
    """go-cty-yaml's output: double-quoted strings and keys, `|-` blocks for multi-line
    strings, sequences at their key's indentation, two-space indent."""
    out: list[str] = []
    _emit(v, "", out, top=True)
    plain_scalar = v.is_null or (v.type != STRING and not isinstance(v.v, tuple | dict))
    return "".join(out) + ("...\n" if plain_scalar else "")


def _emit(v: Value, indent: str, out: list[str], top: bool = False) -> None:
    container = not v.is_null and isinstance(v.v, tuple | dict)
    if not container:
        text = _yaml_block(v.as_str(), indent + "  ") if _is_block(v) else _yaml_scalar(v)
        out.append(text + "\n")
        return
    if not v.v:
        out.append(("[]" if isinstance(v.v, tuple) else "{}") + "\n")
        return
    if isinstance(v.v, tuple):
        for item in v.v:
            out.append(indent + "- ")
            _emit_inline(item, indent + "  ", out)
        return
    for key, item in v.attrs().items():
        out.append(indent + go_json_string(key).replace("\\u003c", "<") + ":")
        _emit_value_after_key(item, indent, out)


def _emit_value_after_key(item: Value, indent: str, out: list[str]) -> None:
    if not item.is_null and isinstance(item.v, tuple) and item.v:
        out.append("\n")
        _emit(item, indent, out)
    elif not item.is_null and isinstance(item.v, dict) and item.v:
        out.append("\n")
        _emit(item, indent + "  ", out)
    else:
        out.append(" ")
        _emit(item, indent, out)


def _emit_inline(item: Value, indent: str, out: list[str]) -> None:
    """A sequence item: its first line follows the "- "."""
    if not item.is_null and isinstance(item.v, dict) and item.v:
        first = True
        for key, sub in item.attrs().items():
            out.append(("" if first else indent) + go_json_string(key) + ":")
            _emit_value_after_key(sub, indent, out)
            first = False
    elif not item.is_null and isinstance(item.v, tuple) and item.v:
        first = True
        for sub in item.v:
            out.append(("" if first else indent) + "- ")
            _emit_inline(sub, indent + "  ", out)
            first = False
    else:
        _emit(item, indent, out)


@fn(Param("value", DYNAMIC, allow_null=True))
def _yamlencode(a: Sequence[Value]) -> Value:
    return string_val(yaml_encode(a[0]))


# --- CSV ----------------------------------------------------------------------------------


@fn(S)
def _csvdecode(a: Sequence[Value]) -> Value:
    import csv
    import io

    try:
        rows = list(csv.reader(io.StringIO(a[0].as_str(), newline=""), strict=True))
    except csv.Error as err:
        raise ArgError(0, str(err)) from None
    if not rows:
        raise ArgError(0, "missing header line")
    header = rows[0]
    atys: dict[str, Type] = {name: STRING for name in header}
    out = []
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise ArgError(0, f"record on line {n}: wrong number of fields")
        out.append(object_val({h: string_val(c) for h, c in zip(header, row, strict=True)}))
    return list_val(out, object_of(atys))


def _codec(a: Sequence[Value], i: int) -> str:
    import codecs

    name = a[i].as_str()
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ArgError(i, f'"{name}" is not a supported IANA encoding name or alias') from None


@fn(Param("string", STRING), Param("encoding", STRING))
def _textencodebase64(a: Sequence[Value]) -> Value:
    import base64

    codec = _codec(a, 1)
    try:
        data = a[0].as_str().encode(codec)
    except UnicodeEncodeError:
        raise ArgError(0, f"the given string contains characters that cannot be represented "
                       f"in {a[1].as_str()}") from None  # fmt: skip
    return string_val(base64.b64encode(data).decode())


@fn(Param("source", STRING), Param("encoding", STRING))
def _textdecodebase64(a: Sequence[Value]) -> Value:
    import base64
    import binascii

    codec = _codec(a, 1)
    try:
        data = base64.b64decode(a[0].as_str(), validate=True)
    except (binascii.Error, ValueError):
        raise ArgError(0, "the given value has an invalid base64 symbol") from None
    try:
        return string_val(data.decode(codec))
    except UnicodeDecodeError:
        raise ArgError(0, f"the given string contains symbols that are not defined for "
                       f"{a[1].as_str()}") from None  # fmt: skip


FUNCTIONS: dict[str, Function] = {
    "base64decode": _base64decode,
    "textdecodebase64": _textdecodebase64,
    "textencodebase64": _textencodebase64,
    "base64encode": _base64encode,
    "base64gzip": _base64gzip,
    "csvdecode": _csvdecode,
    "jsondecode": _jsondecode,
    "jsonencode": _jsonencode,
    "urlencode": _urlencode,
    "yamldecode": _yamldecode,
    "yamlencode": _yamlencode,
}

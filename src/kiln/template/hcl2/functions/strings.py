"""String functions: cty's stdlib (strings, format, regexp) and Packer's own additions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from kiln.template.functions import go_lower, go_upper
from kiln.template.hcl2 import gobig
from kiln.template.hcl2.convert import ConversionError, convert
from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.functions._util import go_json_string, graphemes, whole
from kiln.template.hcl2.functions.encoding import json_encode
from kiln.template.hcl2.types import BOOL, DYNAMIC, NUMBER, STRING, Type, list_of
from kiln.template.hcl2.values import (
    Value,
    bool_val,
    list_val,
    null_of,
    object_val,
    string_val,
    tuple_val,
)

S = Param("str", STRING)
LIST_OF_STRING = list_of(STRING)


def _s(v: Value) -> str:
    return v.as_str()


@fn(S)
def _upper(a: Sequence[Value]) -> Value:
    return string_val(go_upper(_s(a[0])))


@fn(S)
def _lower(a: Sequence[Value]) -> Value:
    return string_val(go_lower(_s(a[0])))


def _is_separator(ch: str) -> bool:
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


@fn(S)
def _title(a: Sequence[Value]) -> Value:
    """Go's strings.Title: upper-case the first letter of each word."""
    out = []
    prev = " "
    for ch in _s(a[0]):
        out.append(ch.upper() if _is_separator(prev) else ch)
        prev = ch
    return string_val("".join(out))


@fn(S)
def _strrev(a: Sequence[Value]) -> Value:
    return string_val("".join(reversed(graphemes(_s(a[0])))))


@fn(S, Param("offset", NUMBER), Param("length", NUMBER))
def _substr(a: Sequence[Value]) -> Value:
    chars = graphemes(_s(a[0]))
    offset, length = whole(a, 1, "offset"), whole(a, 2, "length")
    if offset < 0:
        offset = max(offset + len(chars), 0)
    elif length == 0:
        return string_val("")
    rest = chars[offset:]
    if length < 0:
        return string_val("".join(rest))
    return string_val("".join(rest[:length]))


_CHOMP = re.compile(r"(?:\r\n?|\n)*\Z")


@fn(S)
def _chomp(a: Sequence[Value]) -> Value:
    return string_val(_CHOMP.sub("", _s(a[0]), count=1))


@fn(Param("spaces", NUMBER), S)
def _indent(a: Sequence[Value]) -> Value:
    pad = " " * max(whole(a, 0, "spaces"), 0)
    return string_val(_s(a[1]).replace("\n", "\n" + pad))


@fn(S, Param("cutset", STRING))
def _trim(a: Sequence[Value]) -> Value:
    return string_val(_s(a[0]).strip(_s(a[1])) if _s(a[1]) else _s(a[0]))


@fn(S, Param("prefix", STRING))
def _trimprefix(a: Sequence[Value]) -> Value:
    return string_val(_s(a[0]).removeprefix(_s(a[1])))


@fn(S, Param("suffix", STRING))
def _trimsuffix(a: Sequence[Value]) -> Value:
    return string_val(_s(a[0]).removesuffix(_s(a[1])))


_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # noqa: E501


@fn(S)
def _trimspace(a: Sequence[Value]) -> Value:
    return string_val(_s(a[0]).strip(_GO_SPACE))


@fn(S, Param("prefix", STRING))
def _startswith(a: Sequence[Value]) -> Value:
    return bool_val(_s(a[0]).startswith(_s(a[1])))


@fn(S, Param("suffix", STRING))
def _endswith(a: Sequence[Value]) -> Value:
    return bool_val(_s(a[0]).endswith(_s(a[1])))


@fn(S, Param("substr", STRING))
def _strcontains(a: Sequence[Value]) -> Value:
    return bool_val(_s(a[1]) in _s(a[0]))


@fn(S, Param("substr", STRING), Param("replace", STRING))
def _replace(a: Sequence[Value]) -> Value:
    s, old, new = _s(a[0]), _s(a[1]), _s(a[2])
    if old == "":  # Go: an empty old inserts `new` around every rune
        return string_val(new + new.join(s) + new if s else new)
    return string_val(s.replace(old, new))


@fn(Param("separator", STRING), S)
def _split(a: Sequence[Value]) -> Value:
    sep, s = _s(a[0]), _s(a[1])
    parts = list(s) if sep == "" else s.split(sep)
    return list_val([string_val(p) for p in parts], STRING)


@fn(Param("separator", STRING), variadic=Param("lists", LIST_OF_STRING))
def _join(a: Sequence[Value]) -> Value:
    if len(a) < 2:
        raise FunctionError("at least one list is required")
    out = []
    n = 0
    for lst in a[1:]:
        for item in lst.items():
            if item.is_null:
                raise ArgError(1, f"element {n} is null; cannot concatenate null values")
            out.append(item.as_str())
            n += 1
    return string_val(_s(a[0]).join(out))


# --- regular expressions (RE2, as Go's regexp) ------------------------------------------------


def _compile(pattern: str, index: int = 0) -> Any:
    import re2  # RE2, as Go's regexp (imported when a template uses a regex function)

    try:
        return re2.compile(pattern)
    except re2.error as err:
        raise ArgError(index, f"error parsing regexp: {err}") from None


def _result_shape(rx: Any) -> tuple[str, list[str]]:
    names = [""] * rx.groups
    for name, i in rx.groupindex.items():
        names[i - 1] = name
    unnamed = names.count("")
    if not names:
        return "string", names
    if unnamed and unnamed != len(names):
        raise ArgError(0, "invalid regexp pattern: cannot mix both named and unnamed capture "
                       "groups")  # fmt: skip
    return ("tuple" if unnamed else "object"), names


def _match_value(m: Any, shape: str, names: list[str]) -> Value:
    if shape == "string":
        return string_val(m.group(0))
    vals = [string_val(g) if g is not None else null_of(STRING) for g in m.groups()]
    if shape == "tuple":
        return tuple_val(vals)
    return object_val(dict(zip(names, vals, strict=True)))


@fn(Param("pattern", STRING), Param("string", STRING))
def _regex(a: Sequence[Value]) -> Value:
    rx = _compile(_s(a[0]))
    shape, names = _result_shape(rx)
    m = rx.search(_s(a[1]))
    if m is None:
        raise FunctionError("pattern did not match any part of the given string")
    return _match_value(m, shape, names)


@fn(Param("pattern", STRING), Param("string", STRING))
def _regexall(a: Sequence[Value]) -> Value:
    rx = _compile(_s(a[0]))
    shape, names = _result_shape(rx)
    matches = [_match_value(m, shape, names) for m in _find_all(rx, _s(a[1]))]
    if not matches:
        elem = STRING if shape == "string" else DYNAMIC
        return list_val([], elem)
    return Value(list_of(matches[0].type), tuple(matches))


def _find_all(rx: Any, s: str) -> list[Any]:
    """Go's FindAll: non-overlapping, and no empty match right after a previous match."""
    out = []
    pos = 0
    prev_end = -1
    while pos <= len(s):
        m = rx.search(s, pos)
        if m is None:
            break
        start, end = m.span()
        if start == end == prev_end:
            pos = start + 1
            continue
        out.append(m)
        prev_end = end
        pos = end if end > start else end + 1
    return out


_EXPAND = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand(template: str, m: Any, rx: Any) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a literal $."""

    def group(name: str) -> str:
        try:
            idx = int(name)
        except ValueError:
            idx = rx.groupindex.get(name, -1)
        if idx < 0 or idx > rx.groups:
            return ""
        g = m.group(idx)
        return g or ""

    def repl(em: re.Match[str]) -> str:
        if em.group(0) == "$$":
            return "$"
        return group(em.group(1) or em.group(2))

    return _EXPAND.sub(repl, template)


@fn(S, Param("pattern", STRING), Param("replace", STRING))
def _regex_replace(a: Sequence[Value]) -> Value:
    s, rx, tmpl = _s(a[0]), _compile(_s(a[1]), 1), _s(a[2])
    out = []
    last = 0
    for m in _find_all(rx, s):
        out.append(s[last : m.start()])
        out.append(_expand(tmpl, m, rx))
        last = m.end()
    out.append(s[last:])
    return string_val("".join(out))


# --- format -----------------------------------------------------------------------------------

_VERB = re.compile(
    r"%(?P<flags>[0#+\- ]*)(?P<width>[1-9][0-9]*)?(?P<prec>\.[0-9]*)?"
    r"(?:\[(?P<arg>[1-9][0-9]*)\])?(?P<mode>[A-Za-z])?"
)


def _json_of(v: Value) -> str:
    return json_encode(v)


def _pad(text: str, width: int, minus: bool, zero: bool) -> str:
    length = len(graphemes(text))
    if width < 0 or length >= width:
        return text
    pad = ("0" if zero else " ") * (width - length)
    return text + pad if minus else pad + text


def _go_int(v: int, mode: str, flags: str, width: int, prec: int) -> str:
    digits = format(abs(v), {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[mode])
    if prec >= 0:
        digits = "" if prec == 0 and v == 0 else digits.zfill(prec)
    prefix = ""
    if "#" in flags:
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(mode, "")
        if mode == "o" and digits.startswith("0"):
            prefix = ""
    sign = "-" if v < 0 else "+" if "+" in flags else " " if " " in flags else ""
    body = sign + prefix + digits
    if width > len(body):
        if "-" in flags:
            return body + " " * (width - len(body))
        if "0" in flags and prec < 0:
            return sign + prefix + "0" * (width - len(body)) + digits
        return " " * (width - len(body)) + body
    return body


def format_string(fmt: str, args: Sequence[Value]) -> str:
    out: list[str] = []
    next_arg = 1
    highest = 0
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        if fmt.startswith("%%", i):
            out.append("%")
            i += 2
            continue
        m = _VERB.match(fmt, i)
        assert m is not None
        if m.group("mode") is None:
            if m.end() >= len(fmt):
                raise FunctionError(f"invalid format string starting at offset {i}")
            raise FunctionError(
                f"unrecognized format character {fmt[m.end()]!r} at offset {m.end()}".replace(
                    "'", '"'
                )
            )
        raw = m.group(0)
        flags = m.group("flags")
        width = int(m.group("width")) if m.group("width") else -1
        prec = int(m.group("prec")[1:] or 0) if m.group("prec") else -1
        argnum = int(m.group("arg")) if m.group("arg") else next_arg
        mode = m.group("mode")
        highest = max(highest, argnum)
        if argnum > len(args):
            raise FunctionError(
                f'not enough arguments for "{raw}" at {i}: need index {argnum} but have '
                f"{len(args)} total"
            )
        arg = args[argnum - 1]
        out.append(_format_verb(raw, i, arg, mode, flags, width, prec))
        next_arg = argnum + 1
        i = m.end()
    if highest < len(args):
        if highest == 0:
            raise FunctionError("too many arguments; no verbs in format string")
        raise FunctionError(f"too many arguments; only {highest} used by format string")
    return "".join(out)


def _format_verb(
    raw: str, offset: int, arg: Value, mode: str, flags: str, width: int, prec: int
) -> str:
    minus, zero = "-" in flags, "0" in flags
    if mode != "v" and arg.is_null:
        raise FunctionError(
            f'unsupported value for "{raw}" at {offset}: null value cannot be formatted'
        )

    def convert_to(t: Type) -> Value:
        try:
            return convert(arg, t)
        except ConversionError as err:
            raise FunctionError(f'unsupported value for "{raw}" at {offset}: {err.text}') from None

    if mode == "v":
        if "#" not in flags and not arg.is_null:
            if arg.type == STRING:
                return _pad(arg.as_str(), width, minus, zero)
            if arg.type == NUMBER:
                return _pad(gobig.text(arg.as_number(), "g", -1), width, minus, zero)
        return _pad(_json_of(arg), width, minus, zero)
    if mode == "t":
        return "true" if convert_to(BOOL).v else "false"
    if mode in "bdoxXeEfgG":
        n = convert_to(NUMBER).as_number()
        if mode in "bdoxX":
            if n.inf or not n.is_int():
                raise FunctionError(
                    f'unsupported value for "{raw}" at {offset}: an integer is required'
                )
            return _go_int(n.to_int(), mode, flags, width, prec)
        return gobig.fmt_verb(
            n, mode, prec=prec, width=width, plus="+" in flags, space=" " in flags,
            zero=zero, minus=minus,
        )  # fmt: skip
    if mode in "sq":
        s = convert_to(STRING).as_str()
        if prec > 0:
            s = "".join(graphemes(s)[:prec])
        if mode == "q":
            s = go_json_string(s)
        return _pad(s, width, minus, zero)
    raise FunctionError(f'unsupported format verb "{mode}" in "{raw}" at offset {offset}')


@fn(Param("format", STRING), variadic=Param("args", DYNAMIC, allow_null=True))
def _format(a: Sequence[Value]) -> Value:
    return string_val(format_string(_s(a[0]), a[1:]))


@fn(Param("format", STRING), variadic=Param("args", DYNAMIC, allow_null=True))
def _formatlist(a: Sequence[Value]) -> Value:
    fmt, args = _s(a[0]), a[1:]
    length = -1
    for i, arg in enumerate(args):
        if not arg.is_null and arg.type.kind in ("list", "tuple", "set"):
            n = len(arg.items())
            if length >= 0 and n != length:
                raise ArgError(
                    i + 1,
                    f"argument {i + 1} has length {n}, which is inconsistent with previous "
                    f"length {length}",
                )
            length = n
    if length < 0:
        return list_val([string_val(format_string(fmt, args))], STRING)
    out = []
    for k in range(length):
        row = [
            arg.items()[k] if not arg.is_null and arg.type.kind in ("list", "tuple", "set") else arg
            for arg in args
        ]
        out.append(string_val(format_string(fmt, row)))
    return list_val(out, STRING)


FUNCTIONS: dict[str, Function] = {
    "chomp": _chomp,
    "endswith": _endswith,
    "format": _format,
    "formatlist": _formatlist,
    "indent": _indent,
    "join": _join,
    "lower": _lower,
    "regex": _regex,
    "regex_replace": _regex_replace,
    "regexall": _regexall,
    "replace": _replace,
    "split": _split,
    "startswith": _startswith,
    "strcontains": _strcontains,
    "strrev": _strrev,
    "substr": _substr,
    "title": _title,
    "trim": _trim,
    "trimprefix": _trimprefix,
    "trimspace": _trimspace,
    "trimsuffix": _trimsuffix,
    "upper": _upper,
}

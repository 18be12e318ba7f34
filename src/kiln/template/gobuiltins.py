"""Go text/template's predefined functions: and or not len index slice print printf
println urlquery html js eq ne lt le gt ge.

`and`/`or` are listed for arity checks and name lookup; the evaluator runs them itself
because they short-circuit (they see unevaluated arguments). The parameter annotations
are the Go parameter types the evaluator checks arguments against (`object` = any).
"""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Callable, Mapping, Sequence

from kiln.errors import KilnError
from kiln.golang.fmt import go_type, is_list, sprint, sprintf, sprintln, utf8_len


class FuncError(KilnError):
    """A builtin refused its arguments; the evaluator reports `error calling NAME: msg`."""


def truth(v: object) -> bool:
    """Go's truth: false, 0, "", nil and empty lists/maps are false; all else is true."""
    if v is None:
        return False
    if isinstance(v, (bool, int, float)):
        return bool(v)
    if isinstance(v, (str, Mapping)) or is_list(v):
        return len(v) > 0  # type: ignore[arg-type]
    return True


# ------------------------------------------------------------------ logic


def go_and(arg0: object, *args: object) -> object:
    for v in (arg0, *args):
        if not truth(v):
            return v
    return args[-1] if args else arg0


def go_or(arg0: object, *args: object) -> object:
    for v in (arg0, *args):
        if truth(v):
            return v
    return args[-1] if args else arg0


def go_not(arg: object) -> bool:
    return not truth(arg)


# ------------------------------------------------------------------ containers


def go_len(item: object) -> int:
    if isinstance(item, str):
        return utf8_len(item)
    if isinstance(item, Mapping) or is_list(item):
        return len(item)  # type: ignore[arg-type]
    if item is None:
        raise FuncError("len of nil pointer")
    raise FuncError(f"len of type {go_type(item)}")


def _index_arg(index: object, length: int, *, allow_end: bool = False) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise FuncError(f"cannot index slice/array with type {go_type(index)}")
    if index < 0 or index > length or (index == length and not allow_end):
        raise FuncError(f"index out of range: {index}")
    return index


def go_index(item: object, *indexes: object) -> object:
    """index x 1 2 is x[1][2]; a missing map key gives nil, like Go's zero value."""
    for index in indexes:
        if isinstance(item, str):
            data = item.encode("utf-8", "surrogatepass")
            item = data[_index_arg(index, len(data))]
        elif is_list(item):
            assert isinstance(item, Sequence)
            item = item[_index_arg(index, len(item))]
        elif isinstance(item, Mapping):
            if not isinstance(index, str):
                raise FuncError(f"value has type {go_type(index)}; should be string")
            item = item.get(index)
        elif item is None:
            raise FuncError("index of untyped nil")
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


def go_slice(item: object, *indexes: object) -> object:
    """slice x 1 2 is x[1:2]; slice x 1 2 3 is x[1:2:3] (capacity is not kept here)."""
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data = item.encode("utf-8", "surrogatepass")
        length = len(data)
    elif is_list(item):
        assert isinstance(item, Sequence)
        length = len(item)
    else:
        raise FuncError(f"can't slice item of type {go_type(item)}")
    bounds = [_index_arg(i, length, allow_end=True) for i in indexes]
    lo = bounds[0] if bounds else 0
    hi = bounds[1] if len(bounds) > 1 else length
    for a, b in itertools.pairwise(bounds):
        if a > b:
            raise FuncError(f"invalid slice index: {a} > {b}")
    if isinstance(item, str):
        return data[lo:hi].decode("utf-8", "replace")
    assert isinstance(item, Sequence)
    return list(item[lo:hi])


# ------------------------------------------------------------------ printing


def go_print(*args: object) -> str:
    return sprint(args)


def go_printf(fmt: str, *args: object) -> str:
    return sprintf(fmt, args)


def go_println(*args: object) -> str:
    return sprintln(args)


def _as_text(args: Sequence[object]) -> str:
    """Go's evalArgs: a single string as is, else fmt.Sprint of the arguments."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(args)


def go_urlquery(*args: object) -> str:
    """url.QueryEscape: space is '+', all but letters, digits and -_.~ are %XX."""
    return urllib.parse.quote_plus(_as_text(args), safe="", errors="surrogatepass")


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def go_html(*args: object) -> str:
    return "".join(_HTML.get(ch, ch) for ch in _as_text(args))


_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def go_js(*args: object) -> str:
    out: list[str] = []
    for ch in _as_text(args):
        if ch in _JS:
            out.append(_JS[ch])
        elif ch < " " or (ord(ch) >= 0x80 and not ch.isprintable()):
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------ comparison


def _basic_kind(v: object) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "nil"
    return "other"


def go_eq(arg1: object, *arg2: object) -> bool:
    """eq a b c is a==b || a==c; values of different kinds are an error, as in Go."""
    if not arg2:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        k2 = _basic_kind(arg)
        if k1 == "nil" or k2 == "nil":
            same = k1 == k2
        elif k1 != k2:
            raise FuncError(
                f"incompatible types for comparison: {go_type(arg1)} and {go_type(arg)}"
            )
        elif k1 == "other":
            raise FuncError(f"non-comparable type {go_type(arg1)}")
        else:
            same = arg1 == arg
        if same:
            return True
    return False


def go_ne(arg1: object, arg2: object) -> bool:
    return not go_eq(arg1, arg2)


_ORDERED = ("int", "float", "string")


def go_lt(arg1: object, arg2: object) -> bool:
    k1, k2 = _basic_kind(arg1), _basic_kind(arg2)
    for kind, arg in ((k1, arg1), (k2, arg2)):
        if kind not in _ORDERED:
            raise FuncError(f"invalid type for comparison: {go_type(arg)}")
    if k1 != k2:
        raise FuncError(f"incompatible types for comparison: {go_type(arg1)} and {go_type(arg2)}")
    return bool(arg1 < arg2)  # type: ignore[operator]


def go_le(arg1: object, arg2: object) -> bool:
    return go_lt(arg1, arg2) or go_eq(arg1, arg2)


def go_gt(arg1: object, arg2: object) -> bool:
    return not go_le(arg1, arg2)


def go_ge(arg1: object, arg2: object) -> bool:
    return not go_lt(arg1, arg2)


BUILTINS: dict[str, Callable[..., object]] = {
    "and": go_and,
    "or": go_or,
    "not": go_not,
    "len": go_len,
    "index": go_index,
    "slice": go_slice,
    "print": go_print,
    "printf": go_printf,
    "println": go_println,
    "urlquery": go_urlquery,
    "html": go_html,
    "js": go_js,
    "eq": go_eq,
    "ne": go_ne,
    "lt": go_lt,
    "le": go_le,
    "gt": go_gt,
    "ge": go_ge,
}

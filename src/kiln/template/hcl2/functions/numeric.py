"""Numeric functions (cty stdlib number.go)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.functions._util import whole
from kiln.template.hcl2.numbers import Number
from kiln.template.hcl2.types import NUMBER, STRING
from kiln.template.hcl2.values import Value, int_val, number_val

N = Param("num", NUMBER)


def _n(v: Value) -> Number:
    return v.as_number()


@fn(N)
def _abs(a: Sequence[Value]) -> Value:
    return number_val(_n(a[0]).abs_())


def _round_with(a: Sequence[Value], op: str) -> Value:
    n = _n(a[0])
    if n.inf:
        return a[0]
    f = n.fraction()
    i = math.floor(f) if op == "floor" else math.ceil(f)
    return int_val(i)


@fn(N)
def _floor(a: Sequence[Value]) -> Value:
    return _round_with(a, "floor")


@fn(N)
def _ceil(a: Sequence[Value]) -> Value:
    return _round_with(a, "ceil")


def _float(n: Number) -> float:
    return n.to_float()


@fn(N, Param("base", NUMBER))
def _log(a: Sequence[Value]) -> Value:
    x, b = _float(_n(a[0])), _float(_n(a[1]))
    try:
        lx = math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)
        lb = math.log(b) if b > 0 else (-math.inf if b == 0 else math.nan)
        r = lx / lb
    except ZeroDivisionError:
        r = math.inf if lx > 0 else -math.inf if lx < 0 else math.nan
    if math.isnan(r):
        raise FunctionError("the result is not a number")
    return number_val(Number.from_float(r))


@fn(N, Param("power", NUMBER))
def _pow(a: Sequence[Value]) -> Value:
    try:
        r = math.pow(_float(_n(a[0])), _float(_n(a[1])))
    except OverflowError:
        r = math.inf
    except ValueError:
        raise FunctionError("the result is not a number") from None
    return number_val(Number.from_float(r))


@fn(N)
def _signum(a: Sequence[Value]) -> Value:
    return int_val(_n(a[0]).sign())


def _extreme(a: Sequence[Value], pick: int) -> Value:
    if not a:
        raise FunctionError("must pass at least one number")
    best = _n(a[0])
    for v in a[1:]:
        if _n(v).compare(best) == pick:
            best = _n(v)
    return number_val(best)


@fn(variadic=Param("numbers", NUMBER))
def _max(a: Sequence[Value]) -> Value:
    return _extreme(a, 1)


@fn(variadic=Param("numbers", NUMBER))
def _min(a: Sequence[Value]) -> Value:
    return _extreme(a, -1)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@fn(Param("number", STRING), Param("base", NUMBER))
def _parseint(a: Sequence[Value]) -> Value:
    s = a[0].as_str()
    base = whole(a, 1, "base")
    if base < 2 or base > 62:
        raise ArgError(1, "base must be a whole number between 2 and 62 inclusive")
    text = s[1:] if s[:1] in "+-" else s
    # Go's big.Int SetString: bases up to 36 ignore case; above, a-z and A-Z differ.
    alphabet = _DIGITS[:base] if base > 36 else _DIGITS[:base].lower()
    probe = text if base > 36 else text.lower()
    if not probe or any(c not in alphabet for c in probe):
        raise ArgError(0, f'cannot parse "{s}" as a base {base} integer')
    value = 0
    for c in probe:
        value = value * base + alphabet.index(c)
    return number_val(Number.from_int(-value if s.startswith("-") else value))


FUNCTIONS: dict[str, Function] = {
    "abs": _abs,
    "ceil": _ceil,
    "floor": _floor,
    "log": _log,
    "max": _max,
    "min": _min,
    "parseint": _parseint,
    "pow": _pow,
    "signum": _signum,
}

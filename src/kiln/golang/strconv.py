"""Go's strconv formatting: floats (`FormatFloat`) and quoted literals (`Quote`).

Floats are formatted from exact decimal digits, rounded half-to-even like Go, so `%.2f`,
`%e`, `%g` and the shortest `%v` form give Go's exact text (`1e+21`, `1.234567e+06`).
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where floats are formatted: not on every start-up
    from decimal import Decimal

MAX_DIGITS = 1_000_000  # precision bound (fmt rejects larger widths/precisions)


def _digits(d: Decimal) -> tuple[str, int]:
    """Significant digits of a non-negative Decimal and its point position: 0.DIGITS x 10^dp."""
    _, coefficient, exp = d.as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, coefficient)).lstrip("0")
    if not text:
        return "", 0
    return text.rstrip("0"), len(text) + exp


def _shortest_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of abs(x) (Python's repr and Go agree on these)."""
    from decimal import Decimal

    return _digits(Decimal(repr(abs(x))))


def _rounded_digits(
    x: float, *, significant: int = 0, decimals: int | None = None
) -> tuple[str, int]:
    """Digits of abs(x) correctly rounded, half to even on the exact binary value (as Go)."""
    if x == 0:
        return "", 0
    from decimal import ROUND_HALF_EVEN, Decimal, localcontext

    exact = Decimal(abs(x))
    if decimals is None:
        quantum = Decimal(1).scaleb(exact.adjusted() - significant + 1)
    else:
        quantum = Decimal(1).scaleb(-decimals)
    with localcontext() as ctx:
        ctx.prec = 2 * MAX_DIGITS + 1200
        return _digits(exact.quantize(quantum, rounding=ROUND_HALF_EVEN))


def _fmt_e(digits: str, dp: int, prec: int, e: str) -> str:
    out = digits[:1] or "0"
    if prec > 0:
        out += "." + digits[1 : 1 + prec].ljust(prec, "0")
    exp = dp - 1 if digits else 0
    sign = "-" if exp < 0 else "+"
    return f"{out}{e}{sign}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int, prec: int) -> str:
    out = digits[:dp].ljust(dp, "0") if dp > 0 else "0"
    if prec > 0:
        frac = "".join(digits[dp + i] if 0 <= dp + i < len(digits) else "0" for i in range(prec))
        out += "." + frac
    return out


def _fmt_binary_float(x: float, verb: str) -> str:
    """Go's %x / %X (hex mantissa, binary exponent) and %b (integer mantissa) for floats."""
    x = abs(x)
    if verb == "b":
        if x < sys.float_info.min:  # zero and subnormals: unnormalized mantissa
            return f"{int(math.ldexp(x, 1074))}p-1074"
        m, e = math.frexp(x)
        return f"{int(m * 2**53)}p{e - 53:+d}"
    if x == 0:
        text = "0x0p+00"
    else:
        m, e = math.frexp(x)  # x = m * 2**e with 0.5 <= m < 1, also for subnormals
        frac = f"{int((m * 2 - 1) * 2**52):013x}".rstrip("0")
        exp = e - 1
        text = f"0x1{'.' + frac if frac else ''}p{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return text.upper() if verb == "X" else text


def format_float(x: float, verb: str, prec: int = -1) -> str:
    """strconv.FormatFloat(x, verb, prec, 64) for verb in b e E f F g G x X (-1 = shortest)."""
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if math.isnan(x):
        return "NaN"
    neg = math.copysign(1.0, x) < 0
    sign = "-" if neg else ""
    if verb in "xXb":
        return sign + _fmt_binary_float(x, verb)
    shortest = prec < 0
    if shortest:
        digits, dp = _shortest_digits(x)
    elif verb in "eE":
        digits, dp = _rounded_digits(x, significant=prec + 1)
    elif verb in "fF":
        digits, dp = _rounded_digits(x, decimals=prec)
    else:
        prec = max(prec, 1)
        digits, dp = _rounded_digits(x, significant=prec)
    nd = len(digits)
    if verb in "eE":
        return sign + _fmt_e(digits, dp, max(nd - 1, 0) if shortest else prec, verb)
    if verb in "fF":
        return sign + _fmt_f(digits, dp, max(nd - dp, 0) if shortest else prec)
    # %g / %G
    eprec = prec
    if shortest:
        eprec = 6
        prec = nd
    elif eprec > nd >= dp:
        eprec = nd
    exp = dp - 1
    if exp < -4 or exp >= eprec:
        return sign + _fmt_e(digits, dp, min(prec, nd) - 1, "e" if verb == "g" else "E")
    if prec > dp:
        prec = nd
    return sign + _fmt_f(digits, dp, max(prec - dp, 0))


_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _escape_rune(ch: str, quote: str, ascii_only: bool) -> str:
    if ch in (quote, "\\"):
        return "\\" + ch
    code = ord(ch)
    if ch.isprintable() and not (ascii_only and code >= 0x80):
        return ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def quote(s: str, *, ascii_only: bool = False) -> str:
    """strconv.Quote: a double-quoted Go string literal."""
    return '"' + "".join(_escape_rune(ch, '"', ascii_only) for ch in s) + '"'


def quote_rune(code: int, *, ascii_only: bool = False) -> str:
    """strconv.QuoteRune: a single-quoted Go rune literal."""
    if not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return "'" + _escape_rune(chr(code), "'", ascii_only) + "'"


def can_backquote(s: str) -> bool:
    return all(ch == "\t" or (ch >= " " and ch not in "`\x7f\ufeff") for ch in s)

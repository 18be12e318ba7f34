"""Go's `big.Float` text formatting (`Text`, and `fmt` verbs %e %f %g on a *big.Float).

cty's `format("%.2f", x)` hands the number to Go's fmt, which formats the exact binary
value: decimal digits are produced exactly and rounded half to even (Go's `decimal.round`).
"""

from __future__ import annotations

from kiln.template.hcl2.numbers import Number, _decimal, _shortest


class _Dec:
    """0.mant × 10**exp, mant without trailing zeros (Go's math/big decimal)."""

    def __init__(self, mant: str, exp: int) -> None:
        self.mant = mant
        self.exp = exp

    def at(self, i: int) -> str:
        return self.mant[i] if 0 <= i < len(self.mant) else "0"

    def round(self, n: int) -> None:
        if n < 0 or n >= len(self.mant):
            if n < 0:
                self.mant = ""
            return
        digit = self.mant[n]
        if digit == "5" and n + 1 == len(self.mant):
            up = n > 0 and int(self.mant[n - 1]) % 2 == 1
        else:
            up = digit >= "5"
        if up:
            self.round_up(n)
        else:
            self.mant = self.mant[:n].rstrip("0")

    def round_up(self, n: int) -> None:
        digits = list(self.mant[:n])
        i = n - 1
        while i >= 0 and digits[i] == "9":
            i -= 1
        if i < 0:
            self.mant = "1"
            self.exp += 1
            return
        digits[i] = str(int(digits[i]) + 1)
        self.mant = "".join(digits[: i + 1])


def _exact(x: Number) -> _Dec:
    if x.n == 0:
        return _Dec("", 0)
    digits, p10 = _decimal(x.n, x.e)
    s = str(digits)
    return _Dec(s.rstrip("0"), len(s) + p10)


def _fmt_e(fmt: str, prec: int, d: _Dec) -> str:
    first = d.mant[0] if d.mant else "0"
    out = first
    if prec > 0:
        out += "." + "".join(d.at(1 + i) for i in range(prec))
    exp = d.exp - 1 if d.mant else 0
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    return f"{out}{fmt}{sign}{exp:02d}"


def _fmt_f(prec: int, d: _Dec) -> str:
    if d.exp > 0:
        m = min(len(d.mant), d.exp)
        out = d.mant[:m] + "0" * (d.exp - m)
    else:
        out = "0"
    if prec > 0:
        out += "." + "".join(d.at(d.exp + i) for i in range(prec))
    return out


def text(x: Number, fmt: str, prec: int) -> str:
    """`x.Text(fmt, prec)` for fmt in e, E, f, g, G."""
    if x.inf:
        return "-Inf" if x.neg else "+Inf"
    sign = "-" if x.neg else ""
    d = _Dec("", 0) if x.n == 0 else _exact(x)
    shortest = prec < 0
    if shortest:
        if x.n:
            digits, exp10 = _shortest(x.n, x.e, x.prec)
            d = _Dec(digits.rstrip("0"), exp10)
        if fmt in "eE":
            prec = max(len(d.mant) - 1, 0)
        elif fmt == "f":
            prec = max(len(d.mant) - d.exp, 0)
        else:
            prec = len(d.mant)
    elif fmt in "eE":
        d.round(1 + prec)
    elif fmt == "f":
        d.round(d.exp + prec)
    else:
        if prec == 0:
            prec = 1
        d.round(prec)
    if fmt in "eE":
        return sign + _fmt_e(fmt, prec, d)
    if fmt == "f":
        return sign + _fmt_f(prec, d)
    eprec = prec
    if eprec > len(d.mant) and len(d.mant) >= d.exp:
        eprec = len(d.mant)
    if shortest:
        eprec = 6
    exp = d.exp - 1
    if exp < -4 or exp >= eprec:
        prec = min(prec, len(d.mant))
        return sign + _fmt_e("e" if fmt == "g" else "E", prec - 1, d)
    if prec > d.exp:
        prec = len(d.mant)
    return sign + _fmt_f(max(prec - d.exp, 0), d)


def fmt_verb(
    x: Number,
    verb: str,
    *,
    prec: int = -1,
    width: int = -1,
    plus: bool = False,
    space: bool = False,
    zero: bool = False,
    minus: bool = False,
) -> str:
    """Go's `fmt.Sprintf("%<flags><width>.<prec><verb>", *big.Float)` for e, E, f, g, G."""
    if (verb in "ef" or verb in "EF") and prec < 0:
        prec = 6
    if verb == "F":
        verb = "f"
    body = text(x, verb, prec)
    if body.startswith("-"):
        sign, body = "-", body[1:]
    elif body.startswith("+"):
        sign, body = ("+" if not space else " "), body[1:]
    elif plus:
        sign = "+"
    elif space:
        sign = " "
    else:
        sign = ""
    pad = width - len(sign) - len(body)
    if pad <= 0:
        return sign + body
    if minus:
        return sign + body + " " * pad
    if zero and not x.inf:
        return sign + "0" * pad + body
    return " " * pad + sign + body

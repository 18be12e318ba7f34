"""Numbers as cty keeps them: Go `big.Float`s, 512-bit mantissas, rounded to nearest even.

HCL reads a number literal with 512 bits of precision, arithmetic keeps the larger
precision of its operands, values that came from a float64 (`pow`, `log`) keep 53 bits and
integers from functions 64. A number becomes text as Go's `Float.Text('f', -1)` writes
it: the shortest decimal that reads back to the same value at that precision, so
`"${1/3}"` gives 155 threes and `"${0.1 + 0.2}"` gives `0.3`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

LITERAL_PREC = 512
# Go's big.Float keeps binary exponents within ±2**31 (about ±646 million decimal digits);
# literals beyond ±10**MAX_EXP10 are taken as infinity/zero rather than computed exactly.
MAX_EXP10 = 100_000


class NaNError(ArithmeticError):
    """An operation without a defined result (Go's big.ErrNaN)."""


class Number:
    """±n·2**e with n < 2**prec, or ±infinity; immutable."""

    __slots__ = ("e", "inf", "n", "neg", "prec")

    def __init__(self, neg: bool, n: int, e: int, prec: int, inf: bool = False) -> None:
        self.neg = neg
        self.n = n
        self.e = e
        self.prec = prec
        self.inf = inf

    # construction
    @staticmethod
    def from_fraction(value: Fraction, prec: int) -> Number:
        neg = value < 0
        value = -value if neg else value
        return _round(neg, value.numerator, value.denominator, prec)

    @staticmethod
    def from_int(value: int, prec: int = 64) -> Number:
        """As Go's `SetInt64`/`SetInt`: 64 bits, or more when the integer needs them."""
        prec = max(prec, abs(value).bit_length())
        return _round(value < 0, abs(value), 1, prec)

    @staticmethod
    def from_float(value: float) -> Number:
        if math.isinf(value):
            return Number(value < 0, 0, 0, 53, inf=True)
        if math.isnan(value):
            raise NaNError("the result is not a number")
        neg = math.copysign(1.0, value) < 0
        num, den = abs(value).as_integer_ratio()
        return _round(neg, num, den, 53)

    @staticmethod
    def parse(text: str, prec: int = LITERAL_PREC) -> Number:
        """A decimal literal (`1`, `1.5e-3`, `-2`); ValueError when it is not one."""
        t = text.strip()
        if not t or t.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            if t in ("+Inf", "Inf", "-Inf", "+inf", "inf", "-inf"):
                return Number(t.startswith("-"), 0, 0, prec, inf=True)
            raise ValueError(f"invalid number {text!r}")
        if "_" in t or t.startswith(("0x", "0X", "-0x", "+0x")):
            raise ValueError(f"invalid number {text!r}")
        exp = t.lower().partition("e")[2]
        if exp and exp.lstrip("+-").isdigit() and int(exp) > MAX_EXP10:
            return Number(t.startswith("-"), 0, 0, prec, inf=True)  # beyond any big.Float
        if exp and exp.lstrip("+-").isdigit() and int(exp) < -MAX_EXP10:
            return Number(t.startswith("-"), 0, 0, prec)
        if t.isascii() and t.isdigit():  # most literals: no need for fractions (~2 ms import)
            return _round(False, int(t), 1, prec)
        from fractions import Fraction

        value = Number.from_fraction(Fraction(t), prec)
        if t.startswith("-") and value.n == 0:
            return value.neg_()
        return value

    # queries
    def is_zero(self) -> bool:
        return not self.inf and self.n == 0

    def is_int(self) -> bool:
        if self.inf:
            return False
        return self.e >= 0 or self.n % (1 << -self.e) == 0

    def fraction(self) -> Fraction:
        from fractions import Fraction

        if self.inf:
            raise OverflowError("infinity")
        v = Fraction(self.n << self.e) if self.e >= 0 else Fraction(self.n, 1 << -self.e)
        return -v if self.neg else v

    def to_int(self) -> int:
        """Truncated toward zero (Go's `Float.Int`)."""
        if self.inf:
            raise OverflowError("infinity")
        v = self.n << self.e if self.e >= 0 else self.n >> -self.e
        return -v if self.neg else v

    def to_float(self) -> float:
        if self.inf:
            return -math.inf if self.neg else math.inf
        try:
            return float(self.fraction())
        except OverflowError:
            return -math.inf if self.neg else math.inf

    def sign(self) -> int:
        if self.inf:
            return -1 if self.neg else 1
        if self.n == 0:
            return 0
        return -1 if self.neg else 1

    def compare(self, other: Number) -> int:
        if self.inf or other.inf:
            a = self.sign() * (2 if self.inf else 1)
            b = other.sign() * (2 if other.inf else 1)
            return (a > b) - (a < b)
        x, y = self.fraction(), other.fraction()
        return (x > y) - (x < y)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Number) and self.compare(other) == 0

    def __hash__(self) -> int:
        if self.inf:
            return hash(("inf", self.neg))
        return hash(self.fraction())

    def __repr__(self) -> str:
        return f"Number({self.text()})"

    # arithmetic (Go big.Float semantics: result precision = max of the operands')
    def neg_(self) -> Number:
        return Number(not self.neg, self.n, self.e, self.prec, self.inf)

    def abs_(self) -> Number:
        return Number(False, self.n, self.e, self.prec, self.inf)

    def add(self, other: Number) -> Number:
        prec = max(self.prec, other.prec)
        if self.inf or other.inf:
            if self.inf and other.inf and self.neg != other.neg:
                raise NaNError("addition of infinities with opposite signs")
            return Number(self.neg if self.inf else other.neg, 0, 0, prec, True)
        if self.n == 0 and other.n == 0:
            return Number(self.neg and other.neg, 0, 0, prec)
        return Number.from_fraction(self.fraction() + other.fraction(), prec)

    def sub(self, other: Number) -> Number:
        return self.add(other.neg_())

    def mul(self, other: Number) -> Number:
        prec = max(self.prec, other.prec)
        neg = self.neg != other.neg
        if self.inf or other.inf:
            if self.is_zero() or other.is_zero():
                raise NaNError("multiplication of zero with infinity")
            return Number(neg, 0, 0, prec, True)
        if self.n == 0 or other.n == 0:
            return Number(neg, 0, 0, prec)
        return _round(neg, self.n * other.n, 1, prec, self.e + other.e)

    def quo(self, other: Number) -> Number:
        prec = max(self.prec, other.prec)
        neg = self.neg != other.neg
        if (self.is_zero() and other.is_zero()) or (self.inf and other.inf):
            raise NaNError("division of zero by zero or infinity by infinity")
        if self.inf:
            return Number(neg, 0, 0, prec, True)
        if other.inf or self.n == 0:
            return Number(neg, 0, 0, prec)
        if other.n == 0:
            return Number(neg, 0, 0, prec, True)
        return Number.from_fraction(self.fraction() / other.fraction(), prec)

    def mod(self, other: Number) -> Number:
        """cty's `Modulo`: a - b·trunc(a/b); x % 0 is x; infinities multiply."""
        if self.inf or other.inf:
            return self.mul(other)
        if other.is_zero():
            return self
        ratio = self.quo(other)
        whole = Number.from_int(ratio.to_int())
        return self.sub(other.mul(whole))

    # text
    def text(self) -> str:
        """Go's `Float.Text('f', -1)`."""
        if self.inf:
            return "-Inf" if self.neg else "+Inf"
        sign = "-" if self.neg else ""
        if self.n == 0:
            return sign + "0"
        digits, exp10 = _shortest(self.n, self.e, self.prec)
        # value = 0.digits × 10**exp10
        if exp10 <= 0:
            return sign + "0." + "0" * -exp10 + digits
        if exp10 >= len(digits):
            return sign + digits + "0" * (exp10 - len(digits))
        return sign + digits[:exp10] + "." + digits[exp10:]

    def __str__(self) -> str:
        return self.text()


def _round(neg: bool, num: int, den: int, prec: int, exp2: int = 0) -> Number:
    """num/den·2**exp2 (num, den > 0) rounded to `prec` bits, half to even."""
    if num == 0:
        return Number(neg, 0, 0, prec)
    # choose e so that 2**(prec-1) <= num/den / 2**e < 2**prec
    e = num.bit_length() - den.bit_length() - prec
    while True:
        if e >= 0:
            q, r = divmod(num, den << e)
            d = den << e
        else:
            q, r = divmod(num << -e, den)
            d = den
        if q >= 1 << prec:
            e += 1
            continue
        if q < 1 << (prec - 1):
            e -= 1
            continue
        break
    twice = 2 * r
    if twice > d or (twice == d and q & 1):
        q += 1
        if q == 1 << prec:
            q >>= 1
            e += 1
    # normalise: strip trailing zero bits
    if q:
        tz = (q & -q).bit_length() - 1
        q >>= tz
        e += tz
    return Number(neg, q, e + exp2, prec)


def _decimal(n: int, e: int) -> tuple[int, int]:
    """n·2**e exactly as (digits integer, power of ten)."""
    if e >= 0:
        return n << e, 0
    return n * 5**-e, e  # n / 2**k = n·5**k / 10**k


def _shortest(n: int, e: int, prec: int) -> tuple[str, int]:
    """The fewest decimal digits that round back to n·2**e at `prec` bits.

    Returns (digits, exp10) with value ≈ 0.digits × 10**exp10, as Go's decimal does.
    """
    from fractions import Fraction

    # Go's roundShortest: mantissa shifted to prec+1 bits; bounds are mant ± 1 there.
    s = n.bit_length() - (prec + 1)
    mant, exp = (n << -s, e + s) if s < 0 else (n >> s, e + s)
    inclusive = mant & 2 == 0
    x = Fraction(n) * (Fraction(2) ** e)
    lo = Fraction(mant - 1) * (Fraction(2) ** exp)
    hi = Fraction(mant + 1) * (Fraction(2) ** exp)
    exact_digits, p10 = _decimal(n, e)
    full = str(exact_digits).rstrip("0")
    point = len(str(exact_digits)) + p10  # value = 0.<digits> × 10**point
    for k in range(1, len(full) + 1):
        scale = Fraction(10) ** (point - k)
        low_c = math.floor(x / scale)
        cands = []
        for c in (low_c, low_c + 1):
            v = c * scale
            if (lo < v < hi) or (inclusive and (v in (lo, hi))):
                cands.append((abs(v - x), c % 2, c))
        if cands:
            cands.sort()
            c = cands[0][2]
            digits = str(c)
            pt = point - k + len(digits)
            return digits.rstrip("0") or "0", pt
    return full, point

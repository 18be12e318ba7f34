"""Go's `time.ParseDuration` and `time.Duration.String`, exactly.

Packer reads every duration (`boot_wait`, `ssh_timeout`, `<wait1m30s>`, `PACKER_KEY_INTERVAL`)
with Go's parser, and prints durations with Go's formatter (`Got -1m0s`), so kiln must accept,
reject and print the same strings. Both functions work on integer nanoseconds internally, like
Go; the parser mirrors Go's byte-wise algorithm, including its overflow checks and its float64
rounding of fractions.
"""

from __future__ import annotations

from kiln.errors import KilnError

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_MAX_INT64 = (1 << 63) - 1
_LIMIT = 1 << 63

# Go's unitMap; keys are UTF-8 bytes because Go scans the string byte by byte.
_UNITS: dict[bytes, int] = {
    b"ns": NANOSECOND,
    b"us": MICROSECOND,
    "µs".encode(): MICROSECOND,  # U+00B5 micro sign
    "μs".encode(): MICROSECOND,  # U+03BC Greek small letter mu
    b"ms": MILLISECOND,
    b"s": SECOND,
    b"m": MINUTE,
    b"h": HOUR,
}


class DurationError(KilnError):
    """A string is not a Go duration; the message is Go's own error text."""


def go_quote(s: str) -> str:
    """Quote `s` the way Go's time package quotes values in its errors.

    Printable ASCII is kept (with `"` and `\\` escaped); every byte of any other character
    (control characters, non-ASCII) is written as `\\xNN`.
    """
    out = ['"']
    for ch in s:
        if ord(ch) >= 0x80 or ch < " ":
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        else:
            if ch in '"\\':
                out.append("\\")
            out.append(ch)
    out.append('"')
    return "".join(out)


def _invalid(orig: str) -> DurationError:
    return DurationError(f"time: invalid duration {go_quote(orig)}")


def _leading_int(s: bytes, i: int) -> tuple[int, int] | None:
    """Consume `[0-9]*` from `s[i:]`: (value, new index), or None on overflow past 1<<63."""
    x = 0
    while i < len(s) and 0x30 <= s[i] <= 0x39:
        if x > _LIMIT // 10:
            return None
        x = x * 10 + (s[i] - 0x30)
        if x > _LIMIT:
            return None
        i += 1
    return x, i


def _leading_fraction(s: bytes, i: int) -> tuple[int, float, int]:
    """Consume fraction digits: (digits as int, 10**kept digits, new index).

    Like Go, digits past what fits in an int64 are consumed but ignored.
    """
    x = 0
    scale = 1.0
    overflow = False
    while i < len(s) and 0x30 <= s[i] <= 0x39:
        if not overflow:
            if x > _MAX_INT64 // 10:
                overflow = True
            else:
                y = x * 10 + (s[i] - 0x30)
                if y > _LIMIT:
                    overflow = True
                else:
                    x = y
                    scale *= 10
        i += 1
    return x, scale, i


def parse_go_duration_ns(text: str) -> int:
    """Parse a Go duration string to integer nanoseconds (Go's `time.ParseDuration`).

    Raises `DurationError` with Go's message, e.g. ``time: invalid duration "abc"``,
    ``time: missing unit in duration "5"``, ``time: unknown unit "d" in duration "1d"``.
    """
    orig = text
    s = text.encode("utf-8", "surrogatepass")
    i = 0
    neg = False
    if s and s[0] in b"-+":
        neg = s[0] == ord("-")
        i = 1
    if s[i:] == b"0":
        return 0
    if i == len(s):
        raise _invalid(orig)
    total = 0
    while i < len(s):
        c = s[i]
        if not (c == 0x2E or 0x30 <= c <= 0x39):
            raise _invalid(orig)
        start = i
        lead = _leading_int(s, i)
        if lead is None:
            raise _invalid(orig)
        v, i = lead
        pre = i != start
        f, scale, post = 0, 1.0, False
        if i < len(s) and s[i] == 0x2E:
            i += 1
            frac_start = i
            f, scale, i = _leading_fraction(s, i)
            post = i != frac_start
        if not pre and not post:
            raise _invalid(orig)
        unit_start = i
        while i < len(s) and not (s[i] == 0x2E or 0x30 <= s[i] <= 0x39):
            i += 1
        if i == unit_start:
            raise DurationError(f"time: missing unit in duration {go_quote(orig)}")
        unit_bytes = s[unit_start:i]
        unit = _UNITS.get(unit_bytes)
        if unit is None:
            u = unit_bytes.decode("utf-8", "surrogateescape")
            raise DurationError(f"time: unknown unit {go_quote(u)} in duration {go_quote(orig)}")
        if v > _LIMIT // unit:
            raise _invalid(orig)
        v *= unit
        if f > 0:
            # Go: v += uint64(float64(f) * (float64(unit) / scale)); the float64 rounding
            # is part of the observable result, so it is reproduced, not improved.
            v += int(float(f) * (float(unit) / scale))
            if v > _LIMIT:
                raise _invalid(orig)
        total += v
        if total > _LIMIT:
            raise _invalid(orig)
    if neg:
        return -total
    if total > _MAX_INT64:
        raise _invalid(orig)
    return total


def parse_go_duration(text: str) -> float:
    """Parse a Go duration string to seconds (float); see `parse_go_duration_ns`."""
    return parse_go_duration_ns(text) / SECOND


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of v/10**prec without trailing zeros, and v // 10**prec."""
    digits: list[str] = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    if printed:
        return "." + "".join(reversed(digits)), v
    return "", v


def format_go_duration(ns: int) -> str:
    """Format integer nanoseconds like Go's `Duration.String` (`1h2m3.5s`, `1.5ms`, `0s`).

    `ns` is taken modulo 2**64 as a signed int64, as Go's arithmetic would.
    """
    ns = ((ns + _LIMIT) % (1 << 64)) - _LIMIT
    neg = ns < 0
    u = -ns if neg else ns  # for -2**63 this is 2**63, as Go's uint64 negation gives
    if u == 0:
        return "0s"
    if u < SECOND:
        if u < MICROSECOND:
            frac, u = _fmt_frac(u, 0)
            body = f"{u}{frac}ns"
        elif u < MILLISECOND:
            frac, u = _fmt_frac(u, 3)
            body = f"{u}{frac}µs"
        else:
            frac, u = _fmt_frac(u, 6)
            body = f"{u}{frac}ms"
    else:
        frac, u = _fmt_frac(u, 9)
        body = f"{u % 60}{frac}s"
        u //= 60
        if u > 0:
            body = f"{u % 60}m{body}"
            u //= 60
            if u > 0:
                body = f"{u}h{body}"
    return f"-{body}" if neg else body

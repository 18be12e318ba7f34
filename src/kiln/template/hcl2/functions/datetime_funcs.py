"""Date and time: timestamp, formatdate, timeadd (cty), legacy_isotime/legacy_strftime
(Packer's functions that keep JSON templates' `isotime`/`strftime` working)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from kiln.golang.duration import DurationError, parse_go_duration_ns
from kiln.template.gotime import RFC3339, format_go, strftime
from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.types import STRING
from kiln.template.hcl2.values import Value, string_val

_RFC3339 = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?P<frac>\.\d+)?(?P<z>Z|[+-]\d{2}:\d{2})"
)


def parse_timestamp(ts: str) -> datetime:
    m = _RFC3339.fullmatch(ts)
    if m is None:
        if "T" not in ts and re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", ts):
            raise ValueError("not a valid RFC3339 timestamp: missing required time introducer 'T'")
        raise ValueError(f'not a valid RFC3339 timestamp: cannot use "{ts}" as year')
    z = m["z"]
    tz = (
        UTC
        if z == "Z"
        else timezone(
            (1 if z[0] == "+" else -1) * timedelta(hours=int(z[1:3]), minutes=int(z[4:6]))
        )
    )
    frac = m["frac"] or ""
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    try:
        return datetime(
            int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]),
            micro, tzinfo=tz,
        )  # fmt: skip
    except ValueError as err:
        raise ValueError(f"not a valid RFC3339 timestamp: {err}") from None


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TOKEN = re.compile(r"'(?:[^']|'')*'?|([A-Za-z])\1*|[^'A-Za-z]+")


def format_date(spec: str, t: datetime) -> str:
    out = []
    for m in _TOKEN.finditer(spec):
        tok = m.group(0)
        if tok[0] == "'":
            if (
                len(tok) == 1
                or tok[-1] != "'"
                or (len(tok) > 2 and tok.endswith("''") and not tok.endswith("'''"))
            ):
                raise ArgError(0, "unterminated literal '")
            out.append("'" if tok == "''" else tok[1:-1].replace("''", "'"))
            continue
        if not tok[0].isalpha():
            out.append(tok)
            continue
        out.append(_verb(tok, t))
    return "".join(out)


def _verb(tok: str, t: datetime) -> str:
    c, n = tok[0], len(tok)

    def bad(why: str) -> ArgError:
        return ArgError(0, f'invalid date format verb "{tok}": {why}')

    if c == "Y":
        if n == 2:
            return f"{t.year % 100:02d}"
        if n == 4:
            return f"{t.year:04d}"
        raise bad('year must either be "YY" or "YYYY"')
    if c == "M":
        if 1 <= n <= 4:
            return [str(t.month), f"{t.month:02d}", _MONTHS[t.month - 1][:3],
                    _MONTHS[t.month - 1]][n - 1]  # fmt: skip
        raise bad('month must be "M", "MM", "MMM", or "MMMM"')
    if c == "D":
        if n in (1, 2):
            return str(t.day) if n == 1 else f"{t.day:02d}"
        raise bad('day of month must either be "D" or "DD"')
    if c == "E":
        if n in (3, 4):
            name = _DAYS[t.weekday()]
            return name[:3] if n == 3 else name
        raise bad('day of week must either be "EEE" or "EEEE"')
    if c in "hH":
        h = t.hour if c == "h" else (t.hour % 12 or 12)
        if n in (1, 2):
            return str(h) if n == 1 else f"{h:02d}"
        raise bad('24-hour must either be "h" or "hh"' if c == "h" else
                  '12-hour must either be "H" or "HH"')  # fmt: skip
    if c in "Aa":
        if n != 2:
            raise bad(f'must be "{c}{c}"')
        ampm = "AM" if t.hour < 12 else "PM"
        return ampm if c == "A" else ampm.lower()
    if c in "ms":
        v = t.minute if c == "m" else t.second
        if n in (1, 2):
            return str(v) if n == 1 else f"{v:02d}"
        raise bad('minute must either be "m" or "mm"' if c == "m" else
                  'second must either be "s" or "ss"')  # fmt: skip
    if c == "Z":
        if n == 1:
            return format_go(t, "Z07:00")
        if n == 3:
            s = format_go(t, "-0700")
            return "UTC" if s == "+0000" else s
        if n == 4:
            return format_go(t, "-0700")
        if n == 5:
            return format_go(t, "-07:00")
        raise bad("timezone must be Z, ZZZZ, or ZZZZZ")
    raise ArgError(0, f'invalid date format verb "{tok}"')


@fn(Param("format", STRING), Param("time", STRING))
def _formatdate(a: Sequence[Value]) -> Value:
    try:
        t = parse_timestamp(a[1].as_str())
    except ValueError as err:
        raise ArgError(1, str(err)) from None
    return string_val(format_date(a[0].as_str(), t))


@fn(Param("timestamp", STRING), Param("duration", STRING))
def _timeadd(a: Sequence[Value]) -> Value:
    try:
        t = parse_timestamp(a[0].as_str())
    except ValueError as err:
        raise FunctionError(str(err)) from None
    try:
        ns = parse_go_duration_ns(a[1].as_str())
    except DurationError as err:
        raise FunctionError(str(err)) from None
    return string_val(format_go(t + timedelta(microseconds=ns / 1000), RFC3339))


def functions(now: object = None) -> dict[str, Function]:
    """`now` (a datetime) pins the clock for tests; else the time of each call."""

    def clock() -> datetime:
        return now if isinstance(now, datetime) else datetime.now(UTC)

    @fn()
    def _timestamp(a: Sequence[Value]) -> Value:
        return string_val(format_go(clock().astimezone(UTC), RFC3339))

    @fn(variadic=Param("format", STRING))
    def _legacy_isotime(a: Sequence[Value]) -> Value:
        if len(a) > 1:
            raise FunctionError("legacy_isotime() takes at most one argument")
        t = clock().astimezone(UTC)
        return string_val(format_go(t, a[0].as_str() if a else RFC3339))

    @fn(Param("format", STRING))
    def _legacy_strftime(a: Sequence[Value]) -> Value:
        return string_val(strftime(a[0].as_str(), clock().astimezone(UTC)))

    return {
        "formatdate": _formatdate,
        "legacy_isotime": _legacy_isotime,
        "legacy_strftime": _legacy_strftime,
        "timeadd": _timeadd,
        "timestamp": _timestamp,
    }

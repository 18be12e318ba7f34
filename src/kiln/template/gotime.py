"""Go's reference-time layouts (`time.Time.Format`) and Packer's `strftime`.

`isotime` takes a Go layout such as ``"2006-01-02 15:04:05"``: each piece of the reference
time *Mon Jan 2 15:04:05 MST 2006* stands for that field of the time being formatted.
`format_go` walks the layout exactly as Go's ``nextStdChunk`` does (same tokens, same
precedence, same literal fall-through), so layouts written for Packer render the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

RFC3339 = "2006-01-02T15:04:05Z07:00"

_LONG_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Zone tokens, tried in order: Go's precedence ("-070000" before "-0700" before "-07").
_ZONE_TOKENS: dict[str, tuple[tuple[str, str], ...]] = {
    "-": (
        ("-070000", "NumSecondsTZ"),
        ("-07:00:00", "NumColonSecondsTZ"),
        ("-0700", "NumTZ"),
        ("-07:00", "NumColonTZ"),
        ("-07", "NumShortTZ"),
    ),
    "Z": (
        ("Z070000", "ISO8601SecondsTZ"),
        ("Z07:00:00", "ISO8601ColonSecondsTZ"),
        ("Z0700", "ISO8601TZ"),
        ("Z07:00", "ISO8601ColonTZ"),
        ("Z07", "ISO8601ShortTZ"),
    ),
}
_ZERO_TOKENS = {
    "1": "ZeroMonth",
    "2": "ZeroDay",
    "3": "ZeroHour12",
    "4": "ZeroMinute",
    "5": "ZeroSecond",
    "6": "Year",
}


def _starts_lower(s: str, i: int) -> bool:
    return i < len(s) and "a" <= s[i] <= "z"


def _next_token(layout: str, i: int) -> tuple[str, int] | None:
    """The std token starting at `layout[i]` and its length, or None for a literal char."""
    c = layout[i]
    rest = layout[i:]
    if c == "J":
        if rest.startswith("January"):
            return "LongMonth", 7
        if rest.startswith("Jan") and not _starts_lower(layout, i + 3):
            return "Month", 3
        return None
    if c == "M":
        if rest.startswith("Monday"):
            return "LongWeekDay", 6
        if rest.startswith("Mon") and not _starts_lower(layout, i + 3):
            return "WeekDay", 3
        if rest.startswith("MST"):
            return "TZ", 3
        return None
    if c in _ZONE_TOKENS:
        for prefix, token in _ZONE_TOKENS[c]:
            if rest.startswith(prefix):
                return token, len(prefix)
        return None
    if c == "0":
        if len(rest) >= 2 and rest[1] in _ZERO_TOKENS:
            return _ZERO_TOKENS[rest[1]], 2
        if rest.startswith("002"):
            return "ZeroYearDay", 3
        return None
    if c == "1":
        return ("Hour", 2) if rest.startswith("15") else ("NumMonth", 1)
    if c == "2":
        return ("LongYear", 4) if rest.startswith("2006") else ("Day", 1)
    if c == "_":
        if rest.startswith("_2"):
            # "_2006" is a literal "_" followed by the year.
            return None if rest.startswith("_2006") else ("UnderDay", 2)
        if rest.startswith("__2"):
            return "UnderYearDay", 3
        return None
    if c in "345":
        return {"3": "Hour12", "4": "Minute", "5": "Second"}[c], 1
    if c == "P" and rest.startswith("PM"):
        return "PM", 2
    if c == "p" and rest.startswith("pm"):
        return "pm", 2
    if c in ".," and len(rest) >= 2 and rest[1] in "09":
        j = 1
        while j < len(rest) and rest[j] == rest[1]:
            j += 1
        # Only a fractional second if the run of digits is not followed by another digit.
        if j >= len(rest) or not "0" <= rest[j] <= "9":
            return ("Frac0" if rest[1] == "0" else "Frac9"), j
    return None


def _utc_offset_seconds(t: datetime) -> int:
    off = t.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _zone_name(t: datetime) -> str:
    """Go's zone abbreviation; "" for a fixed offset without a name (Go then prints -0700)."""
    if t.tzinfo is None or t.tzinfo is UTC:
        return "UTC"
    name = t.tzname() or ""
    if name.startswith("UTC") and name != "UTC":
        return ""  # Python's synthesized "UTC+02:00" names: Go has no name for these
    return name


def _numeric_zone(token: str, offset: int) -> str:
    if offset == 0 and token.startswith("ISO8601"):
        return "Z"
    sign = "-" if offset < 0 else "+"
    absoff = abs(offset)
    hours, minutes, seconds = absoff // 3600, (absoff // 60) % 60, absoff % 60
    colon = ":" if "Colon" in token else ""
    out = f"{sign}{hours:02d}"
    if "Short" not in token:
        out += f"{colon}{minutes:02d}"
    if "Seconds" in token:
        out += f"{colon}{seconds:02d}"
    return out


def _frac(token: str, digits: int, sep: str, nanos: int) -> str:
    text = f"{nanos:09d}"[: min(digits, 9)]
    if token == "Frac9":
        text = text.rstrip("0")
        if not text:
            return ""
    return sep + text


def _hour12(t: datetime) -> int:
    return t.hour % 12 or 12


_SIMPLE: dict[str, Callable[[datetime], str]] = {
    "LongMonth": lambda t: _LONG_MONTHS[t.month - 1],
    "Month": lambda t: _LONG_MONTHS[t.month - 1][:3],
    "NumMonth": lambda t: str(t.month),
    "ZeroMonth": lambda t: f"{t.month:02d}",
    "LongWeekDay": lambda t: _LONG_DAYS[t.weekday()],
    "WeekDay": lambda t: _LONG_DAYS[t.weekday()][:3],
    "Day": lambda t: str(t.day),
    "UnderDay": lambda t: f"{t.day:2d}",
    "ZeroDay": lambda t: f"{t.day:02d}",
    "UnderYearDay": lambda t: f"{t.timetuple().tm_yday:3d}",
    "ZeroYearDay": lambda t: f"{t.timetuple().tm_yday:03d}",
    "Hour": lambda t: f"{t.hour:02d}",
    "Hour12": lambda t: str(_hour12(t)),
    "ZeroHour12": lambda t: f"{_hour12(t):02d}",
    "Minute": lambda t: str(t.minute),
    "ZeroMinute": lambda t: f"{t.minute:02d}",
    "Second": lambda t: str(t.second),
    "ZeroSecond": lambda t: f"{t.second:02d}",
    "LongYear": lambda t: f"{t.year:04d}",
    "Year": lambda t: f"{t.year % 100:02d}",
    "PM": lambda t: "PM" if t.hour >= 12 else "AM",
    "pm": lambda t: "pm" if t.hour >= 12 else "am",
}


def format_go(t: datetime, layout: str) -> str:
    """`t` formatted with Go layout `layout` (a naive `t` is taken to be UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    out: list[str] = []
    i = 0
    n = len(layout)
    while i < n:
        found = _next_token(layout, i)
        if found is None:
            out.append(layout[i])
            i += 1
            continue
        token, width = found
        simple = _SIMPLE.get(token)
        if simple is not None:
            out.append(simple(t))
        elif token == "TZ":
            name = _zone_name(t)
            out.append(name or _numeric_zone("NumTZ", _utc_offset_seconds(t)))
        elif token.startswith("Frac"):
            out.append(_frac(token, width - 1, layout[i], t.microsecond * 1000))
        else:
            out.append(_numeric_zone(token, _utc_offset_seconds(t)))
        i += width
    return "".join(out)


# github.com/jehiah/go-strftime (what Packer's `strftime` uses): each conversion is a Go
# layout; unknown conversions are kept as written, "%%" is "%", a trailing "%" is kept.
_STRFTIME = {
    "B": "January",
    "b": "Jan",
    "m": "01",
    "A": "Monday",
    "a": "Mon",
    "d": "02",
    "H": "15",
    "I": "03",
    "M": "04",
    "S": "05",
    "Y": "2006",
    "y": "06",
    "p": "PM",
    "Z": "MST",
    "z": "-0700",
    "L": ".000",
}


def strftime(fmt: str, t: datetime) -> str:
    """`t` formatted with a strftime-style `fmt`, exactly as Packer's `strftime` does."""
    out: list[str] = []
    i = 0
    n = len(fmt)
    while i < n:
        pct = fmt.find("%", i)
        if pct < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:pct])
        if pct + 1 >= n:
            out.append("%")
            break
        c = fmt[pct + 1]
        if c == "%":
            out.append("%")
        elif c in _STRFTIME:
            out.append(format_go(t, _STRFTIME[c]))
        else:
            out.append("%" + c)
        i = pct + 2
    return "".join(out)


def to_utc(t: datetime) -> datetime:
    """`t` in UTC (a naive `t` is taken to be UTC already), as Packer's InitTime is."""
    if t.tzinfo is None:
        return t.replace(tzinfo=UTC)
    return t.astimezone(UTC)

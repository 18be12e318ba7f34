"""Go duration parsing and formatting (kiln.golang.duration) against Go itself.

PARSE_CASES and FORMAT_CASES were produced by Go 1.19's `time.ParseDuration` and
`time.Duration.String` (a throw-away Go program printed nanoseconds, String() or the error
for each input); the Python implementation must agree byte for byte.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.errors import KilnError
from kiln.golang.duration import (
    DurationError,
    format_go_duration,
    go_quote,
    parse_go_duration,
    parse_go_duration_ns,
)

# (input, nanoseconds, Go's String() of the result, Go's error)
PARSE_CASES = [
    ("0", 0, "0s", None),
    ("-0", 0, "0s", None),
    ("+0", 0, "0s", None),
    ("00", None, None, 'time: missing unit in duration "00"'),
    ("1s", 1000000000, "1s", None),
    ("-1s", -1000000000, "-1s", None),
    ("+1s", 1000000000, "1s", None),
    ("1.5h", 5400000000000, "1h30m0s", None),
    ("1h30m", 5400000000000, "1h30m0s", None),
    ("300ms", 300000000, "300ms", None),
    ("2h45m", 9900000000000, "2h45m0s", None),
    ("-1.5h", -5400000000000, "-1h30m0s", None),
    ("1m30s", 90000000000, "1m30s", None),
    ("1.5s", 1500000000, "1.5s", None),
    ("4m2ns", 240000000002, "4m0.000000002s", None),
    ("1us", 1000, "1µs", None),
    ("1µs", 1000, "1µs", None),
    ("1μs", 1000, "1µs", None),
    ("1ns", 1, "1ns", None),
    ("1000ns", 1000, "1µs", None),
    (".5s", 500000000, "500ms", None),
    ("5.s", 5000000000, "5s", None),
    ("1.s", 1000000000, "1s", None),
    ("-.5s", -500000000, "-500ms", None),
    (".s", None, None, 'time: invalid duration ".s"'),
    ("", None, None, 'time: invalid duration ""'),
    ("-", None, None, 'time: invalid duration "-"'),
    ("+", None, None, 'time: invalid duration "+"'),
    ("5", None, None, 'time: missing unit in duration "5"'),
    ("-5", None, None, 'time: missing unit in duration "-5"'),
    ("abc", None, None, 'time: invalid duration "abc"'),
    ("1d", None, None, 'time: unknown unit "d" in duration "1d"'),
    ("1 s", None, None, 'time: unknown unit " s" in duration "1 s"'),
    (" 1s", None, None, 'time: invalid duration " 1s"'),
    ("1s ", None, None, 'time: unknown unit "s " in duration "1s "'),
    ("1S", None, None, 'time: unknown unit "S" in duration "1S"'),
    ("1e3s", None, None, 'time: unknown unit "e" in duration "1e3s"'),
    ("1m1", None, None, 'time: missing unit in duration "1m1"'),
    ("1.5.5s", None, None, 'time: missing unit in duration "1.5.5s"'),
    ("--1s", None, None, 'time: invalid duration "--1s"'),
    ("1s-1s", None, None, 'time: unknown unit "s-" in duration "1s-1s"'),
    ("1s+1s", None, None, 'time: unknown unit "s+" in duration "1s+1s"'),
    ("9223372036854775807ns", 9223372036854775807, "2562047h47m16.854775807s", None),
    ("9223372036854775808ns", None, None, 'time: invalid duration "9223372036854775808ns"'),
    ("-9223372036854775808ns", -9223372036854775808, "-2562047h47m16.854775808s", None),
    ("-9223372036854775809ns", None, None, 'time: invalid duration "-9223372036854775809ns"'),
    ("2562047h", 9223369200000000000, "2562047h0m0s", None),
    ("2562048h", None, None, 'time: invalid duration "2562048h"'),
    ("2562047h47m16.854775807s", 9223372036854775807, "2562047h47m16.854775807s", None),
    ("2562047h47m16.854775808s", None, None, 'time: invalid duration "2562047h47m16.854775808s"'),
    ("0.000000001s", 1, "1ns", None),
    ("0.0000000001s", 0, "0s", None),
    ("1.0000000001s", 1000000000, "1s", None),
    ("1.9999999999s", 1999999999, "1.999999999s", None),
    ("0.1h", 360000000000, "6m0s", None),
    ("0.3333333333333333333333h", 1200000000000, "20m0s", None),
    ("18446744073709551616s", None, None, 'time: invalid duration "18446744073709551616s"'),
    ("100000000000000000000ns", None, None, 'time: invalid duration "100000000000000000000ns"'),
    ("1.123456789123456789123456789s", 1123456789, "1.123456789s", None),
    ("3h2m1s0ms0us0ns", 10921000000000, "3h2m1s", None),
    ("1h-1m", None, None, 'time: unknown unit "h-" in duration "1h-1m"'),
    ("1é", None, None, 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'),
    ('1"', None, None, 'time: unknown unit "\\"" in duration "1\\""'),
    ("1\\", None, None, 'time: unknown unit "\\\\" in duration "1\\\\"'),
    ("1\x01", None, None, 'time: unknown unit "\\x01" in duration "1\\x01"'),
    ("5m0s", 300000000000, "5m0s", None),
    ("0s", 0, "0s", None),
    ("1m0s", 60000000000, "1m0s", None),
    ("1h0m0s", 3600000000000, "1h0m0s", None),
    ("-1m0s", -60000000000, "-1m0s", None),
    ("12345678901234567890ns", None, None, 'time: invalid duration "12345678901234567890ns"'),
    ("1ms1", None, None, 'time: missing unit in duration "1ms1"'),
    ("ms", None, None, 'time: invalid duration "ms"'),
    ("1..s", None, None, 'time: missing unit in duration "1..s"'),
    ("0.5", None, None, 'time: missing unit in duration "0.5"'),
    ("1_000s", None, None, 'time: unknown unit "_" in duration "1_000s"'),
]

FORMAT_CASES = [
    (0, "0s"),
    (1, "1ns"),
    (-1, "-1ns"),
    (999, "999ns"),
    (1000, "1µs"),
    (1001, "1.001µs"),
    (1500, "1.5µs"),
    (999999, "999.999µs"),
    (1000000, "1ms"),
    (1500000, "1.5ms"),
    (999999999, "999.999999ms"),
    (1000000000, "1s"),
    (1000000001, "1.000000001s"),
    (59999999999, "59.999999999s"),
    (60000000000, "1m0s"),
    (3600000000000, "1h0m0s"),
    (3661001000000, "1h1m1.001s"),
    (-60000000000, "-1m0s"),
    (-1500000, "-1.5ms"),
    (90061000000000, "25h1m1s"),
    (9223372036854775807, "2562047h47m16.854775807s"),
    (-9223372036854775808, "-2562047h47m16.854775808s"),
    (5400000000000, "1h30m0s"),
    (100000000, "100ms"),
    (123456789, "123.456789ms"),
    (-999, "-999ns"),
]


@pytest.mark.parametrize(("text", "ns", "string", "error"), PARSE_CASES)
def test_parse_matches_go(text: str, ns: int | None, string: str | None, error: str | None) -> None:
    if error is not None:
        with pytest.raises(DurationError) as info:
            parse_go_duration_ns(text)
        assert str(info.value) == error
        return
    assert parse_go_duration_ns(text) == ns
    assert format_go_duration(parse_go_duration_ns(text)) == string


@pytest.mark.parametrize(("ns", "string"), FORMAT_CASES)
def test_format_matches_go(ns: int, string: str) -> None:
    assert format_go_duration(ns) == string


def test_seconds_wrapper() -> None:
    assert parse_go_duration("1m30s") == 90.0
    assert parse_go_duration("1.5s") == 1.5
    assert parse_go_duration("-250ms") == -0.25
    assert parse_go_duration("0") == 0.0


def test_errors_are_kiln_errors_with_go_text() -> None:
    with pytest.raises(KilnError, match=r'^time: invalid duration "abc"$'):
        parse_go_duration("abc")
    with pytest.raises(KilnError, match=r'^time: missing unit in duration "5"$'):
        parse_go_duration("5")


def test_format_wraps_like_int64() -> None:
    assert format_go_duration(2**63) == format_go_duration(-(2**63))
    assert format_go_duration(2**64 + 1) == "1ns"


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ("abc", '"abc"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("é", '"\\xc3\\xa9"'),
        ("\t", '"\\x09"'),
    ],
)
def test_go_quote(raw: str, quoted: str) -> None:
    assert go_quote(raw) == quoted


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_string_round_trips(ns: int) -> None:
    # Go's String() output always parses back to the same Duration.
    assert parse_go_duration_ns(format_go_duration(ns)) == ns


@given(st.text(alphabet="0123456789.-+smhnuµμ", max_size=12))
def test_parse_never_raises_anything_but_duration_error(text: str) -> None:
    with contextlib.suppress(DurationError):
        parse_go_duration_ns(text)

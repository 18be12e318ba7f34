"""Go literal syntax: quoted strings, character constants and numbers in template actions.

Each function raises `LiteralError` with a message naming the literal and what is wrong;
the parser turns that into a positioned `TemplateError`.
"""

from __future__ import annotations

from kiln.golang.strconv import quote

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_SIMPLE_ESCAPES = {
    "a": 0x07,
    "b": 0x08,
    "f": 0x0C,
    "n": 0x0A,
    "r": 0x0D,
    "t": 0x09,
    "v": 0x0B,
    "\\": 0x5C,
}
_HEX = "0123456789abcdefABCDEF"


class LiteralError(ValueError):
    """A malformed literal; the message is written for the user."""


def _escape(body: str, i: int, q: str, literal: str) -> tuple[int, bool, int]:
    """Decode the escape whose backslash is at body[i]: (value, is_byte, next index).

    `is_byte` marks \\x and octal escapes, which are bytes in a Go string, not runes."""
    if i + 1 >= len(body):
        raise LiteralError(f"invalid escape at the end of {literal}")
    e = body[i + 1]
    if e in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[e], False, i + 2
    if e == q:
        return ord(q), False, i + 2
    if e in "xuU":
        width = {"x": 2, "u": 4, "U": 8}[e]
        digits = body[i + 2 : i + 2 + width]
        if len(digits) != width or any(c not in _HEX for c in digits):
            raise LiteralError(f"invalid \\{e} escape in {literal}: want {width} hex digits")
        value = int(digits, 16)
        if e != "x" and (value > 0x10FFFF or 0xD800 <= value <= 0xDFFF):
            raise LiteralError(f"invalid \\{e}{digits} in {literal}: not a Unicode code point")
        return value, e == "x", i + 2 + width
    if "0" <= e <= "7":
        digits = body[i + 1 : i + 4]
        if len(digits) != 3 or any(not "0" <= c <= "7" for c in digits) or int(digits, 8) > 255:
            raise LiteralError(f"invalid octal escape \\{digits} in {literal}: want \\000 to \\377")
        return int(digits, 8), True, i + 4
    raise LiteralError(
        f"invalid escape \\{e} in {literal} (use \\\\ for a backslash, or a `raw string`)"
    )


def unquote_string(text: str) -> str:
    """The value of a Go "double-quoted" or `raw` string literal (the full token text)."""
    if text.startswith("`"):
        return text[1:-1].replace("\r", "")  # Go drops carriage returns from raw strings
    body = text[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        value, is_byte, i = _escape(body, i, '"', text)
        out += bytes([value]) if is_byte else chr(value).encode("utf-8")
    return out.decode("utf-8", "replace")


def unquote_char(text: str) -> int:
    """The code point of a Go character constant such as 'a' or '\\n'."""
    body = text[1:-1]
    if body.startswith("\\"):
        value, _, nxt = _escape(body, 0, "'", text)
    elif body:
        value, nxt = ord(body[0]), 1
    else:
        raise LiteralError(f"empty character constant {text}")
    if nxt != len(body):
        raise LiteralError(f"malformed character constant: {text}")
    return value


def _parse_int(text: str) -> int | None:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    try:
        if len(body) > 1 and body[0] == "0" and body[1] in "01234567_":
            value = int(body, 8)  # Go's legacy octal: 017
        else:
            value = int(body, 0)
    except ValueError:
        return None
    return sign * value


def _parse_float(text: str) -> float | None:
    body = text.lstrip("+-")
    negative = text.startswith("-")
    try:
        is_hex = body[:2].lower() == "0x"
        value = float.fromhex(body.replace("_", "")) if is_hex else float(body)
    except (ValueError, OverflowError):
        return None
    if value in (float("inf"), float("-inf")):
        return None
    return -value if negative else value


def parse_number(text: str) -> tuple[int | None, float | None, bool]:
    """Go's untyped constant for a number token: (int value, float value, is_float).

    `1.0` and `1e3` are floats that may also be used as ints, `0x1F` is an int that may
    also be used as a float; `is_float` decides how the constant prints."""
    if text.endswith("i") and not text.lower().startswith(("0x", "+0x", "-0x")):
        raise LiteralError(f"complex number {text} is not supported")
    as_int = _parse_int(text)
    if as_int is not None:
        if not INT64_MIN <= as_int <= INT64_MAX:
            raise LiteralError(f"integer overflow: {quote(text)} does not fit in 64 bits")
        return as_int, float(as_int), False
    as_float = _parse_float(text)
    if as_float is None or not any(c in text for c in ".eEpP"):
        raise LiteralError(f"illegal number syntax: {quote(text)}")
    integral = as_float.is_integer() and INT64_MIN <= as_float <= INT64_MAX
    return (int(as_float) if integral else None), as_float, True

"""Go's `fmt` rules for template values: how `{{ .X }}`, `print` and `printf` write them.

Values are Python objects standing in for Go's: `str`, `int`, `float` (float64), `bool`,
`None` (nil), lists/tuples (slices) and mappings (maps). Output matches Go's `fmt`:
`[a b]` for lists, `map[k:v]` with sorted keys, floats in Go's shortest `%g` form
(`1e+06`, `1.5`), and `%!d(string=x)` style markers for verbs that do not fit the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kiln.golang.strconv import MAX_DIGITS, can_backquote, format_float, quote, quote_rune

MAX_WIDTH = MAX_DIGITS  # larger widths/precisions are rejected ("tooLarge" in Go's fmt)


def is_list(v: object) -> bool:
    return isinstance(v, (list, tuple))


def go_type(v: object) -> str:
    """The Go type name Go's fmt would print for `v` (as in `%!d(string=x)`)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if is_list(v):
        return "[]interface {}"
    return type(v).__name__


def sorted_keys(m: Mapping[object, object]) -> list[object]:
    """Map keys in Go's printing/range order (sorted; mixed types by their text)."""
    keys = list(m.keys())
    try:
        return sorted(keys)  # type: ignore[type-var]
    except TypeError:
        return sorted(keys, key=lambda k: (type(k).__name__, str(k)))


def utf8_len(s: str) -> int:
    return len(s.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------- %v and Sprint


def format_value(v: object) -> str:
    """fmt.Sprint of one value (%v)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v, "g")
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        items = (f"{format_value(k)}:{format_value(v[k])}" for k in sorted_keys(v))
        return "map[" + " ".join(items) + "]"
    if is_list(v):
        assert isinstance(v, Sequence)
        return "[" + " ".join(format_value(e) for e in v) + "]"
    return str(v)


def sprint(args: Sequence[object]) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_value(arg))
    return "".join(out)


def sprintln(args: Sequence[object]) -> str:
    """fmt.Sprintln: operands always separated by spaces, then a newline."""
    return " ".join(format_value(a) for a in args) + "\n"


# ---------------------------------------------------------------- Sprintf


@dataclass(slots=True)
class _Flags:
    plus: bool = False
    minus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    wid: int | None = None
    prec: int | None = None


def _pad(s: str, f: _Flags) -> str:
    if f.wid is None or f.wid <= len(s):
        return s
    fill = f.wid - len(s)
    if f.minus:
        return s + " " * fill
    return ("0" if f.zero else " ") * fill + s


def _bad_verb(verb: str, v: object) -> str:
    if v is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(v)}={format_value(v)})"


def _fmt_int(v: int, verb: str, f: _Flags) -> str:
    if verb == "c":
        return _pad(chr(v) if 0 <= v <= 0x10FFFF and not 0xD800 <= v <= 0xDFFF else "\ufffd", f)
    if verb == "q":
        return _pad(quote_rune(v, ascii_only=f.plus), f)
    if verb == "U":
        text = f"U+{v:04X}" if v >= 0 else f"U+-{-v:04X}"
        if f.sharp and 0 <= v <= 0x10FFFF and chr(v).isprintable():
            text += f" '{chr(v)}'"
        return _pad(text, f)
    base = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}[verb]
    negative = v < 0
    digits = {10: "{:d}", 2: "{:b}", 8: "{:o}", 16: "{:x}"}[base].format(abs(v))
    if verb == "X":
        digits = digits.upper()
    if f.prec is not None:
        if f.prec == 0 and v == 0:
            return _pad("", _Flags(minus=f.minus, wid=f.wid))
        digits = digits.rjust(f.prec, "0")
    elif f.zero and f.wid is not None and not f.minus:
        digits = digits.rjust(f.wid - (1 if negative or f.plus or f.space else 0), "0")
    prefix = ""
    if f.sharp:
        if base == 2:
            prefix = "0b"
        elif base == 8 and not digits.startswith("0"):
            prefix = "0"
        elif base == 16:
            prefix = "0X" if verb == "X" else "0x"
    if verb == "O":
        prefix = "0o"
    sign = "-" if negative else "+" if f.plus else " " if f.space else ""
    return _pad(sign + prefix + digits, _Flags(minus=f.minus, wid=f.wid))


def _fmt_float(v: float, verb: str, f: _Flags) -> str:
    if verb == "v":
        verb = "g"
    prec = f.prec if f.prec is not None else (6 if verb in "eEfF" else -1)
    num = format_float(v, verb, prec)
    if num[0] not in "+-":
        num = "+" + num
    if f.space and num[0] == "+" and not f.plus:
        num = " " + num[1:]
    if num[1] in "IN":  # Inf, NaN: never zero padded
        if num[1] == "N" and not f.space and not f.plus:
            num = num[1:]
        return _pad(num, _Flags(minus=f.minus, wid=f.wid))
    if f.plus or num[0] != "+":
        if f.zero and f.wid is not None and f.wid > len(num) and not f.minus:
            return num[0] + num[1:].rjust(f.wid - 1, "0")
        return _pad(num, f)
    return _pad(num[1:], f)


def _fmt_str(v: str, verb: str, f: _Flags) -> str:
    if f.prec is not None and verb in "svq":
        v = v[: f.prec]
    if verb in "sv":
        return _pad(v, f)
    if verb == "q":
        if f.sharp and can_backquote(v):
            return _pad("`" + v + "`", f)
        return _pad(quote(v, ascii_only=f.plus), f)
    data = v.encode("utf-8", "surrogatepass")
    if f.prec is not None:
        data = data[: f.prec]
    digits = data.hex().upper() if verb == "X" else data.hex()
    if f.space:
        pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
        pre = ("0X" if verb == "X" else "0x") if f.sharp else ""
        return _pad(" ".join(pre + p for p in pairs), f)
    if f.sharp and digits:
        digits = ("0X" if verb == "X" else "0x") + digits
    return _pad(digits, f)


_INT_VERBS = frozenset("vdboOxXcqU")
_FLOAT_VERBS = frozenset("vbgGxXfFeE")


def format_arg(v: object, verb: str, f: _Flags) -> str:
    """One operand of Sprintf formatted with `verb` (fmt's printArg)."""
    if verb == "T":
        return _pad(go_type(v), f)
    if v is None:
        return _pad("<nil>", f) if verb == "v" else _bad_verb(verb, v)
    if isinstance(v, bool):
        return _pad("true" if v else "false", f) if verb in "tv" else _bad_verb(verb, v)
    if isinstance(v, int):
        return _fmt_int(v, verb, f) if verb in _INT_VERBS else _bad_verb(verb, v)
    if isinstance(v, float):
        return _fmt_float(v, verb, f) if verb in _FLOAT_VERBS else _bad_verb(verb, v)
    if isinstance(v, str):
        return _fmt_str(v, verb, f) if verb in "vsxXq" else _bad_verb(verb, v)
    if isinstance(v, Mapping):
        items = (f"{format_arg(k, verb, f)}:{format_arg(v[k], verb, f)}" for k in sorted_keys(v))
        return "map[" + " ".join(items) + "]"
    if is_list(v):
        assert isinstance(v, Sequence)
        return "[" + " ".join(format_arg(e, verb, f) for e in v) + "]"
    return _fmt_str(str(v), verb, f) if verb in "vsxXq" else _bad_verb(verb, v)


class _Format:
    """One pass over a printf format string (fmt's doPrintf)."""

    def __init__(self, fmt: str, args: Sequence[object]) -> None:
        self.fmt = fmt
        self.args = args
        self.i = 0
        self.argnum = 0
        self.reordered = False
        self.good_argnum = True

    def _number(self) -> tuple[int | None, bool]:
        """Digits at the cursor: (value, ok); ok is False when absurdly large (Go: tooLarge)."""
        start = self.i
        n = 0
        while self.i < len(self.fmt) and "0" <= self.fmt[self.i] <= "9":
            if n > MAX_WIDTH:
                self.i = len(self.fmt)
                return None, False
            n = n * 10 + int(self.fmt[self.i])
            self.i += 1
        if n > MAX_WIDTH:  # Go checks before its last digit, allowing ten times more
            self.i = len(self.fmt)
            return None, False
        return (n if self.i > start else None), True

    def _arg_index(self) -> None:
        """Handle an explicit argument index "[n]" at the cursor."""
        if self.i >= len(self.fmt) or self.fmt[self.i] != "[":
            return
        self.reordered = True
        close = self.fmt.find("]", self.i)
        if close < 0:
            self.good_argnum = False
            self.i = len(self.fmt)
            return
        text = self.fmt[self.i + 1 : close]
        self.i = close + 1
        if text.isdigit() and 1 <= int(text) <= len(self.args):
            self.argnum = int(text) - 1
        else:
            self.good_argnum = False

    def _star(self) -> int | None:
        """A '*' width/precision argument, or None when it is not an int (BAD...)."""
        if self.argnum >= len(self.args):
            return None
        v = self.args[self.argnum]
        self.argnum += 1
        if isinstance(v, bool) or not isinstance(v, int) or abs(v) > MAX_WIDTH:
            return None
        return v

    def run(self) -> str:
        out: list[str] = []
        fmt = self.fmt
        end = len(fmt)
        while self.i < end:
            pct = fmt.find("%", self.i)
            if pct < 0:
                out.append(fmt[self.i :])
                break
            out.append(fmt[self.i : pct])
            self.i = pct + 1
            out.append(self._directive())
        if not self.reordered and self.argnum < len(self.args):
            extra = ", ".join(
                "<nil>" if a is None else f"{go_type(a)}={format_value(a)}"
                for a in self.args[self.argnum :]
            )
            out.append(f"%!(EXTRA {extra})")
        return "".join(out)

    def _directive(self) -> str:
        fmt = self.fmt
        end = len(fmt)
        f = _Flags()
        self.good_argnum = True
        while self.i < end and fmt[self.i] in "#0+- ":
            c = fmt[self.i]
            if c == "#":
                f.sharp = True
            elif c == "0":
                f.zero = not f.minus
            elif c == "+":
                f.plus = True
            elif c == "-":
                f.minus = True
                f.zero = False
            else:
                f.space = True
            self.i += 1
        prefix = ""
        self._arg_index()
        if self.i < end and fmt[self.i] == "*":
            self.i += 1
            w = self._star()
            if w is None:
                prefix += "%!(BADWIDTH)"
            else:
                f.wid = abs(w)
                if w < 0:
                    f.minus, f.zero = True, False
        else:
            f.wid, ok = self._number()
            if not ok:
                return "%!(NOVERB)"
        if self.i < end and fmt[self.i] == ".":
            self.i += 1
            self._arg_index()
            if self.i < end and fmt[self.i] == "*":
                self.i += 1
                p = self._star()
                if p is None or p < 0:
                    prefix += "%!(BADPREC)"
                else:
                    f.prec = p
            else:
                prec, ok = self._number()
                if not ok:
                    return prefix + "%!(NOVERB)"
                f.prec = prec if prec is not None else 0
        self._arg_index()
        if self.i >= end:
            return prefix + "%!(NOVERB)"
        verb = fmt[self.i]
        self.i += 1
        if verb == "%":
            return prefix + "%"
        if not self.good_argnum:
            return prefix + f"%!{verb}(BADINDEX)"
        if self.argnum >= len(self.args):
            return prefix + f"%!{verb}(MISSING)"
        arg = self.args[self.argnum]
        self.argnum += 1
        if verb == "v":
            # %+v and %#v: Go moves these flags aside (struct fields, Go syntax).
            sharp_v, f.sharp, f.plus = f.sharp, False, False
            if sharp_v and isinstance(arg, str):
                return prefix + _pad(quote(arg), f)
        return prefix + format_arg(arg, verb, f)


def sprintf(fmt: str, args: Sequence[object]) -> str:
    """fmt.Sprintf for the verbs templates use (%s %d %v %q %t %f %e %g %x %X %o %b %c %U %T)."""
    return _Format(fmt, args).run()

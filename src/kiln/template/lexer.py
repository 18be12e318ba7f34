"""Tokenizer for Go's text/template syntax (the rules of Go's `text/template/parse/lex.go`).

The lexer is a generator with a loop per state (text, action), never recursion, so input
length is unbounded. A lexical error becomes an ERROR token at the point where it is
found; the parser raises it only when it gets there, so errors come out in the same
order as Go's.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from kiln.golang.strconv import quote

LEFT_DELIM = "{{"
RIGHT_DELIM = "}}"
SPACE_CHARS = " \t\r\n"  # Go's own notion of space inside actions and for trim markers


class Kind(enum.Enum):
    TEXT = "text"
    LEFT_DELIM = "{{"
    RIGHT_DELIM = "}}"
    SPACE = "space"
    IDENT = "identifier"
    FIELD = "field"
    VARIABLE = "variable"
    DOT = "."
    STRING = "string"
    RAW_STRING = "raw string"
    CHAR_CONST = "character constant"
    NUMBER = "number"
    BOOL = "bool"
    NIL = "nil"
    KEYWORD = "keyword"
    PIPE = "|"
    LPAREN = "("
    RPAREN = ")"
    DECLARE = ":="
    ASSIGN = "="
    CHAR = "char"
    ERROR = "error"
    EOF = "EOF"


KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str  # the source text of the token (the message, for ERROR)
    pos: int  # offset of the token in the source

    @property
    def end(self) -> int:
        return self.pos + len(self.value)


def is_alnum(ch: str) -> bool:
    """Go's isAlphaNumeric: '_', a Unicode letter or a Unicode decimal digit."""
    return ch == "_" or ch.isalpha() or ch.isdecimal()


def describe_char(ch: str) -> str:
    """Go's %#U: U+0040 '@'."""
    return f"U+{ord(ch):04X} '{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.n = len(src)

    # -------------------------------------------------------------- helpers

    def _has_left_trim(self, p: int) -> bool:
        """'{{- ': the marker must be followed by a space character."""
        return p + 1 < self.n and self.src[p] == "-" and self.src[p + 1] in SPACE_CHARS

    def _at_right_delim(self, p: int) -> tuple[bool, bool]:
        """(at a right delimiter, with a ' -' trim marker before it)."""
        src = self.src
        if (
            p + 1 < self.n
            and src[p] in SPACE_CHARS
            and src[p + 1] == "-"
            and src.startswith(RIGHT_DELIM, p + 2)
        ):
            return True, True
        return src.startswith(RIGHT_DELIM, p), False

    def _skip_space(self, p: int) -> int:
        while p < self.n and self.src[p] in SPACE_CHARS:
            p += 1
        return p

    def _at_terminator(self, p: int) -> bool:
        return p >= self.n or self.src[p] in " \t\r\n.,|:()}"

    def _scan_alnum(self, p: int) -> int:
        while p < self.n and is_alnum(self.src[p]):
            p += 1
        return p

    # -------------------------------------------------------------- states

    def tokens(self) -> Iterator[Token]:
        src = self.src
        pos = 0
        while True:
            x = src.find(LEFT_DELIM, pos)
            if x < 0:
                if pos < self.n:
                    yield Token(Kind.TEXT, src[pos:], pos)
                yield Token(Kind.EOF, "", self.n)
                return
            inner = x + len(LEFT_DELIM)
            trim = self._has_left_trim(inner)
            text_end = x
            if trim:
                text_end = pos + len(src[pos:x].rstrip(SPACE_CHARS))
            if text_end > pos:
                yield Token(Kind.TEXT, src[pos:text_end], pos)
            if trim:
                inner += 2
            if src.startswith("/*", inner):
                close = src.find("*/", inner + 2)
                if close < 0:
                    yield Token(Kind.ERROR, "unclosed comment", x)
                    return
                after = close + 2
                delim, rtrim = self._at_right_delim(after)
                if not delim:
                    yield Token(Kind.ERROR, "comment ends before closing delimiter", x)
                    return
                pos = after + (2 if rtrim else 0) + len(RIGHT_DELIM)
                if rtrim:
                    pos = self._skip_space(pos)
                continue
            yield Token(Kind.LEFT_DELIM, LEFT_DELIM, x)
            pos = yield from self._action(inner, x)
            if pos < 0:
                return

    def _action(self, pos: int, start: int) -> Generator[Token, None, int]:
        """Tokens of one action; returns the offset after its '}}', or -1 after an error."""
        src = self.src
        depth = 0
        while True:
            delim, trim = self._at_right_delim(pos)
            if delim:
                if depth > 0:
                    yield Token(Kind.ERROR, "unclosed left paren", pos)
                    return -1
                if trim:
                    pos += 2
                yield Token(Kind.RIGHT_DELIM, RIGHT_DELIM, pos)
                pos += len(RIGHT_DELIM)
                return self._skip_space(pos) if trim else pos
            if pos >= self.n:
                yield Token(Kind.ERROR, "unclosed action", start)
                return -1
            c = src[pos]
            if c in SPACE_CHARS:
                end = self._skip_space(pos)
                if src.startswith("-" + RIGHT_DELIM, end):
                    end -= 1  # leave " -}}" to be read as a trimming right delimiter
                if end > pos:
                    yield Token(Kind.SPACE, src[pos:end], pos)
                pos = end
                continue
            token: Token
            if c == "=":
                token = Token(Kind.ASSIGN, c, pos)
            elif c == ":":
                if not src.startswith(":=", pos):
                    yield Token(Kind.ERROR, "expected :=", pos)
                    return -1
                token = Token(Kind.DECLARE, ":=", pos)
            elif c == "|":
                token = Token(Kind.PIPE, c, pos)
            elif c == "(":
                depth += 1
                token = Token(Kind.LPAREN, c, pos)
            elif c == ")":
                depth -= 1
                yield Token(Kind.RPAREN, c, pos)
                if depth < 0:
                    yield Token(Kind.ERROR, "unexpected right paren U+0029 ')'", pos)
                    return -1
                pos += 1
                continue
            elif c in "\"'":
                token = self._quoted(pos, c)
            elif c == "`":
                close = src.find("`", pos + 1)
                if close < 0:
                    token = Token(Kind.ERROR, "unterminated raw quoted string", pos)
                else:
                    token = Token(Kind.RAW_STRING, src[pos : close + 1], pos)
            elif c == "$":
                token = self._field_or_variable(pos, Kind.VARIABLE)
            elif c == "." and pos + 1 < self.n and not "0" <= src[pos + 1] <= "9":
                token = self._field_or_variable(pos, Kind.FIELD)
            elif c in "+-." or "0" <= c <= "9":
                token = self._number(pos)
            elif is_alnum(c):
                token = self._identifier(pos)
            elif " " <= c <= "~":
                token = Token(Kind.CHAR, c, pos)
            else:
                token = Token(
                    Kind.ERROR, f"unrecognized character in action: {describe_char(c)}", pos
                )
            yield token
            if token.kind is Kind.ERROR:
                return -1
            pos = token.end

    def _quoted(self, pos: int, q: str) -> Token:
        src = self.src
        p = pos + 1
        while True:
            if p >= self.n or src[p] == "\n":
                what = "quoted string" if q == '"' else "character constant"
                return Token(Kind.ERROR, f"unterminated {what}", pos)
            if src[p] == "\\":
                p += 1
                if p >= self.n or src[p] == "\n":
                    continue  # reported as unterminated on the next turn
            elif src[p] == q:
                break
            p += 1
        kind = Kind.STRING if q == '"' else Kind.CHAR_CONST
        return Token(kind, src[pos : p + 1], pos)

    def _field_or_variable(self, pos: int, kind: Kind) -> Token:
        if self._at_terminator(pos + 1):
            return Token(Kind.DOT if kind is Kind.FIELD else kind, self.src[pos], pos)
        end = self._scan_alnum(pos + 1)
        if not self._at_terminator(end):
            return Token(Kind.ERROR, f"bad character {describe_char(self.src[end])}", end)
        return Token(kind, self.src[pos:end], pos)

    def _identifier(self, pos: int) -> Token:
        end = self._scan_alnum(pos)
        if not self._at_terminator(end):
            return Token(Kind.ERROR, f"bad character {describe_char(self.src[end])}", end)
        word = self.src[pos:end]
        if word in KEYWORDS:
            return Token(Kind.KEYWORD, word, pos)
        if word in ("true", "false"):
            return Token(Kind.BOOL, word, pos)
        if word == "nil":
            return Token(Kind.NIL, word, pos)
        return Token(Kind.IDENT, word, pos)

    def _accept_run(self, p: int, chars: str) -> int:
        while p < self.n and self.src[p] in chars:
            p += 1
        return p

    def _accept_sign(self, p: int) -> int:
        return p + 1 if p < self.n and self.src[p] in "+-" else p

    def _number(self, pos: int) -> Token:
        """Go's scanNumber: sign, base prefix, digits, fraction, exponent, imaginary 'i'."""
        src = self.src
        p = self._accept_sign(pos)
        digits = "0123456789_"
        if src.startswith("0", p):
            p += 1
            if p < self.n and src[p] in "xX":
                p, digits = p + 1, "0123456789abcdefABCDEF_"
            elif p < self.n and src[p] in "oO":
                p, digits = p + 1, "01234567_"
            elif p < self.n and src[p] in "bB":
                p, digits = p + 1, "01_"
        p = self._accept_run(p, digits)
        if src.startswith(".", p):
            p = self._accept_run(p + 1, digits)
        if len(digits) == 11 and p < self.n and src[p] in "eE":
            p = self._accept_sign(p + 1)
            p = self._accept_run(p, "0123456789_")
        if len(digits) == 23 and p < self.n and src[p] in "pP":
            p = self._accept_sign(p + 1)
            p = self._accept_run(p, "0123456789_")
        if src.startswith("i", p):
            p += 1
        if p < self.n and (is_alnum(src[p]) or src[p] in "+-"):
            # Go reads one more character, and complex numbers (1+2i) are not supported.
            return Token(Kind.ERROR, f"bad number syntax: {quote(src[pos : p + 1])}", pos)
        return Token(Kind.NUMBER, src[pos:p], pos)


def lex(src: str) -> Iterator[Token]:
    """The tokens of template source `src`, ending with EOF or an ERROR token."""
    return _Lexer(src).tokens()

"""Where a newline ends an item and where it is only whitespace, for both HCL parsers.

Inside `(...)`, `[...]`, `${...}`, `%{...}` and `{for ...}` a newline is whitespace; at the
top level, in block bodies and in object constructors it ends an item. A context-free grammar
cannot say this, so both parsers run their token stream through `NewlineFilter` (for lark it
is the post-lexer).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar


class _Token(Protocol):
    @property
    def type(self) -> str: ...


T = TypeVar("T", bound=_Token)

_OPENERS_IGNORING_NEWLINES = {"LPAR", "LSQB", "INTERP_OPEN", "DIR_IF", "DIR_FOR"}
_CLOSERS = {"RPAR", "RSQB", "RBRACE", "STRIP_RBRACE"}
_IGNORE, _KEEP, _STRING = "ignore", "keep", "string"


class NewlineFilter:
    """Drop newlines where HCL treats them as whitespace (a lark post-lexer).

    Inside `(...)`, `[...]`, `${...}`, `%{...}` and `{for ...}` a newline is whitespace;
    at the top level, in block bodies and in object constructors it ends an item.
    """

    always_accept = ("_NL",)

    def process(self, stream: Iterator[T]) -> Iterator[T]:
        modes: list[str] = []
        held: list[T] = []  # newlines just after a `{`, until we know if it is a `for`
        brace_pending = False
        for tok in stream:
            kind = tok.type
            if brace_pending:
                if kind == "_NL":
                    held.append(tok)
                    continue
                brace_pending = False
                if kind == "FOR":
                    modes[-1] = _IGNORE
                    held.clear()
                else:
                    yield from held
                    held.clear()
            mode = modes[-1] if modes else _KEEP
            if kind == "_NL":
                if mode != _IGNORE:
                    yield tok
                continue
            if kind == "QUOTE":
                if mode == _STRING:
                    modes.pop()
                else:
                    modes.append(_STRING)
            elif kind in _OPENERS_IGNORING_NEWLINES:
                modes.append(_IGNORE)
            elif kind == "LBRACE":
                modes.append(_KEEP)
                brace_pending = True
            elif kind in _CLOSERS and modes and mode != _STRING:
                modes.pop()
            yield tok
        yield from held

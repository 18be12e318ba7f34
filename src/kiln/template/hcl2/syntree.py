"""The concrete syntax tree both HCL parsers hand to the tree builder in `parser.py`.

`fastparse` builds these classes; lark builds its own `Tree` and `Token`, which have the same
attributes (a token is a `str` with a `type` and its position; a tree has `data`,
`children` and a `meta` with the span of its tokens). The builder relies only on those
attributes and tells a token from a tree with `isinstance(x, str)`, so it reads either.
"""

from __future__ import annotations


class Tok(str):
    """A token: its text, its terminal's name in `grammar.py`, and where it starts and ends
    (1-based line and column; `end_column` is the column just after it)."""

    __slots__ = ("column", "end_column", "end_line", "line", "type", "value")

    type: str
    value: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __new__(
        cls, type_: str, value: str, line: int, column: int, end_line: int, end_column: int
    ) -> Tok:
        tok = super().__new__(cls, value)
        tok.type = type_
        tok.value = value
        tok.line = line
        tok.column = column
        tok.end_line = end_line
        tok.end_column = end_column
        return tok

    def retyped(self, type_: str) -> Tok:
        """The same text and position as another terminal (`in`, `if` read as keywords)."""
        return Tok(type_, self.value, self.line, self.column, self.end_line, self.end_column)


class Meta:
    """Where a tree's tokens start and end; `empty` when it has none (an empty body)."""

    __slots__ = ("column", "empty", "end_column", "end_line", "line")

    def __init__(self, line: int, column: int, end_line: int, end_column: int) -> None:
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.empty = line == 0


EMPTY_META = Meta(0, 0, 0, 0)


class Node:
    """A rule's match: its name in `grammar.py` (or the alias), and its children."""

    __slots__ = ("children", "data", "meta")

    def __init__(self, data: str, children: list[Node | Tok], meta: Meta = EMPTY_META) -> None:
        self.data = data
        self.children = children
        self.meta = meta

    def __repr__(self) -> str:
        return f"Node({self.data!r}, {self.children!r})"

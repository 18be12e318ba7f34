"""The syntax tree of an HCL2 file: bodies, attributes, blocks and expressions.

Every node carries the `Range` it was read from, so that every diagnostic, including those
of the evaluator and of option decoding later on, can point into the file.
Expressions are slotted dataclasses with value semantics (`_Node`): mypy narrows a union of
them in no time, where a union of NamedTuples cost it ~40 s per isinstance. Positions and
the file structure are `NamedTuple`s. Nodes compare by value and are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Pos(NamedTuple):
    line: int  # 1-based
    column: int  # 1-based, in characters


class Range(NamedTuple):
    filename: str
    start: Pos
    end: Pos

    def __str__(self) -> str:
        return f"{self.filename}:{self.start.line}:{self.start.column}"


NO_RANGE = Range("", Pos(0, 0), Pos(0, 0))


class _Node:
    """Value semantics for the expression nodes, shared: dataclass's generated `__eq__`,
    `__hash__` and `__repr__` (and frozen's `__setattr__`) would cost each `kiln validate`
    ~10 ms to define. Nodes are never changed after they are built."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Node)
            and type(other) is type(self)
            and (self._values() == other._values())
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({inner})"


# --- expressions -------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class Literal(_Node):
    """`1`, `true`, `null`, and the literal parts of templates (then `value` is a str)."""

    value: object  # a `Value`
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class TemplateExpr(_Node):
    """A quoted string or heredoc: literal parts and interpolations, joined as a string."""

    parts: tuple[Expr, ...]
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class TemplateWrap(_Node):
    """`"${expr}"`: a template of one interpolation passes its value through unconverted."""

    wrapped: Expr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class TemplateIf(_Node):
    cond: Expr
    true: TemplateExpr
    false: TemplateExpr | None
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class TemplateFor(_Node):
    key_var: str | None
    value_var: str
    collection: Expr
    body: TemplateExpr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class ScopeTraversal(_Node):
    """A variable and the attribute/index steps after it: `var.disks[0].size`."""

    root: str
    steps: tuple[Step, ...]
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class GetAttr(_Node):
    name: str
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class Index(_Node):
    key: Expr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class RelativeTraversal(_Node):
    """Attribute/index steps applied to any expression: `f(x)[0].a`."""

    source: Expr
    steps: tuple[Step, ...]
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class Splat(_Node):
    """`source.*.a` / `source[*].a[0]`: `each` applied to every element (`SplatItem`)."""

    source: Expr
    each: Expr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class SplatItem(_Node):
    """The current element inside a `Splat.each`."""

    range: Range


@dataclass(slots=True, eq=False, repr=False)
class FunctionCall(_Node):
    name: str
    args: tuple[Expr, ...]
    expand_final: bool  # `f(list...)`
    range: Range
    name_range: Range


@dataclass(slots=True, eq=False, repr=False)
class Conditional(_Node):
    cond: Expr
    true: Expr
    false: Expr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class BinaryOp(_Node):
    op: str
    left: Expr
    right: Expr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class UnaryOp(_Node):
    op: str  # "-" or "!"
    operand: Expr
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class TupleCons(_Node):
    items: tuple[Expr, ...]
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class ObjectItem(_Node):
    key: Expr  # a bare identifier key is a `Literal` string (`ObjectKey.bare`)
    value: Expr
    bare_key: str | None  # `{foo = 1}`: the identifier as written (also a variable name)


@dataclass(slots=True, eq=False, repr=False)
class ObjectCons(_Node):
    items: tuple[ObjectItem, ...]
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class ForExpr(_Node):
    """`[for k, v in coll : v if cond]` (key_expr None) or `{for ... : k => v...}`."""

    key_var: str | None
    value_var: str
    collection: Expr
    key_expr: Expr | None
    value_expr: Expr
    cond: Expr | None
    group: bool
    range: Range


@dataclass(slots=True, eq=False, repr=False)
class Parens(_Node):
    """`(expr)`: kept so that `(a.*.b)[0]` indexes the splat's result, not each element."""

    inner: Expr
    range: Range


Step = GetAttr | Index
Expr = (
    Literal
    | TemplateExpr
    | TemplateWrap
    | TemplateIf
    | TemplateFor
    | ScopeTraversal
    | RelativeTraversal
    | Splat
    | SplatItem
    | FunctionCall
    | Conditional
    | BinaryOp
    | UnaryOp
    | TupleCons
    | ObjectCons
    | ForExpr
    | Parens
)


_NODES = (Literal, TemplateExpr, TemplateWrap, TemplateIf, TemplateFor, ScopeTraversal, GetAttr,
          Index, RelativeTraversal, Splat, SplatItem, FunctionCall, Conditional, BinaryOp,
          UnaryOp, TupleCons, ObjectItem, ObjectCons, ForExpr, Parens)  # fmt: skip


def children(node: object) -> tuple[object, ...]:
    """What a generic walk descends into: an expression node's fields, a tuple's items."""
    if isinstance(node, _NODES):
        return tuple(getattr(node, name) for name in node.__slots__)
    if isinstance(node, tuple) and not isinstance(node, Range | Pos):
        return node
    return ()


# --- structure ---------------------------------------------------------------------------


class Attribute(NamedTuple):
    name: str
    expr: Expr
    range: Range  # the whole `name = expr`
    name_range: Range


class Block(NamedTuple):
    type: str
    labels: tuple[str, ...]
    body: Body
    range: Range  # the header: `source "qemu" "x" {`
    type_range: Range
    label_ranges: tuple[Range, ...]


class Body(NamedTuple):
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
    range: Range
    # Items in source order (attributes and blocks mixed), for the JSON twin and upgrades.
    items: tuple[Attribute | Block, ...] = ()

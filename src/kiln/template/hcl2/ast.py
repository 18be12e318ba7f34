"""The syntax tree of an HCL2 file: bodies, attributes, blocks and expressions.

Every node carries the `Range` it was read from, so that every diagnostic, including those
of the evaluator and of option decoding later on, can point into the file.
Nodes are immutable `NamedTuple`s: cheap to build, and compared by value in tests.
"""

from __future__ import annotations

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


# --- expressions -------------------------------------------------------------------------


class Literal(NamedTuple):
    """`1`, `true`, `null`, and the literal parts of templates (then `value` is a str)."""

    value: object  # a `Value`
    range: Range


class TemplateExpr(NamedTuple):
    """A quoted string or heredoc: literal parts and interpolations, joined as a string."""

    parts: tuple[Expr, ...]
    range: Range


class TemplateWrap(NamedTuple):
    """`"${expr}"`: a template of one interpolation passes its value through unconverted."""

    wrapped: Expr
    range: Range


class TemplateIf(NamedTuple):
    cond: Expr
    true: TemplateExpr
    false: TemplateExpr | None
    range: Range


class TemplateFor(NamedTuple):
    key_var: str | None
    value_var: str
    collection: Expr
    body: TemplateExpr
    range: Range


class ScopeTraversal(NamedTuple):
    """A variable and the attribute/index steps after it: `var.disks[0].size`."""

    root: str
    steps: tuple[Step, ...]
    range: Range


class GetAttr(NamedTuple):
    name: str
    range: Range


class Index(NamedTuple):
    key: Expr
    range: Range


class RelativeTraversal(NamedTuple):
    """Attribute/index steps applied to any expression: `f(x)[0].a`."""

    source: Expr
    steps: tuple[Step, ...]
    range: Range


class Splat(NamedTuple):
    """`source.*.a` / `source[*].a[0]`: `each` applied to every element (`SplatItem`)."""

    source: Expr
    each: Expr
    range: Range


class SplatItem(NamedTuple):
    """The current element inside a `Splat.each`."""

    range: Range


class FunctionCall(NamedTuple):
    name: str
    args: tuple[Expr, ...]
    expand_final: bool  # `f(list...)`
    range: Range
    name_range: Range


class Conditional(NamedTuple):
    cond: Expr
    true: Expr
    false: Expr
    range: Range


class BinaryOp(NamedTuple):
    op: str
    left: Expr
    right: Expr
    range: Range


class UnaryOp(NamedTuple):
    op: str  # "-" or "!"
    operand: Expr
    range: Range


class TupleCons(NamedTuple):
    items: tuple[Expr, ...]
    range: Range


class ObjectItem(NamedTuple):
    key: Expr  # a bare identifier key is a `Literal` string (`ObjectKey.bare`)
    value: Expr
    bare_key: str | None  # `{foo = 1}`: the identifier as written (also a variable name)


class ObjectCons(NamedTuple):
    items: tuple[ObjectItem, ...]
    range: Range


class ForExpr(NamedTuple):
    """`[for k, v in coll : v if cond]` (key_expr None) or `{for ... : k => v...}`."""

    key_var: str | None
    value_var: str
    collection: Expr
    key_expr: Expr | None
    value_expr: Expr
    cond: Expr | None
    group: bool
    range: Range


class Parens(NamedTuple):
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

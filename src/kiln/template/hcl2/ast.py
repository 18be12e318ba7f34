"""The syntax tree of an HCL2 file: bodies, attributes, blocks and expressions.

Every node carries the `Range` it was read from, so that every diagnostic, including those
of the evaluator and of option decoding later on, can point into the file.
Expressions are slotted classes with value semantics (`_Node`): mypy narrows a union of
them in no time, where a union of NamedTuples cost it ~40 s per isinstance. Positions and
the file structure are `NamedTuple`s. Nodes compare by value and are never changed.
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


class _Node:
    """Value semantics for the expression nodes, shared. Each node lists its fields in
    order (`__match_args__`, also its `__slots__`) and spells out its `__init__`: a
    dataclass generates those at import, which cost each `kiln validate` ~5 ms more (and
    its `__eq__`, `__hash__`, `__repr__` and frozen `__setattr__` ~10 ms). Nodes are never
    changed after they are built."""

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


class Literal(_Node):
    """`1`, `true`, `null`, and the literal parts of templates (then `value` is a str)."""

    __match_args__ = ("value", "range")
    __slots__ = __match_args__
    value: object  # a `Value`
    range: Range

    def __init__(self, value: object, range: Range) -> None:
        self.value = value
        self.range = range


class TemplateExpr(_Node):
    """A quoted string or heredoc: literal parts and interpolations, joined as a string."""

    __match_args__ = ("parts", "range")
    __slots__ = __match_args__
    parts: tuple[Expr, ...]
    range: Range

    def __init__(self, parts: tuple[Expr, ...], range: Range) -> None:
        self.parts = parts
        self.range = range


class TemplateWrap(_Node):
    """`"${expr}"`: a template of one interpolation passes its value through unconverted."""

    __match_args__ = ("wrapped", "range")
    __slots__ = __match_args__
    wrapped: Expr
    range: Range

    def __init__(self, wrapped: Expr, range: Range) -> None:
        self.wrapped = wrapped
        self.range = range


class TemplateIf(_Node):
    __match_args__ = ("cond", "true", "false", "range")
    __slots__ = __match_args__
    cond: Expr
    true: TemplateExpr
    false: TemplateExpr | None
    range: Range

    def __init__(
        self,
        cond: Expr,
        true: TemplateExpr,
        false: TemplateExpr | None,
        range: Range,
    ) -> None:
        self.cond = cond
        self.true = true
        self.false = false
        self.range = range


class TemplateFor(_Node):
    __match_args__ = ("key_var", "value_var", "collection", "body", "range")
    __slots__ = __match_args__
    key_var: str | None
    value_var: str
    collection: Expr
    body: TemplateExpr
    range: Range

    def __init__(
        self,
        key_var: str | None,
        value_var: str,
        collection: Expr,
        body: TemplateExpr,
        range: Range,
    ) -> None:
        self.key_var = key_var
        self.value_var = value_var
        self.collection = collection
        self.body = body
        self.range = range


class ScopeTraversal(_Node):
    """A variable and the attribute/index steps after it: `var.disks[0].size`."""

    __match_args__ = ("root", "steps", "range")
    __slots__ = __match_args__
    root: str
    steps: tuple[Step, ...]
    range: Range

    def __init__(self, root: str, steps: tuple[Step, ...], range: Range) -> None:
        self.root = root
        self.steps = steps
        self.range = range


class GetAttr(_Node):
    __match_args__ = ("name", "range")
    __slots__ = __match_args__
    name: str
    range: Range

    def __init__(self, name: str, range: Range) -> None:
        self.name = name
        self.range = range


class Index(_Node):
    __match_args__ = ("key", "range")
    __slots__ = __match_args__
    key: Expr
    range: Range

    def __init__(self, key: Expr, range: Range) -> None:
        self.key = key
        self.range = range


class RelativeTraversal(_Node):
    """Attribute/index steps applied to any expression: `f(x)[0].a`."""

    __match_args__ = ("source", "steps", "range")
    __slots__ = __match_args__
    source: Expr
    steps: tuple[Step, ...]
    range: Range

    def __init__(self, source: Expr, steps: tuple[Step, ...], range: Range) -> None:
        self.source = source
        self.steps = steps
        self.range = range


class Splat(_Node):
    """`source.*.a` / `source[*].a[0]`: `each` applied to every element (`SplatItem`)."""

    __match_args__ = ("source", "each", "range")
    __slots__ = __match_args__
    source: Expr
    each: Expr
    range: Range

    def __init__(self, source: Expr, each: Expr, range: Range) -> None:
        self.source = source
        self.each = each
        self.range = range


class SplatItem(_Node):
    """The current element inside a `Splat.each`."""

    __match_args__ = ("range",)
    __slots__ = __match_args__
    range: Range

    def __init__(self, range: Range) -> None:
        self.range = range


class FunctionCall(_Node):
    __match_args__ = ("name", "args", "expand_final", "range", "name_range")
    __slots__ = __match_args__
    name: str
    args: tuple[Expr, ...]
    expand_final: bool  # `f(list...)`
    range: Range
    name_range: Range

    def __init__(
        self,
        name: str,
        args: tuple[Expr, ...],
        expand_final: bool,
        range: Range,
        name_range: Range,
    ) -> None:
        self.name = name
        self.args = args
        self.expand_final = expand_final
        self.range = range
        self.name_range = name_range


class Conditional(_Node):
    __match_args__ = ("cond", "true", "false", "range")
    __slots__ = __match_args__
    cond: Expr
    true: Expr
    false: Expr
    range: Range

    def __init__(self, cond: Expr, true: Expr, false: Expr, range: Range) -> None:
        self.cond = cond
        self.true = true
        self.false = false
        self.range = range


class BinaryOp(_Node):
    __match_args__ = ("op", "left", "right", "range")
    __slots__ = __match_args__
    op: str
    left: Expr
    right: Expr
    range: Range

    def __init__(self, op: str, left: Expr, right: Expr, range: Range) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.range = range


class UnaryOp(_Node):
    __match_args__ = ("op", "operand", "range")
    __slots__ = __match_args__
    op: str  # "-" or "!"
    operand: Expr
    range: Range

    def __init__(self, op: str, operand: Expr, range: Range) -> None:
        self.op = op
        self.operand = operand
        self.range = range


class TupleCons(_Node):
    __match_args__ = ("items", "range")
    __slots__ = __match_args__
    items: tuple[Expr, ...]
    range: Range

    def __init__(self, items: tuple[Expr, ...], range: Range) -> None:
        self.items = items
        self.range = range


class ObjectItem(_Node):
    __match_args__ = ("key", "value", "bare_key")
    __slots__ = __match_args__
    key: Expr  # a bare identifier key is a `Literal` string (`ObjectKey.bare`)
    value: Expr
    bare_key: str | None  # `{foo = 1}`: the identifier as written (also a variable name)

    def __init__(self, key: Expr, value: Expr, bare_key: str | None) -> None:
        self.key = key
        self.value = value
        self.bare_key = bare_key


class ObjectCons(_Node):
    __match_args__ = ("items", "range")
    __slots__ = __match_args__
    items: tuple[ObjectItem, ...]
    range: Range

    def __init__(self, items: tuple[ObjectItem, ...], range: Range) -> None:
        self.items = items
        self.range = range


class ForExpr(_Node):
    """`[for k, v in coll : v if cond]` (key_expr None) or `{for ... : k => v...}`."""

    __match_args__ = (
        "key_var",
        "value_var",
        "collection",
        "key_expr",
        "value_expr",
        "cond",
        "group",
        "range",
    )
    __slots__ = __match_args__
    key_var: str | None
    value_var: str
    collection: Expr
    key_expr: Expr | None
    value_expr: Expr
    cond: Expr | None
    group: bool
    range: Range

    def __init__(
        self,
        key_var: str | None,
        value_var: str,
        collection: Expr,
        key_expr: Expr | None,
        value_expr: Expr,
        cond: Expr | None,
        group: bool,
        range: Range,
    ) -> None:
        self.key_var = key_var
        self.value_var = value_var
        self.collection = collection
        self.key_expr = key_expr
        self.value_expr = value_expr
        self.cond = cond
        self.group = group
        self.range = range


class Parens(_Node):
    """`(expr)`: kept so that `(a.*.b)[0]` indexes the splat's result, not each element."""

    __match_args__ = ("inner", "range")
    __slots__ = __match_args__
    inner: Expr
    range: Range

    def __init__(self, inner: Expr, range: Range) -> None:
        self.inner = inner
        self.range = range


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

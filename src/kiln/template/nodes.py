"""The syntax tree of a parsed template (the shape of Go's `text/template/parse` nodes).

Every node keeps `pos`/`end`, its offsets in the source, so errors can point at it and
quote it (`at <split "a-b" "-" 5>`, as Go does).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    pos: int
    end: int


# ------------------------------------------------------------------ operands


@dataclass(frozen=True, slots=True)
class DotNode(Node):
    """`.` — the current value."""


@dataclass(frozen=True, slots=True)
class NilNode(Node):
    """`nil`."""


@dataclass(frozen=True, slots=True)
class BoolNode(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class NumberNode(Node):
    """A number or character constant. Like Go's untyped constants it may be usable both
    as an int (`int_value`) and as a float (`float_value`); `is_float` says which it is
    when printed or passed where any type goes (`1.0` is a float, `0x1F` and `'a'` ints)."""

    int_value: int | None
    float_value: float | None
    is_float: bool

    @property
    def value(self) -> int | float:
        if self.is_float:
            assert self.float_value is not None
            return self.float_value
        assert self.int_value is not None
        return self.int_value


@dataclass(frozen=True, slots=True)
class StringNode(Node):
    value: str


@dataclass(frozen=True, slots=True)
class FieldNode(Node):
    """`.A.B` — field A of dot, then field B of that."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VariableNode(Node):
    """`$x.A.B` — variable `$x` (or `$`), then fields."""

    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdentifierNode(Node):
    """A function name."""

    name: str


@dataclass(frozen=True, slots=True)
class ChainNode(Node):
    """`(pipeline).A.B` — fields of a parenthesised pipeline or function result."""

    node: Operand
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandNode(Node):
    """One pipeline stage: an operand, possibly a function with arguments."""

    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class PipeNode(Node):
    """`$x := a | b c`: declared (or assigned) variables and the commands."""

    decl: tuple[str, ...]
    is_assign: bool
    cmds: tuple[CommandNode, ...]


Operand = (
    DotNode
    | NilNode
    | BoolNode
    | NumberNode
    | StringNode
    | FieldNode
    | VariableNode
    | IdentifierNode
    | ChainNode
    | PipeNode
)

# ------------------------------------------------------------------ structure


@dataclass(frozen=True, slots=True)
class TextNode(Node):
    text: str


@dataclass(frozen=True, slots=True)
class ActionNode(Node):
    """`{{ pipeline }}`: evaluated, and printed unless it declares variables."""

    pipe: PipeNode


@dataclass(frozen=True, slots=True)
class ListNode(Node):
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class IfNode(Node):
    """`{{if a}}…{{else if b}}…{{else}}…{{end}}`: the branches in order, then the else."""

    branches: tuple[tuple[PipeNode, ListNode], ...]
    else_list: ListNode | None


@dataclass(frozen=True, slots=True)
class RangeNode(Node):
    pipe: PipeNode
    body: ListNode
    else_list: ListNode | None


@dataclass(frozen=True, slots=True)
class WithNode(Node):
    pipe: PipeNode
    body: ListNode
    else_list: ListNode | None


@dataclass(frozen=True, slots=True)
class BreakNode(Node):
    pass


@dataclass(frozen=True, slots=True)
class ContinueNode(Node):
    pass


Item = TextNode | ActionNode | IfNode | RangeNode | WithNode | BreakNode | ContinueNode

"""The syntax tree of a parsed template (the shape of Go's `text/template/parse` nodes).

Every node keeps `pos`/`end`, its offsets in the source, so errors can point at it and
quote it (`at <split "a-b" "-" 5>`, as Go does).
"""

from __future__ import annotations

from kiln.record import Record


class Node(Record, frozen=True):
    pos: int
    end: int


# ------------------------------------------------------------------ operands


class DotNode(Node, frozen=True):
    """`.` — the current value."""


class NilNode(Node, frozen=True):
    """`nil`."""


class BoolNode(Node, frozen=True):
    value: bool


class NumberNode(Node, frozen=True):
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


class StringNode(Node, frozen=True):
    value: str


class FieldNode(Node, frozen=True):
    """`.A.B` — field A of dot, then field B of that."""

    names: tuple[str, ...]


class VariableNode(Node, frozen=True):
    """`$x.A.B` — variable `$x` (or `$`), then fields."""

    name: str
    fields: tuple[str, ...]


class IdentifierNode(Node, frozen=True):
    """A function name."""

    name: str


class ChainNode(Node, frozen=True):
    """`(pipeline).A.B` — fields of a parenthesised pipeline or function result."""

    node: Operand
    fields: tuple[str, ...]


class CommandNode(Node, frozen=True):
    """One pipeline stage: an operand, possibly a function with arguments."""

    args: tuple[Operand, ...]


class PipeNode(Node, frozen=True):
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


class TextNode(Node, frozen=True):
    text: str


class ActionNode(Node, frozen=True):
    """`{{ pipeline }}`: evaluated, and printed unless it declares variables."""

    pipe: PipeNode


class ListNode(Node, frozen=True):
    items: tuple[Item, ...]


class IfNode(Node, frozen=True):
    """`{{if a}}…{{else if b}}…{{else}}…{{end}}`: the branches in order, then the else."""

    branches: tuple[tuple[PipeNode, ListNode], ...]
    else_list: ListNode | None


class RangeNode(Node, frozen=True):
    pipe: PipeNode
    body: ListNode
    else_list: ListNode | None


class WithNode(Node, frozen=True):
    pipe: PipeNode
    body: ListNode
    else_list: ListNode | None


class BreakNode(Node, frozen=True):
    pass


class ContinueNode(Node, frozen=True):
    pass


Item = TextNode | ActionNode | IfNode | RangeNode | WithNode | BreakNode | ContinueNode

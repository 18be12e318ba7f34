"""The syntax tree of a parsed template (the shape of Go's `text/template/parse` nodes).

Every node keeps `pos`/`end`, its offsets in the source, so errors can point at it and
quote it (`at <split "a-b" "-" 5>`, as Go does).

Nodes are immutable records, but not `@dataclass`es: these two dozen classes are created
by every `kiln` command that reads a template, and `dataclass` compiles its methods per
class (0.5-1 ms each: a fifth of `kiln validate`'s start-up, measured with bench/run).
`Node` gives them what a frozen dataclass would — fields from the annotations (base
first), positional construction, equality, hashing, `repr` — written once.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, dataclass_transform


@dataclass_transform(eq_default=True, frozen_default=True)
class _Record:
    """Immutable fields from the annotations (base first), as a frozen dataclass has."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        own = [
            n for n, a in inspect.get_annotations(cls).items() if not str(a).startswith("ClassVar")
        ]
        cls._fields = cls._fields + tuple(own)
        if "__slots__" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} must declare __slots__ (its own fields)")

    def __init__(self, *values: Any) -> None:
        if len(values) != len(self._fields):
            fields = ", ".join(self._fields)
            raise TypeError(f"{type(self).__name__} takes {len(self._fields)} values ({fields})")
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), *self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"


class Node(_Record):
    """Base of every node: `pos` and `end`, then the subclass's own fields."""

    __slots__ = ("end", "pos")
    pos: int
    end: int


# ------------------------------------------------------------------ operands


class DotNode(Node):
    """`.` — the current value."""

    __slots__ = ()


class NilNode(Node):
    """`nil`."""

    __slots__ = ()


class BoolNode(Node):
    __slots__ = ("value",)
    value: bool


class NumberNode(Node):
    """A number or character constant. Like Go's untyped constants it may be usable both
    as an int (`int_value`) and as a float (`float_value`); `is_float` says which it is
    when printed or passed where any type goes (`1.0` is a float, `0x1F` and `'a'` ints)."""

    __slots__ = ("float_value", "int_value", "is_float")

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


class StringNode(Node):
    __slots__ = ("value",)
    value: str


class FieldNode(Node):
    """`.A.B` — field A of dot, then field B of that."""

    __slots__ = ("names",)

    names: tuple[str, ...]


class VariableNode(Node):
    """`$x.A.B` — variable `$x` (or `$`), then fields."""

    __slots__ = ("fields", "name")

    name: str
    fields: tuple[str, ...]


class IdentifierNode(Node):
    """A function name."""

    __slots__ = ("name",)

    name: str


class ChainNode(Node):
    """`(pipeline).A.B` — fields of a parenthesised pipeline or function result."""

    __slots__ = ("fields", "node")

    node: Operand
    fields: tuple[str, ...]


class CommandNode(Node):
    """One pipeline stage: an operand, possibly a function with arguments."""

    __slots__ = ("args",)

    args: tuple[Operand, ...]


class PipeNode(Node):
    """`$x := a | b c`: declared (or assigned) variables and the commands."""

    __slots__ = ("cmds", "decl", "is_assign")

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


class TextNode(Node):
    __slots__ = ("text",)
    text: str


class ActionNode(Node):
    """`{{ pipeline }}`: evaluated, and printed unless it declares variables."""

    __slots__ = ("pipe",)

    pipe: PipeNode


class ListNode(Node):
    __slots__ = ("items",)
    items: tuple[Item, ...]


class IfNode(Node):
    """`{{if a}}…{{else if b}}…{{else}}…{{end}}`: the branches in order, then the else."""

    __slots__ = ("branches", "else_list")

    branches: tuple[tuple[PipeNode, ListNode], ...]
    else_list: ListNode | None


class RangeNode(Node):
    __slots__ = ("body", "else_list", "pipe")
    pipe: PipeNode
    body: ListNode
    else_list: ListNode | None


class WithNode(Node):
    __slots__ = ("body", "else_list", "pipe")
    pipe: PipeNode
    body: ListNode
    else_list: ListNode | None


class BreakNode(Node):
    __slots__ = ()


class ContinueNode(Node):
    __slots__ = ()


Item = TextNode | ActionNode | IfNode | RangeNode | WithNode | BreakNode | ContinueNode

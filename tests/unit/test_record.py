"""`kiln.record.Record` behaves as the dataclass it stands in for."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from kiln.record import Record, field, replace
from kiln.template.nodes import BreakNode, ContinueNode, PipeNode, StringNode, TextNode


class Point(Record, frozen=True):
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", repr=False, compare=False)
    KIND: ClassVar[str] = "point"


@dataclasses.dataclass(frozen=True)
class DPoint:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    note: str = dataclasses.field(default="", repr=False, compare=False)
    KIND: ClassVar[str] = "point"


class Mutable(Record):
    a: int
    b: list[int] = field(default_factory=list)
    stamp: float = field(kw_only=True)


class Checked(Record, frozen=True):
    value: int
    doubled: int = 0

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")
        object.__setattr__(self, "doubled", 2 * self.value)


def test_fields_defaults_and_factories() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags, p.note) == (1, 0, [], "")
    assert Point(1).tags is not Point(1).tags  # a fresh list each time
    assert Point(1, 2, ["a"], "n") == Point(
        x=1, y=2, tags=["a"], note="other"
    )  # note: compare=False
    assert [f.name for f in Point._fields_] == ["x", "y", "tags", "note"]  # ClassVar is not a field
    assert Point.KIND == "point" and Point.y == 0


@pytest.mark.parametrize(
    "args",
    [(), (1,), (1, 2), (1, 2, ["t"], "n")],
)
def test_repr_eq_hash_match_the_dataclass(args: tuple[object, ...]) -> None:
    if not args:
        with pytest.raises(TypeError, match="missing required argument: 'x'"):
            Point()  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            DPoint()  # type: ignore[call-arg]
        return
    record, data = Point(*args), DPoint(*args)  # type: ignore[arg-type]
    assert repr(record) == repr(data).replace("DPoint", "Point")
    assert (record == Point(*args)) == (data == DPoint(*args))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        hash(data)
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        hash(record)


def test_frozen_records_hash_by_compared_fields() -> None:
    assert hash(StringNode(0, 3, "a")) == hash(StringNode(0, 3, "a"))
    assert {Checked(1): "one"}[Checked(1)] == "one"


def test_frozen_refuses_assignment_as_dataclasses_do() -> None:
    p = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del p.y
    assert p.x == 1


def test_mutable_records_assign_and_are_unhashable() -> None:
    m = Mutable(1, stamp=2.0)
    m.a = 5
    assert m == Mutable(5, [], stamp=2.0)
    with pytest.raises(TypeError, match="unhashable"):
        hash(m)


def test_argument_errors() -> None:
    with pytest.raises(TypeError, match=r"takes 2 positional arguments but 3 were given"):
        Mutable(1, [], 2.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing required argument: 'stamp'"):
        Mutable(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for 'a'"):
        Mutable(1, a=2, stamp=0.0)  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        Mutable(1, stamp=0.0, nope=1)  # type: ignore[call-arg]


def test_post_init_runs_and_replace_reruns_it() -> None:
    c = Checked(3)
    assert c.doubled == 6
    assert replace(c, value=4) == Checked(4) and replace(c, value=4).doubled == 8
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)
    with pytest.raises(TypeError, match="has no field 'nope'"):
        replace(c, nope=1)


def test_class_definition_errors() -> None:
    with pytest.raises(TypeError, match="non-default field 'b' follows a default"):

        class Bad(Record):
            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(TypeError, match="frozen and unfrozen"):

        class Thawed(Point):  # type: ignore[misc]
            z: int = 0


def test_own_hash_and_repr_are_kept() -> None:
    class Keyed(Record, frozen=True):
        key: str
        payload: int

        def __hash__(self) -> int:
            return hash(self.key)

        def __repr__(self) -> str:
            return f"<{self.key}>"

    assert hash(Keyed("k", 1)) == hash("k")
    assert repr(Keyed("k", 1)) == "<k>"


def test_template_nodes_are_frozen_records() -> None:
    assert [f.name for f in PipeNode._fields_] == ["pos", "end", "decl", "is_assign", "cmds"]
    assert StringNode(0, 3, "a") == StringNode(0, 3, "a")
    assert StringNode(0, 3, "a") != TextNode(0, 3, "a")  # same values, other type
    assert len({BreakNode(1, 2), ContinueNode(1, 2), BreakNode(1, 2)}) == 2
    assert repr(StringNode(0, 3, "a")) == "StringNode(pos=0, end=3, value='a')"

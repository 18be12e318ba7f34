"""The syntax-tree records behave as frozen dataclasses would."""

from __future__ import annotations

import pytest

from kiln.template.nodes import BreakNode, ContinueNode, PipeNode, StringNode, TextNode


def test_fields_in_declaration_order_base_first() -> None:
    assert PipeNode._fields == ("pos", "end", "decl", "is_assign", "cmds")
    node = PipeNode(1, 5, ("$x",), False, ())
    assert (node.pos, node.end, node.decl, node.is_assign, node.cmds) == (1, 5, ("$x",), False, ())


def test_equality_and_hash_by_type_and_fields() -> None:
    assert StringNode(0, 3, "a") == StringNode(0, 3, "a")
    assert hash(StringNode(0, 3, "a")) == hash(StringNode(0, 3, "a"))
    assert StringNode(0, 3, "a") != StringNode(0, 3, "b")
    assert StringNode(0, 3, "a") != TextNode(0, 3, "a")  # same values, other type
    assert BreakNode(1, 2) != ContinueNode(1, 2)
    assert len({BreakNode(1, 2), ContinueNode(1, 2), BreakNode(1, 2)}) == 2


def test_immutable() -> None:
    node = StringNode(0, 3, "a")
    with pytest.raises(AttributeError, match="immutable"):
        node.value = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del node.pos
    assert node.value == "a"


def test_wrong_number_of_values() -> None:
    with pytest.raises(TypeError, match=r"StringNode takes 3 values \(pos, end, value\)"):
        StringNode(0, 3)  # type: ignore[call-arg]


def test_repr_like_a_dataclass() -> None:
    assert repr(StringNode(0, 3, "a")) == "StringNode(pos=0, end=3, value='a')"

"""The syntax tree's expression nodes are hand-written slotted classes (cheaper to define
than dataclasses at every `kiln validate`): each lists its fields once in
`__match_args__`, and its `__init__` and annotations must say the same."""

from __future__ import annotations

import inspect
import pickle

from kiln.template.hcl2 import ast

NODES = [
    cls for cls in vars(ast).values()
    if isinstance(cls, type) and issubclass(cls, ast._Node) and cls is not ast._Node
]  # fmt: skip


def test_every_node_lists_its_fields_once_for_init_slots_and_annotations() -> None:
    assert len(NODES) == 20
    for cls in NODES:
        fields = cls.__match_args__
        assert cls.__slots__ == fields, cls
        assert tuple(inspect.signature(cls.__init__).parameters)[1:] == fields, cls
        assert tuple(cls.__annotations__) == fields, cls


R = ast.Range("t.pkr.hcl", ast.Pos(1, 1), ast.Pos(1, 4))


def test_nodes_compare_hash_print_and_pickle_by_value() -> None:
    a = ast.BinaryOp("+", ast.Literal(1, R), ast.SplatItem(R), R)
    b = ast.BinaryOp(op="+", left=ast.Literal(1, R), right=ast.SplatItem(range=R), range=R)
    assert a == b and hash(a) == hash(b)
    assert a != ast.BinaryOp("-", a.left, a.right, R)
    assert repr(ast.GetAttr("x", R)) == f"GetAttr(name='x', range={R!r})"
    assert pickle.loads(pickle.dumps(a)) == a
    match a:
        case ast.BinaryOp(op, ast.Literal(value), _, _):
            assert (op, value) == ("+", 1)
        case _:
            raise AssertionError(a)

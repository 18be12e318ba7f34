"""Type constraints as written in `variable "x" { type = list(string) }` (HCL's typeexpr)."""

from __future__ import annotations

from kiln.template.hcl2 import ast
from kiln.template.hcl2.diagnostics import Diagnostic
from kiln.template.hcl2.types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    Type,
    list_of,
    map_of,
    object_of,
    set_of,
    tuple_of,
)

_KEYWORDS = {"string": STRING, "number": NUMBER, "bool": BOOL, "any": DYNAMIC}
_COLLECTIONS = {"list": list_of, "set": set_of, "map": map_of}


class TypeExprError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(f"{diagnostic.summary}: {diagnostic.detail}")


def _bad(detail: str, rng: ast.Range) -> TypeExprError:
    return TypeExprError(Diagnostic("Invalid type specification", detail, rng))


def type_from_expr(expr: ast.Expr) -> Type:
    if isinstance(expr, ast.Parens):
        return type_from_expr(expr.inner)
    if isinstance(expr, ast.ScopeTraversal) and not expr.steps:
        name = expr.root
        if name in _KEYWORDS:
            return _KEYWORDS[name]
        if name in _COLLECTIONS:
            raise _bad(
                f"The {name} type constraint requires one argument specifying the element "
                f"type, as in {name}(string).",
                expr.range,
            )
        if name in ("object", "tuple"):
            example = "object({name=string})" if name == "object" else "tuple([string])"
            raise _bad(
                f"The {name} type constraint requires one argument specifying the "
                f"{'attribute types' if name == 'object' else 'element types'}, as in "
                f"{example}.",
                expr.range,
            )
        raise _bad(f'The keyword "{name}" is not a valid type specification.', expr.range)
    if isinstance(expr, ast.FunctionCall):
        name = expr.name
        if name in _COLLECTIONS:
            if len(expr.args) != 1:
                raise _bad(f"The {name} type constraint requires exactly one argument.", expr.range)
            return _COLLECTIONS[name](type_from_expr(expr.args[0]))
        if name == "object":
            if len(expr.args) != 1 or not isinstance(expr.args[0], ast.ObjectCons):
                raise _bad(
                    "Object type constraint requires one argument, an object of attribute "
                    "names to types, as in object({name=string}).",
                    expr.range,
                )
            attrs: dict[str, Type] = {}
            for item in expr.args[0].items:
                if item.bare_key is None:
                    raise _bad("Object constructor map keys must be attribute names.",
                               item.key.range)  # fmt: skip
                attrs[item.bare_key] = type_from_expr(item.value)
            return object_of(attrs)
        if name == "tuple":
            if len(expr.args) != 1 or not isinstance(expr.args[0], ast.TupleCons):
                raise _bad(
                    "Tuple type constraint requires one argument, a list of element types, as "
                    "in tuple([string, number]).",
                    expr.range,
                )
            return tuple_of([type_from_expr(e) for e in expr.args[0].items])
        raise _bad(f'Keyword "{name}" is not a valid type constructor.', expr.name_range)
    raise _bad(
        "A type specification is either a primitive type keyword (bool, number, string), "
        "any, or a type constructor such as list(string).",
        expr.range,
    )

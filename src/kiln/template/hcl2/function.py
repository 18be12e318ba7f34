"""The shape of an HCL function: typed parameters, an optional variadic one, an impl.

Calling converts each argument to its parameter's type (as cty does), refuses nulls
unless the parameter allows them, then runs the implementation. Implementations raise
`FunctionError` (the call failed) or `ArgError` (one argument is wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from kiln.template.hcl2.types import DYNAMIC, Type
from kiln.template.hcl2.values import Value


class Param(NamedTuple):
    name: str
    type: Type = DYNAMIC
    allow_null: bool = False


class FunctionError(Exception):
    """The call failed: "Call to function "f" failed: <message>."."""


class ArgError(FunctionError):
    """Argument `index` (0-based) is invalid."""

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        super().__init__(message)


Impl = Callable[[Sequence[Value]], Value]


class Function(NamedTuple):
    params: tuple[Param, ...]
    impl: Impl
    variadic: Param | None = None
    description: str = ""


def fn(*params: Param, variadic: Param | None = None) -> Callable[[Impl], Function]:
    """Decorator: `@fn(Param("str", STRING))` turns an impl into a `Function`."""

    def wrap(impl: Impl) -> Function:
        return Function(tuple(params), impl, variadic, (impl.__doc__ or "").strip())

    return wrap

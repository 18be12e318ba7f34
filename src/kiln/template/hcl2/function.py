"""The shape of an HCL function: typed parameters, an optional variadic one, an impl.

Calling converts each argument to its parameter's type (as cty does), refuses nulls
unless the parameter allows them, then runs the implementation. Implementations raise
`FunctionError` (the call failed) or `ArgError` (one argument is wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


class Function:
    """Typed parameters, an optional variadic one, and the implementation."""

    __slots__ = ("description", "impl", "params", "variadic")
    params: tuple[Param, ...]
    impl: Impl
    variadic: Param | None
    description: str

    def __init__(
        self,
        params: tuple[Param, ...],
        impl: Impl,
        variadic: Param | None = None,
        description: str = "",
    ) -> None:
        self.params = params
        self.impl = impl
        self.variadic = variadic
        self.description = description

    def __repr__(self) -> str:
        return f"Function({getattr(self.impl, '__name__', self.impl)!r}, params={self.params!r})"


class LazyFunction(Function):
    """A table entry whose module is imported on its first use (any attribute read): a
    `kiln validate` then pays for a family of functions (hashlib, uuid, csv, …) only when
    the template calls one of them. `family()` returns the loaded family's table."""

    __slots__ = ("family", "name")

    def __init__(self, name: str, family: Callable[[], Mapping[str, Function]]) -> None:
        self.name = name
        self.family = family

    def __getattr__(self, attr: str) -> object:
        if attr not in Function.__slots__:
            raise AttributeError(attr)
        real = self.family()[self.name]
        for slot in Function.__slots__:
            setattr(self, slot, getattr(real, slot))
        return getattr(real, attr)

    def __repr__(self) -> str:
        return f"LazyFunction({self.name!r})"


def fn(*params: Param, variadic: Param | None = None) -> Callable[[Impl], Function]:
    """Decorator: `@fn(Param("str", STRING))` turns an impl into a `Function`."""

    def wrap(impl: Impl) -> Function:
        return Function(tuple(params), impl, variadic, (impl.__doc__ or "").strip())

    return wrap

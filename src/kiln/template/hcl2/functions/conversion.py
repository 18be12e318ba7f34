"""Type conversion functions: tostring, tonumber, tobool, tolist, toset, tomap.

Packer's own table has `convert(value, type)` (see `evaluate`, which reads the type
expression); the `to*` family comes from cty's `MakeToFunc`, as Terraform offers it.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.template.hcl2.convert import ConversionError, convert
from kiln.template.hcl2.function import ArgError, Function, Param
from kiln.template.hcl2.types import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    Type,
    friendly_name,
    list_of,
    map_of,
    set_of,
)
from kiln.template.hcl2.values import Value


def _to(want: Type) -> Function:
    def impl(a: Sequence[Value]) -> Value:
        try:
            return convert(a[0], want)
        except ConversionError as err:
            raise ArgError(
                0,
                f"cannot convert {friendly_name(a[0].type)} to {friendly_name(want)}: {err.text}",
            ) from None

    return Function((Param("v", DYNAMIC, allow_null=True),), impl)


FUNCTIONS: dict[str, Function] = {
    "tobool": _to(BOOL),
    "tolist": _to(list_of(DYNAMIC)),
    "tomap": _to(map_of(DYNAMIC)),
    "tonumber": _to(NUMBER),
    "toset": _to(set_of(DYNAMIC)),
    "tostring": _to(STRING),
}

"""Packer's HCL2 function library, with cty's semantics.

`standard_functions(base_dir)` is the table every expression sees; `env` is added only
where Packer allows it (a variable's `default`). Each module holds one family; the
table in `docs/hcl2.md` lists every function and its status.
"""

from __future__ import annotations

from pathlib import Path

from kiln.template.hcl2.function import Function
from kiln.template.hcl2.function_hints import UNSUPPORTED, unknown_function_hint
from kiln.template.hcl2.functions import (
    collections,
    conversion,
    crypto,
    datetime_funcs,
    encoding,
    files,
    netfuncs,
    numeric,
    strings,
)


def standard_functions(base_dir: Path | str, *, now: object = None) -> dict[str, Function]:
    """Every function, with file paths relative to `base_dir` (the template's folder)."""
    base = Path(base_dir)
    table: dict[str, Function] = {}
    for module in (strings, collections, numeric, encoding, crypto, netfuncs, conversion):
        table.update(module.FUNCTIONS)
    table.update(datetime_funcs.functions(now))
    table.update(files.functions(base, lambda: table))
    return table


__all__ = ["UNSUPPORTED", "standard_functions", "unknown_function_hint"]

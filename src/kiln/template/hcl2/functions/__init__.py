"""Packer's HCL2 function library, with cty's semantics.

`standard_functions(base_dir)` is the table every expression sees; `env` is added only
where Packer allows it (a variable's `default`). Each module holds one family; the
table in `docs/hcl2.md` lists every function and its status.
"""

from __future__ import annotations

from pathlib import Path

from kiln.template.hcl2.function import Function
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

# Functions of Packer's table that reach outside services; kiln does not offer them.
UNSUPPORTED = {
    "aws_secretsmanager": "it reads AWS Secrets Manager",
    "aws_secretsmanager_raw": "it reads AWS Secrets Manager",
    "consul_key": "it reads from Consul",
    "vault": "it reads from HashiCorp Vault",
}


def standard_functions(base_dir: Path | str, *, now: object = None) -> dict[str, Function]:
    """Every function, with file paths relative to `base_dir` (the template's folder)."""
    base = Path(base_dir)
    table: dict[str, Function] = {}
    for module in (strings, collections, numeric, encoding, crypto, netfuncs, conversion):
        table.update(module.FUNCTIONS)
    table.update(datetime_funcs.functions(now))
    table.update(files.functions(base, lambda: table))
    return table


def unknown_function_hint(name: str) -> str:
    if name in UNSUPPORTED:
        return (
            f" Packer offers {name}() but kiln does not, because {UNSUPPORTED[name]}; pass "
            "the value in a variable instead (-var, -var-file or PKR_VAR_…)."
        )
    if name == "env":
        return (
            " As in Packer, env() can only be used in a variable's default value: declare a "
            'variable with `default = env("NAME")` and use var.NAME here.'
        )
    return ""

"""Packer's HCL2 function library, with cty's semantics.

`standard_functions(base_dir)` is the table every expression sees; `env` is added only
where Packer allows it (a variable's `default`). Each module holds one family; the
table in `docs/hcl2.md` lists every function and its status.

The table is lazy: `FAMILIES` names every function's module, and a module is imported the
first time a template calls one of its functions (most templates call none, and importing
them all — hashlib, uuid, csv, gzip, … — cost each `kiln validate` ~10 ms).
A unit test checks `FAMILIES` against what the modules define.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

from kiln.template.hcl2.function import Function, LazyFunction
from kiln.template.hcl2.function_hints import UNSUPPORTED, unknown_function_hint

# Module (of this package) → its functions, in table order.
FAMILIES: dict[str, tuple[str, ...]] = {
    "strings": (
        "chomp", "endswith", "format", "formatlist", "indent", "join", "lower", "regex",
        "regex_replace", "regexall", "replace", "split", "startswith", "strcontains", "strrev",
        "substr", "title", "trim", "trimprefix", "trimspace", "trimsuffix", "upper"
    ),
    "collections": (
        "alltrue", "anytrue", "chunklist", "coalesce", "coalescelist", "compact", "concat",
        "contains", "distinct", "element", "flatten", "index", "keys", "length", "lookup",
        "merge", "range", "reverse", "setintersection", "setproduct", "setunion", "slice",
        "sort", "sum", "values", "zipmap"
    ),
    "numeric": (
        "abs", "ceil", "floor", "log", "max", "min", "parseint", "pow", "signum"
    ),
    "encoding": (
        "base64decode", "textdecodebase64", "textencodebase64", "base64encode", "base64gzip",
        "csvdecode", "jsondecode", "jsonencode", "urlencode", "yamldecode", "yamlencode"
    ),
    "crypto": (
        "bcrypt", "rsadecrypt", "md5", "sha1", "sha256", "sha512", "uuidv4", "uuidv5"
    ),
    "netfuncs": (
        "cidrhost", "cidrnetmask", "cidrsubnet", "cidrsubnets"
    ),
    "conversion": (
        "tobool", "tolist", "tomap", "tonumber", "toset", "tostring"
    ),
    "datetime_funcs": (
        "formatdate", "legacy_isotime", "legacy_strftime", "timeadd", "timestamp"
    ),
    "files": (
        "abspath", "basename", "dirname", "file", "filebase64", "fileexists", "fileset",
        "pathexpand", "templatefile"
    ),
}  # fmt: skip


def standard_functions(base_dir: Path | str, *, now: object = None) -> dict[str, Function]:
    """Every function, with file paths relative to `base_dir` (the template's folder)."""
    base = Path(base_dir)
    table: dict[str, Function] = {}
    loaded: dict[str, Mapping[str, Function]] = {}

    def loader(module: str) -> Callable[[], Mapping[str, Function]]:
        def family() -> Mapping[str, Function]:
            if module not in loaded:
                loaded[module] = load_family(module, base, now, lambda: table)
            return loaded[module]

        return family

    for module, names in FAMILIES.items():
        family = loader(module)
        for name in names:
            table[name] = LazyFunction(name, family)
    return table


def load_family(
    module: str, base: Path, now: object, table: Callable[[], Mapping[str, Function]]
) -> Mapping[str, Function]:
    """The functions of one module of `FAMILIES`, imported now."""
    mod = importlib.import_module(f"{__name__}.{module}")
    functions: Mapping[str, Function]
    if module == "datetime_funcs":
        functions = mod.functions(now)
    elif module == "files":
        functions = mod.functions(base, table)
    else:
        functions = mod.FUNCTIONS
    return functions


__all__ = ["FAMILIES", "UNSUPPORTED", "load_family", "standard_functions",
           "unknown_function_hint"]  # fmt: skip

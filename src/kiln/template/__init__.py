"""Go text/template, as Packer templates use it: `{{ user `x` }}`, `{{ .HTTPIP }}`, pipes.

The names below load their modules on first use (`kiln --help` needs none of them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln.template.engine import Template, parse, render
    from kiln.template.functions import FuncContext, packer_functions

_LAZY = {
    "Template": "kiln.template.engine",
    "parse": "kiln.template.engine",
    "render": "kiln.template.engine",
    "FuncContext": "kiln.template.functions",
    "packer_functions": "kiln.template.functions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.template' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["FuncContext", "Template", "packer_functions", "parse", "render"]

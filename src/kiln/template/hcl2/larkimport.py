"""lark, imported without the third-party `regex` module.

lark imports `regex` whenever it is installed (kiln installs it for grapheme clusters), but
uses it only with `Lark(regex=True)`, which kiln never asks for: the grammar's patterns are
plain `re` ones. Importing `regex` costs ~15 ms of every `kiln validate`, so it is hidden
while lark is imported; `regex` itself stays importable for the functions that need it.
"""

from __future__ import annotations

import sys

if "lark" not in sys.modules and "regex" not in sys.modules:
    sys.modules["regex"] = None  # type: ignore[assignment]  # `import regex` → ImportError
    try:
        import lark
        import lark.exceptions  # noqa: F401
    finally:
        del sys.modules["regex"]

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

__all__ = [
    "Lark",
    "LarkError",
    "Token",
    "Tree",
    "UnexpectedCharacters",
    "UnexpectedInput",
    "UnexpectedToken",
]

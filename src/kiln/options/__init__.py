"""The option-table machinery: each option declared once, decoded and documented from there.

An option set is a dataclass whose fields are declared with `option()`; the field's type
drives weak decoding (Packer's mapstructure rules), its metadata carries the help text,
choices, deprecated aliases and so on. See `kiln.builders.qemu.config` for the main table.
The decoder loads on first use, so the command line starts without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kiln.options.spec import (
    Duration,
    OptionSpec,
    QemuImgArgs,
    option,
    option_specs,
)

if TYPE_CHECKING:
    from kiln.options.decode import DecodeResult, decode_sections


def __getattr__(name: str) -> Any:
    if name in ("DecodeResult", "decode_sections"):
        return getattr(importlib.import_module("kiln.options.decode"), name)
    raise AttributeError(f"module 'kiln.options' has no attribute {name!r}")


__all__ = [
    "DecodeResult",
    "Duration",
    "OptionSpec",
    "QemuImgArgs",
    "decode_sections",
    "option",
    "option_specs",
]

"""The option-table machinery: each option declared once, decoded and documented from there.

An option set is a dataclass whose fields are declared with `option()`; the field's type
drives weak decoding (Packer's mapstructure rules), its metadata carries the help text,
choices, deprecated aliases and so on. See `kiln.builders.qemu.config` for the main table.
"""

from kiln.options.decode import DecodeResult, decode_sections
from kiln.options.spec import (
    Duration,
    OptionSpec,
    QemuImgArgs,
    option,
    option_specs,
)

__all__ = [
    "DecodeResult",
    "Duration",
    "OptionSpec",
    "QemuImgArgs",
    "decode_sections",
    "option",
    "option_specs",
]

"""The option-table machinery: each option declared once, decoded and documented from there.

An option set is a dataclass whose fields are declared with `option()` (`spec.py`); the
field's type drives weak decoding (`decode.py`, `weak.py`: Packer's mapstructure rules),
its metadata carries the help text, choices (`choices.py`), deprecated aliases and so on.
See `kiln.builders.qemu.config` for the main table.
"""

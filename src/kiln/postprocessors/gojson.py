"""JSON written the way Go's encoding/json writes it, so files match Packer's byte for byte.

`json.MarshalIndent(v, "", "  ")`: two-space indent, `": "` after keys, non-ASCII text
as UTF-8, and `<`, `>`, `&`, U+2028, U+2029 escaped as `\\u003c`-style sequences (Go's
HTML-safe default). Map keys are sorted (Go sorts map keys); struct fields keep their
declared order, which callers express with the order of their dicts. No final newline.
"""

from __future__ import annotations

import json

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
            "\u2029": "\\u2029"}  # fmt: skip


def marshal_indent(value: object) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    # These characters can only occur inside JSON strings, so a plain replace is exact.
    for char, escaped in _ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def sorted_map(mapping: dict[str, str] | None) -> dict[str, str] | None:
    """A Go map[string]string as encoding/json orders it (nil stays null)."""
    if mapping is None:
        return None
    return {k: mapping[k] for k in sorted(mapping)}

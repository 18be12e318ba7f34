"""How much one template string may render to.

Variables can refer to variables: ten of them, each repeating the one before ten times
(a "billion laughs"), render to 10^10 characters, which Packer tries to build and kiln
would too, until memory runs out. kiln stops a rendering at `MAX_RENDERED` characters —
far beyond any boot command, answer file or path — and says where.
"""

from __future__ import annotations

from kiln.errors import TemplateError

MAX_RENDERED = 1 << 20  # characters


def too_long(size: int) -> str:
    return (
        f"the result would be {size:,} characters long, longer than kiln renders "
        f"({MAX_RENDERED:,} characters): do variables repeat each other?"
    )


def check_size(size: int) -> None:
    """Raise `TemplateError` when a value of `size` characters is too long to render."""
    if size > MAX_RENDERED:
        raise TemplateError(too_long(size))

"""Environment variable names: which a POSIX shell accepts, and the message for one it does not.

Used wherever kiln puts variables into a shell: the `shell`/`shell-local` provisioners'
`environment_vars`/`env` (checked at validate time and before running) and the SSH
communicator's `export` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def bad_names(names: Iterable[str]) -> list[str]:
    """Names a POSIX shell cannot take as variables (they would break `{{.Vars}}`)."""
    return [n for n in names if not _NAME.fullmatch(n)]


def bad_name_message(name: str) -> str:
    return (
        f"environment variable name {name!r} is invalid: use letters, digits and "
        "underscores, not starting with a digit"
    )

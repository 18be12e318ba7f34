"""Provisioner type → the coroutine that runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kiln.provisioners.base import ProvisionContext
from kiln.provisioners.breakpoint import run_breakpoint
from kiln.provisioners.file import run_file
from kiln.provisioners.shell import run_shell
from kiln.provisioners.shell_local import run_shell_local

RUNNERS: dict[str, Callable[[Any, ProvisionContext], Awaitable[None]]] = {
    "shell": run_shell,
    "file": run_file,
    "shell-local": run_shell_local,
    "breakpoint": run_breakpoint,
}

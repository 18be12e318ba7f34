"""Every provisioner kiln runs, declared once: name, option table, run, validate-time check.

To add one, see docs/architecture.md ("How to add a provisioner or a post-processor"): a
module with its `run(config, ctx)`, its option table in `config.py`, one row here. The
plan decodes and checks with the row, the engine runs it, the option docs list it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.provisioners.checks import (
    check_ansible,
    check_ansible_local,
    check_file,
    check_shell,
    check_shell_local,
    no_checks,
)
from kiln.provisioners.config import (
    AnsibleConfig,
    AnsibleLocalConfig,
    BreakpointConfig,
    FileConfig,
    ShellConfig,
    ShellLocalConfig,
    SleepConfig,
)

if TYPE_CHECKING:  # a build's runtime only: `kiln validate` does not load it
    from kiln.provisioners.context import ProvisionContext

Run = Callable[[Any, "ProvisionContext"], Awaitable[None]]
# Checks Packer's Prepare makes beyond decoding (files exist, …); run when the options
# decoded cleanly; `cwd` is where relative paths resolve. Allowed values (`choices`) are
# checked from the option table, not here.
Check = Callable[[Any, Path], list[str]]


def _on_first_run(module: str, name: str) -> Run:
    """`module.name`, imported when a build first runs it: `kiln validate` needs only the
    option tables and checks, and the runners' imports (asyncio, SSH) cost it ~30 ms."""

    async def run(config: Any, ctx: ProvisionContext) -> None:
        function: Run = getattr(importlib.import_module(f"kiln.provisioners.{module}"), name)
        await function(config, ctx)

    return run


run_shell = _on_first_run("shell", "run_shell")
run_file = _on_first_run("file", "run_file")
run_shell_local = _on_first_run("shell_local", "run_shell_local")
run_breakpoint = _on_first_run("breakpoint", "run_breakpoint")
run_sleep = _on_first_run("sleep", "run_sleep")
run_ansible = _on_first_run("ansible", "run_ansible")
run_ansible_local = _on_first_run("ansible_local", "run_ansible_local")


@dataclass(frozen=True, slots=True)
class ProvisionerType:
    name: str
    config: type  # the option table (a dataclass of `option()` fields)
    run: Run
    check: Check = no_checks


PROVISIONERS: dict[str, ProvisionerType] = {
    p.name: p
    for p in (
        ProvisionerType("shell", ShellConfig, run_shell, check_shell),
        ProvisionerType("file", FileConfig, run_file, check_file),
        ProvisionerType("shell-local", ShellLocalConfig, run_shell_local, check_shell_local),
        ProvisionerType("breakpoint", BreakpointConfig, run_breakpoint),
        ProvisionerType("sleep", SleepConfig, run_sleep),
        ProvisionerType("ansible", AnsibleConfig, run_ansible, check_ansible),
        ProvisionerType(
            "ansible-local", AnsibleLocalConfig, run_ansible_local, check_ansible_local
        ),
    )
}

"""Every provisioner kiln runs, declared once: name, option table, run, validate-time check.

To add one, see docs/architecture.md ("How to add a provisioner or a post-processor"): a
module with its `run(config, ctx)`, its option table in `config.py`, one row here. The
plan decodes and checks with the row, the engine runs it, the option docs list it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.provisioners.ansible import run_ansible
from kiln.provisioners.ansible_local import run_ansible_local
from kiln.provisioners.breakpoint import run_breakpoint
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
from kiln.provisioners.context import ProvisionContext
from kiln.provisioners.file import run_file
from kiln.provisioners.shell import run_shell
from kiln.provisioners.shell_local import run_shell_local
from kiln.provisioners.sleep import run_sleep

Run = Callable[[Any, ProvisionContext], Awaitable[None]]
# Checks Packer's Prepare makes beyond decoding (files exist, …); run when the options
# decoded cleanly; `cwd` is where relative paths resolve. Allowed values (`choices`) are
# checked from the option table, not here.
Check = Callable[[Any, Path], list[str]]


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

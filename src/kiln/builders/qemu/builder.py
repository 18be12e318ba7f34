"""The qemu builder as the engine runs it: its steps in order, its state, its artifact.

Packer's builder/qemu/builder.go: the step list is here, each step in its own
`step_*.py` beside this file. `kiln.plan` imports this module to name each build's
builder; the step modules, the state and the driver load when a build runs (`steps()`,
`new_state()`), not when `kiln validate` checks a template.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.errors import KilnError

if TYPE_CHECKING:  # the run machinery loads when a build runs (`steps()`, `new_state()`)
    from kiln.builders.qemu.state import QemuState
    from kiln.engine.artifact import Artifact
    from kiln.engine.builder import Step
    from kiln.engine.options import RunOptions
    from kiln.engine.plan import BuildPlan
    from kiln.ui.build import BuildUi

# What explains a failure, written by the steps into the build's work directory.
FORENSIC_FILES = (
    "screenshot.png",
    "screenshot.ppm",
    "serial.log",
    "qemu-argv.txt",
    "qemu-stderr.log",
    "boot-command.txt",
    "http-access.log",
)


# The steps that talk to the running guest: a dry run, which starts no guest, skips them.
GUEST_STEPS = frozenset(
    {"resume", "boot command", "wait for ssh", "checkpoint", "provision", "shutdown"}
)


def qemu_steps(*, checkpoint: bool = False) -> list[tuple[str, Step[QemuState]]]:
    """The steps of a qemu build, in order (name for timings and -debug, step).

    With `checkpoint` (-checkpoint), three more: the lookup after the ISO, resuming the
    saved machine after QEMU started, saving it (or setting a resumed guest's clock) once
    the communicator connected (kiln.builders.qemu.step_checkpoint).
    """
    from kiln.builders.qemu.step_boot import step_boot
    from kiln.builders.qemu.step_compact import step_compact
    from kiln.builders.qemu.step_connect import step_connect
    from kiln.builders.qemu.step_disk import step_disks
    from kiln.builders.qemu.step_efivars import step_efivars
    from kiln.builders.qemu.step_http import step_http
    from kiln.builders.qemu.step_iso import step_iso
    from kiln.builders.qemu.step_media import step_cd, step_floppy
    from kiln.builders.qemu.step_output_dir import step_output_dir
    from kiln.builders.qemu.step_ports import step_ports
    from kiln.builders.qemu.step_provision import step_provision
    from kiln.builders.qemu.step_qemu import step_qemu
    from kiln.builders.qemu.step_shutdown import step_shutdown
    from kiln.builders.qemu.step_ssh_key import step_ssh_key
    from kiln.builders.qemu.step_vtpm import step_vtpm

    steps: list[tuple[str, Step[QemuState]]] = [
        ("iso", step_iso),
        ("output directory", step_output_dir),
        ("vtpm", step_vtpm),
        ("floppy", step_floppy),
        ("cd", step_cd),
        ("disk", step_disks),
        ("http server", step_http),
        ("ports", step_ports),
        ("ssh key", step_ssh_key),
        ("efivars", step_efivars),
        ("start qemu", step_qemu),
        ("boot command", step_boot),
        ("wait for ssh", step_connect),
        ("provision", step_provision),
        ("shutdown", step_shutdown),
        ("compact", step_compact),
    ]
    if checkpoint:
        from kiln.builders.qemu.step_checkpoint import (
            step_checkpoint,
            step_checkpoint_lookup,
            step_resume,
        )

        _insert_after(steps, "iso", ("checkpoint lookup", step_checkpoint_lookup))
        _insert_after(steps, "start qemu", ("resume", step_resume))
        _insert_after(steps, "wait for ssh", ("checkpoint", step_checkpoint))
    return steps


def _insert_after(
    steps: list[tuple[str, Step[QemuState]]], name: str, new: tuple[str, Step[QemuState]]
) -> None:
    index = next(i for i, (n, _) in enumerate(steps) if n == name)
    steps.insert(index + 1, new)


def check_binaries(state: QemuState) -> None:
    for binary in (state.plan.config.qemu_binary, "qemu-img"):
        if shutil.which(binary, path=state.options.env.get("PATH", os.defpath)) is None:
            raise KilnError(
                f'Failed creating Qemu driver: exec: "{binary}": executable file not found '
                "in $PATH (install QEMU: apt-get install qemu-system-x86 qemu-utils, or set "
                "qemu_binary)"
            )


class QemuBuilder:
    """`"type": "qemu"` (implements kiln.engine.builder.Builder)."""

    forensic_files: Sequence[str] = FORENSIC_FILES

    def steps(self, state: QemuState) -> Sequence[tuple[str, Step[QemuState]]]:
        from kiln.engine.options import CheckpointMode

        return qemu_steps(checkpoint=state.options.checkpoint != CheckpointMode.OFF)

    def new_state(
        self, plan: BuildPlan[Any], ui: BuildUi, options: RunOptions, work_dir: Path
    ) -> QemuState:
        from kiln.builders.qemu.driver import QemuDriver
        from kiln.builders.qemu.state import QemuState

        output_dir = Path(plan.config.output_directory)
        return QemuState(plan, ui, options, work_dir, output_dir, driver=QemuDriver(ui.warn))

    def check(self, state: QemuState) -> None:
        check_binaries(state)

    def artifact(self, state: QemuState) -> Artifact:
        from kiln.builders.qemu.artifact import make_artifact

        return make_artifact(state)

    async def error_cleanup(self, state: QemuState) -> None:
        from kiln.builders.qemu.step_provision import run_error_cleanup_provisioner

        await run_error_cleanup_provisioner(state)


QEMU = QemuBuilder()

"""Step 12-13: start QEMU (after choosing the accelerator), and stop it whatever happens.

On a failure anywhere after QEMU started, this step's exit takes a screenshot of the
console for the failure report before stopping QEMU.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.accel import choose_accelerator
from kiln.builders.qemu.boot_order import set_disk_then_iso
from kiln.builders.qemu.cmdline import RuntimeFacts, build_argv, qemuargs_template_data
from kiln.builders.qemu.config import QemuConfig
from kiln.builders.qemu.process import QemuError, QemuProcess
from kiln.builders.qemu.state import QemuState
from kiln.builders.qemu.step_efivars import efivars_path
from kiln.builders.qemu.step_vtpm import tpm_socket
from kiln.template.engine import render
from kiln.ui.log import LOG


def display_available(env: dict[str, str]) -> bool:
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


async def resolve_accelerator(state: QemuState) -> str:
    c = state.plan.config
    if c.accelerator:
        return c.accelerator
    choice = await choose_accelerator(c.qemu_binary, cache_dir=state.options.cache_dir)
    if choice.accelerator == "kvm":
        state.ui.message(choice.reason)
    else:
        state.ui.warn(choice.reason)
    return choice.accelerator


def runtime_facts(state: QemuState, *, control_fd: int | None) -> RuntimeFacts:
    c = state.plan.config
    headless = c.headless or not display_available(state.options.env)
    return RuntimeFacts(
        accelerator=state.accelerator or "tcg",
        disk_paths=tuple(state.disk_paths),
        iso_path=None if c.disk_image else state.iso_path,
        cd_path=state.cd_path,
        floppy_path=state.floppy_path,
        vnc_port=state.vnc_port.port if state.vnc_port else None,
        comm_host_port=state.comm_host_port(),
        http_ip=state.http_ip,
        http_port=state.http_port,
        headless=headless,
        efivars_path=efivars_path(state) if c.efi_boot else None,
        firmware=state.firmware,
        tpm_socket=str(tpm_socket(state)) if c.vtpm else None,
        control_fd=control_fd,
        serial_log=str(state.serial_log) if state.serial_log else None,
        checkpoint=state.checkpoint is not None,
        incoming=state.checkpoint is not None and state.checkpoint.restore is not None,
    )


def render_qemuargs(state: QemuState, facts: RuntimeFacts) -> list[list[str]]:
    c, comm = state.plan.config, state.plan.comm
    data = qemuargs_template_data(c, comm, facts)
    funcs = state.plan.functions()
    return [
        [render(arg, data, funcs, where=f"qemuargs[{i}][{j}]") for j, arg in enumerate(row)]
        for i, row in enumerate(c.qemuargs)
    ]


def qemu_argv(state: QemuState, *, control_fd: int | None) -> tuple[list[str], list[str]]:
    facts = runtime_facts(state, control_fd=control_fd)
    command = build_argv(state.plan.config, state.plan.comm, facts, render_qemuargs(state, facts))
    return command.argv, command.notes


@asynccontextmanager
async def step_qemu(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if not state.accelerator:  # the checkpoint lookup may have resolved it
        state.accelerator = await resolve_accelerator(state)
    if not c.headless and not display_available(state.options.env):
        what = (
            "the build would run headless" if state.options.dry_run else "running headless instead"
        )
        state.ui.warn(
            "headless is false, but there is no display to open a window on ($DISPLAY is "
            f"not set): {what}; the console is on VNC."
        )
    state.serial_log = state.work_dir / "serial.log"
    if state.checkpoint is not None and state.checkpoint.restore is not None:
        state.ui.progress("Starting VM, to resume the installed machine")
    else:
        state.ui.progress(
            "Starting VM, booting disk image"
            if c.disk_image
            else "Starting VM, booting from CD-ROM"
        )
    if state.accelerator == "none":
        state.ui.message(
            "WARNING: The VM will be started with no hardware acceleration.\n"
            "The installation may take considerably longer to finish."
        )
    notes: list[str] = []

    def make_argv(fd: int) -> list[str]:
        argv, more = qemu_argv(state, control_fd=fd)
        notes.extend(more)
        argv_text = state.ui.ui.redact.argv(argv)  # each argument redacted, then quoted
        state.driver.write_work_file(state.work_dir / "qemu-argv.txt", argv_text + "\n")
        return argv

    stderr_log = state.work_dir / "qemu-stderr.log"
    async with state.driver.qemu(make_argv, name=state.name, stderr_log=stderr_log) as qemu:
        for note in notes:
            state.ui.say(note)
        if qemu is None:  # nothing was started (a dry run)
            yield
            return
        state.qemu = qemu
        try:
            await _after_start(state, qemu)
            yield
        except BaseException:
            if state.qemu is not None and qemu.returncode is None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(qemu.screendump(state.work_dir / "screenshot.png"), 5)
            raise
        finally:
            how = await qemu.stop()
            if how not in ("already exited", "powered off (ACPI)"):
                state.ui.message(f"QEMU stopped ({how})")
            if c.qmp_enable and c.qmp_socket_path:
                Path(c.qmp_socket_path).unlink(missing_ok=True)
            state.qemu = None


def vnc_note(c: QemuConfig, port: int) -> str:
    """How to watch a headless VM (Packer's words). Packer 1.6.6 shows the VNC password it
    generated; kiln shows the one it generated, never a `vnc_password` the user set."""
    if not c.vnc_use_password:
        how = "without a password"
    elif c.vnc_password_generated:
        how = f"with the password: {c.vnc_password}"
    else:
        how = "with the password you set in vnc_password"
    return (
        "The VM will be run headless, without a GUI. If you want to\n"
        f"view the screen of the VM, connect via VNC {how} to\n"
        f"vnc://{c.vnc_bind_address}:{port}  (e.g. vncviewer -Shared {c.vnc_bind_address}::"
        f"{port})"
    )


async def _after_start(state: QemuState, qemu: QemuProcess) -> None:
    c = state.plan.config
    if c.vnc_use_password:
        await qemu.command("set_password", protocol="vnc", password=c.vnc_password)
    if c.qmp_enable:
        state.ui.say(f"QMP socket at: {c.qmp_socket_path}")
    if state.vnc_port is not None and (c.headless or not display_available(state.options.env)):
        state.ui.message(vnc_note(c, state.vnc_port.port))
    if c.efi_boot and not c.disk_image and state.iso_path and state.disk_paths:
        await _efi_boot_order(state, qemu)
    await asyncio.sleep(0)
    if qemu.returncode is not None:
        raise QemuError(qemu.failure_message("Qemu failed to start"))


async def _efi_boot_order(state: QemuState, qemu: QemuProcess) -> None:
    """The ISO once, then the disk (see boot_order.py); a warning if QEMU refuses."""
    assert state.iso_path is not None
    try:
        done = await set_disk_then_iso(qemu, state.disk_paths[0], state.iso_path)
    except QemuError as err:
        done, why = [], str(err)
    else:
        why = "the disk or the ISO is not among QEMU's drives"
    if done:
        LOG.debug("UEFI boot order from the first reboot on: %s", done)
    else:
        state.ui.warn(
            "Could not make the disk boot first after the installer's reboot (" + why + "); "
            "the firmware keeps its own order, in which the ISO comes first until the "
            "installer registers a boot entry."
        )

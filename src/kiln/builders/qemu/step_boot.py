"""Step 14: wait `boot_wait`, then type the boot command into the VM.

Keys go over VNC, as Packer types them. `KILN_BOOT_KEYBOARD=qmp` types through QEMU's QMP
`input-send-event` instead (no VNC connection, and reliable at shorter key intervals; see
bench/README.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import TypeVar

from kiln.boot.drivers import KeyboardDriver, QmpKeyboard, VncKeyboard
from kiln.boot.grammar import parse_boot_command
from kiln.boot.typist import key_interval_from, type_actions
from kiln.builders.qemu.process import QemuError
from kiln.builders.qemu.state import QemuState
from kiln.engine.result import StepTiming
from kiln.errors import KilnError
from kiln.template.engine import render

T = TypeVar("T")


async def while_qemu_runs(state: QemuState, work: Awaitable[T], what: str) -> T:
    """Run `work`, but fail at once (with QEMU's reason) if QEMU exits meanwhile."""
    qemu = state.qemu
    task = asyncio.ensure_future(work)
    if qemu is None:
        return await task
    exited = asyncio.ensure_future(qemu.wait())
    try:
        done, _ = await asyncio.wait({task, exited}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        exited.cancel()
        raise
    if task in done:
        exited.cancel()
        return task.result()
    task.cancel()
    raise QemuError(f"QEMU exited while {what}: {qemu.exit_reason()}")


def boot_data(state: QemuState) -> dict[str, object]:
    return {
        "HTTPIP": state.http_ip,
        "HTTPPort": state.http_port,
        "Name": state.plan.config.vm_name,
        "SSHPublicKey": state.ssh_public_key,
    }


def boot_steps(state: QemuState) -> list[tuple[str, str]]:
    """(command, description) pairs: boot_command as one step, or each of boot_steps."""
    c = state.plan.config
    if c.boot_command:
        return [("".join(c.boot_command), "")]
    return [(step[0], step[1] if len(step) > 1 else "") for step in c.boot_steps if step]


class Keyboard(StrEnum):
    """`KILN_BOOT_KEYBOARD`: how the boot command is typed."""

    VNC = "vnc"  # as Packer does
    QMP = "qmp"  # QEMU's input-send-event: no VNC connection, faster


def keyboard_choice(state: QemuState) -> Keyboard:
    choice = state.options.env.get("KILN_BOOT_KEYBOARD", "vnc").lower() or "vnc"
    if choice not in tuple(Keyboard):
        raise KilnError(f"KILN_BOOT_KEYBOARD={choice!r} is not a keyboard: use vnc or qmp")
    return Keyboard(choice)


@asynccontextmanager
async def step_boot(state: QemuState) -> AsyncIterator[None]:
    c = state.plan.config
    if state.checkpoint is not None and state.checkpoint.resumed:
        state.ui.say("Skipping boot_wait and the boot command: the installed machine resumed")
        yield
        return
    steps = boot_steps(state)
    began = time.monotonic()
    if c.boot_wait.seconds > 0:
        state.ui.say(f"Waiting {c.boot_wait} for boot...")
        await while_qemu_runs(state, asyncio.sleep(c.boot_wait.seconds), "waiting for boot")
    state.timings.append(StepTiming("boot wait", time.monotonic() - began))
    began = time.monotonic()
    if steps:
        await _type_boot_command(state, steps)
    state.timings.append(StepTiming("boot command", time.monotonic() - began))
    yield


def render_boot_steps(state: QemuState, steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    c = state.plan.config
    funcs = state.plan.functions()
    rendered = []
    for i, (command, description) in enumerate(steps):
        where = "boot_command" if c.boot_command else f"boot_steps[{i}]"
        try:
            text = render(command, boot_data(state), funcs, where=where)
        except KilnError as err:
            raise KilnError(f"Error preparing boot command: {err}") from None
        rendered.append((text, description))
    return rendered


async def _open_keyboard(state: QemuState, choice: Keyboard) -> KeyboardDriver:
    c = state.plan.config
    if choice == Keyboard.QMP:
        assert state.qemu is not None
        return QmpKeyboard(state.qemu.qmp)
    assert state.vnc_port is not None
    address = f"{c.vnc_bind_address}:{state.vnc_port.port}"
    state.ui.say(f"Connecting to VM via VNC ({address})")
    keyboard: KeyboardDriver = await while_qemu_runs(
        state,
        VncKeyboard.connect(
            c.vnc_bind_address,
            state.vnc_port.port,
            password=c.vnc_password if c.vnc_use_password else None,
        ),
        "connecting to VNC",
    )
    return keyboard


async def _type_boot_command(state: QemuState, steps: list[tuple[str, str]]) -> None:
    c = state.plan.config
    choice = keyboard_choice(state)
    if state.vnc_port is None and choice == Keyboard.VNC:
        raise KilnError("A boot command cannot be used when vnc is disabled.")
    interval = key_interval_from(c.boot_key_interval.seconds or None, state.options.env)
    rendered = render_boot_steps(state, steps)
    state.rendered_boot_command = [text for text, _ in rendered]
    (state.work_dir / "boot-command.txt").write_text(
        state.ui.ui.redact.data("\n".join(state.rendered_boot_command)) + "\n"
    )
    keyboard = await _open_keyboard(state, choice)
    try:
        state.ui.say(f"Typing the boot command over {choice.upper()}...")
        for text, description in rendered:
            if description:
                state.ui.say(f"Typing boot command for: {description}")
            try:
                actions = parse_boot_command(text)
            except KilnError as err:
                raise KilnError(f"Error generating boot command: {err}") from None
            try:
                await while_qemu_runs(
                    state,
                    type_actions(keyboard, actions, interval=interval),
                    "typing the boot command",
                )
            except QemuError:
                raise
            except KilnError as err:
                raise KilnError(f"Error running boot command: {err}") from None
    finally:
        await keyboard.close()

"""Step 16: wait for SSH (with `pause_before_connecting`), and close it at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.firmware_log import SerialWatch
from kiln.builders.qemu.state import QemuState
from kiln.communicator.ssh import SshCommunicator
from kiln.communicator.ssh_settings import SshSettings
from kiln.ui.log import LOG
from kiln.ui.status import live_status


def ssh_settings(state: QemuState) -> SshSettings:
    comm = state.plan.comm
    port = state.comm_host_port()
    key_file: Path | None = None
    if comm.ssh_private_key_file:
        key_file = Path(comm.ssh_private_key_file).expanduser()
    elif (state.work_dir / "temporary_ssh_key").exists():
        key_file = state.work_dir / "temporary_ssh_key"
    return SshSettings(
        host=comm.ssh_host or "127.0.0.1",
        port=port if port is not None else comm.ssh_port,
        username=comm.ssh_username,
        password=comm.ssh_password or None,
        private_key_file=key_file,
        timeout=comm.ssh_timeout.seconds,
        handshake_attempts=comm.ssh_handshake_attempts,
        keep_alive_interval=comm.ssh_keep_alive_interval.seconds,
        file_transfer_method=comm.ssh_file_transfer_method,
        pty=comm.ssh_pty,
        read_write_timeout=comm.ssh_read_write_timeout.seconds,
    )


def stop_reason(state: QemuState) -> Callable[[], str | None] | None:
    """Why waiting for SSH is pointless: QEMU exited, or (UEFI) the firmware gave up."""
    qemu = state.qemu
    if qemu is None:
        return None
    c = state.plan.config
    if not (c.efi_boot and state.serial_log is not None):
        return qemu.exit_reason
    features = state.firmware.features if state.firmware is not None else frozenset()
    watch = SerialWatch(
        state.serial_log, secure_boot=c.efi_secure_boot or "enrolled-keys" in features
    )

    def reason() -> str | None:
        return qemu.exit_reason() or watch.problem()

    return reason


async def connect(state: QemuState) -> SshCommunicator:
    settings = ssh_settings(state)
    return await SshCommunicator.wait_for(
        settings,
        log=lambda line: LOG.debug("[%s] %s", state.name, line),
        cancel_if=stop_reason(state),
    )


@asynccontextmanager
async def step_connect(state: QemuState) -> AsyncIterator[None]:
    comm = state.plan.comm
    # Packer's stepWaitGuestAddress says these before its StepConnect (builder/qemu, v1.6.6).
    if comm.communicator == "none":
        state.ui.message("No communicator is configured -- skipping StepWaitGuestAddress")
        yield
        return
    if not state.plan.config.net_bridge:
        state.ui.message("Not using a NetBridge -- skipping StepWaitGuestAddress")
    state.ui.say("Using ssh communicator to connect: " + (comm.ssh_host or "127.0.0.1"))
    state.ui.say("Waiting for SSH to become available...")
    async with live_status(
        state.ui.ui, state.name, "waiting for SSH", state.work_dir / "serial.log"
    ):
        state.comm = await connect(state)
    if comm.pause_before_connecting.seconds > 0:
        state.ui.say(f"Pausing {comm.pause_before_connecting} before connecting...")
        await state.comm.close()
        await asyncio.sleep(comm.pause_before_connecting.seconds)
        state.comm = await connect(state)
    state.ui.say("Connected to SSH!")
    try:
        yield
    finally:
        if state.comm is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(state.comm.close(), 5)
            state.comm = None

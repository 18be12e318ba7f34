"""Step 19: shut the guest down and wait for QEMU to exit.

With `shutdown_command`, run it over SSH and wait `shutdown_timeout`. With no communicator,
wait for the guest to power itself off. With neither, Packer kills QEMU; kiln presses the
ACPI power button first so the guest can unmount its disks, and only stops QEMU when it
does not react.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.state import QemuState
from kiln.communicator.ssh_errors import CommandDisconnected, SshConnectionError
from kiln.errors import KilnError

ACPI_GRACE = 120.0  # the longest kiln waits for a guest to react to the power button


@asynccontextmanager
async def step_shutdown(state: QemuState) -> AsyncIterator[None]:
    qemu = state.qemu
    assert qemu is not None
    c, comm = state.plan.config, state.plan.comm
    timeout = c.shutdown_timeout.seconds
    if comm.communicator == "none":
        state.ui.say("Waiting for shutdown...")
        try:
            await qemu.wait(timeout)
        except TimeoutError:
            raise KilnError(
                f"Failed to shutdown: the guest did not power off within shutdown_timeout "
                f"({c.shutdown_timeout})"
            ) from None
    elif c.shutdown_command:
        state.ui.say("Gracefully halting virtual machine...")
        assert state.comm is not None
        qemu.expected_exit = True
        try:
            await state.comm.run(
                c.shutdown_command,
                stdout=state.ui.output,
                stderr=state.ui.output,
            )
        except (CommandDisconnected, SshConnectionError):
            pass  # the guest went down under (or before) the command: what it is for
        except KilnError as err:
            if qemu.returncode is None:
                raise KilnError(f"Failed to send shutdown command: {err}") from None
        await _close_comm(state)
        try:
            await qemu.wait(timeout)
        except TimeoutError:
            raise KilnError(
                "Timeout while waiting for machine to shut down: QEMU was still running "
                f"{c.shutdown_timeout} (shutdown_timeout) after shutdown_command "
                f"{c.shutdown_command!r}"
            ) from None
    else:
        await _close_comm(state)
        grace = min(timeout, ACPI_GRACE)
        state.ui.say("Halting the virtual machine (ACPI power button)...")
        how = await qemu.stop(powerdown_timeout=grace)
        if how != "powered off (ACPI)":
            state.ui.warn(
                f"The guest did not power off within {grace:.0f}s of the ACPI power button; "
                f"QEMU was stopped ({how}). Set shutdown_command for a clean shutdown."
            )
    state.ui.message("VM shut down.")
    yield


async def _close_comm(state: QemuState) -> None:
    if state.comm is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(state.comm.close(), 5)
        state.comm = None

"""Step 17: the provisioners, in order (Packer's provision hook), and the error-cleanup one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiln.builders.qemu.generated_data import build_values
from kiln.builders.qemu.state import QemuState
from kiln.engine.provision import run_provisioner
from kiln.errors import KilnError
from kiln.provisioners.context import NO_COMMUNICATOR, ProvisionContext, ProvisionerError


def provision_context(state: QemuState) -> ProvisionContext:
    return ProvisionContext(
        plan=state.plan,
        say=state.ui.say,
        message=state.ui.message,
        error=state.ui.error,
        comm=state.comm,
        build_values=build_values(state),
        ssh_private_key_file=state.plan.comm.ssh_private_key_file,
    )


@asynccontextmanager
async def step_provision(state: QemuState) -> AsyncIterator[None]:
    """Run the provisioners in order (Packer's provision hook)."""
    steps = state.plan.provisioners
    if steps:
        if state.comm is None:
            raise ProvisionerError(NO_COMMUNICATOR)
        ctx = provision_context(state)
        try:
            for step in steps:
                await run_provisioner(step, ctx)
        except KilnError as err:
            paused = state.qemu.io_error if state.qemu is not None else None
            if paused:  # the guest stopped answering because QEMU paused it: say why
                raise KilnError(f"{err}\n({paused})") from err
            raise
    yield


async def run_error_cleanup_provisioner(state: QemuState) -> None:
    """-on-error=run-cleanup-provisioner: run it, report but never raise its failure."""
    step = state.plan.error_cleanup
    if step is None:
        return
    state.ui.say("Provisioning step had errors: Running the cleanup provisioner, if present...")
    if state.comm is None and step.type not in ("shell-local", "breakpoint"):
        state.ui.error(f"Cleanup failed: {NO_COMMUNICATOR}")
        return
    try:
        await run_provisioner(step, provision_context(state))
    except KilnError as err:
        state.ui.error(f"Cleanup failed: {err}")

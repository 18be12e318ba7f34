"""Steps 10a, 16-17: the temporary SSH key, waiting for SSH, and the provisioners."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.build.state import BuildState
from kiln.build.steps.network import comm_host_port
from kiln.communicator import SshCommunicator, SshSettings
from kiln.errors import KilnError
from kiln.provisioners.base import (
    NO_COMMUNICATOR,
    RUN_UUID,
    ProvisionContext,
    ProvisionerError,
    run_provisioner,
)
from kiln.ui.log import LOG


@asynccontextmanager
async def step_ssh_key(state: BuildState) -> AsyncIterator[None]:
    """Latest Packer makes a temporary key pair when no key file is given; so does kiln.

    The public half is `{{ .SSHPublicKey }}` in boot commands; kiln offers the key as well
    as the password when it logs in.
    """
    comm = state.plan.comm
    if comm.communicator != "ssh":
        yield
        return
    if comm.ssh_private_key_file:
        key_path = Path(comm.ssh_private_key_file).expanduser()
        state.ssh_private_key = key_path.read_text()
        pub = key_path.with_name(key_path.name + ".pub")
        if pub.exists():
            state.ssh_public_key = pub.read_text().strip()
        yield
        return
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"kiln_{state.name}")
    path = state.work_dir / "temporary_ssh_key"
    path.touch(mode=0o600)
    path.write_bytes(key.export_private_key())
    state.ssh_private_key = key.export_private_key().decode()
    state.ssh_public_key = key.export_public_key().decode().strip()
    state.ui.ui.redact.add(state.ssh_private_key)
    yield


def ssh_settings(state: BuildState) -> SshSettings:
    comm = state.plan.comm
    port = comm_host_port(state)
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


async def connect(state: BuildState) -> SshCommunicator:
    qemu = state.qemu
    settings = ssh_settings(state)
    return await SshCommunicator.wait_for(
        settings,
        log=lambda line: LOG.debug("[%s] %s", state.name, line),
        cancel_if=(qemu.exit_reason if qemu is not None else None),
    )


@asynccontextmanager
async def step_connect(state: BuildState) -> AsyncIterator[None]:
    comm = state.plan.comm
    if comm.communicator == "none":
        state.ui.say("No communicator is configured -- skipping the wait for SSH")
        yield
        return
    state.ui.say("Using ssh communicator to connect: " + (comm.ssh_host or "127.0.0.1"))
    state.ui.say("Waiting for SSH to become available...")
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


ID_NOT_IMPLEMENTED = "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER"


def build_values(state: BuildState) -> dict[str, str]:
    """Packer's generated data for provisioners (commonsteps.PopulateProvisionHookData).

    These are `{{ build `X` }}` and `{{ .X }}` in provisioners. The qemu builder sets no
    instance id, so `ID` is Packer's placeholder; the HTTP values are set even without
    an `http_directory` (port 0), as Packer's qemu builder does.
    """
    comm = state.plan.comm
    port = comm_host_port(state)
    http_port = str(state.http_port)
    return {
        "ID": ID_NOT_IMPLEMENTED,
        "Host": comm.ssh_host or "127.0.0.1",
        "Port": str(port if port is not None else comm.ssh_port),
        "User": comm.ssh_username,
        "Password": comm.ssh_password,
        "ConnType": comm.communicator,
        "SSHPublicKey": state.ssh_public_key,
        "SSHPrivateKey": state.ssh_private_key,
        "PackerRunUUID": RUN_UUID,
        "PackerHTTPIP": state.http_ip,
        "PackerHTTPPort": http_port,
        "PackerHTTPAddr": f"{state.http_ip}:{http_port}",
    }


def provision_context(state: BuildState) -> ProvisionContext:
    return ProvisionContext(
        plan=state.plan,
        say=state.ui.say,
        message=state.ui.message,
        error=state.ui.error,
        comm=state.comm,
        build_values=build_values(state),
    )


@asynccontextmanager
async def step_provision(state: BuildState) -> AsyncIterator[None]:
    """Run the provisioners in order (Packer's provision hook)."""
    steps = state.plan.provisioners
    if steps:
        if state.comm is None:
            raise ProvisionerError(NO_COMMUNICATOR)
        ctx = provision_context(state)
        for step in steps:
            await run_provisioner(step, ctx)
    yield


async def run_error_cleanup_provisioner(state: BuildState) -> None:
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

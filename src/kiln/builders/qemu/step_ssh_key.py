"""Step 10a: the SSH key pair (a temporary one unless `ssh_private_key_file` is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiln.builders.qemu.state import QemuState


@asynccontextmanager
async def step_ssh_key(state: QemuState) -> AsyncIterator[None]:
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

    restore = state.checkpoint.restore if state.checkpoint is not None else None
    if restore is not None and restore.manifest.ssh_key:
        # The installed system may trust the key its install was given (SSHPublicKey).
        key = asyncssh.import_private_key(restore.file(restore.manifest.ssh_key).read_bytes())
    else:
        key = asyncssh.generate_private_key("ssh-ed25519", comment=f"kiln_{state.name}")
    state.driver.write_work_file(
        state.work_dir / "temporary_ssh_key", key.export_private_key(), mode=0o600
    )
    state.ssh_private_key = key.export_private_key().decode()
    state.ssh_public_key = key.export_public_key().decode().strip()
    state.ui.ui.redact.add(state.ssh_private_key)
    yield

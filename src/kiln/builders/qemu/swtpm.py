"""swtpm, the software TPM that QEMU's `-tpmdev emulator` talks to (`vtpm`).

kiln creates the control socket itself — bound and listening before swtpm starts — and
hands it to swtpm as a file descriptor (`--ctrl type=unixio,fd=N`), so QEMU can connect
the moment swtpm runs; swtpm counts as ready once it answers a capability query on that
socket (its control protocol's CMD_GET_CAPABILITY). If it exits or does not answer, the
error says so, with swtpm's own stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

from kiln import proc
from kiln.errors import KilnError

CMD_GET_CAPABILITY = 1
READY_TIMEOUT = 10.0


class SwtpmError(KilnError):
    """swtpm could not be started."""


async def _answers(path: Path) -> None:
    """Ask swtpm for its capabilities over the control socket; return once it answers."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    try:
        writer.write(struct.pack(">I", CMD_GET_CAPABILITY))
        await writer.drain()
        await reader.readexactly(8)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def run_swtpm(state_dir: Path, *, tpm1: bool) -> AsyncIterator[Path]:
    """A TPM in `state_dir` listening on `<state_dir>/vtpm.sock`; yields the socket path."""
    state_dir.mkdir()
    path = state_dir / "vtpm.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        listener.listen()
        argv = ["swtpm", "socket", "--tpmstate", f"dir={state_dir}",
                "--ctrl", f"type=unixio,fd={listener.fileno()}"]  # fmt: skip
        if not tpm1:
            argv.append("--tpm2")

        async def ready(_: proc.Process) -> None:
            listener.close()  # swtpm has its copy
            await _answers(path)

        spawned = proc.spawn(
            argv,
            env=dict(os.environ),
            what="swtpm",
            pass_fds=(listener.fileno(),),
            ready=ready,
            ready_timeout=READY_TIMEOUT,
        )
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(spawned)
            except proc.NotReady:
                raise SwtpmError(
                    f"swtpm did not answer on its control socket {path} within {READY_TIMEOUT:g}s"
                ) from None
            except proc.CommandError as err:
                hint = " (install it: apt-get install swtpm)" if err.returncode == 127 else ""
                raise SwtpmError(
                    f"Could not start the TPM emulator for vtpm: {err}{hint}"
                ) from None
            yield path
    finally:
        listener.close()

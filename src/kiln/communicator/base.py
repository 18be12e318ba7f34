"""What the rest of kiln needs from a communicator, whatever carries it (today SSH)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class RemoteCommandResult:
    """A finished remote command: its exit status and, when captured, its output lines."""

    command: str
    exit_status: int
    stdout: tuple[str, ...] = ()
    stderr: tuple[str, ...] = ()

    def succeeded(self, valid_exit_codes: Collection[int] = (0,)) -> bool:
        """True when the exit status is one of `valid_exit_codes` (Packer's option)."""
        return self.exit_status in valid_exit_codes


@runtime_checkable
class Communicator(Protocol):
    """Runs commands on and moves files to and from the machine being built."""

    async def run(
        self,
        command: str,
        *,
        stdout: Callable[[str], None],
        stderr: Callable[[str], None],
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> int:
        """Run `command`, streaming output line by line; return its exit status."""
        ...

    async def upload(self, local: Path | bytes, remote: str, *, mode: int | None = None) -> None:
        """Write a local file (or bytes) at exactly the remote path `remote`."""
        ...

    async def upload_dir(self, local_dir: str | Path, remote: str) -> None:
        """Upload a directory tree; ``src/`` sends its contents, ``src`` sends ``src``."""
        ...

    async def download(self, remote: str, local: Path) -> None:
        """Copy the remote file `remote` to exactly the local path `local`."""
        ...

    async def download_dir(self, remote: str, local: Path) -> None:
        """Download a directory tree; ``dir/`` gets its contents, ``dir`` gets ``dir``."""
        ...

    async def close(self) -> None:
        """Release the connection; calling it again does nothing."""
        ...


async def run_capture(
    comm: Communicator,
    command: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> RemoteCommandResult:
    """Run `command` and collect its output instead of streaming it."""
    out: list[str] = []
    err: list[str] = []
    status = await comm.run(command, stdout=out.append, stderr=err.append, env=env, timeout=timeout)
    return RemoteCommandResult(command, status, tuple(out), tuple(err))

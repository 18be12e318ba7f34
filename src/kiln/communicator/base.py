"""What the rest of kiln needs from a communicator, whatever carries it (today SSH)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
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
    """Runs commands on the machine being built (what `run_capture` needs; the provisioners
    use `kiln.communicator.ssh.SshCommunicator` itself)."""

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

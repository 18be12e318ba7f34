"""`SshSettings`: everything needed to reach one SSH server, already resolved.

The template layer maps Packer's ``ssh_*`` keys onto this (durations in seconds, ``~``
already expanded); the communicator only checks that the values are usable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiln.communicator.ssh_errors import SshSettingsError

FILE_TRANSFER_METHODS = ("scp", "sftp")


@dataclass(frozen=True, slots=True)
class SshSettings:
    """Connection settings for `SshCommunicator` (Packer's ``ssh_*`` options).

    `timeout` <= 0 waits forever; `handshake_attempts` <= 0 tolerates any number of
    authentication failures (both as in Packer). `read_write_timeout` > 0 declares the
    connection dead after that long without hearing from the server.
    """

    host: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    private_key_file: Path | None = None
    timeout: float = 300.0
    handshake_attempts: int = 10
    keep_alive_interval: float = 5.0
    file_transfer_method: str = "scp"
    pty: bool = False
    read_write_timeout: float = 0.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.host:
            problems.append("ssh_host is empty: give the address of the machine to connect to")
        if not 0 < self.port < 65536:
            problems.append(f"ssh port {self.port} is out of range: use a port in 1-65535")
        if not self.username:
            problems.append(
                "An ssh_username must be specified\n"
                '  Note: some builders used to default ssh_username to "root".'
            )
        if self.file_transfer_method not in FILE_TRANSFER_METHODS:
            problems.append(
                f"ssh_file_transfer_method ('{self.file_transfer_method}') is invalid, "
                "valid methods: sftp, scp"
            )
        if self.read_write_timeout < 0:
            problems.append(
                f"ssh_read_write_timeout ({self.read_write_timeout:g}s) is negative: "
                "use 0 (no timeout) or a positive duration"
            )
        if problems:
            raise SshSettingsError("; ".join(problems))

    @property
    def target(self) -> str:
        """``user@host:port`` (IPv6 hosts in brackets), for messages."""
        return f"{self.username}@{self.address}"

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

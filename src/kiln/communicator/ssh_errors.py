"""The errors the SSH communicator raises.

Every one is a `KilnError` whose message names the SSH target (``user@host:port``) so a
user reading only the last line of a failed build knows which machine, which account
and, for transfers, which paths were involved.
"""

from __future__ import annotations

from kiln.errors import KilnError


class SshError(KilnError):
    """Base class of every SSH communicator failure."""


class SshSettingsError(SshError):
    """An `SshSettings` value is out of range (a bug in the caller or a bad template)."""


class SshKeyError(SshError):
    """`ssh_private_key_file` cannot be read or parsed."""


class SshTimeoutError(SshError):
    """SSH did not become available within `ssh_timeout`.

    The message starts with Packer's ``Timeout waiting for SSH.`` and ends with the last
    connection error seen, which is what tells a user *why* (refused, no banner, ...).
    """


class SshAuthError(SshError):
    """The server rejected our credentials `handshake_attempts` times."""


class SshWaitCancelledError(SshError):
    """Waiting for SSH was abandoned because `cancel_if` gave a reason (e.g. QEMU died)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SshConnectionError(SshError):
    """The connection was lost between commands and one reconnect attempt failed.

    Callers that expect the guest to come back (Packer's ``start_retry_timeout``) retry
    the operation on this error.
    """


class CommandDisconnected(SshError):
    """The connection dropped while a command ran, so it has no exit status.

    This is what a reboot looks like from the SSH side; `expect_disconnect` handling in
    the shell provisioner catches exactly this type.
    """


class SshCommandTimeoutError(SshError):
    """`run(timeout=...)` expired; the remote command was signalled and abandoned."""


class SshTransferError(SshError):
    """An upload or download failed; the message names both ends and the remote error."""

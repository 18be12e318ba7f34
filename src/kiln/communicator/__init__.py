"""Talking to the machine being built: run commands, move files (SSH today)."""

from kiln.communicator.base import Communicator, RemoteCommandResult, run_capture
from kiln.communicator.ssh import SshCommunicator
from kiln.communicator.ssh_errors import (
    CommandDisconnected,
    SshAuthError,
    SshCommandTimeoutError,
    SshConnectionError,
    SshError,
    SshKeyError,
    SshSettingsError,
    SshTimeoutError,
    SshTransferError,
    SshWaitCancelledError,
)
from kiln.communicator.ssh_settings import SshSettings

__all__ = [
    "CommandDisconnected",
    "Communicator",
    "RemoteCommandResult",
    "SshAuthError",
    "SshCommandTimeoutError",
    "SshCommunicator",
    "SshConnectionError",
    "SshError",
    "SshKeyError",
    "SshSettings",
    "SshSettingsError",
    "SshTimeoutError",
    "SshTransferError",
    "SshWaitCancelledError",
    "run_capture",
]

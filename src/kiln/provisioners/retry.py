"""Packer's `start_retry_timeout`: retry an operation while the guest is unreachable.

Packer's `retry.Config{StartTimeout}` retries *any* error every 2 s until the timeout.
kiln retries only what a reboot causes (the connection is gone, cannot be made again, or
a channel cannot be opened), so a real failure such as a missing `remote_folder` fails
at once instead of after five minutes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kiln.communicator.ssh_errors import CommandDisconnected, SshConnectionError
from kiln.errors import KilnError
from kiln.ui.log import LOG

T = TypeVar("T")
RETRY_DELAY = 2.0  # seconds, as Packer's retry package


def is_retryable(err: BaseException) -> bool:
    """True for failures that mean "the guest is not reachable right now"."""
    if isinstance(err, SshConnectionError | CommandDisconnected):
        return True
    import asyncssh  # loaded by then: only an SSH error gets here

    cause = err.__cause__
    return isinstance(
        cause,
        asyncssh.ChannelOpenError
        | asyncssh.ConnectionLost
        | asyncssh.DisconnectError
        | ConnectionError
        | BrokenPipeError,
    )


async def retry_until(
    timeout: float,
    action: Callable[[], Awaitable[T]],
    *,
    notice: Callable[[str], None],
    delay: float = RETRY_DELAY,
) -> T:
    """Run `action`; while it fails with a retryable error, retry for `timeout` seconds.

    `notice` hears once that kiln is waiting (with the first error), so a reboot shows
    in the output without a line per attempt. The last error is raised when time is up.
    """
    import asyncio  # for a build only: `kiln validate` loads this module

    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            return await action()
        except KilnError as err:
            if not is_retryable(err) or time.monotonic() >= deadline:
                raise
            LOG.debug("Retryable error: %s", err)
            if not told:
                notice(f"The guest is not reachable ({err}); retrying for up to {timeout:g}s...")
                told = True
            await asyncio.sleep(delay)

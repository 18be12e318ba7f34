"""The SSH communicator: wait for SSH, run commands, move files over SCP or SFTP.

Packer's behaviour, with these deliberate differences (each a fix for a known hazard):

* connection attempts back off from 50 ms to 2 s instead of a fixed 5 s, and a port that
  accepts but never sends a banner (QEMU's slirp before the guest is up) does not block
  later attempts (see `kiln.communicator.ssh_connect`);
* `cancel_if` stops the wait at once when the VM is gone;
* with keep-alives on, a server silent for `read_write_timeout` (default 60 s) ends the
  connection, so a frozen guest fails the build instead of hanging it;
* ``env`` is applied as ``export NAME='value';`` before the command, because OpenSSH and
  dropbear refuse SSH ``env`` requests by default (the remote shell must be POSIX).

After the connection is lost (a reboot), the next operation reconnects once before it
starts; if that fails it raises `SshConnectionError`, which callers may retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import asyncssh

from kiln.communicator import scp, sftp
from kiln.communicator.paths import (
    TransferError,
    download_dir_target,
    local_entry,
    merge_tree,
    remote_path,
    split_remote_dir,
    split_remote_file,
    upload_dir_target,
)
from kiln.communicator.ssh_connect import (
    CancelIf,
    Log,
    connect_once,
    describe,
    is_auth_failure,
    load_private_key,
    wait_for_connection,
)
from kiln.communicator.ssh_errors import (
    CommandDisconnected,
    SshAuthError,
    SshCommandTimeoutError,
    SshConnectionError,
    SshError,
    SshKeyError,
    SshTimeoutError,
    SshTransferError,
    SshWaitCancelledError,
)
from kiln.communicator.ssh_settings import SshSettings
from kiln.envname import bad_name_message, bad_names
from kiln.proc import CHUNK, LinePump

__all__ = [
    "CommandDisconnected",
    "SshAuthError",
    "SshCommandTimeoutError",
    "SshCommunicator",
    "SshConnectionError",
    "SshError",
    "SshKeyError",
    "SshSettings",
    "SshTimeoutError",
    "SshTransferError",
    "SshWaitCancelledError",
]

_T = TypeVar("_T")
# Packer's pty request: xterm, 80x40, no echo, 14.4 kbaud.
_PTY_MODES = {asyncssh.PTY_ECHO: 0, asyncssh.PTY_OP_ISPEED: 14400, asyncssh.PTY_OP_OSPEED: 14400}


def env_prefix(env: Mapping[str, str] | None) -> str:
    """``export A='x' B='y'; `` for `env`, with names checked and values quoted."""
    if not env:
        return ""
    assignments = []
    for name, value in env.items():
        if bad_names([name]):
            raise SshError(bad_name_message(name))
        assignments.append(f"{name}={shlex.quote(value)}")
    return f"export {' '.join(assignments)}; "


def exit_code(proc: asyncssh.SSHClientProcess[Any]) -> int | None:
    """The command's exit status; 128 + N when killed by signal N (like Go's ssh)."""
    if proc.exit_signal is not None:
        name = proc.exit_signal[0]
        try:
            return 128 + signal.Signals[f"SIG{name}"].value
        except KeyError:
            return 128
    status = proc.exit_status
    return status if status is not None and status >= 0 else None


async def _pump(reader: asyncssh.SSHReader[bytes], emit: Callable[[str], None]) -> None:
    """Lines of any length (kiln.proc.LinePump), without their CR LF or LF."""

    def line(text: str) -> None:
        emit(text.removesuffix("\r"))

    pump = LinePump(line)
    while chunk := await reader.read(CHUNK):
        pump.feed(chunk)
    pump.flush()


class SshCommunicator:
    """An authenticated SSH connection to the machine being built.

    Obtain one with `wait_for`; use it as an async context manager or call `close`.
    """

    def __init__(
        self,
        settings: SshSettings,
        conn: asyncssh.SSHClientConnection,
        key: asyncssh.SSHKey | None,
        log: Log,
    ) -> None:
        self.settings = settings
        self._conn: asyncssh.SSHClientConnection | None = conn
        self._key = key
        self._log = log
        self._closed = False
        self._reconnecting = asyncio.Lock()

    @classmethod
    async def wait_for(
        cls, settings: SshSettings, *, log: Log, cancel_if: CancelIf | None = None
    ) -> SshCommunicator:
        """Wait until SSH answers and accepts the credentials, then connect.

        `log` receives one debug line per attempt outcome. `cancel_if` is polled about
        every 100 ms; a non-empty string aborts the wait with `SshWaitCancelledError`.
        Raises `SshTimeoutError`, `SshAuthError`, `SshKeyError` or `SshWaitCancelledError`.
        """
        key = None
        if settings.private_key_file is not None:
            key = load_private_key(settings.private_key_file)
        conn = await wait_for_connection(settings, key, log=log, cancel_if=cancel_if)
        return cls(settings, conn, key, log)

    async def __aenter__(self) -> SshCommunicator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection; idempotent."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
            with contextlib.suppress(asyncssh.Error, OSError):
                await conn.wait_closed()

    # -- connection ---------------------------------------------------------------

    async def _connection(self) -> asyncssh.SSHClientConnection:
        """The live connection, reconnecting once if it was lost."""
        if self._closed:
            raise SshError(f"the SSH connection to {self.settings.target} was already closed")
        async with self._reconnecting:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            self._conn = None
            self._log(f"SSH connection to {self.settings.target} is closed; reconnecting")
            try:
                self._conn = await connect_once(self.settings, self._key)
            except (OSError, asyncssh.Error) as exc:
                if is_auth_failure(exc):
                    raise SshAuthError(
                        f"SSH authentication failed for user '{self.settings.username}' "
                        f"on {self.settings.address} while reconnecting: {describe(exc)}"
                    ) from exc
                raise SshConnectionError(
                    f"The SSH connection to {self.settings.target} was lost and "
                    f"reconnecting failed: {describe(exc)}"
                ) from exc
            return self._conn

    async def _on_connection(
        self, use: Callable[[asyncssh.SSHClientConnection], Awaitable[_T]]
    ) -> _T:
        """Call `use(conn)`; if its channel cannot open on a dead connection, reconnect once.

        Only a failure to open the first channel is retried, so nothing runs twice.
        """
        conn = await self._connection()
        try:
            return await use(conn)
        except asyncssh.ChannelOpenError:
            if not conn.is_closed():
                raise
        return await use(await self._connection())

    # -- commands -----------------------------------------------------------------

    async def run(
        self,
        command: str,
        *,
        stdout: Callable[[str], None],
        stderr: Callable[[str], None],
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> int:
        """Run `command` through the login shell; return its exit status.

        Output reaches the callbacks line by line as it arrives (without the newline).
        Standard input is empty. With `settings.pty` stderr arrives on stdout. A lost
        connection raises `CommandDisconnected`. When `timeout` (seconds; None or <= 0:
        none) expires, the remote process is sent SIGTERM (its own children may survive)
        and `SshCommandTimeoutError` is raised.
        """
        full = env_prefix(env) + command
        options: dict[str, Any] = {"encoding": None}  # bytes: LinePump decodes whole lines
        if self.settings.pty:
            options.update(term_type="xterm", term_size=(80, 40), term_modes=_PTY_MODES)
        try:
            proc = await self._on_connection(lambda conn: conn.create_process(full, **options))
        except asyncssh.ChannelOpenError as exc:
            raise SshError(
                f"cannot start a command on {self.settings.target}: {exc.reason}"
            ) from exc
        deadline = asyncio.timeout(timeout if timeout is not None and timeout > 0 else None)
        try:
            proc.stdin.write_eof()
            async with deadline:
                await self._stream(proc, stdout, stderr)
                await proc.wait()
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            with contextlib.suppress(asyncssh.Error, OSError):
                proc.terminate()
            raise SshCommandTimeoutError(
                f"A command on {self.settings.target} did not finish within {timeout:g}s; "
                "it was sent SIGTERM and abandoned"
            ) from exc
        except (asyncssh.DisconnectError, BrokenPipeError, ConnectionError) as exc:
            raise self._disconnected(describe(exc)) from exc
        finally:
            proc.close()
        status = exit_code(proc)
        if status is None:
            raise self._disconnected("the command ended without an exit status")
        return status

    async def start_process(self, command: str) -> asyncssh.SSHClientProcess[bytes]:
        """Start `command` with binary stdin, stdout and stderr, without a terminal.

        For relays (the ansible provisioner's SSH proxy): the caller feeds and drains the
        streams, waits for it and closes it.
        """
        try:
            return await self._on_connection(
                lambda conn: conn.create_process(command, encoding=None)
            )
        except asyncssh.ChannelOpenError as exc:
            raise SshError(
                f"cannot start a command on {self.settings.target}: {exc.reason}"
            ) from exc

    def _disconnected(self, detail: str) -> CommandDisconnected:
        return CommandDisconnected(
            f"The SSH connection to {self.settings.target} was lost while a command was "
            f"running ({detail}); its exit status is unknown"
        )

    @staticmethod
    async def _stream(
        proc: asyncssh.SSHClientProcess[bytes],
        stdout: Callable[[str], None],
        stderr: Callable[[str], None],
    ) -> None:
        tasks = [
            asyncio.ensure_future(_pump(proc.stdout, stdout)),
            asyncio.ensure_future(_pump(proc.stderr, stderr)),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- transfers ----------------------------------------------------------------

    @property
    def _use_sftp(self) -> bool:
        return self.settings.file_transfer_method == "sftp"

    @contextlib.asynccontextmanager
    async def _transfer(self, action: str) -> AsyncIterator[None]:
        """Turn any failure inside into an `SshTransferError` starting with `action`."""
        try:
            yield
        except SshError:
            raise
        except TransferError as exc:
            raise SshTransferError(f"{action} failed: {exc}") from exc
        except asyncssh.ChannelOpenError as exc:
            raise SshTransferError(
                f"{action} failed: cannot open an SSH channel ({exc.reason})"
            ) from exc
        except asyncssh.SFTPError as exc:
            raise SshTransferError(f"{action} failed: {exc.reason}") from exc
        except asyncssh.Error as exc:
            raise SshTransferError(
                f"{action} failed: the SSH connection was lost ({exc.reason})"
            ) from exc
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise SshTransferError(
                f"{action} failed: {where}{exc.strerror or describe(exc)}"
            ) from exc

    async def upload(self, local: Path | bytes, remote: str, *, mode: int | None = None) -> None:
        """Write `local` (a file, or bytes) at exactly the remote path `remote`.

        The remote parent directory must exist; a remote directory at `remote` is an
        error. `mode` sets the permission bits exactly; without it the file gets the
        local file's bits (bytes: 0644), under the remote umask for new files with SCP.
        """
        source = "data" if isinstance(local, bytes) else str(local)
        async with self._transfer(f"Upload of {source} to {self.settings.target}:{remote}"):
            directory, name = split_remote_file(remote)
            source_mode = 0o644
            if isinstance(local, Path):
                entry = local_entry(local)
                if entry.is_dir:
                    raise TransferError(f"{local} is a directory: upload it with upload_dir")
                source_mode = entry.mode
            if self._use_sftp:
                chmod = (
                    mode
                    if mode is not None
                    else (None if isinstance(local, bytes) else source_mode)
                )
                target = remote_path(remote)

                async def put(conn: asyncssh.SSHClientConnection) -> None:
                    async with sftp.session(conn) as client:
                        await sftp.upload_file(client, local, target, chmod)

                await self._on_connection(put)
            else:
                await self._on_connection(
                    lambda conn: scp.upload_file(
                        conn,
                        directory,
                        name,
                        local,
                        mode if mode is not None else source_mode,
                        exact_mode=mode is not None,
                    )
                )

    async def upload_dir(self, local_dir: str | Path, remote: str) -> None:
        """Upload a local directory tree (Packer's rule, applied to the string as given).

        ``"src/"`` puts the contents of src into `remote`; ``"src"`` (or a `Path`) puts
        them into ``remote/src``. The receiving directory is created if missing (its
        parent must exist) and merged into if present. Local symlinks are followed.
        """
        action = f"Upload of directory {local_dir} to {self.settings.target}:{remote}"
        async with self._transfer(action):
            root = local_entry(Path(local_dir))
            if not root.is_dir:
                raise TransferError(f"{local_dir} is not a directory: upload it with upload")
            target = upload_dir_target(local_dir, remote)
            if self._use_sftp:

                async def put(conn: asyncssh.SSHClientConnection) -> None:
                    async with sftp.session(conn) as client:
                        await sftp.upload_tree(client, target, root)

                await self._on_connection(put)
            else:
                parent, name = split_remote_dir(target)
                await self._on_connection(lambda conn: scp.upload_tree(conn, parent, name, root))

    async def download(self, remote: str, local: Path) -> None:
        """Copy the remote file `remote` to exactly `local` (parents are created).

        The file appears complete or not at all: it is received in a scratch directory
        and renamed into place, so a failure leaves nothing behind.
        """
        action = f"Download of {self.settings.target}:{remote} to {local}"
        async with self._transfer(action):
            source = remote_path(remote)
            if local.is_dir():
                raise TransferError(f"{local} is a directory: give the full local file path")
            with _staging(local.parent) as staging:
                staged = staging / "file"
                if self._use_sftp:

                    async def get(conn: asyncssh.SSHClientConnection) -> None:
                        async with sftp.session(conn) as client:
                            await sftp.download_file(client, source, staged)

                    await self._on_connection(get)
                else:
                    await self._on_connection(
                        lambda conn: scp.download(conn, source, staged, recursive=False)
                    )
                local.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, local)

    async def download_dir(self, remote: str, local: Path) -> None:
        """Download a remote directory tree (the rsync rule, applied to `remote`).

        ``"dir/"`` puts the contents of dir into `local`; ``"dir"`` puts them into
        ``local/dir``. Local directories are created as needed; an existing one is merged
        into (files replaced). Nothing is moved into place unless the transfer succeeded.
        """
        action = f"Download of directory {self.settings.target}:{remote} to {local}"
        async with self._transfer(action):
            source = remote_path(remote).rstrip("/") or "/"
            target = download_dir_target(remote, local)
            if target.exists() and not target.is_dir():
                raise TransferError(f"{target} exists and is not a directory")
            with _staging(target.parent) as staging:
                staged = staging / "dir"
                if self._use_sftp:

                    async def get(conn: asyncssh.SSHClientConnection) -> None:
                        async with sftp.session(conn) as client:
                            await sftp.download_tree(client, source, staged)

                    await self._on_connection(get)
                else:
                    await self._on_connection(
                        lambda conn: scp.download(conn, source, staged, recursive=True)
                    )
                if target.is_dir():
                    merge_tree(staged, target)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, target)


@contextlib.contextmanager
def _staging(parent: Path) -> Iterator[Path]:
    """A scratch directory in `parent` or its nearest existing ancestor.

    Downloads land there first, so a failed transfer leaves nothing behind (not even
    the missing parents) and the final move is a rename on the same file system.
    """
    base = parent.absolute()
    while not base.is_dir() and base != base.parent:
        base = base.parent
    with tempfile.TemporaryDirectory(
        prefix=".kiln-download-", dir=base, ignore_cleanup_errors=True
    ) as scratch:
        yield Path(scratch)

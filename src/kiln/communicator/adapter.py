"""A local SSH server that relays sessions to the build's SSH connection (Packer's adapter).

Packer's ansible provisioner serves SSH on 127.0.0.1 and lets Ansible log in there; each
session is run through the build's communicator (packer-plugin-sdk/adapter/adapter.go at
v1.6.6). The same here, with asyncssh's server side:

* public-key login only, for one user name and one key;
* `exec` requests run the command on the guest through `SshCommunicator.start_process`,
  with stdin, stdout, stderr and the exit status relayed; `scp -t`/`scp -f` commands are
  served by kiln itself (`kiln.communicator.adapter_scp`), as Packer does, so they go
  through the build's own upload and download;
* the `sftp` subsystem runs `sftp_command` on the guest and relays its streams;
* `pty-req` is accepted and ignored (OpenSSH and sudo want it), `env` is accepted and
  ignored, `shell`, other subsystems and other channel types are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import asyncssh

from kiln.communicator.adapter_scp import ScpError, serve_scp, wants_scp
from kiln.communicator.ssh import exit_code
from kiln.communicator.ssh_errors import SshError
from kiln.ui.log import LOG

if TYPE_CHECKING:
    from kiln.communicator.ssh import SshCommunicator

DEFAULT_SFTP_COMMAND = "/usr/lib/sftp-server -e"
PORT_TRIES = 10  # Packer tries `local_port` and the nine ports after it
_HIGH_WATER = 1 << 20  # stop reading from the client above this much buffered input
_LOW_WATER = 1 << 18
_CHUNK = 1 << 16
# Exit status reported when the command could not even be started on the guest.
START_FAILED = 255


class AdapterError(SshError):
    """The proxy could not start (no free port, a bad key, ...)."""


class Inbox:
    """Bytes a client sent on one channel, read by a relay task, with flow control.

    `pause`/`resume` are the channel's pause_reading/resume_reading: above 1 MiB of
    unread input the client is asked to wait (its SSH window then fills).
    """

    def __init__(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._eof = False
        self._ready = asyncio.Event()
        self._pause = pause
        self._resume = resume
        self._paused = False

    def feed(self, data: bytes) -> None:
        if data:
            self._chunks.append(data)
            self._size += len(data)
            self._ready.set()
            if self._size > _HIGH_WATER and not self._paused:
                self._paused = True
                self._pause()

    def feed_eof(self) -> None:
        self._eof = True
        self._ready.set()

    async def _wait(self) -> None:
        while not self._chunks and not self._eof:
            self._ready.clear()
            await self._ready.wait()

    def _took(self, count: int) -> None:
        self._size -= count
        if self._paused and self._size < _LOW_WATER:
            self._paused = False
            self._resume()

    async def read(self, limit: int = _CHUNK) -> bytes:
        """Up to `limit` bytes; b"" at end of input."""
        await self._wait()
        if not self._chunks:
            return b""
        chunk = self._chunks.popleft()
        if len(chunk) > limit:
            self._chunks.appendleft(chunk[limit:])
            chunk = chunk[:limit]
        self._took(len(chunk))
        return chunk

    async def readexactly(self, count: int) -> bytes:
        """Exactly `count` bytes (EOFError when the input ends first)."""
        parts: list[bytes] = []
        left = count
        while left:
            chunk = await self.read(min(left, _CHUNK))
            if not chunk:
                raise EOFError(f"the client's input ended {left} bytes short")
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    async def readline(self, limit: int = 4096) -> bytes:
        """Bytes up to and including b"\\n" (EOFError when the input ends first)."""
        line = bytearray()
        while not line.endswith(b"\n"):
            if len(line) > limit:
                raise EOFError("the client sent an over-long protocol line")
            line += await self.readexactly(1)
        return bytes(line)


class _RelaySession(asyncssh.SSHServerSession[bytes]):
    """One session channel: an exec, an scp or an sftp session, relayed to the guest."""

    def __init__(self, adapter: SshAdapter) -> None:
        self._adapter = adapter
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._command = ""
        self._inbox: Inbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    # -- what the client asks for -------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan
        self._inbox = Inbox(chan.pause_reading, chan.resume_reading)

    def pty_requested(self, term_type: str, term_size: Any, term_modes: Any) -> bool:
        LOG.debug("SSH proxy: pty-req accepted (the command runs without a terminal)")
        return True

    def shell_requested(self) -> bool:
        LOG.debug("SSH proxy: rejecting shell request")
        return False

    def exec_requested(self, command: str) -> bool:
        if not command:
            return False
        LOG.debug("SSH proxy: new exec request: %s", command)
        self._command = command
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem != "sftp":
            self._adapter.report(f"unsupported subsystem requested: {subsystem}")
            return False
        LOG.debug("SSH proxy: starting sftp subsystem (%s)", self._adapter.sftp_command)
        self._command = self._adapter.sftp_command
        return True

    def session_started(self) -> None:
        self._task = asyncio.ensure_future(self._run())
        self._adapter.track(self._task)

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        assert self._inbox is not None
        self._inbox.feed(data)

    def eof_received(self) -> bool:
        assert self._inbox is not None
        self._inbox.feed_eof()
        return True  # keep our side open: the command's output is still to come

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._inbox is not None:
            self._inbox.feed_eof()

    # -- the relay ----------------------------------------------------------------------

    async def _run(self) -> None:
        chan, inbox = self._chan, self._inbox
        assert chan is not None and inbox is not None
        if wants_scp(self._command):
            status = await self._scp(inbox)
        else:
            status = await self._exec(inbox)
        with contextlib.suppress(OSError, asyncssh.Error):
            chan.exit(status)

    async def _scp(self, inbox: Inbox) -> int:
        assert self._chan is not None
        try:
            await serve_scp(self._command, inbox, self._chan.write, self._adapter.comm)
        except (ScpError, EOFError, OSError, SshError, asyncssh.Error) as err:
            LOG.debug("SSH proxy: scp session failed: %s", err)
            return 1
        return 0

    async def _exec(self, inbox: Inbox) -> int:
        chan = self._chan
        assert chan is not None
        try:
            proc = await self._adapter.comm.start_process(self._command)
        except (SshError, asyncssh.Error, OSError) as err:
            self._adapter.report(str(err))
            return START_FAILED
        pumps = [
            asyncio.ensure_future(self._pump_in(inbox, proc)),
            asyncio.ensure_future(self._pump_out(proc.stdout, chan.write)),
            asyncio.ensure_future(self._pump_out(proc.stderr, chan.write_stderr)),
        ]
        try:
            await asyncio.gather(*pumps[1:])
            await proc.wait()
        except (asyncssh.Error, OSError) as err:
            LOG.debug("SSH proxy: relaying %r failed: %s", self._command, err)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            proc.close()
        status = exit_code(proc)
        return status if status is not None else START_FAILED

    @staticmethod
    async def _pump_in(inbox: Inbox, proc: asyncssh.SSHClientProcess[bytes]) -> None:
        with contextlib.suppress(asyncssh.Error, OSError, BrokenPipeError):
            while chunk := await inbox.read():
                proc.stdin.write(chunk)
                await proc.stdin.drain()
            proc.stdin.write_eof()

    async def _pump_out(
        self, reader: asyncssh.SSHReader[bytes], write: Callable[[bytes], None]
    ) -> None:
        while chunk := await reader.read(_CHUNK):
            await self._writable.wait()
            write(chunk)


class _AdapterServer(asyncssh.SSHServer):
    """Authentication (one user, one key) and the session factory."""

    def __init__(self, adapter: SshAdapter) -> None:
        self._adapter = adapter
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        LOG.debug("SSH proxy: accepted connection from %s", conn.get_extra_info("peername"))
        self._conn = conn
        self._adapter.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._adapter.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if username != self._adapter.user:
            LOG.debug("SSH proxy: authentication failed: %s is not a valid user", username)
            return False
        if key.public_data != self._adapter.authorized_key.public_data:
            LOG.debug("SSH proxy: authentication failed: unauthorized key")
            return False
        return True

    def session_requested(self) -> _RelaySession:
        return _RelaySession(self._adapter)


class SshAdapter:
    """Serve SSH on 127.0.0.1 for `user` with `authorized_key`; relay to `comm`.

    Use as an async context manager: `port` is where it listens. `report` receives
    errors worth showing the user (Packer prints them with ui.Error).
    """

    def __init__(
        self,
        comm: SshCommunicator,
        *,
        user: str,
        authorized_key: asyncssh.SSHKey,
        host_key: asyncssh.SSHKey,
        sftp_command: str = "",
        first_port: int = 0,
        report: Callable[[str], None] = lambda _message: None,
    ) -> None:
        self.comm = comm
        self.user = user
        self.authorized_key = authorized_key
        self.host_key = host_key
        self.sftp_command = sftp_command or DEFAULT_SFTP_COMMAND
        self.first_port = first_port
        self.report = report
        self.port = 0
        self._server: asyncssh.SSHAcceptor | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections: set[asyncssh.SSHServerConnection | None] = set()

    def track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def __aenter__(self) -> SshAdapter:
        tries = PORT_TRIES if self.first_port else 1
        failures: list[str] = []
        for port in range(self.first_port, self.first_port + tries):
            try:
                self._server = await asyncssh.create_server(
                    lambda: _AdapterServer(self),
                    "127.0.0.1",
                    port,
                    server_host_keys=[self.host_key],
                    encoding=None,
                    line_editor=False,
                    allow_scp=False,
                    agent_forwarding=False,
                    allow_pty=True,
                    keepalive_interval=0,
                )
            except OSError as err:
                failures.append(f"127.0.0.1:{port}: {err.strerror or err}")
                continue
            self.port = int(self._server.sockets[0].getsockname()[1])
            LOG.debug("SSH proxy: serving on 127.0.0.1:%d", self.port)
            return self
        raise AdapterError(
            "Error setting up SSH proxy connection: no port to listen on ("
            + "; ".join(failures)
            + "); set local_port to a free port, or leave it unset"
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop listening, end every session still running; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            LOG.debug("SSH proxy: shutting down")
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()
        for conn in list(self.connections):
            if conn is not None:
                conn.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

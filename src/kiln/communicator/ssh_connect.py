"""Reaching an SSH server that may not be up yet: probe, handshake, authenticate, retry.

Why not simply call `asyncssh.connect` in a loop: QEMU's user-mode network (slirp)
accepts the TCP connection on the forwarded host port at once, whether or not the guest
answers. While the guest's network is down slirp holds that connection silently for
about 80 s (measured) before closing it, so one blocking attempt can eat a minute after
sshd is already listening. We therefore *probe*: open TCP, then wait until the server has
sent its first byte (the SSH identification banner), peeking so the byte stays for
asyncssh. Probes start on a back-off schedule (50 ms doubling to 0.5 s) and several may be
outstanding; the first one with a banner wins and is handed to asyncssh for the
handshake. A probe without a banner after `BANNER_PATIENCE` seconds is abandoned.
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncssh

from kiln.communicator.ssh_errors import (
    SshAuthError,
    SshKeyError,
    SshTimeoutError,
    SshWaitCancelledError,
)
from kiln.communicator.ssh_settings import SshSettings

BACKOFF_START = 0.05
# A silent probe sees sshd only when slirp re-sends its SYN, seconds later; a new probe
# sees it at once. So the cap is the delay between sshd listening and kiln noticing
# (measured on the example: 2 s cap → 1.46 s late; 0.5 s → see bench/README.md), and
# BANNER_PATIENCE / BACKOFF_MAX (20) the most sockets ever outstanding.
BACKOFF_MAX = 0.5
# An SSH server sends its banner as soon as it accepts; a socket silent for this long is
# a slirp connection towards a guest that is not answering yet.
BANNER_PATIENCE = 10.0
# Key exchange plus authentication, once the banner is there (Packer's HandshakeTimeout).
HANDSHAKE_TIMEOUT = 60.0
# How often cancel_if and the deadline are checked while something is in flight.
POLL_INTERVAL = 0.1
# Host key algorithms in OpenSSH's order of preference. asyncssh's default puts RSA first,
# and dropbear 2022.83 (Debian 12) started with only an ed25519 host key still offers
# rsa-sha2-256 and then dies on an assertion when a client picks it.
HOST_KEY_ALGORITHMS = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
)
# With keep-alives on and no ssh_read_write_timeout, a server silent for this long is
# declared dead (Packer never gives up, which hangs builds whose guest froze).
DEFAULT_DEAD_AFTER = 60.0

Log = Callable[[str], None]
CancelIf = Callable[[], str | None]


class ClosedBeforeBannerError(ConnectionError):
    """The port accepted the connection, then closed it without an SSH banner."""


def backoff_delays(start: float = BACKOFF_START, maximum: float = BACKOFF_MAX) -> Iterator[float]:
    """Delays between connection attempts: `start`, doubling, capped at `maximum`."""
    delay = start
    while True:
        yield delay
        delay = min(delay * 2, maximum)


def keepalive_options(interval: float, read_write_timeout: float) -> tuple[float, int]:
    """Map Packer's keep-alive interval and read/write timeout onto asyncssh's options.

    Returns ``(keepalive_interval, keepalive_count_max)``; an interval of 0 disables
    keep-alives. asyncssh sends a keep-alive after `interval` seconds without data from
    the server and disconnects after `count_max` unanswered ones, so the connection is
    declared dead after about `read_write_timeout` (or `DEFAULT_DEAD_AFTER`) of silence.
    """
    if interval > 0:
        dead_after = read_write_timeout if read_write_timeout > 0 else DEFAULT_DEAD_AFTER
        return interval, max(1, math.ceil(dead_after / interval))
    if read_write_timeout > 0:
        return read_write_timeout, 1
    return 0.0, 1


def load_private_key(path: Path) -> asyncssh.SSHKey:
    """Read `ssh_private_key_file`; unreadable or encrypted keys are `SshKeyError`s."""
    try:
        return asyncssh.read_private_key(path)
    except OSError as exc:
        raise SshKeyError(
            f"ssh_private_key_file is invalid: {path}: {exc.strerror or exc}"
        ) from exc
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SshKeyError(
            f"ssh_private_key_file is invalid: {path}: {exc} "
            "(an unencrypted OpenSSH or PEM private key is required)"
        ) from exc


def is_auth_failure(exc: BaseException) -> bool:
    """True when the server rejected our credentials (Packer: "authenticate" errors)."""
    if isinstance(exc, asyncssh.PermissionDenied):
        return True
    return (
        isinstance(exc, asyncssh.DisconnectError)
        and exc.code == asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE
    )


def describe(exc: BaseException) -> str:
    """A short, user-facing description of a connection failure."""
    if isinstance(exc, ClosedBeforeBannerError):
        return (
            "connection closed before the SSH banner "
            "(the port is open but no SSH server answered yet)"
        )
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, TimeoutError):
        return f"SSH handshake did not finish within {HANDSHAKE_TIMEOUT:g}s"
    if is_auth_failure(exc):
        return "authentication failed (permission denied)"
    if isinstance(exc, asyncssh.DisconnectError):
        return exc.reason or type(exc).__name__
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name: {exc.strerror or exc}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


async def _wait_readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


async def probe(host: str, port: int) -> socket.socket:
    """Connect to `host:port` and wait until the server has sent its first byte.

    Tries every address `host` resolves to (like Go's dialer). Returns the connected,
    non-blocking socket with the banner still unread.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last: OSError = OSError(f"{host} has no address")
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, sockaddr)
            except OSError as exc:
                last = exc
                sock.close()
                continue
            await _wait_readable(sock)
            if not sock.recv(1, socket.MSG_PEEK):
                raise ClosedBeforeBannerError()
        except BaseException:
            sock.close()
            raise
        return sock
    raise last


async def handshake(
    sock: socket.socket, settings: SshSettings, key: asyncssh.SSHKey | None
) -> asyncssh.SSHClientConnection:
    """Run SSH over an already-probed socket: key exchange and authentication.

    Host keys are not checked (like Packer) and nothing from ``~/.ssh`` (config, keys,
    agent) is used: only the credentials in `settings`.
    """
    interval, count_max = keepalive_options(
        settings.keep_alive_interval, settings.read_write_timeout
    )
    methods = (["publickey"] if key is not None else []) + (
        ["keyboard-interactive", "password"] if settings.password is not None else []
    )
    extra: dict[str, Any] = {"preferred_auth": methods} if methods else {}
    try:
        return await asyncssh.connect(
            sock=sock,
            username=settings.username,
            password=settings.password,
            client_keys=[key] if key is not None else None,
            known_hosts=None,
            agent_path=None,
            config=None,
            gss_host=None,
            server_host_key_algs=list(HOST_KEY_ALGORITHMS),
            connect_timeout=HANDSHAKE_TIMEOUT,
            keepalive_interval=interval,
            keepalive_count_max=count_max,
            **extra,
        )
    except BaseException:
        sock.close()
        raise


async def connect_once(
    settings: SshSettings, key: asyncssh.SSHKey | None
) -> asyncssh.SSHClientConnection:
    """One probe and handshake, no retries (used to reconnect after a reboot)."""
    try:
        sock = await asyncio.wait_for(probe(settings.host, settings.port), BANNER_PATIENCE)
    except TimeoutError as exc:
        raise ConnectionError(f"no SSH banner within {BANNER_PATIENCE:g}s") from exc
    return await handshake(sock, settings, key)


async def _finish(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait for it; a connection it produced anyway is closed."""
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    result = results[0]
    if isinstance(result, asyncssh.SSHClientConnection | socket.socket):
        result.close()


class _Waiter:
    """The state of one `wait_for_connection` call."""

    def __init__(
        self,
        settings: SshSettings,
        key: asyncssh.SSHKey | None,
        log: Log,
        cancel_if: CancelIf | None,
    ) -> None:
        self.settings = settings
        self.key = key
        self.log = log
        self.cancel_if = cancel_if
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()
        self.deadline = self.started + settings.timeout if settings.timeout > 0 else math.inf
        self.delays = backoff_delays()
        self.next_probe = self.started
        self.pending: dict[asyncio.Task[socket.socket], float] = {}
        self.last_error = "no connection attempt has finished yet"
        self.auth_failures = 0
        self.probes = 0

    def check_stop(self) -> None:
        """Raise if `cancel_if` gives a reason or the deadline has passed."""
        if self.cancel_if is not None:
            reason = self.cancel_if()
            if reason:
                raise SshWaitCancelledError(
                    f"Stopped waiting for SSH on {self.settings.target}: {reason}",
                    reason=reason,
                )
        if self.loop.time() >= self.deadline:
            raise SshTimeoutError(
                f"Timeout waiting for SSH. Waited {self.settings.timeout:g}s for "
                f"{self.settings.target} ({self.probes} connection attempts); "
                f"last error: {self.last_error}"
            )

    def fail(self, what: str, exc: BaseException) -> None:
        self.last_error = describe(exc)
        self.log(f"{what}: {self.last_error}")

    async def run(self) -> asyncssh.SSHClientConnection:
        try:
            while True:
                self.check_stop()
                sock = await self._next_socket()
                if sock is None:
                    continue
                for task in list(self.pending):
                    await _finish(task)
                self.pending.clear()
                conn = await self._handshake(sock)
                if conn is not None:
                    waited = self.loop.time() - self.started
                    self.log(
                        f"Connected to SSH on {self.settings.target} after {waited:.2f}s "
                        f"({self.probes} connection attempts)"
                    )
                    return conn
                self.next_probe = self.loop.time() + next(self.delays)
        finally:
            for task in list(self.pending):
                await _finish(task)

    async def _next_socket(self) -> socket.socket | None:
        """Start, expire and collect probes; a socket with a banner, or None for now."""
        now = self.loop.time()
        for task, started in list(self.pending.items()):
            if now - started >= BANNER_PATIENCE:
                del self.pending[task]
                await _finish(task)
                self.last_error = (
                    f"no SSH banner within {BANNER_PATIENCE:g}s "
                    "(the port accepted the connection but nothing answered)"
                )
                self.log(f"SSH probe abandoned: {self.last_error}")
        if now >= self.next_probe:
            self.probes += 1
            task = self.loop.create_task(probe(self.settings.host, self.settings.port))
            self.pending[task] = now
            self.next_probe = now + next(self.delays)
        wake = min(
            self.next_probe,
            now + POLL_INTERVAL,
            self.deadline,
            *(started + BANNER_PATIENCE for started in self.pending.values()),
        )
        timeout = max(0.0, wake - self.loop.time())
        if not self.pending:
            await asyncio.sleep(timeout)
            return None
        done, _ = await asyncio.wait(
            self.pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        found: socket.socket | None = None
        for task in done:
            del self.pending[task]
            exc = task.exception()
            if exc is not None:
                self.fail("TCP connection to SSH ip/port failed", exc)
            elif found is None:
                found = task.result()
            else:
                task.result().close()
        return found

    async def _handshake(self, sock: socket.socket) -> asyncssh.SSHClientConnection | None:
        self.log(f"Attempting SSH connection to {self.settings.address}...")
        task = self.loop.create_task(handshake(sock, self.settings, self.key))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=POLL_INTERVAL)
                if not task.done():
                    self.check_stop()
        except BaseException:
            await _finish(task)
            raise
        exc = task.exception()
        if exc is None:
            return task.result()
        self.fail("SSH handshake err", exc)
        if is_auth_failure(exc):
            self.auth_failures += 1
            self.log("Detected authentication error. Increasing handshake attempts.")
            limit = self.settings.handshake_attempts
            if 0 < limit <= self.auth_failures:
                raise SshAuthError(self._auth_message(exc)) from exc
        return None

    def _auth_message(self, exc: BaseException) -> str:
        s = self.settings
        offered = [
            name
            for name, present in (
                ("password", s.password is not None),
                (f"private key {s.private_key_file}", self.key is not None),
            )
            if present
        ]
        creds = " and ".join(offered) if offered else "no password or private key"
        reason = exc.reason if isinstance(exc, asyncssh.DisconnectError) else str(exc)
        return (
            f"SSH authentication failed for user '{s.username}' on {s.address} "
            f"({self.auth_failures} of {s.handshake_attempts} ssh_handshake_attempts used; "
            f"offered {creds}): {reason}. Check ssh_username and ssh_password or "
            "ssh_private_key_file, and that the guest allows this login over SSH."
        )


async def wait_for_connection(
    settings: SshSettings,
    key: asyncssh.SSHKey | None,
    *,
    log: Log,
    cancel_if: CancelIf | None = None,
) -> asyncssh.SSHClientConnection:
    """Retry until an authenticated connection exists (see the module docstring).

    Raises `SshTimeoutError`, `SshAuthError` or `SshWaitCancelledError`.
    """
    return await _Waiter(settings, key, log, cancel_if).run()

"""A small asyncio RFB 3.8 (VNC) client: handshake, None / VNC-password auth, KeyEvent.

Enough of RFC 6143 to type keys, and nothing more: kiln never asks for framebuffer updates
(screenshots come from QMP), so whatever the server sends after ServerInit is read and dropped
by a background task, which also notices when the server goes away. The behaviour follows
Packer's client, mitchellh/go-vnc (client.go and client_auth.go, vendored in Packer v1.6.6):
require version ≥ 3.8 and answer
`RFB 003.008`; offer VNC authentication (type 2) when a password is given, else None (type 1);
ClientInit with shared = 1. Modelled on `qemu.qmp`: an explicit `RfbState` and typed errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import re
import struct
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from kiln.errors import KilnError

SECURITY_NONE = 1
SECURITY_VNC_AUTH = 2
_SECURITY_NAMES = {0: "Invalid", 1: "None", 2: "VNC authentication"}
_MAX_STRING = 1 << 20  # longest reason / desktop name accepted from a server


class RfbState(enum.Enum):
    """Where an `RfbClient` is in its life."""

    IDLE = "idle"  # not connected (never, or closed)
    CONNECTING = "connecting"  # TCP connect and handshake in progress
    RUNNING = "running"  # handshake done; key events may be sent
    DISCONNECTING = "disconnecting"  # close() in progress


class RfbError(KilnError):
    """Base of every VNC client error."""


class RfbConnectError(RfbError):
    """The TCP connection could not be made (refused, unreachable, timed out)."""


class RfbProtocolError(RfbError):
    """The server sent something RFB 3.8 does not allow, or closed during the handshake."""


class RfbAuthError(RfbError):
    """Security negotiation or VNC authentication failed."""


class RfbStateError(RfbError):
    """A method was called in a state that does not allow it."""


class RfbDisconnectedError(RfbError):
    """The server closed the connection (or it broke) after the handshake."""


@dataclass(frozen=True, slots=True)
class PixelFormat:
    """RFB PIXEL_FORMAT (RFC 6143 §7.4)."""

    bits_per_pixel: int
    depth: int
    big_endian: bool
    true_colour: bool
    red_max: int
    green_max: int
    blue_max: int
    red_shift: int
    green_shift: int
    blue_shift: int

    @classmethod
    def unpack(cls, data: bytes) -> PixelFormat:
        bpp, depth, be, tc, rmax, gmax, bmax, rsh, gsh, bsh = struct.unpack(">BBBBHHHBBB3x", data)
        return cls(bpp, depth, be != 0, tc != 0, rmax, gmax, bmax, rsh, gsh, bsh)


@dataclass(frozen=True, slots=True)
class ServerInit:
    """The server's ServerInit message (RFC 6143 §7.3.2)."""

    width: int
    height: int
    pixel_format: PixelFormat
    name: str


def _reverse_bits(byte: int) -> int:
    """Mirror the 8 bits of `byte` (VNC's DES key quirk: bit 0 becomes bit 7)."""
    return int(f"{byte:08b}"[::-1], 2)


def vnc_des_key(password: str) -> bytes:
    """The DES key VNC derives from a password.

    The UTF-8 password, cut to 8 bytes and zero-padded to 8, with every byte bit-reversed
    (VNC puts the first password bit where DES expects the parity bit: RFC 6143 §7.2.2 errata).
    """
    raw = password.encode("utf-8")[:8].ljust(8, b"\0")
    return bytes(_reverse_bits(b) for b in raw)


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """DES-ECB encrypt the 16-byte challenge with `vnc_des_key(password)`.

    Single DES through `cryptography`'s TripleDES with the key repeated three times
    (EDE with K1 = K2 = K3 is exactly DES).
    """
    if len(challenge) != 16:
        raise RfbProtocolError(f"VNC auth challenge must be 16 bytes, got {len(challenge)}")
    key = vnc_des_key(password)
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(challenge) + encryptor.finalize()


def key_event_message(keysym: int, down: bool) -> bytes:
    """RFB KeyEvent: type 4, down flag, 2 bytes padding, keysym (u32, big-endian)."""
    return struct.pack(">BBxxI", 4, 1 if down else 0, keysym & 0xFFFFFFFF)


_VERSION_RE = re.compile(rb"RFB (\d+)\.(\d+)\n")


class RfbClient:
    """One RFB connection, used to send key events.

    >>> client = RfbClient()
    >>> await client.connect("127.0.0.1", 5901, password=None)   # doctest: +SKIP
    >>> await client.key_event(0xFF0D, True)                      # doctest: +SKIP
    >>> await client.close()                                      # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._state = RfbState.IDLE
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self._lost: str | None = None
        self._where = ""
        self.server_init: ServerInit | None = None
        self.server_version: tuple[int, int] | None = None

    @property
    def runstate(self) -> RfbState:
        return self._state

    # -- connection ---------------------------------------------------------------------

    async def connect(
        self, host: str, port: int, *, password: str | None = None, timeout: float = 10.0
    ) -> None:
        """Connect and complete the RFB handshake within `timeout` seconds.

        Raises `RfbConnectError` (TCP / timeout), `RfbProtocolError`, `RfbAuthError`.
        """
        if self._state is not RfbState.IDLE:
            raise RfbStateError(f"VNC client is {self._state.value}; connect() needs it idle")
        self._where = f"{host}:{port}"
        self._lost = None
        self._state = RfbState.CONNECTING
        try:
            async with asyncio.timeout(timeout):
                try:
                    self._reader, self._writer = await asyncio.open_connection(host, port)
                except OSError as err:
                    raise RfbConnectError(
                        f"Error connecting to VNC at {self._where}: {err.strerror or err}. "
                        "Is QEMU running with -vnc on that address?"
                    ) from err
                await self._handshake(password)
        except TimeoutError as err:
            await self._teardown()
            raise RfbConnectError(
                f"Error connecting to VNC at {self._where}: no complete handshake within "
                f"{timeout:g}s"
            ) from err
        except BaseException:
            await self._teardown()
            raise
        self._drain_task = asyncio.create_task(self._drain(), name=f"rfb-drain {self._where}")
        self._state = RfbState.RUNNING

    async def _read(self, n: int, what: str) -> bytes:
        assert self._reader is not None
        try:
            return await self._reader.readexactly(n)
        except asyncio.IncompleteReadError as err:
            raise RfbProtocolError(
                f"VNC server at {self._where} closed the connection while kiln was reading "
                f"the {what} (got {len(err.partial)} of {n} bytes)"
            ) from err
        except OSError as err:
            raise RfbProtocolError(
                f"VNC connection to {self._where} failed while reading the {what}: {err}"
            ) from err

    async def _read_string(self, what: str) -> str:
        (length,) = struct.unpack(">I", await self._read(4, f"{what} length"))
        if length > _MAX_STRING:
            raise RfbProtocolError(
                f"VNC server at {self._where} sent a {what} of {length} bytes (limit {_MAX_STRING})"
            )
        return (await self._read(length, what)).decode("latin-1")

    async def _write(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def _handshake(self, password: str | None) -> None:
        # 7.1.1 ProtocolVersion
        banner = await self._read(12, "protocol version")
        match = _VERSION_RE.fullmatch(banner)
        if match is None:
            raise RfbProtocolError(
                f"{self._where} is not a VNC server: it greeted with {banner!r}, "
                "expected b'RFB xxx.yyy\\n'"
            )
        major, minor = int(match[1]), int(match[2])
        self.server_version = (major, minor)
        if major < 3:
            raise RfbProtocolError(
                f"Error handshaking with VNC at {self._where}: unsupported major version, "
                f"less than 3: {major}"
            )
        if minor < 8:
            raise RfbProtocolError(
                f"Error handshaking with VNC at {self._where}: unsupported minor version, "
                f"less than 8: {minor} (kiln speaks RFB 3.8)"
            )
        await self._write(b"RFB 003.008\n")

        # 7.1.2 Security
        (count,) = await self._read(1, "number of security types")
        if count == 0:
            reason = await self._read_string("failure reason")
            raise RfbProtocolError(f"VNC server at {self._where} refused the connection: {reason}")
        offered = list(await self._read(count, "security types"))
        wanted = SECURITY_VNC_AUTH if password else SECURITY_NONE
        if wanted not in offered:
            names = ", ".join(f"{t} ({_SECURITY_NAMES.get(t, 'other')})" for t in offered)
            hint = (
                "a VNC password was given but the server does not ask for one"
                if password
                else "the server requires a password: set the VNC password"
            )
            raise RfbAuthError(
                f"VNC auth with {self._where}: no suitable auth schemes found. Server "
                f"supported: {names}; kiln offered {wanted} ({_SECURITY_NAMES[wanted]}): {hint}"
            )
        await self._write(bytes([wanted]))
        if wanted == SECURITY_VNC_AUTH:
            assert password is not None
            challenge = await self._read(16, "VNC auth challenge")
            await self._write(vnc_auth_response(password, challenge))

        # 7.1.3 SecurityResult
        (result,) = struct.unpack(">I", await self._read(4, "security result"))
        if result != 0:
            try:
                reason = await self._read_string("failure reason")
            except RfbProtocolError:
                reason = "no reason given"
            what = "wrong VNC password?" if wanted == SECURITY_VNC_AUTH else "server refused"
            raise RfbAuthError(
                f"VNC auth with {self._where} failed: security handshake failed: {reason} ({what})"
            )

        # 7.3.1 ClientInit (shared), 7.3.2 ServerInit
        await self._write(b"\x01")
        head = await self._read(20, "ServerInit")
        width, height = struct.unpack(">HH", head[:4])
        name = await self._read_string("desktop name")
        self.server_init = ServerInit(width, height, PixelFormat.unpack(head[4:]), name)

    async def _drain(self) -> None:
        """Read and drop server messages until the server closes; remember why it ended."""
        assert self._reader is not None
        try:
            while await self._reader.read(65536):
                pass
            self._lost = "the server closed the connection"
        except OSError as err:
            self._lost = f"the connection broke: {err}"

    # -- use ------------------------------------------------------------------------------

    async def key_event(self, keysym: int, down: bool) -> None:
        """Send one KeyEvent; raise `RfbDisconnectedError` if the server has gone away."""
        if self._state is not RfbState.RUNNING:
            raise RfbStateError(
                f"cannot send a VNC key event: the client is {self._state.value}, not running"
            )
        if self._lost is not None:
            raise RfbDisconnectedError(
                f"Error sending a key over VNC to {self._where}: {self._lost}"
            )
        try:
            await self._write(key_event_message(keysym, down))
        except (OSError, RuntimeError) as err:
            self._lost = self._lost or f"the connection broke: {err}"
            raise RfbDisconnectedError(
                f"Error sending a key over VNC to {self._where}: {self._lost}"
            ) from err

    async def wait_closed(self) -> str:
        """Wait until the server ends a running connection; return why it ended."""
        if self._state is not RfbState.RUNNING or self._drain_task is None:
            raise RfbStateError(
                f"cannot wait for the VNC server: the client is {self._state.value}, not running"
            )
        await asyncio.shield(self._drain_task)
        assert self._lost is not None
        return self._lost

    async def flush(self) -> None:
        """Wait until everything written so far has been handed to the OS."""
        if self._writer is not None and self._state is RfbState.RUNNING:
            try:
                await self._writer.drain()
            except (OSError, RuntimeError) as err:
                raise RfbDisconnectedError(
                    f"Error flushing VNC key events to {self._where}: {err}"
                ) from err

    async def close(self) -> None:
        """Close the connection; safe to call in any state, any number of times."""
        if self._state is RfbState.IDLE:
            return
        self._state = RfbState.DISCONNECTING
        await self._teardown()

    async def _teardown(self) -> None:
        task, self._drain_task = self._drain_task, None
        if task is not None:
            task.cancel()
            # asyncio.wait does not re-raise the task's CancelledError, so a cancellation of
            # the caller itself is not swallowed here.
            await asyncio.wait([task])
        writer, self._writer = self._writer, None
        self._reader = None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._state = RfbState.IDLE

"""RFB client byte-level tests against a scripted in-process server on a real localhost socket.

Each test's server script sends what a VNC server would and asserts the exact bytes the client
sends back (RFC 6143, RFB 3.8).

VNC DES test vectors (VNC_VECTORS) were derived independently of kiln's code with OpenSSL
3.0.19: the DES key is the password cut/zero-padded to 8 bytes with each byte's bits mirrored,
worked by hand for "password":
    p 0x70 01110000 -> 00001110 0x0E    a 0x61 01100001 -> 10000110 0x86
    s 0x73 01110011 -> 11001110 0xCE    s -> 0xCE
    w 0x77 01110111 -> 11101110 0xEE    o 0x6F 01101111 -> 11110110 0xF6
    r 0x72 01110010 -> 01001110 0x4E    d 0x64 01100100 -> 00100110 0x26
and then `openssl enc -provider legacy -provider default -des-ecb -K 0e86ceceeef64e26 -nopad`
on the challenge 00 01 02 ... 0f. (The same key bytes are the first checked value below.)
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from types import TracebackType

import pytest

from kiln.boot.drivers import VncKeyboard
from kiln.boot.grammar import KeyPress
from kiln.boot.rfb import (
    RfbAuthError,
    RfbClient,
    RfbConnectError,
    RfbDisconnectedError,
    RfbProtocolError,
    RfbState,
    RfbStateError,
    key_event_message,
    vnc_auth_response,
    vnc_des_key,
)
from kiln.boot.typist import type_actions
from kiln.errors import KilnError

CHALLENGE = bytes(range(16))
# password -> (DES key, response to CHALLENGE), from OpenSSL (see module docstring)
VNC_VECTORS = {
    "password": ("0e86ceceeef64e26", "b866924125c8eebb9debc1db61c538e2"),
    "pw": ("0eee000000000000", "858600d9af143c9e6541d3dd92a835d0"),
    "secret123": ("cea6c64ea62e8c4c", "adcd997f8e16fee575e973f93c2b62b4"),  # cut to 8 bytes
}

PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
NAME = b"QEMU (kiln-test)"
SERVER_INIT = struct.pack(">HH", 720, 400) + PIXEL_FORMAT + struct.pack(">I", len(NAME)) + NAME

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def state(client: RfbClient) -> RfbState:
    """The client's runstate (a call, so the type checker does not pin it between awaits)."""
    return client.runstate


async def expect(reader: asyncio.StreamReader, data: bytes) -> None:
    got = await reader.readexactly(len(data))
    assert got == data


class ScriptedServer:
    """A one-connection RFB server running `script`; `finished()` re-raises its failures."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.error: BaseException | None = None
        self.done = asyncio.Event()
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.script(reader, writer)
        except BaseException as err:  # reported by finished()
            self.error = err
        finally:
            writer.close()
            self.done.set()

    async def __aenter__(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def finished(self) -> None:
        await self.done.wait()
        if self.error is not None:
            raise self.error


async def handshake_none(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"RFB 003.008\n")
    await expect(reader, b"RFB 003.008\n")
    writer.write(b"\x01\x01")  # one security type: None
    await expect(reader, b"\x01")
    writer.write(struct.pack(">I", 0))  # SecurityResult OK
    await expect(reader, b"\x01")  # ClientInit shared
    writer.write(SERVER_INIT)
    await writer.drain()


# -- DES / messages --------------------------------------------------------------------------


@pytest.mark.parametrize("password", sorted(VNC_VECTORS))
def test_vnc_des_vectors(password: str) -> None:
    key, response = VNC_VECTORS[password]
    assert vnc_des_key(password).hex() == key
    assert vnc_auth_response(password, CHALLENGE).hex() == response


def test_des_key_of_empty_and_utf8_passwords() -> None:
    assert vnc_des_key("") == bytes(8)
    # "é" is 0xC3 0xA9 in UTF-8; mirrored: 11000011 -> 11000011, 10101001 -> 10010101
    assert vnc_des_key("é") == bytes([0xC3, 0x95, 0, 0, 0, 0, 0, 0])


def test_auth_response_rejects_short_challenge() -> None:
    with pytest.raises(RfbProtocolError):
        vnc_auth_response("pw", b"short")


@pytest.mark.parametrize(
    ("keysym", "down", "wire"),
    [
        (0xFF0D, True, "04010000 0000ff0d"),
        (0xFF0D, False, "04000000 0000ff0d"),
        (0x41, True, "04010000 00000041"),
        (0xFFE1, False, "04000000 0000ffe1"),
        (0x1000000 | 0x263A, True, "04010000 0100263a"),
    ],
)
def test_key_event_message(keysym: int, down: bool, wire: str) -> None:
    assert key_event_message(keysym, down) == bytes.fromhex(wire.replace(" ", ""))


# -- handshakes ------------------------------------------------------------------------------


async def test_handshake_without_password_and_key_events() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handshake_none(reader, writer)
        await expect(reader, bytes.fromhex("04010000 0000ff0d".replace(" ", "")))
        await expect(reader, bytes.fromhex("04000000 0000ff0d".replace(" ", "")))

    async with ScriptedServer(script) as server:
        client = RfbClient()
        assert state(client) is RfbState.IDLE
        await client.connect("127.0.0.1", server.port)
        assert state(client) is RfbState.RUNNING
        assert client.server_version == (3, 8)
        init = client.server_init
        assert init is not None
        assert (init.width, init.height, init.name) == (720, 400, "QEMU (kiln-test)")
        pf = init.pixel_format
        assert (pf.bits_per_pixel, pf.depth, pf.big_endian, pf.true_colour) == (32, 24, False, True)
        assert (pf.red_max, pf.red_shift, pf.green_shift, pf.blue_shift) == (255, 16, 8, 0)
        await client.key_event(0xFF0D, True)
        await client.key_event(0xFF0D, False)
        await client.flush()
        await server.finished()
        await client.close()
        assert state(client) is RfbState.IDLE


async def test_vnc_password_auth_sends_des_response() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await expect(reader, b"RFB 003.008\n")
        writer.write(b"\x02\x02\x01")  # VNC auth, None
        await expect(reader, b"\x02")
        writer.write(CHALLENGE)
        await expect(reader, bytes.fromhex(VNC_VECTORS["password"][1]))
        writer.write(struct.pack(">I", 0))
        await expect(reader, b"\x01")
        writer.write(SERVER_INIT)
        await expect(reader, key_event_message(0x61, True))

    async with ScriptedServer(script) as server:
        client = RfbClient()
        await client.connect("127.0.0.1", server.port, password="password")
        await client.key_event(0x61, True)
        await server.finished()
        await client.close()


async def test_wrong_password_is_a_clear_auth_error() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await expect(reader, b"RFB 003.008\n")
        writer.write(b"\x01\x02")
        await expect(reader, b"\x02")
        writer.write(CHALLENGE)
        await expect(reader, bytes.fromhex(VNC_VECTORS["pw"][1]))
        reason = b"Authentication failed"
        writer.write(struct.pack(">II", 1, len(reason)) + reason)
        await writer.drain()

    async with ScriptedServer(script) as server:
        client = RfbClient()
        with pytest.raises(RfbAuthError) as info:
            await client.connect("127.0.0.1", server.port, password="pw")
        assert isinstance(info.value, KilnError)
        msg = str(info.value)
        assert "VNC auth" in msg
        assert "Authentication failed" in msg
        assert "password" in msg
        assert state(client) is RfbState.IDLE
        await server.finished()


async def test_no_password_prefers_none_when_both_offered() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await expect(reader, b"RFB 003.008\n")
        writer.write(b"\x02\x02\x01")
        await expect(reader, b"\x01")
        writer.write(struct.pack(">I", 0))
        await expect(reader, b"\x01")
        writer.write(SERVER_INIT)
        await writer.drain()

    async with ScriptedServer(script) as server:
        client = RfbClient()
        await client.connect("127.0.0.1", server.port)
        await server.finished()
        await client.close()


@pytest.mark.parametrize(
    ("offered", "password", "fragment"),
    [
        (b"\x01\x02", None, "requires a password"),
        (b"\x01\x01", "secret", "does not ask for one"),
        (b"\x02\x10\x13", None, "no suitable auth schemes"),
    ],
)
async def test_security_type_mismatch(offered: bytes, password: str | None, fragment: str) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await expect(reader, b"RFB 003.008\n")
        writer.write(offered)
        await writer.drain()
        assert await reader.read() == b""  # the client hangs up without choosing

    async with ScriptedServer(script) as server:
        with pytest.raises(RfbAuthError, match=fragment):
            await RfbClient().connect("127.0.0.1", server.port, password=password)
        await server.finished()


async def test_server_refusal_reason_is_reported() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await expect(reader, b"RFB 003.008\n")
        reason = b"Too many connections"
        writer.write(b"\x00" + struct.pack(">I", len(reason)) + reason)
        await writer.drain()

    async with ScriptedServer(script) as server:
        with pytest.raises(RfbProtocolError, match="refused the connection: Too many connections"):
            await RfbClient().connect("127.0.0.1", server.port)
        await server.finished()


@pytest.mark.parametrize(
    ("banner", "fragment"),
    [
        (b"RFB 003.003\n", "unsupported minor version, less than 8: 3"),
        (b"RFB 003.007\n", "unsupported minor version, less than 8: 7"),
        (b"RFB 002.009\n", "unsupported major version, less than 3: 2"),
        (b"HTTP/1.1 400", "is not a VNC server"),
    ],
)
async def test_bad_versions(banner: bytes, fragment: str) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(banner)
        await writer.drain()
        assert await reader.read() == b""  # nothing is answered

    async with ScriptedServer(script) as server:
        with pytest.raises(RfbProtocolError, match=fragment):
            await RfbClient().connect("127.0.0.1", server.port)
        await server.finished()


async def test_newer_minor_version_is_answered_with_3_8() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.889\n")  # Apple Remote Desktop
        await expect(reader, b"RFB 003.008\n")
        writer.write(b"\x01\x01")
        await expect(reader, b"\x01")
        writer.write(struct.pack(">I", 0))
        await expect(reader, b"\x01")
        writer.write(SERVER_INIT)
        await writer.drain()

    async with ScriptedServer(script) as server:
        client = RfbClient()
        await client.connect("127.0.0.1", server.port)
        assert client.server_version == (3, 889)
        await server.finished()
        await client.close()


async def test_server_closing_mid_handshake() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"RFB 003.008\n")
        await expect(reader, b"RFB 003.008\n")
        writer.write(b"\x01")  # announces one type, then hangs up

    async with ScriptedServer(script) as server:
        with pytest.raises(RfbProtocolError, match="closed the connection"):
            await RfbClient().connect("127.0.0.1", server.port)
        await server.finished()


async def test_silent_server_times_out() -> None:
    release = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()

    async with ScriptedServer(script) as server:
        client = RfbClient()
        with pytest.raises(RfbConnectError, match=r"no complete handshake within 0\.2s"):
            await client.connect("127.0.0.1", server.port, timeout=0.2)
        assert state(client) is RfbState.IDLE
        release.set()
        await server.finished()


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(RfbConnectError, match=f"Error connecting to VNC at 127.0.0.1:{port}"):
            await RfbClient().connect("127.0.0.1", port)


# -- after the handshake ---------------------------------------------------------------------


async def test_server_messages_are_drained_and_keys_still_flow() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handshake_none(reader, writer)
        writer.write(b"\x02" * 1000 + b"\x03\x00\x00\x00\x00\x00\x00\x05hello")  # bells, cut text
        await writer.drain()
        await expect(reader, key_event_message(0x7A, True) + key_event_message(0x7A, False))

    async with ScriptedServer(script) as server:
        client = RfbClient()
        await client.connect("127.0.0.1", server.port)
        await client.key_event(0x7A, True)
        await client.key_event(0x7A, False)
        await server.finished()
        await client.close()


async def test_key_event_after_server_left_raises() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handshake_none(reader, writer)

    async with ScriptedServer(script) as server:
        client = RfbClient()
        await client.connect("127.0.0.1", server.port)
        await server.finished()
        assert await client.wait_closed() == "the server closed the connection"
        with pytest.raises(RfbDisconnectedError, match="server closed the connection"):
            await client.key_event(0x61, True)
        await client.close()


async def test_state_errors() -> None:
    client = RfbClient()
    with pytest.raises(RfbStateError):
        await client.key_event(0x61, True)
    with pytest.raises(RfbStateError):
        await client.wait_closed()
    await client.close()  # closing an idle client is a no-op
    assert state(client) is RfbState.IDLE

    async with ScriptedServer(handshake_none) as server:
        await client.connect("127.0.0.1", server.port)
        with pytest.raises(RfbStateError, match="needs it idle"):
            await client.connect("127.0.0.1", server.port)
        await client.close()
        await client.close()
        await server.finished()


async def test_vnc_keyboard_types_shifted_character_exactly() -> None:
    want = b"".join(
        key_event_message(k, d)
        for k, d in [(0xFFE1, True), (0x41, True), (0x41, False), (0xFFE1, False)]
    )

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handshake_none(reader, writer)
        await expect(reader, want)
        assert await reader.read() == b""  # then the keyboard closes the connection

    async with ScriptedServer(script) as server:
        async with await VncKeyboard.connect("127.0.0.1", server.port) as keyboard:
            typed = await type_actions(keyboard, [KeyPress(0x41, True, "A")], interval=0)
            assert typed == 1
        assert state(keyboard.client) is RfbState.IDLE
        await server.finished()


async def test_cancelled_connect_leaves_client_idle() -> None:
    release = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()

    async with ScriptedServer(script) as server:
        client = RfbClient()
        task = asyncio.create_task(client.connect("127.0.0.1", server.port))
        while state(client) is not RfbState.CONNECTING:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert state(client) is RfbState.IDLE
        release.set()
        await server.finished()

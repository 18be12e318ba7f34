"""Keyboard drivers: where typed keys go. VNC (Packer's way) and QMP `input-send-event`.

Both take X11 keysyms, so the typist is the same for both; Shift is an ordinary key event
(0xFFE1) sent by the typist, never added by a driver.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from qemu.qmp import QMPClient, QMPError

from kiln.boot.keys import describe_keysym, qcode_for_keysym
from kiln.boot.rfb import RfbClient
from kiln.errors import KilnError


@runtime_checkable
class KeyboardDriver(Protocol):
    """Something that presses and releases keys identified by X11 keysyms."""

    async def key_down(self, keysym: int) -> None: ...

    async def key_up(self, keysym: int) -> None: ...

    async def flush(self) -> None:
        """Deliver every event sent so far (the typist calls this before each wait)."""

    async def close(self) -> None: ...


class VncKeyboard:
    """Types over a VNC (RFB 3.8) connection; an async context manager that closes it."""

    def __init__(self, client: RfbClient) -> None:
        self._client = client

    @classmethod
    async def connect(
        cls, host: str, port: int, *, password: str | None = None, timeout: float = 10.0
    ) -> VncKeyboard:
        """Connect to the VNC server at host:port (RFB handshake done within `timeout`)."""
        client = RfbClient()
        await client.connect(host, port, password=password, timeout=timeout)
        return cls(client)

    @property
    def client(self) -> RfbClient:
        """The RFB connection (for its `server_init`: desktop size and name)."""
        return self._client

    async def key_down(self, keysym: int) -> None:
        await self._client.key_event(keysym, True)

    async def key_up(self, keysym: int) -> None:
        await self._client.key_event(keysym, False)

    async def flush(self) -> None:
        await self._client.flush()

    async def close(self) -> None:
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class QmpKeyboardError(KilnError):
    """A key could not be typed over QMP."""


class QmpKeyboard:
    """Types with QMP `input-send-event` (QKeyCodes, US layout) on an open `QMPClient`.

    `batch` is how many key events are collected into one `input-send-event` command: 1 (the
    default) sends every event at once, which is what the typist's per-event pause expects;
    a larger batch only pays off at key interval 0. Pending events are sent by `flush()` (the
    typist flushes before each wait and at the end) and by `close()`. The QMP connection is
    borrowed, never closed here. Keysyms with no key on a US keyboard raise
    `QmpKeyboardError` before anything is sent for them.
    """

    def __init__(self, qmp: QMPClient, *, batch: int = 1) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self._qmp = qmp
        self._batch = batch
        self._pending: list[dict[str, Any]] = []
        self.commands_sent = 0

    def _event(self, keysym: int, down: bool) -> dict[str, Any]:
        qcode = qcode_for_keysym(keysym)
        if qcode is None:
            raise QmpKeyboardError(
                f"the QMP keyboard cannot type {describe_keysym(keysym)} (keysym "
                f"0x{keysym:X}): no key on a US keyboard produces it. Remove it from "
                "boot_command or type it with the VNC driver."
            )
        return {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": qcode}}}

    async def _add(self, keysym: int, down: bool) -> None:
        self._pending.append(self._event(keysym, down))
        if len(self._pending) >= self._batch:
            await self.flush()

    async def key_down(self, keysym: int) -> None:
        await self._add(keysym, True)

    async def key_up(self, keysym: int) -> None:
        await self._add(keysym, False)

    async def flush(self) -> None:
        if not self._pending:
            return
        events, self._pending = self._pending, []
        try:
            await self._qmp.execute("input-send-event", {"events": events})
        except QMPError as err:
            raise QmpKeyboardError(
                f"Error sending keys over QMP (input-send-event): {err}"
            ) from err
        self.commands_sent += 1

    async def close(self) -> None:
        await self.flush()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

"""The typist: Packer's event order and timing rules, counts, progress, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from qemu.qmp import QMPClient

from kiln.boot.drivers import KeyboardDriver, QmpKeyboard, QmpKeyboardError, VncKeyboard
from kiln.boot.grammar import BootCommandError, Wait, parse_boot_command
from kiln.boot.typist import key_interval_from, type_actions


class Recorder:
    """A KeyboardDriver that writes down what it is asked to do."""

    def __init__(self, log: list[str], gate: asyncio.Event | None = None) -> None:
        self.log = log
        self.gate = gate

    async def key_down(self, keysym: int) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.log.append(f"D{keysym:X}")

    async def key_up(self, keysym: int) -> None:
        self.log.append(f"U{keysym:X}")

    async def flush(self) -> None:
        self.log.append("flush")

    async def close(self) -> None:
        self.log.append("close")


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The driver's calls interleaved with the typist's sleeps (`sleep <seconds>`)."""
    entries: list[str] = []
    real_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def sleep(seconds: float) -> None:
        entries.append(f"sleep {seconds:g}")
        await real_sleep(0)

    monkeypatch.setattr("kiln.boot.typist.asyncio.sleep", sleep)
    return entries


def test_drivers_satisfy_the_protocol() -> None:
    assert isinstance(Recorder([]), KeyboardDriver)
    assert issubclass(VncKeyboard, KeyboardDriver)
    assert issubclass(QmpKeyboard, KeyboardDriver)


async def test_sleeps_after_every_event_and_wraps_shift(log: list[str]) -> None:
    n = await type_actions(Recorder(log), parse_boot_command("aA"), interval=0.05)
    assert n == 2
    s = "sleep 0.05"
    assert log == [
        *("D61", s, "U61", s),
        *("DFFE1", s, "D41", s, "U41", s, "UFFE1", s),
        "flush",
    ]


async def test_toggles_use_latest_sdk_order(log: list[str]) -> None:
    await type_actions(Recorder(log), parse_boot_command("<AOn><AOff><leftCtrlOn>"), interval=0)
    assert log == ["DFFE1", "D41", "U41", "UFFE1", "DFFE3", "flush"]


async def test_wait_flushes_then_sleeps(log: list[str]) -> None:
    await type_actions(Recorder(log), parse_boot_command("x<wait2>y<wait250ms>"), interval=0)
    assert log == ["D78", "U78", "flush", "sleep 2", "D79", "U79", "flush", "sleep 0.25", "flush"]


async def test_progress_and_count(log: list[str]) -> None:
    seen: list[tuple[int, int]] = []
    actions = parse_boot_command("ab<wait1ms><enter>")
    typed = await type_actions(
        Recorder(log), actions, interval=0, on_progress=lambda d, t: seen.append((d, t))
    )
    assert typed == 3
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.parametrize("seconds", [0.0, -1.0])
async def test_non_positive_wait_action_is_refused(log: list[str], seconds: float) -> None:
    with pytest.raises(BootCommandError, match=r"positive wait value\. Got (0s|-1s)"):
        await type_actions(Recorder(log), [Wait(seconds)], interval=0)
    assert log == []


async def test_cancellation_propagates_and_stops_typing() -> None:
    log: list[str] = []
    gate = asyncio.Event()
    task = asyncio.create_task(
        type_actions(Recorder(log, gate), parse_boot_command("abc"), interval=0)
    )
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    await asyncio.sleep(0)
    assert log == []


async def test_cancellation_during_a_wait() -> None:
    log: list[str] = []
    task = asyncio.create_task(
        type_actions(Recorder(log), parse_boot_command("a<wait1h>b"), interval=0)
    )
    while "flush" not in log:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["D61", "U61", "flush"]


@pytest.mark.parametrize(
    ("boot_key_interval", "env", "expected"),
    [
        (None, {}, 0.1),
        (0.0, {}, 0.1),
        (-1.0, {}, 0.1),
        (0.25, {}, 0.25),
        (0.25, {"PACKER_KEY_INTERVAL": "10ms"}, 0.25),
        (None, {"PACKER_KEY_INTERVAL": "10ms"}, 0.01),
        (0.0, {"PACKER_KEY_INTERVAL": "1m"}, 60.0),
        (None, {"PACKER_KEY_INTERVAL": "0"}, 0.0),
        (None, {"PACKER_KEY_INTERVAL": "-5ms"}, 0.0),
        (None, {"PACKER_KEY_INTERVAL": "abc"}, 0.1),
        (None, {"PACKER_KEY_INTERVAL": "5"}, 0.1),
        (None, {"PACKER_KEY_INTERVAL": ""}, 0.1),
        (None, {"OTHER": "10ms"}, 0.1),
    ],
)
def test_key_interval_precedence(
    boot_key_interval: float | None, env: dict[str, str], expected: float
) -> None:
    assert key_interval_from(boot_key_interval, env) == expected


async def test_qmp_keyboard_refuses_keys_without_a_us_key() -> None:
    keyboard = QmpKeyboard(QMPClient("unconnected"))
    with pytest.raises(QmpKeyboardError, match=r"cannot type 'é' \(keysym 0xE9\)"):
        await keyboard.key_down(0xE9)


async def test_qmp_keyboard_reports_a_dead_connection() -> None:
    keyboard = QmpKeyboard(QMPClient("unconnected"))
    with pytest.raises(QmpKeyboardError, match="input-send-event"):
        await keyboard.key_down(0x61)


async def test_qmp_keyboard_batches_until_flush() -> None:
    keyboard = QmpKeyboard(QMPClient("unconnected"), batch=8)
    await keyboard.key_down(0x61)  # queued, nothing sent yet
    await keyboard.key_up(0x61)
    assert keyboard.commands_sent == 0
    with pytest.raises(QmpKeyboardError):
        await keyboard.flush()


def test_qmp_keyboard_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch"):
        QmpKeyboard(QMPClient("unconnected"), batch=0)

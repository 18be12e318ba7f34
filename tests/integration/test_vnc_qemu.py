"""The VNC client and both keyboard drivers against a real `qemu-system-x86_64` (TCG, no disk).

Proving that the guest receives every key needs a guest that echoes; that end-to-end check
lives with the test guest. Here: the RFB handshake with and without a password, a clear error
for a wrong password, key events over VNC, and `input-send-event` over QMP, plus the measured
key rates at interval 0 (printed, not asserted).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from qemu.qmp import QMPClient

from kiln.boot.drivers import QmpKeyboard, VncKeyboard
from kiln.boot.grammar import KeyPress, Wait, parse_boot_command
from kiln.boot.keys import SPECIAL_KEYS
from kiln.boot.rfb import RfbAuthError
from kiln.boot.typist import type_actions
from kiln.errors import KilnError

QEMU = shutil.which("qemu-system-x86_64")

PASSWORD = "kiln-pw"
# Every special key, every printable ASCII character, toggles and a wait.
TYPED = (
    "".join(f"<{name}>" for name in SPECIAL_KEYS)
    + "<wait10ms>"
    + "".join(chr(c) for c in range(0x20, 0x7F))
    + "<leftShiftOn>x<leftShiftOff><AOn><AOff><enter>"
)
NO_SCANCODE = "no scancode found for keysym"


def _free_display() -> int:
    """A VNC display number N whose port 5900+N is free on 127.0.0.1 right now."""
    for display in range(20, 100):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", 5900 + display))
            except OSError:
                continue
            return display
    raise RuntimeError("no free VNC port between 5920 and 5999")


@dataclass
class Qemu:
    proc: asyncio.subprocess.Process
    qmp: QMPClient
    vnc_port: int
    stderr: Path

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.read_text().splitlines() if NO_SCANCODE in line]


@contextlib.asynccontextmanager
async def run_qemu(tmp_path: Path, *, password: bool) -> AsyncIterator[Qemu]:
    """Start QEMU (TCG, 64 MiB, no disk) with VNC on 127.0.0.1 and QMP on a unix socket."""
    assert QEMU is not None, "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    display = _free_display()
    qmp_sock = tmp_path / "qmp.sock"
    vnc = f"127.0.0.1:{display}" + (",password=on" if password else "")
    argv = [QEMU, "-machine", "pc,accel=tcg", "-display", "none", "-vnc", vnc]
    argv += ["-qmp", f"unix:{qmp_sock},server=on,wait=off", "-m", "64"]
    stderr = tmp_path / "qemu.stderr"
    with stderr.open("wb") as err_file:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err_file,
        )
    qmp = QMPClient("kiln-test")
    try:
        for _ in range(500):
            if proc.returncode is not None:
                break
            if not qmp_sock.exists():
                await asyncio.sleep(0.02)
                continue
            try:
                await qmp.connect(str(qmp_sock))
                break
            except Exception:  # QEMU has not created its socket yet
                await asyncio.sleep(0.02)
        if qmp.runstate.name != "RUNNING":
            raise RuntimeError(f"QEMU did not come up: {argv}\n{stderr.read_text()}")
        if password:
            await qmp.execute("change-vnc-password", {"password": PASSWORD})
        yield Qemu(proc, qmp, 5900 + display, stderr)
    finally:
        if qmp.runstate.name == "RUNNING":
            with contextlib.suppress(Exception):
                await qmp.execute("quit")
        with contextlib.suppress(Exception):
            await qmp.disconnect()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_handshake_without_password(tmp_path: Path) -> None:
    async with run_qemu(tmp_path, password=False) as qemu:
        kb = await VncKeyboard.connect("127.0.0.1", qemu.vnc_port)
        async with kb:
            init = kb.client.server_init
            assert init is not None
            assert init.width > 0
            assert init.height > 0
            assert kb.client.server_version is not None
            assert kb.client.server_version >= (3, 8)


async def test_password_right_and_wrong(tmp_path: Path) -> None:
    async with run_qemu(tmp_path, password=True) as qemu:
        async with await VncKeyboard.connect("127.0.0.1", qemu.vnc_port, password=PASSWORD) as kb:
            await kb.key_down(0x61)
            await kb.key_up(0x61)
        with pytest.raises(RfbAuthError) as info:
            await VncKeyboard.connect("127.0.0.1", qemu.vnc_port, password="wrong")
        assert isinstance(info.value, KilnError)
        assert "VNC auth" in str(info.value)
        with pytest.raises(RfbAuthError, match="requires a password"):
            await VncKeyboard.connect("127.0.0.1", qemu.vnc_port)


async def test_vnc_types_a_boot_command_qemu_can_map(tmp_path: Path) -> None:
    """QEMU warns `no scancode found for keysym N` for every keysym its US keymap lacks.

    A final 'é' (keysym 233, unmapped) is a barrier: once its warning is in QEMU's stderr,
    QEMU has handled every earlier event, and none of those may have been warned about.
    """
    actions = parse_boot_command(TYPED)
    async with run_qemu(tmp_path, password=False) as qemu:
        async with await VncKeyboard.connect("127.0.0.1", qemu.vnc_port) as kb:
            typed = await type_actions(kb, actions, interval=0.001)
            await kb.key_down(0xE9)
            await kb.flush()
            while not qemu.warnings():
                await asyncio.sleep(0.05)
        assert typed == len(actions) - 1  # all but the wait
        assert qemu.warnings() == [f"qemu-system-x86_64: warning: {NO_SCANCODE} 233"]
        status = await qemu.qmp.execute("query-status")
        assert isinstance(status, dict)
        assert status["status"] == "running"


async def test_qmp_types_a_boot_command(tmp_path: Path) -> None:
    actions = parse_boot_command(TYPED)
    async with run_qemu(tmp_path, password=False) as qemu:
        keyboard = QmpKeyboard(qemu.qmp)
        typed = await type_actions(keyboard, actions, interval=0.001)
        await keyboard.close()
        assert typed == len(actions) - 1
        events = sum(
            (2 if isinstance(a, KeyPress) else 1) * (2 if a.shift else 1)
            for a in actions
            if not isinstance(a, Wait)
        )
        assert keyboard.commands_sent == events
        batched = QmpKeyboard(qemu.qmp, batch=16)
        await type_actions(batched, actions, interval=0)
        assert batched.commands_sent == -(-events // 16) + 1  # + the flush before the wait


async def test_key_rates_at_interval_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 2000
    actions = [KeyPress(0x61 + i % 26, False, "x") for i in range(n)]
    rates: dict[str, float] = {}
    async with run_qemu(tmp_path, password=False) as qemu:
        async with await VncKeyboard.connect("127.0.0.1", qemu.vnc_port) as kb:
            start = time.perf_counter()
            assert await type_actions(kb, actions, interval=0) == n
            rates["VncKeyboard (sent)"] = n / (time.perf_counter() - start)
            await kb.key_down(0xE9)  # barrier: QEMU warns about it after handling the rest
            while not qemu.warnings():
                await asyncio.sleep(0.005)
            rates["VncKeyboard (handled by QEMU)"] = n / (time.perf_counter() - start)
        for batch in (1, 64):
            keyboard = QmpKeyboard(qemu.qmp, batch=batch)
            start = time.perf_counter()
            assert await type_actions(keyboard, actions, interval=0) == n
            rates[f"QmpKeyboard batch={batch}"] = n / (time.perf_counter() - start)
    with capsys.disabled():
        for name, rate in rates.items():
            print(f"\n{name}: {rate:,.0f} keys/s ({n} key presses, interval 0)")

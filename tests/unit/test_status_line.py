"""The live status line: the guest's last console line and the elapsed time, terminal only."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from kiln.ui.output import Ui
from kiln.ui.status import format_elapsed, last_console_line, live_status


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_last_console_line_skips_control_sequences_and_blank_lines(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    assert last_console_line(log) == ""  # not there yet
    log.write_bytes(
        b"[    1.0] booting\r\n\x1b[1;24r\x1b[H\x1b[J  Installing the  base system\x1b[0m\r\n"
        b"\x1b[24;1H\x0f   \r\n\r\n"
    )
    assert last_console_line(log) == "Installing the base system"


def test_elapsed() -> None:
    assert [format_elapsed(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


async def test_the_line_shows_on_a_terminal_and_goes_away(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_text("Retrieving file 12 of 180\n")
    out = Tty()
    ui = Ui(out=out, color=False)
    async with live_status(ui, "debian12", "waiting for SSH", log):
        await asyncio.sleep(0.05)
        ui.say("a line in the middle", "debian12")
        log.write_text("Retrieving file 13 of 180\n")
        await asyncio.sleep(1.1)
    text = out.getvalue()
    assert "\r\x1b[K    debian12: waiting for SSH, 0s — Retrieving file 12 of 180" in text
    assert "\r\x1b[K==> debian12: a line in the middle\n" in text  # cleared, written, redrawn
    assert "waiting for SSH, 1s — Retrieving file 13 of 180" in text
    assert text.endswith("\r\x1b[K")  # gone at the end
    assert ui.status is None


async def test_nothing_goes_into_pipes_or_machine_readable_output(tmp_path: Path) -> None:
    log = tmp_path / "serial.log"
    log.write_text("console text\n")
    for ui in (Ui(out=io.StringIO(), color=False), Ui(out=Tty(), machine_readable=True)):
        async with live_status(ui, "qemu", "waiting for SSH", log):
            await asyncio.sleep(0.05)
        assert "console text" not in ui.out.getvalue()  # type: ignore[attr-defined]

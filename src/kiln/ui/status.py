"""A live status line for long waits, on a terminal only.

While kiln waits for the guest (an OS install often takes many minutes), the last line of
the terminal shows the elapsed time and the last line the guest printed on its serial
console: `    qemu: waiting for SSH, 3m12s — Installing the base system...`. Output lines
are written above it (the Ui clears the line, writes, and draws it again). Nothing of it
goes into pipes, files or machine-readable output: it exists only on a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from kiln.ui.output import Ui

REFRESH_SECONDS = 1.0
_TAIL_BYTES = 8192
# Terminal control sequences and other non-printing characters a guest's console emits.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]|[\x00-\x1f\x7f]"
)


def last_console_line(path: Path) -> str:
    """The last line with text in the serial log (control sequences removed), or ""."""
    try:
        with path.open("rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - _TAIL_BYTES, 0))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    for raw in reversed(re.split(r"[\r\n]", data)):
        line = " ".join(_CONTROL.sub(" ", raw).split())
        if line:
            return line
    return ""


def format_elapsed(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole // 60 % 60:02d}m"


class StatusLine:
    """The line itself; the Ui calls `clear`/`redraw` around every line it writes."""

    def __init__(self, ui: Ui, target: str, what: str, console: Callable[[], str]) -> None:
        self.ui = ui
        self.target = target
        self.what = what
        self.console = console
        self.started = time.monotonic()
        self._shown = False

    def text(self) -> str:
        elapsed = format_elapsed(time.monotonic() - self.started)
        head = f"    {self.target}: {self.what}, {elapsed}"
        last = self.console()
        line = f"{head} — {last}" if last else head
        width = shutil.get_terminal_size((100, 24)).columns - 1
        return line if len(line) <= width else line[: max(width - 1, 0)] + "…"

    def clear(self) -> None:
        if self._shown:
            self.ui.out.write("\r\033[K")
            self._shown = False

    def redraw(self) -> None:
        self.ui.out.write("\r\033[K" + self.ui.redact(self.text()))
        self.ui.out.flush()
        self._shown = True


def wanted(ui: Ui) -> bool:
    """Only on a terminal, and never in machine-readable mode."""
    if ui.machine_readable or ui.status is not None:
        return False
    try:
        return ui.out.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.asynccontextmanager
async def live_status(ui: Ui, target: str, what: str, serial_log: Path) -> AsyncIterator[None]:
    """Show the status line for the duration of the block (if `wanted`)."""
    if not wanted(ui):
        yield
        return
    line = StatusLine(ui, target, what, lambda: last_console_line(serial_log))

    async def refresh() -> None:
        while True:
            with ui.lock:
                line.redraw()
            await asyncio.sleep(REFRESH_SECONDS)

    ui.status = line
    task = asyncio.create_task(refresh())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with ui.lock:
            line.clear()
            ui.out.flush()
            ui.status = None

"""Download progress: a rich bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import time
from typing import Any

from kiln.ui.output import Ui


class DownloadProgress:
    """Implements `kiln.media.fetch.Progress` for one build's output."""

    def __init__(self, ui: Ui, target: str) -> None:
        self.ui = ui
        self.target = target
        self._bar: Any = None
        self._task: Any = None
        self._name = ""
        self._total: int | None = None
        self._done = 0
        self._last_report = 0.0
        self._started = 0.0

    def start(self, name: str, total: int | None) -> None:
        self._name, self._total, self._done = name, total, 0
        self._started = self._last_report = time.monotonic()
        if not self.ui.machine_readable and self.ui.out.isatty():  # a bar on a terminal only
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TaskProgressColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            # Packer's bar (cheggaaa/pb): binary units, percentage, speed and time left.
            self._bar = Progress(
                "    [progress.description]{task.description}",
                DownloadColumn(binary_units=True),
                BarColumn(),
                TaskProgressColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.ui.out, force_terminal=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(f"{self.target}: {name}", total=total)

    def advance(self, nbytes: int) -> None:
        self._done += nbytes
        if self._bar is not None:
            self._bar.update(self._task, advance=nbytes)
            return
        now = time.monotonic()
        if now - self._last_report >= 5.0:
            self._last_report = now
            self.ui.message(self._line(), self.target)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        self.ui.message(self._line(final=True), self.target)

    def _line(self, final: bool = False) -> str:
        mib = self._done / 2**20
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = self._done / elapsed
        speed = f", {rate / 2**20:.1f} MiB/s"
        if self._total:
            pct = 100 * self._done / self._total
            left = (self._total - self._done) / rate if rate > 0 else None
            eta = "" if final or left is None else f", {_clock(left)} left"
            return (
                f"{self._name}: {mib:.1f} MiB of {self._total / 2**20:.1f} MiB ({pct:.0f}%)"
                f"{speed}{eta}"
            )
        return f"{self._name}: {mib:.1f} MiB" + (" downloaded" if final else "") + speed


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"

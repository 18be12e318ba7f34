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

    def start(self, name: str, total: int | None) -> None:
        self._name, self._total, self._done = name, total, 0
        self._last_report = time.monotonic()
        if self.ui.color and self.ui.out.isatty():
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                "    [progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
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
        if self._total:
            pct = 100 * self._done / self._total
            return f"{self._name}: {mib:.1f} MiB of {self._total / 2**20:.1f} MiB ({pct:.0f}%)"
        return f"{self._name}: {mib:.1f} MiB" + (" downloaded" if final else "")

"""The Ui bound to one build (every line carries the build's name)."""

from __future__ import annotations

from kiln.ui.output import Ui
from kiln.ui.redact import redact_data


class BuildUi:
    """The Ui bound to one build's name (every line is prefixed with it).

    Post-processors bind it to `name (type)`, as Packer labels their lines. `progress` is
    what a step is doing now ("Creating hard drive..."); a dry run does none of it, so its
    Ui is made with `progress=False` and those lines go nowhere.
    """

    __slots__ = ("name", "show_progress", "ui")

    def __init__(self, ui: Ui, name: str, *, progress: bool = True) -> None:
        self.ui = ui
        self.name = name
        self.show_progress = progress

    def say(self, message: str) -> None:
        self.ui.say(message, self.name)

    def progress(self, message: str) -> None:
        if self.show_progress:
            self.ui.say(message, self.name)

    def message(self, message: str) -> None:
        self.ui.message(message, self.name)

    def output(self, line: str) -> None:
        """A line a command or the guest printed: data, redacted as such (no name kept)."""
        self.ui.message(redact_data(line), self.name)

    def error(self, message: str) -> None:
        self.ui.error(message, self.name)

    def warn(self, message: str) -> None:
        self.ui.warn(message, self.name)

    def machine(self, kind: str, *data: str) -> None:
        self.ui.machine(self.name, kind, *data)

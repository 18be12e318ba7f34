"""The error types every part of kiln raises.

A `KilnError` is an expected failure with a message written for the user: the CLI prints
it without a traceback (the traceback only appears with `-debug`). Anything else that
escapes is a bug in kiln.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal


def format_errors(
    errors: Sequence[str], *, style: Literal["multierror", "packer"] = "multierror"
) -> str:
    """Several errors as Packer prints them — the one formatter.

    `multierror` (hashicorp/go-multierror, Packer's validation): ``1 error occurred:`` /
    ``N errors occurred:`` then a tab-indented ``* msg`` line each. `packer` (Packer's own
    `MultiError`, post-processor failures in packer/build.go): ``N error(s) occurred:``, a
    blank line, then ``* msg`` lines.
    """
    n = len(errors)
    if style == "packer":
        return f"{n} error(s) occurred:\n\n" + "\n".join(f"* {e}" for e in errors)
    head = "1 error occurred:" if n == 1 else f"{n} errors occurred:"
    return head + "\n" + "\n".join(f"\t* {e}" for e in errors)


def describe_os_error(err: OSError) -> str:
    """An `OSError` in words for the user: the cause, then the file(s) it concerns.

    'No space left on device (writing /out/disk.qcow2)' rather than Python's
    "[Errno 28] No space left on device: '/out/disk.qcow2'".
    """
    cause = err.strerror or str(err) or type(err).__name__
    names = [str(n) for n in (err.filename, err.filename2) if n is not None]
    return f"{cause} ({' → '.join(names)})" if names else cause


class KilnError(Exception):
    """An expected failure; `str(err)` is the message shown to the user."""


class MultiError(KilnError):
    """Several independent problems found at once (validation collects them all).

    Printed like Packer: ``N error(s) occurred:`` then one ``* msg`` line per error.
    """

    def __init__(self, errors: Iterable[str | Exception]) -> None:
        self.errors: list[str] = [str(e) for e in errors]
        super().__init__(self.format())

    def format(self) -> str:
        return format_errors(self.errors)


class TemplateError(KilnError):
    """A Go-template expression could not be parsed or executed.

    `where` names the template key (e.g. ``builders[0].boot_command``); `pos` is the
    1-based line:column inside the string, when known.
    """

    def __init__(self, problem: str, *, where: str = "", line: int = 0, col: int = 0) -> None:
        self.problem = problem
        self.where = where
        self.line = line
        self.col = col
        super().__init__(self._render())

    def _render(self) -> str:
        loc = self.location()
        return f"{loc}: {self.problem}"

    def location(self) -> str:
        """`template: where:line:col`, the error's place without its text."""
        loc = self.where
        if self.line:
            loc += f":{self.line}:{self.col}"
        return f"template: {loc}" if loc else "template"

    def located(self, where: str) -> TemplateError:
        """The same error, attributed to the template key `where`."""
        return TemplateError(self.problem, where=where, line=self.line, col=self.col)


class BuildCancelled(KilnError):
    """The user interrupted the build (Ctrl-C, SIGTERM)."""

    def __init__(self) -> None:
        super().__init__("Build was cancelled.")

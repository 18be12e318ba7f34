"""What a builder gives the engine: its steps, its state, its artifact (Packer's Builder).

A step is an async context manager factory: entering it does the work, leaving it cleans
up what it made. The engine enters the builder's steps in order inside one
`AsyncExitStack` (kiln.engine.runner).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.ui.build import BuildUi

if TYPE_CHECKING:
    from kiln.engine.plan import BuildPlan
    from kiln.engine.state import BuildState

S = TypeVar("S", bound="BuildState[Any]")
Step = Callable[[S], AbstractAsyncContextManager[None]]


class Builder(Protocol[S]):
    """A builder type (`qemu`), as the engine runs it."""

    # Files in the build's work directory that explain a failure (kept on error).
    forensic_files: Sequence[str]

    def steps(self, state: S) -> Sequence[tuple[str, Step[S]]]:
        """(name for timings and -debug, step), in the order they run.

        The list may depend on the build's options (as Packer's builders add steps only
        when a feature is on), so a feature that is off adds no step and no timing line.
        """
        ...

    def new_state(
        self, plan: BuildPlan[Any], ui: BuildUi, options: RunOptions, work_dir: Path
    ) -> S: ...

    def check(self, state: S) -> None:
        """Raise a KilnError when the build cannot start (a binary is missing, …)."""
        ...

    def artifact(self, state: S) -> Artifact: ...

    async def error_cleanup(self, state: S) -> None:
        """-on-error=run-cleanup-provisioner: run it; report, never raise, its failure."""
        ...

"""The state every build has, whatever its builder; a builder's state extends it."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan
from kiln.engine.result import StepTiming
from kiln.ui.build import BuildUi

C = TypeVar("C")


@dataclass(slots=True)
class BuildState(Generic[C]):
    """What the engine and every step share (Packer's state bag, as one typed object)."""

    plan: BuildPlan[C]
    ui: BuildUi
    options: RunOptions
    work_dir: Path  # this build's private temp dir (floppy, CD, sockets, logs)
    output_dir: Path
    artifact: Artifact | None = None
    timings: list[StepTiming] = field(default_factory=list)
    failed: bool = False
    keep_output: bool = False  # -on-error=abort: leave what was made for inspection
    started: float = field(default_factory=time.monotonic)

    @property
    def name(self) -> str:
        return self.plan.name


def make_work_dir(name: str) -> Path:
    """A private temporary directory for one build (removed when the build ends)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Path(tempfile.mkdtemp(prefix=f"kiln-{safe}-"))

"""How a build went: its artifacts or its error, and how long each step took."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiln.engine.artifact import Artifact


@dataclass(slots=True)
class StepTiming:
    name: str
    seconds: float


@dataclass(slots=True)
class BuildResult:
    name: str
    artifact: Artifact | None
    error: str | None
    timings: list[StepTiming]
    failure_dir: Path | None = None
    cancelled: bool = False
    # What the build leaves after post-processors (the builder's artifact if none ran).
    artifacts: list[Artifact] = field(default_factory=list)

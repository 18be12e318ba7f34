"""What a post-processor gets (`PostContext`) and gives back (`PostResult`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.engine.artifact import Artifact
from kiln.engine.plan import BuildPlan, StepPlan
from kiln.ui.build import BuildUi
from kiln.ui.output import Ui


@dataclass(slots=True)
class PostResult:
    """What a post-processor made, and Packer's (keep, forceOverride) for its input."""

    artifact: Artifact
    keep_input: bool
    force_keep: bool = False


PostProcessor = Callable[[Any, Artifact, "PostContext"], Awaitable[PostResult]]


@dataclass(slots=True)
class PostContext:
    """One post-processor's view: the build, where to print, the run's options."""

    plan: BuildPlan[Any]
    ui: Ui
    step: StepPlan
    force: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    build_values: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the environment kiln runs in

    @property
    def target(self) -> str:
        return f"{self.plan.name} ({self.step.type})"

    @property
    def out(self) -> BuildUi:
        """The Ui bound to this post-processor's lines (`build (type)`)."""
        return BuildUi(self.ui, self.target)

    def say(self, message: str) -> None:
        self.out.say(message)

    def message(self, message: str) -> None:
        self.out.message(message)

    def error(self, message: str) -> None:
        self.out.error(message)

    def functions(self) -> dict[str, Any]:
        return self.plan.functions(self.build_values)

    def resolve(self, name: str) -> Path:
        path = Path(name).expanduser()
        return path if path.is_absolute() else self.cwd / path

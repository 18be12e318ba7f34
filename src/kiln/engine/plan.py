"""What the engine runs: checked, ready-to-run builds (made by `kiln.plan.make_plan`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from kiln.communicator.config import CommConfig
from kiln.options.spec import Duration
from kiln.template.functions import FuncContext, packer_functions
from kiln.template.model import TemplateFile
from kiln.ui.redact import Redactor

C = TypeVar("C")


def _no_time() -> Duration:
    return Duration(0.0, "0s")


@dataclass(slots=True)
class StepPlan:
    """A provisioner or post-processor as one build will run it."""

    type: str
    where: str  # "provisioner 2", "post-processor 1.2"
    raw: dict[str, object]  # options after `override`, before late rendering
    config: Any  # the decoded options (rendered with placeholder build values)
    pause_before: Duration = field(default_factory=_no_time)
    max_retries: int = 0
    timeout: Duration = field(default_factory=_no_time)
    keep_input_artifact: bool | None = None
    name: str = ""  # a post-processor's `name` (Packer prints it, -except matches it)


@dataclass(slots=True)
class BuildPlan(Generic[C]):
    """One build: its builder's options (`config`, `comm`), provisioners, post-processors.

    `builder` is the builder type that runs it (its step list and state); `config` is that
    builder's option table (`QemuConfig` for `qemu`).
    """

    name: str
    type: str
    config: C
    comm: CommConfig
    provisioners: list[StepPlan] = field(default_factory=list)
    post_processors: list[list[StepPlan]] = field(default_factory=list)
    error_cleanup: StepPlan | None = None
    func_context: FuncContext | None = None
    # The kiln.engine.builder.Builder that runs it (typed loosely: the protocol refers to
    # this class).
    builder: Any = field(default=None, kw_only=True)
    template_path: str = field(default="", kw_only=True)  # absolute; "" when not from a file

    def functions(self, build_values: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Template functions for late rendering, with real `build` values once known."""
        assert self.func_context is not None
        ctx = self.func_context
        if build_values is not None:
            ctx = replace(ctx, build_values=build_values)
        return dict(packer_functions(ctx))


@dataclass(slots=True)
class Plan:
    template: TemplateFile
    builds: list[BuildPlan[Any]]
    variables: dict[str, str]
    secrets: list[str]
    warnings: list[tuple[str, str]]  # (scope, message)
    # What to redact and what to leave alone (secrets, clean strings, names, tainted
    # values): the CLI's Ui learns it before anything of the build is printed.
    redactor: Redactor = field(default_factory=Redactor)

"""What the engine runs: checked, ready-to-run builds (made by `kiln.plan.make_plan`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Generic, TypeVar

from kiln.communicator.config import CommConfig
from kiln.options.spec import Duration
from kiln.template.functions import FuncContext, packer_functions
from kiln.template.model import TemplateFile
from kiln.ui.redact import Redactor

C = TypeVar("C")


def _no_time() -> Duration:
    return Duration(0.0, "0s")


class _Record:
    """What `@dataclass` gave the plan's records: field-wise equality (they are mutable,
    so unhashable) and a repr naming the fields. Spelled out: defining the three as
    dataclasses cost each `kiln validate` ~3 ms."""

    __slots__ = ()
    __match_args__: tuple[str, ...] = ()  # the fields, in order
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, name) == getattr(other, name) for name in self.__match_args__
        )

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__match_args__)
        return f"{type(self).__qualname__}({inner})"


class StepPlan(_Record):
    """A provisioner or post-processor as one build will run it."""

    __match_args__ = ("type", "where", "raw", "config", "pause_before", "max_retries",
                      "timeout", "keep_input_artifact", "name")  # fmt: skip
    __slots__ = __match_args__

    def __init__(
        self,
        type: str,
        where: str,  # "provisioner 2", "post-processor 1.2"
        raw: dict[str, object],  # options after `override`, before late rendering
        config: Any,  # the decoded options (rendered with placeholder build values)
        pause_before: Duration | None = None,  # None: 0s
        max_retries: int = 0,
        timeout: Duration | None = None,  # None: 0s
        keep_input_artifact: bool | None = None,
        name: str = "",  # a post-processor's `name` (Packer prints it, -except matches it)
    ) -> None:
        self.type = type
        self.where = where
        self.raw = raw
        self.config = config
        self.pause_before: Duration = pause_before if pause_before is not None else _no_time()
        self.max_retries = max_retries
        self.timeout: Duration = timeout if timeout is not None else _no_time()
        self.keep_input_artifact = keep_input_artifact
        self.name = name


class BuildPlan(_Record, Generic[C]):
    """One build: its builder's options (`config`, `comm`), provisioners, post-processors.

    `builder` is the builder type that runs it (its step list and state); `config` is that
    builder's option table (`QemuConfig` for `qemu`).
    """

    __match_args__ = ("name", "type", "config", "comm", "provisioners", "post_processors",
                      "error_cleanup", "func_context", "builder", "template_path")  # fmt: skip
    __slots__ = __match_args__

    def __init__(
        self,
        name: str,
        type: str,
        config: C,
        comm: CommConfig,
        provisioners: list[StepPlan] | None = None,
        post_processors: list[list[StepPlan]] | None = None,
        error_cleanup: StepPlan | None = None,
        func_context: FuncContext | None = None,
        *,
        # The kiln.engine.builder.Builder that runs it (typed loosely: the protocol refers
        # to this class).
        builder: Any = None,
        template_path: str = "",  # absolute; "" when not from a file
    ) -> None:
        self.name = name
        self.type = type
        self.config = config
        self.comm = comm
        self.provisioners: list[StepPlan] = provisioners if provisioners is not None else []
        self.post_processors: list[list[StepPlan]] = (
            post_processors if post_processors is not None else []
        )
        self.error_cleanup = error_cleanup
        self.func_context = func_context
        self.builder = builder
        self.template_path = template_path

    def functions(self, build_values: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Template functions for late rendering, with real `build` values once known."""
        assert self.func_context is not None
        ctx = self.func_context
        if build_values is not None:
            ctx = replace(ctx, build_values=build_values)
        return dict(packer_functions(ctx))


class Plan(_Record):
    __match_args__ = ("template", "builds", "variables", "secrets", "warnings", "redactor")
    __slots__ = __match_args__

    def __init__(
        self,
        template: TemplateFile,
        builds: list[BuildPlan[Any]],
        variables: dict[str, str],
        secrets: list[str],
        warnings: list[tuple[str, str]],  # (scope, message)
        # What to redact and what to leave alone (secrets, clean strings, names, tainted
        # values): the CLI's Ui learns it before anything of the build is printed.
        redactor: Redactor | None = None,
    ) -> None:
        self.template = template
        self.builds = builds
        self.variables = variables
        self.secrets = secrets
        self.warnings = warnings
        self.redactor: Redactor = redactor if redactor is not None else Redactor()

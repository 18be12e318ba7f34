"""How the command line wants builds run (`-on-error`, `-force`, `-debug`, …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class OnError(StrEnum):
    """`-on-error`: what a failed step leads to."""

    CLEANUP = "cleanup"  # unwind every step (the default)
    ABORT = "abort"  # keep what was made, for inspection
    ASK = "ask"  # ask: clean up, abort or retry the step
    RUN_CLEANUP_PROVISIONER = (
        "run-cleanup-provisioner"  # run error-cleanup-provisioner, then clean up
    )


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How the command line wants builds run."""

    on_error: OnError = OnError.CLEANUP
    force: bool = False
    debug: bool = False
    dry_run: bool = False
    cache_dir: Path = Path(".")
    failure_root: Path = Path(".")
    env: dict[str, str] = field(default_factory=dict)
    ask: Callable[[str, str], str] | None = None  # (build, error) → "c" | "a" | "r"

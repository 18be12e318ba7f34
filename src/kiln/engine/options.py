"""How the command line wants builds run (`-on-error`, `-force`, `-debug`, …)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from kiln.engine.on_error import OnError


class CheckpointMode(StrEnum):
    """`-checkpoint` / `KILN_CHECKPOINT`: whether builds use and save install checkpoints."""

    OFF = "off"  # Packer's behaviour: every build installs from scratch
    USE = "use"  # resume from a matching checkpoint, else build and save one
    REFRESH = "refresh"  # build from scratch and replace the checkpoint


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
    ask: Callable[[str, str], Awaitable[str]] | None = None  # (build, error) → "c" | "a" | "r"
    checkpoint: CheckpointMode = CheckpointMode.OFF
    checkpoint_max_age: float | None = None  # seconds; an older checkpoint is not used

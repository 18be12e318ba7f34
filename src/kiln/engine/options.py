"""How the command line wants builds run (`-on-error`, `-force`, `-debug`, …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kiln.engine.on_error import OnError


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

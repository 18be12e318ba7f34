"""Step timings: measured by the runner, printed at the end of a build, machine-readable."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kiln.engine.builder import Step
from kiln.engine.result import StepTiming
from kiln.engine.state import BuildState


@contextlib.asynccontextmanager
async def timed(
    state: BuildState[Any], name: str, step: Step[Any], began: float
) -> AsyncIterator[None]:
    """Record how long the step's work took (unless it recorded finer phases itself)."""
    before = len(state.timings)
    async with step(state):
        if len(state.timings) == before:
            state.timings.append(StepTiming(name, time.monotonic() - began))
        yield


def report(state: BuildState[Any], failure_dir: Path | None) -> None:
    """Where the failure report went, then the step timings (human and machine-readable)."""
    ui = state.ui
    if failure_dir is not None:
        names = ", ".join(sorted(p.name for p in failure_dir.iterdir()))
        ui.say(f"Failure report kept in {failure_dir} ({names})")
    total = time.monotonic() - state.started
    if state.timings:
        width = max(len(t.name) for t in state.timings)
        lines = [f"{t.name.ljust(width)}  {t.seconds:7.2f}s" for t in state.timings]
        ui.message(
            "Step timings:\n" + "\n".join(lines) + f"\n{'total'.ljust(width)}  {total:7.2f}s"
        )
        for t in state.timings:
            ui.machine("step-timing", t.name, f"{t.seconds:.3f}")
        ui.machine("build-time", f"{total:.3f}")

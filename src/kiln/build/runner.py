"""One build, start to finish: the steps in an AsyncExitStack, timings, failure handling.

Each step is an async context manager; the runner enters them in order inside one
`AsyncExitStack`, so a failure or a cancellation at any point unwinds exactly the steps
that ran, in reverse (Packer's multistep runner, in Python idiom). Before the unwinding
removes anything, the QEMU step takes a screenshot, and the runner keeps a failure report
(screenshot, serial log, QEMU argv and stderr, boot command, HTTP log) and says where.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime
from pathlib import Path

from kiln.build.state import Artifact, BuildState, BuildUi, RunOptions, StepTiming
from kiln.build.steps.boot import step_boot
from kiln.build.steps.communicate import step_connect, step_provision, step_ssh_key
from kiln.build.steps.compact import make_artifact, step_compact
from kiln.build.steps.disk import step_disks
from kiln.build.steps.iso import step_iso
from kiln.build.steps.media import step_cd, step_floppy
from kiln.build.steps.network import step_http, step_ports
from kiln.build.steps.output_dir import step_output_dir
from kiln.build.steps.qemu import (
    check_binaries,
    make_work_dir,
    step_efivars,
    step_qemu,
    step_vtpm,
)
from kiln.build.steps.shutdown import step_shutdown
from kiln.errors import BuildCancelled, KilnError
from kiln.plan import BuildPlan
from kiln.ui import Ui
from kiln.record import Record, field

Step = Callable[[BuildState], AbstractAsyncContextManager[None]]

STEPS: list[tuple[str, Step]] = [
    ("iso", step_iso),
    ("output directory", step_output_dir),
    ("vtpm", step_vtpm),
    ("floppy", step_floppy),
    ("cd", step_cd),
    ("disk", step_disks),
    ("http server", step_http),
    ("ports", step_ports),
    ("ssh key", step_ssh_key),
    ("efivars", step_efivars),
    ("start qemu", step_qemu),
    ("boot command", step_boot),
    ("wait for ssh", step_connect),
    ("provision", step_provision),
    ("shutdown", step_shutdown),
    ("compact", step_compact),
]
FORENSIC_FILES = (
    "screenshot.png",
    "screenshot.ppm",
    "serial.log",
    "qemu-argv.txt",
    "qemu-stderr.log",
    "boot-command.txt",
    "http-access.log",
)


class BuildResult(Record):
    name: str
    artifact: Artifact | None
    error: str | None
    timings: list[StepTiming]
    failure_dir: Path | None = None
    cancelled: bool = False
    # What the build leaves after post-processors (the builder's artifact if none ran).
    artifacts: list[Artifact] = field(default_factory=list)


async def run_build(plan: BuildPlan, ui: Ui, options: RunOptions) -> BuildResult:
    """Run one build; never raises for build failures (the result says what happened)."""
    bui = BuildUi(ui, plan.name)
    work_dir = make_work_dir(plan.name)
    state = BuildState(
        plan=plan,
        ui=bui,
        options=options,
        work_dir=work_dir,
        output_dir=Path(plan.config.output_directory),
    )
    error: str | None = None
    cancelled = False
    failure_dir: Path | None = None
    try:
        check_binaries(state)
        await _run_steps(state)
        state.artifact = make_artifact(state)
    except asyncio.CancelledError:
        cancelled = True
        error = str(BuildCancelled())
    except KilnError as err:
        error = str(err)
    finally:
        if error is not None:
            failure_dir = _keep_forensics(state)
        shutil.rmtree(work_dir, ignore_errors=True)
    if cancelled:
        # The cancellation ends here, after every step has cleaned up: the caller (which
        # cancelled us) gets a result that says so instead of an exception.
        result = BuildResult(plan.name, None, error, state.timings, failure_dir, cancelled=True)
        _report(state, result)
        return result
    result = BuildResult(plan.name, state.artifact, error, state.timings, failure_dir)
    result.artifacts = [state.artifact] if state.artifact is not None else []
    _report(state, result)
    return result


async def _run_steps(state: BuildState) -> None:
    async with AsyncExitStack() as stack:
        for name, step in STEPS:
            while True:
                began = time.monotonic()
                try:
                    await stack.enter_async_context(_timed(state, name, step, began))
                    await _debug_pause(state, name)
                    break
                except KilnError as err:
                    state.failed = True
                    decision = await _on_error(state, name, err)
                    if decision == "retry":
                        state.failed = False
                        continue
                    raise
                except BaseException:
                    state.failed = True
                    raise


@contextlib.asynccontextmanager
async def _timed(state: BuildState, name: str, step: Step, began: float) -> AsyncIterator[None]:
    """Record how long the step's work took (unless it recorded finer phases itself)."""
    before = len(state.timings)
    async with step(state):
        if len(state.timings) == before:
            state.timings.append(StepTiming(name, time.monotonic() - began))
        yield


async def _debug_pause(state: BuildState, step: str) -> None:
    """-debug: stop after each step until Enter is pressed (as Packer does)."""
    if not state.options.debug or not sys.stdin.isatty():
        return
    state.ui.say(f"Pausing after run of step '{step}'. Press enter to continue.")
    await asyncio.to_thread(sys.stdin.readline)


async def _on_error(state: BuildState, step: str, err: KilnError) -> str:
    """What -on-error says to do: "cleanup" (default), "abort" or "retry"."""
    state.ui.error(f"Error in step {step}: {err}" if state.options.debug else str(err))
    mode = state.options.on_error
    if mode == "abort":
        state.keep_output = True
        return "abort"
    if mode == "ask":
        if state.options.ask is None:
            return "cleanup"
        answer = await asyncio.to_thread(state.options.ask, state.name, str(err))
        if answer == "a":
            state.keep_output = True
            return "abort"
        if answer == "r":
            return "retry"
    if mode == "run-cleanup-provisioner":
        from kiln.build.steps.communicate import run_error_cleanup_provisioner

        await run_error_cleanup_provisioner(state)
    return "cleanup"


def _keep_forensics(state: BuildState) -> Path | None:
    """Copy what explains the failure out of the work dir before it is removed."""
    present = [state.work_dir / f for f in FORENSIC_FILES if (state.work_dir / f).exists()]
    if not present:
        return None
    if state.keep_output and state.output_dir.is_dir():
        dest = state.output_dir / "kiln-failure"
    else:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = state.options.failure_root / f"{state.name}-{stamp}"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for path in present:
            shutil.copy2(path, dest / path.name)
    except OSError as err:
        state.ui.error(f"Could not keep the failure report in {dest}: {err}")
        return None
    return dest


def _report(state: BuildState, result: BuildResult) -> None:
    ui = state.ui
    if result.failure_dir is not None:
        names = ", ".join(sorted(p.name for p in result.failure_dir.iterdir()))
        ui.say(f"Failure report kept in {result.failure_dir} ({names})")
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

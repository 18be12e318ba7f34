"""One build, start to finish: its builder's steps in an AsyncExitStack, timings, failures.

Each step is an async context manager; the runner enters them in order inside one
`AsyncExitStack`, so a failure or a cancellation at any point unwinds exactly the steps
that ran, in reverse (Packer's multistep runner, in Python idiom). Before the unwinding
removes anything, the builder's steps record what explains the failure in the work dir
(the QEMU step takes a screenshot), and the runner keeps those files and says where.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from contextlib import AsyncExitStack
from typing import Any

from kiln.engine.builder import Builder
from kiln.engine.forensics import keep_forensics
from kiln.engine.on_error import OnError
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan
from kiln.engine.result import BuildResult
from kiln.engine.state import BuildState, make_work_dir
from kiln.engine.timings import report, timed
from kiln.errors import BuildCancelled, KilnError, describe_os_error
from kiln.ui.build import BuildUi
from kiln.ui.output import Ui
from kiln.ui.terminal import read_line


async def run_build(plan: BuildPlan[Any], ui: Ui, options: RunOptions) -> BuildResult:
    """Run one build; never raises for build failures (the result says what happened)."""
    builder: Builder[Any] = plan.builder
    assert builder is not None, "kiln.plan sets the builder of every build"
    work_dir = make_work_dir(plan.name)
    state = builder.new_state(plan, BuildUi(ui, plan.name), options, work_dir)
    error: str | None = None
    cancelled = False
    failure_dir = None
    try:
        builder.check(state)
        await _run_steps(state, builder)
        state.artifact = builder.artifact(state)
    except asyncio.CancelledError:
        cancelled = True
        error = str(BuildCancelled())
    except KilnError as err:
        error = str(err)
    except OSError as err:  # raised while cleaning up: the steps' exits
        error = str(StepOSError("cleanup", err))
    finally:
        if error is not None:
            failure_dir = keep_forensics(state, builder.forensic_files)
        shutil.rmtree(work_dir, ignore_errors=True)
    if cancelled:
        # The cancellation ends here, after every step has cleaned up: the caller (which
        # cancelled us) gets a result that says so instead of an exception.
        result = BuildResult(plan.name, None, error, state.timings, failure_dir, cancelled=True)
        report(state, failure_dir)
        return result
    result = BuildResult(plan.name, state.artifact, error, state.timings, failure_dir)
    result.artifacts = [state.artifact] if state.artifact is not None else []
    report(state, failure_dir)
    return result


async def _run_steps(state: BuildState[Any], builder: Builder[Any]) -> None:
    async with AsyncExitStack() as stack:
        for name, step in builder.steps(state):
            while True:
                began = time.monotonic()
                try:
                    try:
                        await stack.enter_async_context(timed(state, name, step, began))
                    except OSError as err:  # the host's situation: a full disk, a read-only FS
                        raise StepOSError(name, err) from err
                    await _debug_pause(state, name)
                    break
                except KilnError as err:
                    state.failed = True
                    decision = await _on_error(state, builder, name, err)
                    if decision == "retry":
                        state.failed = False
                        continue
                    raise
                except BaseException:
                    state.failed = True
                    raise


class StepOSError(KilnError):
    """An operating-system error no step turned into a message of its own."""

    def __init__(self, step: str, err: OSError) -> None:
        super().__init__(f"Error in step {step!r}: {describe_os_error(err)}")


async def _debug_pause(state: BuildState[Any], step: str) -> None:
    """-debug: stop after each step until Enter is pressed (as Packer does)."""
    if not state.options.debug or not sys.stdin.isatty():
        return
    state.ui.say(f"Pausing after run of step '{step}'. Press enter to continue.")
    await read_line(sys.stdin)


async def _on_error(
    state: BuildState[Any], builder: Builder[Any], step: str, err: KilnError
) -> str:
    """What -on-error says to do: "cleanup" (default), "abort" or "retry"."""
    state.ui.error(f"Error in step {step}: {err}" if state.options.debug else str(err))
    mode = state.options.on_error
    if mode == OnError.ABORT:
        state.keep_output = True
        return "abort"
    if mode == OnError.ASK:
        if state.options.ask is None:
            return "cleanup"
        answer = await state.options.ask(state.name, str(err))
        if answer == "a":
            state.keep_output = True
            return "abort"
        if answer == "r":
            return "retry"
    if mode == OnError.RUN_CLEANUP_PROVISIONER:
        await builder.error_cleanup(state)
    return "cleanup"

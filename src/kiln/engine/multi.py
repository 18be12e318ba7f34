"""Running every selected build: in parallel (bounded by -parallel-builds), with Packer's
summary at the end, and a clean stop of everything on Ctrl-C / SIGTERM.

Follows Packer's command/build.go (v1.6.6): builds start in template order, each in its
own task, at most `parallel` at a time (`-debug` runs them one by one); every line a build
prints carries its name; a failing build does not stop the others; after all are done,
"Wait completed after ...", then the failed builds with their errors, then the artifacts
of the successful ones. Each build owns its ports, VNC display, HTTP server and output
directory (the steps reserve them), so parallel builds never share one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kiln.engine.artifact import Artifact
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan, Plan
from kiln.engine.result import BuildResult
from kiln.engine.run_id import RUN_UUID
from kiln.engine.runner import run_build
from kiln.ui.output import Ui

# What runs after a successful build, in its task (the post-processors: kiln.cli.build
# passes kiln.postprocessors.runner.run_post_processors, which imports the engine).
PostProcess = Callable[[BuildPlan[Any], BuildResult, Ui, RunOptions], Awaitable[BuildResult]]

# durafmt's units, largest first (Packer prints build times with durafmt, first 2 units).
_UNITS = (
    ("year", 365 * 86400 * 10**6),
    ("week", 7 * 86400 * 10**6),
    ("day", 86400 * 10**6),
    ("hour", 3600 * 10**6),
    ("minute", 60 * 10**6),
    ("second", 10**6),
    ("millisecond", 10**3),
    ("microsecond", 1),
)


def human_duration(seconds: float) -> str:
    """Packer's `durafmt.Parse(d).LimitFirstN(2)`: '1 minute 2 seconds', '35 seconds 12
    milliseconds' (zero units are left out)."""
    rest = max(round(seconds * 10**6), 0)
    parts = []
    for name, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


async def run_builds(
    plan: Plan,
    ui: Ui,
    options: RunOptions,
    *,
    parallel: int,
    post_process: PostProcess | None = None,
) -> list[BuildResult]:
    """Run the plan's builds; return their results in template order.

    `parallel` <= 0 means no limit. After each successful build, `post_process` runs in
    the same task. Never raises for a build's failure; SIGINT/SIGTERM cancel every build
    (each cleans up) and the results say so.
    """
    # Packer exports the run's id; shell-local scripts and manifests see the same one.
    os.environ["PACKER_RUN_UUID"] = RUN_UUID
    if options.debug and len(plan.builds) > 1:
        ui.say("Debug mode enabled. Builds will not be parallelized.")
        parallel = 1
    ui.assign_colors(b.name for b in plan.builds)
    if ui.color:
        for build in plan.builds:
            ui.say(f"{build.name}: output will be in this color.", build=build.name, stamp=False)
        ui.raw("")
    limit = asyncio.Semaphore(parallel if parallel > 0 else max(len(plan.builds), 1))
    started = time.monotonic()
    tasks = [asyncio.create_task(_one(b, ui, options, limit, post_process),
                                 name=f"build {b.name}") for b in plan.builds]  # fmt: skip
    interrupted = _install_signal_handlers(ui, tasks)
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    final: list[BuildResult] = []
    for build, res in zip(plan.builds, results, strict=True):
        if isinstance(res, BuildResult):
            final.append(res)
        elif isinstance(res, asyncio.CancelledError):
            final.append(BuildResult(build.name, None, "Build was cancelled.", [], cancelled=True))
        else:
            final.append(BuildResult(build.name, None, f"internal error: {res!r}", []))
    summary(ui, final, time.monotonic() - started, interrupted=bool(interrupted))
    return final


async def _one(
    build: BuildPlan[Any],
    ui: Ui,
    options: RunOptions,
    limit: asyncio.Semaphore,
    post_process: PostProcess | None,
) -> BuildResult:
    async with limit:
        began = time.monotonic()
        result = await run_build(build, ui, options)
        if result.artifact is not None and not result.cancelled and post_process is not None:
            result = await post_process(build, result, ui, options)
        took = human_duration(time.monotonic() - began)
        if result.error is None:
            ui.say(f"Build '{build.name}' finished after {took}.", build=build.name)
        else:
            ui.error(f"Build '{build.name}' errored after {took}: {result.error}", build=build.name)
        return result


def _install_signal_handlers(ui: Ui, tasks: list[asyncio.Task[BuildResult]]) -> list[int]:
    """Cancel every build on the first SIGINT/SIGTERM; returns the signals seen so far."""
    loop = asyncio.get_running_loop()
    seen: list[int] = []

    def on_signal(signum: int) -> None:
        if seen:
            ui.error("Cleaning up; please wait (QEMU is being stopped)...")
            return
        seen.append(signum)
        ui.error(f"Interrupt received ({signal.Signals(signum).name}). Cancelling builds...")
        for task in tasks:
            task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    return seen


def summary(
    ui: Ui, results: list[BuildResult], seconds: float, *, interrupted: bool = False
) -> None:
    """Packer's closing report: wait time, failed builds and why, artifacts of the rest
    (the texts, their order and the machine-readable events of command/build.go)."""
    ui.raw(f"\n==> Wait completed after {human_duration(seconds)}")
    if interrupted:
        ui.raw("Cleanly cancelled builds after being interrupted.")
    failed = [r for r in results if r.error is not None]
    ok = [r for r in results if r.artifacts and r.error is None]
    if failed:
        ui.machine("", "error-count", str(len(failed)))
        ui.error("\n==> Some builds didn't complete successfully and had errors:")
        for r in failed:
            ui.machine(r.name, "error", r.error or "")
            ui.error(f"--> {r.name}: {r.error}")
    if ok:
        ui.raw("\n==> Builds finished. The artifacts of successful builds are:")
        for r in ok:
            ui.machine(r.name, "artifact-count", str(len(r.artifacts)))
            for i, artifact in enumerate(r.artifacts):
                _machine_artifact(ui, r.name, i, artifact)
                ui.artifact(str(artifact), r.name)
    else:
        ui.raw("\n==> Builds finished but no artifacts were created.")


def _machine_artifact(ui: Ui, name: str, index: int, artifact: Artifact) -> None:
    """Packer's machine-readable artifact block."""
    i = str(index)
    ui.machine(name, "artifact", i, "builder-id", artifact.builder_id)
    ui.machine(name, "artifact", i, "id", artifact.id)
    ui.machine(name, "artifact", i, "string", str(artifact))
    ui.machine(name, "artifact", i, "files-count", str(len(artifact.files)))
    for j, path in enumerate(artifact.files):
        ui.machine(name, "artifact", i, "file", str(j), str(path))
    ui.machine(name, "artifact", i, "end")

"""Running several builds: Packer's durations, the parallel limit, the summary.

The builds themselves are stood in for by a coroutine (the real ones are exercised in
tests/e2e/test_multi_build.py); what is tested here is the orchestration around them.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

import kiln.engine.multi as multi
from kiln.engine.artifact import Artifact
from kiln.engine.multi import human_duration, run_builds, summary
from kiln.engine.options import RunOptions
from kiln.engine.plan import BuildPlan, Plan
from kiln.engine.result import BuildResult
from kiln.ui import Ui
from template_plans import BUILDER, plan_of


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 seconds"),
        (0.0005, "500 microseconds"),
        (1, "1 second"),
        (35.123, "35 seconds 123 milliseconds"),
        (60, "1 minute"),
        (62.5, "1 minute 2 seconds"),
        (3600 + 5, "1 hour 5 seconds"),
        (2 * 86400 + 7200, "2 days 2 hours"),
        (-3, "0 seconds"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def make(tmp_path: Path, names: list[str]) -> Plan:
    return plan_of(tmp_path, {"builders": [{**BUILDER, "name": n} for n in names]})


class FakeBuilds:
    """Stands in for kiln.engine.runner.run_build: records how many run at once."""

    def __init__(self, fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.fail = fail
        self.running = 0
        self.peak = 0
        self.order: list[str] = []

    async def __call__(self, plan: BuildPlan, ui: Ui, options: RunOptions) -> BuildResult:
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.order.append(plan.name)
        await asyncio.sleep(0.01)
        self.running -= 1
        if plan.name in self.fail:
            return BuildResult(plan.name, None, f"{plan.name} broke", [])
        art = Artifact(plan.name, "qemu", Path(f"out-{plan.name}"), [Path(f"out-{plan.name}/d")])
        return BuildResult(plan.name, art, None, [], artifacts=[art])


def ui_to(buffer: io.StringIO, **kw: Any) -> Ui:
    return Ui(out=buffer, err=buffer, color=False, **kw)


@pytest.mark.parametrize(("parallel", "peak"), [(0, 3), (1, 1), (2, 2), (5, 3)])
async def test_parallel_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: int, peak: int
) -> None:
    fake = FakeBuilds()
    monkeypatch.setattr(multi, "run_build", fake)
    out = io.StringIO()
    results = await run_builds(
        make(tmp_path, ["a", "b", "c"]), ui_to(out), RunOptions(), parallel=parallel
    )
    assert fake.peak == peak
    assert fake.order == ["a", "b", "c"]
    assert [r.name for r in results] == ["a", "b", "c"]


async def test_debug_runs_builds_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeBuilds()
    monkeypatch.setattr(multi, "run_build", fake)
    out = io.StringIO()
    await run_builds(make(tmp_path, ["a", "b"]), ui_to(out), RunOptions(debug=True), parallel=0)
    assert fake.peak == 1
    # Packer says it on its main Ui: no arrow, no build name.
    assert out.getvalue().startswith("Debug mode enabled. Builds will not be parallelized.\n")


async def test_a_failing_build_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multi, "run_build", FakeBuilds(fail={"b"}))
    out = io.StringIO()
    results = await run_builds(
        make(tmp_path, ["a", "b", "c"]), ui_to(out), RunOptions(), parallel=0
    )
    assert [r.error for r in results] == [None, "b broke", None]
    text = out.getvalue()
    assert "Build 'a' finished after " in text
    assert "Build 'b' errored after " in text and ": b broke" in text
    tail = text[text.index("==> Wait completed after") :]
    assert "==> Some builds didn't complete successfully and had errors:\n--> b: b broke" in tail
    assert "==> Builds finished. The artifacts of successful builds are:" in tail
    assert "--> a: VM files in directory: out-a\n--> c: VM files in directory: out-c" in tail


async def test_run_uuid_is_exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from kiln.engine.run_id import RUN_UUID

    monkeypatch.setattr(multi, "run_build", FakeBuilds())
    monkeypatch.delenv("PACKER_RUN_UUID", raising=False)
    await run_builds(make(tmp_path, ["a"]), ui_to(io.StringIO()), RunOptions(), parallel=0)
    assert os.environ["PACKER_RUN_UUID"] == RUN_UUID


async def test_colour_announcement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multi, "run_build", FakeBuilds())
    out = io.StringIO()
    ui = Ui(out=out, err=out, color=True)
    await run_builds(make(tmp_path, ["a", "b"]), ui, RunOptions(), parallel=0)
    # Packer's first lines: the name once (not `==> a: a: …`), each in its build's colour,
    # then a blank line.
    assert out.getvalue().splitlines()[:3] == [
        "\033[1;32ma: output will be in this color.\033[0m",
        "\033[1;36mb: output will be in this color.\033[0m",
        "",
    ]


def test_summary_machine_readable() -> None:
    out = io.StringIO()
    ui = ui_to(out, machine_readable=True)
    art = Artifact("a", "qemu", Path("out"), [Path("out/d1"), Path("out/d2")])
    summary(
        ui,
        [
            BuildResult("a", art, None, [], artifacts=[art]),
            BuildResult("b", None, "it, failed", []),
        ],
        61.0,
    )
    rows = [line.split(",", 1)[1] for line in out.getvalue().splitlines()]
    assert ",error-count,1" in rows
    assert "b,error,it%!(PACKER_COMMA) failed" in rows
    assert "a,artifact-count,1" in rows
    assert "a,artifact,0,builder-id,transcend.qemu" in rows
    assert "a,artifact,0,files-count,2" in rows
    assert "a,artifact,0,file,1,out/d2" in rows
    assert "a,artifact,0,end" in rows
    assert ",ui,say,\\n==> Wait completed after 1 minute 1 second" in rows
    assert ",ui,error,--> b: it%!(PACKER_COMMA) failed" in rows
    # Packer writes an artifact's events, then says it.
    assert rows[rows.index("a,artifact,0,end") + 1] == ",ui,say,--> a: VM files in directory: out"


def test_summary_without_artifacts_and_after_an_interrupt() -> None:
    out = io.StringIO()
    summary(
        ui_to(out),
        [BuildResult("a", None, "Build was cancelled.", [], cancelled=True)],
        1.5,
        interrupted=True,
    )
    text = out.getvalue()
    assert "\nCleanly cancelled builds after being interrupted.\n" in text
    assert "==> Builds finished but no artifacts were created." in text
    assert "--> a: Build was cancelled." in text

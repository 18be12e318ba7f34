"""`kiln` keeps the cyclic garbage collector off while a short command runs (start-up
speed), on during a build (which runs for minutes), and leaves the caller's setting as it
found it."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator, Mapping

import pytest

import kiln.cli.build
import kiln.cli.validate
from kiln.cli.main import main


@pytest.fixture
def gc_state() -> Iterator[None]:
    before = gc.isenabled()
    yield
    if before:
        gc.enable()
    else:
        gc.disable()


def _record(seen: list[bool]) -> object:
    def run(opts: argparse.Namespace, env: Mapping[str, str]) -> int:
        seen.append(gc.isenabled())
        return 0

    return run


@pytest.mark.usefixtures("gc_state")
def test_validate_runs_without_the_collector_build_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(kiln.cli.validate, "run_validate", _record(seen))
    monkeypatch.setattr(kiln.cli.build, "run_build", _record(seen))
    gc.enable()
    assert main(["validate", "t.json"]) == 0
    assert main(["build", "t.json"]) == 0
    assert seen == [False, True]
    assert gc.isenabled()


@pytest.mark.usefixtures("gc_state")
def test_the_callers_setting_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kiln.cli.build, "run_build", _record([]))
    gc.disable()
    assert main(["build", "t.json"]) == 0
    assert not gc.isenabled()
    gc.enable()
    assert main(["version"]) == 0
    assert gc.isenabled()

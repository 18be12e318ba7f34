"""Golden tests: `kiln build -dry-run` for each template in tests/data/golden.

Regenerate the expected outputs after an intended change, then review the diff:

    KILN_REGENERATE=1 .venv/bin/pytest tests/unit/test_golden_argv.py
    # or, with `pytest_plugins = ["golden_plugin"]` in tests/conftest.py:
    .venv/bin/pytest tests/unit/test_golden_argv.py --regenerate-output

Every case runs the real CLI in-process (`kiln.cli.main.main`) with QEMU, qemu-img and
swtpm replaced by traps on PATH: a dry run must not start anything, not even the KVM probe
(every case sets `accelerator`; `accelerator_kvm` is the case where a probe would matter).
tests/integration/test_argv_qemu_accepts.py checks that real QEMU accepts these argvs.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from golden_plugin import (
    CASE_ENV,
    GOLDEN_DIR,
    golden_cases,
    golden_commands,
    golden_qemu_argv,
    regenerate_requested,
    run_dry_run,
)

CASES = golden_cases()


def test_enough_cases() -> None:
    assert len(CASES) >= 25
    assert set(CASE_ENV) <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden(
    case: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    result = run_dry_run(case, monkeypatch, capsys, tmp_path)
    assert result.trapped == [], f"the dry run started programs: {result.trapped}"
    expected_file = GOLDEN_DIR / f"{case}.txt"
    actual = result.golden_text()
    if regenerate_requested(request.config):
        expected_file.write_text(actual)
    expected = expected_file.read_text() if expected_file.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"{case}.txt (expected)",
                f"{case} (kiln build -dry-run)",
            )
        )
        pytest.fail(f"dry-run output differs from {expected_file.name}:\n{diff}")


@pytest.mark.parametrize("case", CASES)
def test_golden_is_a_successful_plan(case: str) -> None:
    """Each golden file holds exactly one QEMU command and no error (guards regeneration)."""
    text = (GOLDEN_DIR / f"{case}.txt").read_text()
    assert "--- exit status" not in text
    argv = golden_qemu_argv(case)
    assert argv.count("-name") == 1
    assert argv[-2:] == ["-serial", "file:$KILN_WORK/serial.log"] or "-serial" in argv[:-2]
    assert all(cmd[0] in ("cp", "qemu-img") for cmd in golden_commands(case) if cmd != argv)


def test_traps_catch_the_kvm_probe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without `accelerator` the dry run probes KVM, and the traps see it (not a golden case)."""
    result = run_dry_run("probe/accelerator_unset", monkeypatch, capsys, tmp_path)
    assert result.status == 0
    if os.access("/dev/kvm", os.R_OK | os.W_OK):
        assert len(result.trapped) == 1
        assert result.trapped[0].startswith("qemu-system-x86_64 -machine pc,accel=kvm")
        assert "a test guest did not run under KVM" in result.stdout
    else:
        assert result.trapped == []
        assert "/dev/kvm is not available: using tcg" in result.stderr
    assert "accel=tcg" in result.stdout

"""Builds that fail or are interrupted: clear errors, a failure report, nothing left behind.

After every failure: exit code 1, no QEMU process, no output directory (unless
-on-error=abort), and an empty TMPDIR (kiln's work directory is gone).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from build_harness import (
    interrupt_and_wait,
    kiln_env,
    qemu_processes_under,
    run_kiln,
    start_kiln,
    tiny_builder,
    wait_for_output,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_nothing_left(workdir: Path, *, output_kept: bool = False) -> None:
    assert qemu_processes_under(workdir) == []
    assert list((workdir / "tmp").iterdir()) == []
    assert (workdir / "out").exists() == output_kept


def test_checksum_mismatch_fails_before_anything_is_made(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path
) -> None:
    write_answers(tmp_path / "http", marker="x")
    wrong = "sha256:" + "0" * 64
    write_template(tmp_path / "t.json", [tiny_builder(tiny_iso, iso_checksum=wrong)])
    run = run_kiln(["build", "t.json"], cwd=tmp_path, env=kiln_env(tmp_path, kiln_session_cache))
    assert run.returncode == 1
    assert "Checksums did not match" in run.output
    assert "Expected: " + "0" * 64 in run.output
    assert f"Got: {tiny_iso.sha256}" in run.output
    assert "Traceback" not in run.output
    assert tiny_iso.path.exists(), "a local ISO that fails its checksum must not be deleted"
    assert_nothing_left(tmp_path)


def test_ssh_never_comes_keeps_a_failure_report(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path
) -> None:
    write_answers(tmp_path / "http", marker="x")
    # The rescue label boots a shell, not the installer: SSH never answers.
    builder = tiny_builder(tiny_iso, boot_command=["rescue<enter>"], ssh_timeout="25s")
    write_template(tmp_path / "t.json", [builder])
    run = run_kiln(["build", "t.json"], cwd=tmp_path, env=kiln_env(tmp_path, kiln_session_cache))
    assert run.returncode == 1, run.output
    assert "Timeout waiting for SSH" in run.output
    assert "Traceback" not in run.output
    reports = list((tmp_path / "failures").iterdir())
    assert len(reports) == 1
    report = reports[0]
    assert f"Failure report kept in {report}" in run.output
    names = {p.name for p in report.iterdir()}
    assert {"screenshot.png", "serial.log", "qemu-argv.txt", "qemu-stderr.log",
            "boot-command.txt"} <= names  # fmt: skip
    assert (report / "screenshot.png").read_bytes().startswith(PNG_MAGIC)
    assert "kiln.mode=rescue" in (report / "serial.log").read_text(errors="replace")
    assert (report / "boot-command.txt").read_text() == "rescue<enter>\n"
    assert "qemu-system-x86_64" in (report / "qemu-argv.txt").read_text()
    assert_nothing_left(tmp_path)


def test_qemu_killed_from_outside_fails_fast_and_abort_keeps_output(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path
) -> None:
    write_answers(tmp_path / "http", marker="x")
    builder = tiny_builder(tiny_iso, boot_command=["rescue<enter>"], ssh_timeout="5m")
    write_template(tmp_path / "t.json", [builder])
    proc = start_kiln(["build", "-on-error=abort", "t.json"], cwd=tmp_path,
                      env=kiln_env(tmp_path, kiln_session_cache))  # fmt: skip
    try:
        seen = wait_for_output(proc, "Waiting for SSH to become available", timeout=120)
        [qemu] = [
            p
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _cmdline(p).startswith("qemu-system")
            and str(tmp_path) in _cmdline(p)
        ]  # fmt: skip
        killed_at = time.monotonic()
        os.kill(int(qemu.name), signal.SIGKILL)
        rest, _ = proc.communicate(timeout=120)
        took = time.monotonic() - killed_at
    finally:
        if proc.poll() is None:
            proc.kill()
    output = seen + rest
    assert proc.returncode == 1, output
    assert "QEMU exited" in output
    assert took < 30, f"kiln took {took:.0f}s to notice QEMU died"
    # -on-error=abort: the output directory stays, with the failure report inside
    assert (tmp_path / "out" / "tiny.qcow2").exists()
    assert (tmp_path / "out" / "kiln-failure" / "serial.log").exists()
    assert_nothing_left(tmp_path, output_kept=True)


def _cmdline(proc_dir: Path) -> str:
    try:
        return (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize(
    ("moment", "provisioners"),
    [
        ("Typing the boot command over VNC", []),
        ("Provisioning with shell script", [{"type": "shell", "inline": ["sleep 120"]}]),
    ],
    ids=["during-boot", "during-provisioning"],
)
def test_sigint_cleans_up_everything(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path, moment: str, provisioners: list[object]
) -> None:
    write_answers(tmp_path / "http", marker="x")
    builder = tiny_builder(tiny_iso, boot_key_interval="100ms")
    write_template(tmp_path / "t.json", [builder], provisioners=provisioners)
    proc = start_kiln(["build", "t.json"], cwd=tmp_path,
                      env=kiln_env(tmp_path, kiln_session_cache))  # fmt: skip
    try:
        seen = wait_for_output(proc, moment, timeout=300)
        time.sleep(0.5)
        rest = interrupt_and_wait(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = seen + rest
    assert proc.returncode == 1, output
    assert "Build was cancelled" in output
    assert "Traceback" not in output
    assert_nothing_left(tmp_path)

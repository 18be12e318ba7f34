"""Faults injected at the step boundaries of a real build (issue 15's reliability campaign).

`kiln build -debug` on a terminal pauses after every step (Packer's -debug); the tests use
those pauses as hooks: interrupt kiln, kill QEMU, drop the SSH connection, stop the HTTP
server, fill the disk — then check what any failure must leave: exit code 1, a message
that says what happened, no traceback, no `qemu-system` left, no temporary files, no
output directory (unless `-on-error=abort`), and the failure report once QEMU had started,
with a sensitive variable that reached QEMU's command line redacted in every file of it.

Costs are kept down by injecting each fault at the cheapest boundary: every boundary up
to "start qemu" needs no boot (a few seconds each); the faults that need a running guest
share builds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from build_harness import (
    SteppedBuild,
    kiln_env,
    qemu_pids_under,
    tiny_builder,
    tmpfs,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The qemu builder's steps that run before the guest boots (kiln.builders.qemu.builder).
BEFORE_QEMU = ["iso", "output directory", "vtpm", "floppy", "cd", "disk", "http server",
               "ports", "ssh key", "efivars"]  # fmt: skip
REPORT_FILES = {"serial.log", "qemu-argv.txt", "qemu-stderr.log"}
# A sensitive variable that reaches QEMU's command line: every report must hide it.
SECRET = "fault-secret-7f3a9c"


def _project(tmp_path: Path, iso: Any, **overrides: Any) -> dict[str, str]:
    """t.json (the test guest, answers over HTTP) in `tmp_path`; kiln's environment."""
    write_answers(tmp_path / "http", marker="fault")
    provisioners = overrides.pop("_provisioners", [])
    overrides.setdefault("qemuargs", [["-smbios", "type=11,value={{ user `secret` }}"]])
    write_template(tmp_path / "t.json", [tiny_builder(iso, **overrides)],
                   provisioners=provisioners, variables={"secret": SECRET},
                   **{"sensitive-variables": ["secret"]})  # fmt: skip
    env = kiln_env(tmp_path, tmp_path / "cache")
    env["PACKER_LOG_PATH"] = str(tmp_path / "kiln-debug.log")
    return env


def assert_failed_cleanly(
    tmp_path: Path,
    code: int,
    output: str,
    *needles: str,
    report: set[str] | None = None,
    output_kept: bool = False,
) -> Path | None:
    """The checks every injected fault must pass; the failure report's directory."""
    assert code == 1, output
    assert SECRET not in output
    debug_log = tmp_path / "kiln-debug.log"
    assert not debug_log.exists() or SECRET not in debug_log.read_text(errors="replace")
    for needle in needles:
        assert needle in output, f"{needle!r} not in:\n{output}"
    assert "Traceback" not in output
    assert "internal error" not in output
    assert qemu_pids_under(tmp_path) == [], "a qemu-system process was left running"
    assert list((tmp_path / "tmp").iterdir()) == [], "temporary files were left"
    assert (tmp_path / "out").exists() == output_kept
    failures = tmp_path / "failures"
    if report is None:
        assert not failures.exists() or not list(failures.iterdir())
        return None
    if output_kept:  # inside the output directory, named as output_directory is written
        where = tmp_path / "out" / "kiln-failure"
        assert "Failure report kept in out/kiln-failure" in output
    else:
        [where] = list(failures.iterdir())
        assert f"Failure report kept in {where}" in output
    assert report <= {p.name for p in where.iterdir()}, sorted(p.name for p in where.iterdir())
    for kept in where.iterdir():  # redacted, the -on-error=abort copy too
        assert SECRET.encode() not in kept.read_bytes(), kept.name
    assert "'type=11,value=<sensitive>'" in (where / "qemu-argv.txt").read_text()
    return where


def fill(filesystem: Path) -> None:
    """Write until the file system is full (to the last block)."""
    fd = os.open(filesystem / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\xff" * size):
                    pass
    finally:
        os.close(fd)


def drop_tcp(port: int) -> None:
    """Destroy the TCP connections to 127.0.0.1:`port` (the kernel's SOCK_DESTROY)."""
    dropped = subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", f":{port}"],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert dropped.returncode == 0, dropped.stderr
    assert "ESTAB" in dropped.stdout, f"no connection to port {port} was dropped"


def ssh_port(output: str) -> int:
    marker = "Found port for communicator (SSH, WinRM, etc): "
    return int(output.split(marker, 1)[1].split(".", 1)[0])


# --- every boundary before the guest boots: an interrupt ------------------------------


@pytest.mark.parametrize(
    ("step", "signum"),
    [
        *((s, signal.SIGINT) for s in BEFORE_QEMU),
        ("disk", signal.SIGTERM),
        ("start qemu", signal.SIGINT),
        ("start qemu", signal.SIGTERM),
    ],
    ids=lambda v: v.name if isinstance(v, signal.Signals) else v.replace(" ", "-"),
)
def test_interrupt_at_a_step_boundary(
    tiny_iso: Any, tmp_path: Path, step: str, signum: signal.Signals
) -> None:
    env = _project(tmp_path, tiny_iso)
    build = SteppedBuild(["t.json"], cwd=tmp_path, env=env)
    try:
        build.pause_after(step)
        build.signal(signum)
        # A pause reading the terminal in a thread kept kiln from exiting until Enter.
        code = build.finish(timeout=60)
    finally:
        build.kill()
    report = REPORT_FILES | {"screenshot.png"} if step == "start qemu" else None
    where = assert_failed_cleanly(tmp_path, code, build.text, f"Interrupt received ({signum.name})",
                                  "Build was cancelled", report=report)  # fmt: skip
    if where is not None:
        assert (where / "screenshot.png").read_bytes().startswith(PNG_MAGIC)


# --- QEMU killed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "abort"), [("start qemu", False), ("boot command", True)], ids=["start", "boot"]
)
def test_qemu_killed_at_a_step_boundary(
    tiny_iso: Any, tmp_path: Path, step: str, abort: bool
) -> None:
    env = _project(tmp_path, tiny_iso)
    args = ["-on-error=abort", "t.json"] if abort else ["t.json"]
    build = SteppedBuild(args, cwd=tmp_path, env=env)
    try:
        build.pause_after(step)
        [pid] = qemu_pids_under(tmp_path)
        os.kill(pid, signal.SIGKILL)
        build.resume()
        code = build.finish()
    finally:
        build.kill()
    assert_failed_cleanly(tmp_path, code, build.text, "QEMU exited", report=REPORT_FILES,
                          output_kept=abort)  # fmt: skip
    if abort:
        assert (tmp_path / "out" / "tiny.qcow2").is_file()


# --- the guest running: SSH dropped, the HTTP server stopped, the disk full -------------


def test_ssh_dropped_between_steps_is_survived_and_mid_command_fails(
    tiny_iso: Any, tmp_path: Path
) -> None:
    """Between steps kiln reconnects (a dropped connection is not a failed command); a
    connection dropped while a command runs leaves its exit status unknown: that fails."""
    provisioners = [{"type": "shell", "inline": ["echo first-command-ran"]},
                    {"type": "shell", "inline": ["echo second-started; sleep 120"]}]  # fmt: skip
    env = _project(tmp_path, tiny_iso, _provisioners=provisioners)
    build = SteppedBuild(["t.json"], cwd=tmp_path, env=env)
    try:
        build.pause_after("wait for ssh")
        port = ssh_port(build.text)
        drop_tcp(port)
        build.resume()
        build.wait_for("second-started")
        drop_tcp(port)
        code = build.finish()
    finally:
        build.kill()
    assert "reconnecting" in (tmp_path / "kiln-debug.log").read_text()
    assert "first-command-ran" in build.text
    assert_failed_cleanly(tmp_path, code, build.text, "Script disconnected unexpectedly",
                          report=REPORT_FILES)  # fmt: skip


def test_http_server_stopped_before_the_guest_asks(tiny_iso: Any, tmp_path: Path) -> None:
    """The server's listening socket destroyed (`ss -K`): kiln says so once (asyncio's
    server spun on it, logging a traceback per accept), the installer finds nobody, and
    the wait for SSH times out with the installer's complaint in the serial log."""
    env = _project(tmp_path, tiny_iso, ssh_timeout="40s")
    build = SteppedBuild(["t.json"], cwd=tmp_path, env=env)
    try:
        build.pause_after("http server")
        port = int(build.text.split("Starting HTTP server on port ", 1)[1].split()[0])
        listener = ["state", "listening", "src", f"127.0.0.1:{port}"]
        destroyed = subprocess.run(["ss", "-K", *listener], capture_output=True, check=False)
        assert destroyed.returncode == 0
        build.resume()
        code = build.finish()
    finally:
        build.kill()
    where = assert_failed_cleanly(
        tmp_path, code, build.text, f"The HTTP server on port {port} stopped",
        "Timeout waiting for SSH", report=REPORT_FILES,
    )  # fmt: skip
    assert where is not None
    assert build.text.count(f"The HTTP server on port {port} stopped") == 1
    assert "is the HTTP server up?" in (where / "serial.log").read_text(errors="replace")


def test_disk_full_while_the_guest_installs(tiny_iso: Any, tmp_path: Path) -> None:
    """QEMU pauses a guest whose disk write hits ENOSPC (werror=enospc); kiln stopped
    waiting for SSH only at ssh_timeout. Now it fails as soon as QEMU reports the error."""
    with tmpfs(tmp_path / "small", "size=64m") as small:
        env = _project(tmp_path, tiny_iso, output_directory=str(small / "out"))
        build = SteppedBuild(["t.json"], cwd=tmp_path, env=env)
        try:
            build.pause_after("start qemu")
            fill(small)
            build.resume()
            code = build.finish()
        finally:
            build.kill()
        assert not (small / "out").exists()
    assert_failed_cleanly(tmp_path, code, build.text, "QEMU paused the guest",
                          "No space left on device", report=REPORT_FILES)  # fmt: skip


def test_disk_full_when_compacting(tiny_iso: Any, tmp_path: Path) -> None:
    """After the guest shut down, the image is converted into a new file: no room."""
    with tmpfs(tmp_path / "small", "size=256m") as small:
        env = _project(tmp_path, tiny_iso, output_directory=str(small / "out"))
        build = SteppedBuild(["t.json"], cwd=tmp_path, env=env)
        try:
            build.pause_after("shutdown")
            fill(small)
            build.resume()
            code = build.finish()
        finally:
            build.kill()
        assert not (small / "out").exists()
    assert_failed_cleanly(tmp_path, code, build.text, "No space left on device",
                          report=REPORT_FILES)  # fmt: skip

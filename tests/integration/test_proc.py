"""kiln.proc against real processes: long lines, readiness, process groups, environments;
and the programs kiln spawns through it (swtpm for real, the KVM probe with stand-ins)."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from kiln import proc
from kiln.builders.qemu.accel import probe_kvm
from kiln.builders.qemu.swtpm import SwtpmError, _answers, run_swtpm

PY = sys.executable


def test_line_pump_hands_on_lines_of_any_length() -> None:
    lines: list[str] = []
    pump = proc.LinePump(lines.append)
    pump.feed(b"first\nsec")
    pump.feed(b"ond\n" + b"x" * (proc.CHUNK + 10))
    pump.feed(b"x\ntail")
    pump.flush()
    assert lines == ["first", "second", "x" * (proc.CHUNK + 11), "tail"]


async def test_run_reads_a_long_line_without_newline() -> None:
    size = 200 * 1024
    result = await proc.run([PY, "-c", f"import sys; sys.stdout.write('y' * {size})"])
    assert result.stdout == "y" * size


async def test_run_env_is_the_whole_environment() -> None:
    result = await proc.run([PY, "-c", "import os; print(sorted(os.environ))"],
                            env={"ONLY": "1"})  # fmt: skip
    assert "'ONLY'" in result.stdout
    assert "'PATH'" not in result.stdout


async def test_spawn_yields_when_ready_and_kills_the_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    said = asyncio.Event()
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        said.set()

    async def ready(_: proc.Process) -> None:
        await said.wait()

    async with proc.spawn([PY, "-c", script], env=proc.inherited_env(), on_stdout=on_line,
                          ready=ready, ready_timeout=30) as process:  # fmt: skip
        assert lines == ["ready"]
        assert process.returncode is None
        grandchild = int(pid_file.read_text())
    assert process.returncode is not None
    for _ in range(50):  # the grandchild was in the group: SIGKILLed too
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the grandchild outlived the process group kill")


async def test_spawn_reports_a_program_that_exits_before_ready() -> None:
    async def never(_: proc.Process) -> None:
        await asyncio.Event().wait()

    script = "import sys; sys.stderr.write('it broke\\n'); sys.exit(3)"
    with pytest.raises(proc.CommandError) as caught:
        async with proc.spawn([PY, "-c", script], env=proc.inherited_env(), what="thing",
                              ready=never, ready_timeout=30):  # fmt: skip
            pytest.fail("not ready")
    assert caught.value.returncode == 3
    assert "thing failed with exit status 3: it broke" in str(caught.value)


async def test_spawn_not_ready_in_time() -> None:
    async def never(_: proc.Process) -> None:
        await asyncio.Event().wait()

    with pytest.raises(proc.NotReady, match=r"sleeper was not ready within 0\.2s"):
        async with proc.spawn(["sleep", "30"], env=proc.inherited_env(), what="sleeper",
                              ready=never, ready_timeout=0.2):  # fmt: skip
            pytest.fail("not ready")


@pytest.mark.skipif(shutil.which("swtpm") is None, reason="swtpm is not installed")
async def test_swtpm_is_ready_on_its_precreated_socket(tmp_path: Path) -> None:
    async with run_swtpm(tmp_path / "vtpm", tpm1=False) as sock:
        assert sock == tmp_path / "vtpm" / "vtpm.sock"
        await asyncio.wait_for(_answers(sock), 5)  # a second client (QEMU) is served too


def _fake(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


async def test_swtpm_that_fails_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(tmp_path / "bin", "swtpm", "echo 'swtpm: no such option' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(SwtpmError, match="swtpm failed with exit status 1: swtpm: no such"):
        async with run_swtpm(tmp_path / "vtpm", tpm1=False):
            pytest.fail("swtpm is not ready")


async def test_kvm_probe_outcomes(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake(bin_dir, "boots", "printf 'SeaBIOS\\nNo bootable device.'; sleep 30")
    _fake(bin_dir, "hangs", "sleep 30")
    _fake(bin_dir, "dies", "echo 'kvm: no' >&2; exit 1")
    assert await probe_kvm(str(bin_dir / "boots"), timeout=10) == (
        True,
        "firmware finished booting",
    )
    assert await probe_kvm(str(bin_dir / "hangs"), timeout=0.3) == (
        False, "the firmware did not finish booting within 0.3s")  # fmt: skip
    assert await probe_kvm(str(bin_dir / "dies"), timeout=10) == (False, "QEMU exited: kvm: no")
    works, why = await probe_kvm(str(bin_dir / "missing"), timeout=10)
    assert not works
    assert why.startswith(f"cannot start {bin_dir / 'missing'}: [Errno 2]")

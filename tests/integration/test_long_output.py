# ruff: noqa: F811  (pytest fixtures imported by name)
"""Every stream kiln reads takes arbitrarily long lines (issue 15 #7).

QEMU writing 64 KiB without a newline (a guest progress bar on `-serial stdio`) killed the
output pump and then kiln hung: stopping QEMU never returned. A shell-local provisioner
printing a 100 000-character line failed with `ValueError: Separator is not found`. Here:
real QEMU (behind a wrapper that first writes a long line), real local commands, a real
sshd; and a reader whose consumer fails must still drain the pipe.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from test_ssh_communicator import (  # noqa: F401 (fixtures)
    LogLines,
    Sshd,
    SshdEnv,
    settings_for,
    sshd,
    sshd_env,
)

from kiln import proc
from kiln.builders.qemu.process import run_qemu
from kiln.communicator.ssh import SshCommunicator
from kiln.provisioners.config import ShellLocalConfig
from kiln.provisioners.context import ProvisionContext
from kiln.provisioners.shell_local import run_shell_local
from template_plans import build_of

pytestmark = pytest.mark.timeout(180)
PY = sys.executable
GUARD = 60  # seconds; only against a hang, never a measure of speed
MIB = 1024 * 1024


def _writer(*parts: tuple[str, int]) -> str:
    """A Python one-liner writing `count` times `char` for each part, to stdout."""
    body = " + ".join(f"{char!r} * {count}" for char, count in parts)
    return f"import sys; sys.stdout.write({body}); sys.stdout.flush()"


async def test_qemu_writing_a_megabyte_without_newline_still_stops(tmp_path: Path) -> None:
    wrapper = tmp_path / "qemu-system-x86_64"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"{PY} -c \"import sys; sys.stdout.write('#' * {MIB})\"\n"
        'exec qemu-system-x86_64 "$@"\n'
    )
    wrapper.chmod(0o755)
    log = tmp_path / "qemu-stderr.log"

    def argv(fd: int) -> list[str]:
        return [str(wrapper), "-machine", "none", "-display", "none", "-nodefaults",
                "-chardev", f"socket,id=kiln-qmp,fd={fd}",
                "-mon", "chardev=kiln-qmp,mode=control"]  # fmt: skip

    async with asyncio.timeout(GUARD):
        async with run_qemu(argv, name="long", stderr_log=log) as qemu:
            how = await qemu.stop()
        assert how == "quit"
    assert f"stdout: {'#' * MIB}\n" in log.read_text()


async def test_a_failing_consumer_does_not_stop_the_reader() -> None:
    """If the pump stopped reading, the program would block on a full pipe forever."""

    def broken(_: str) -> None:
        raise OSError(28, "No space left on device")  # e.g. the log file's disk is full

    script = _writer(("a", 100), ("\n", 1), ("b", 8 * MIB), ("\n", 1))
    async with asyncio.timeout(GUARD):
        async with proc.spawn([PY, "-c", script], env=proc.inherited_env(),
                              on_stdout=broken) as process:  # fmt: skip
            code = await process.wait()
    assert code == 0

    lines: list[int] = []

    def fails_first(line: str) -> None:
        lines.append(len(line))
        raise RuntimeError("a bug in a sink")

    async with asyncio.timeout(GUARD):
        result = await proc.run([PY, "-c", script], on_stdout=fails_first)
    assert lines == [100]  # dropped after its failure...
    assert [len(x) for x in result.stdout.split("\n")] == [100, 8 * MIB]  # ...the rest read


async def test_shell_local_prints_long_lines_whole(tmp_path: Path) -> None:
    messages: list[str] = []
    ctx = ProvisionContext(plan=build_of(tmp_path), say=lambda _: None,
                           message=messages.append, comm=None, build_values={},
                           cwd=tmp_path)  # fmt: skip
    (tmp_path / "long.py").write_text(_writer(("x", 100_000), ("\n", 1), ("y", 3 * MIB)))
    async with asyncio.timeout(GUARD):
        await run_shell_local(ShellLocalConfig(inline=[f"{PY} {tmp_path / 'long.py'}"]), ctx)
    assert [len(m) for m in messages] == [100_000, 3 * MIB]


async def test_ssh_command_output_takes_long_lines_whole(sshd_env: SshdEnv, sshd: Sshd) -> None:
    out: list[str] = []
    err: list[str] = []
    settings = settings_for(sshd_env, sshd.port)
    command = (
        "head -c 3000000 /dev/zero | tr '\\0' x; echo; printf 'é%.0s' $(seq 1 70000); echo; "
        "head -c 100000 /dev/zero | tr '\\0' e >&2"
    )
    async with asyncio.timeout(GUARD):
        async with await SshCommunicator.wait_for(settings, log=LogLines()) as comm:
            status = await comm.run(command, stdout=out.append, stderr=err.append)
    assert status == 0
    assert [len(line) for line in out] == [3_000_000, 70_000]
    assert out[1] == "é" * 70_000  # a multi-byte character is never cut in two
    assert err == ["e" * 100_000]


@pytest.mark.parametrize("split", [1, 7, 4096, 65536])
def test_line_pump_is_independent_of_how_the_stream_is_cut(split: int) -> None:
    data = b"a\n\nbb\r\n" + "é".encode() * 5000 + b"\n" + b"z" * 70_000
    lines: list[str] = []
    pump = proc.LinePump(lines.append)
    for i in range(0, len(data), split):
        pump.feed(data[i : i + split])
    pump.flush()
    assert lines == data.decode().split("\n")  # a CR stays: the SSH reader strips it

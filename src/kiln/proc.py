"""The one way kiln runs an external command (qemu-img, xorriso, shell-local scripts).

Every command is logged with its full argv before it runs, gets a closed stdin and an
explicit environment, and fails with a message that says what happened: the exit status
or signal, "not found" for a missing binary, the command line, and the last lines of its
stderr. Cancellation (Ctrl-C) kills the child and waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from kiln.errors import KilnError
from kiln.record import Record
from kiln.ui.log import LOG


class Completed(Record, frozen=True):
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandError(KilnError):
    """A command failed; `str()` is the user-facing explanation."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def describe_failure(argv: Sequence[str], returncode: int, stderr: str, *, what: str = "") -> str:
    """'qemu-img failed with exit status 1: <stderr tail> (command: ...)'."""
    name = what or Path(argv[0]).name
    if returncode == 127:
        reason = f"{name} was not found"
    elif returncode < 0:
        try:
            sig = signal.Signals(-returncode).name
        except ValueError:
            sig = f"signal {-returncode}"
        reason = f"{name} was killed by {sig}"
    else:
        reason = f"{name} failed with exit status {returncode}"
    tail = "\n".join(stderr.strip().splitlines()[-15:])
    text = f"{reason}: {tail}" if tail else reason
    return f"{text}\n  command: {shlex.join(argv)}"


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment children get: ours, with a stable locale, plus `extra`."""
    env = dict(os.environ)
    env.setdefault("LANG", "C.UTF-8")
    if extra:
        env.update(extra)
    return env


async def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    what: str = "",
    on_stdout: Callable[[str], None] | None = None,
    on_stderr: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> Completed:
    """Run a command to completion; stream lines to the callbacks if given."""
    args = tuple(os.fspath(a) for a in argv)
    LOG.debug("Executing: %s", shlex.join(args))
    try:
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_env(env),
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise CommandError(describe_failure(args, 127, "", what=what), returncode=127) from None
    except PermissionError as err:
        raise CommandError(f"cannot run {args[0]}: {err}") from None

    out_lines: list[str] = []
    err_lines: list[str] = []

    async def pump(stream: asyncio.StreamReader, sink: list[str],
                   callback: Callable[[str], None] | None) -> None:  # fmt: skip
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            sink.append(text)
            if callback is not None:
                callback(text)

    assert proc.stdout is not None and proc.stderr is not None
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(
                pump(proc.stdout, out_lines, on_stdout),
                pump(proc.stderr, err_lines, on_stderr),
            )
            returncode = await proc.wait()
    except BaseException:
        await kill_process_group(proc)
        raise
    result = Completed(args, returncode, "\n".join(out_lines), "\n".join(err_lines))
    LOG.debug("%s exited with %d", args[0], returncode)
    if check and returncode != 0:
        raise CommandError(
            describe_failure(args, returncode, result.stderr, what=what),
            returncode=returncode,
            stderr=result.stderr,
        )
    return result


async def kill_process_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL a child (and its process group) and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())

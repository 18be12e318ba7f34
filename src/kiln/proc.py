"""The one way kiln starts an external program: `run()` to completion, or `spawn()` a server.

Every program is logged with its full argv before it starts, gets a closed stdin, the
environment its caller passes (`env`: the whole environment, nothing implicit —
`inherited_env()` is kiln's own plus a stable locale) and its own process group, so a
Ctrl-C reaches kiln only and kiln decides how its children stop. Failures say what happened:
the exit status or signal, "not found" for a missing binary, the command line, the last
lines of stderr.

Output is read in chunks and split into lines by `LinePump`, so a line of any length (a
64 KiB screen dump without a newline) is delivered whole instead of killing the reader
(asyncio's `readline()` gives up past 64 KiB).

`spawn()` is an async context manager that yields once the program is ready (its `ready`
coroutine returned) and, on the way out, kills the process group and drains the pumps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiln.errors import KilnError
from kiln.ui.log import LOG
from kiln.ui.redact import quote_argv, redact_data

CHUNK = 1 << 16  # bytes read at a time
MAX_LINE = 1 << 24  # a "line" longer than this (16 MiB without a newline) is handed on in parts
STDERR_TAIL = 200  # lines of stderr a Process keeps for its failure message
EXIT_GRACE = 2.0  # seconds a program whose readiness check failed gets to exit

LineSink = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Completed:
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


class NotReady(CommandError):
    """A spawned program did not become ready in time (it is still running)."""


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
    tail = redact_data("\n".join(stderr.strip().splitlines()[-15:]))
    text = f"{reason}: {tail}" if tail else reason
    return f"{text}\n  command: {quote_argv(argv)}"


def inherited_env(extra: Mapping[str, str] | None = None, *, locale: bool = True) -> dict[str, str]:
    """kiln's own environment for a child (with LANG=C.UTF-8 unless set), plus `extra`."""
    env = dict(os.environ)
    if locale:
        env.setdefault("LANG", "C.UTF-8")
    if extra:
        env.update(extra)
    return env


class LinePump:
    """Reads a stream in chunks until EOF and hands each line (without its newline) on.

    A partial line waits for its newline (or the end of the stream), however long it is;
    only past `MAX_LINE` bytes is it handed on in parts, to bound the memory it takes. Each
    chunk is scanned once, so a long line costs linear time. A sink that raises is
    reported in the debug log and dropped, and the stream is still read to its end: a
    reader that stops would leave the program blocked on a full pipe.
    """

    def __init__(self, *sinks: LineSink | None, raw: Callable[[bytes], None] | None = None):
        self.sinks = [s for s in sinks if s is not None]
        self.raw = raw
        self._parts: list[bytes] = []  # the line so far, in pieces
        self._size = 0

    async def run(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(CHUNK):
            if self.raw is not None:
                try:
                    self.raw(chunk)
                except Exception:
                    LOG.debug("output handler failed; dropping it", exc_info=True)
                    self.raw = None
            self.feed(chunk)
        self.flush()

    def feed(self, chunk: bytes) -> None:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self._parts.append(chunk[start:end])
            self._emit(b"".join(self._parts))
            self._parts, self._size = [], 0
            start = end + 1
        if start < len(chunk):
            self._parts.append(chunk[start:])
            self._size += len(chunk) - start
            if self._size > MAX_LINE:
                self.flush()

    def flush(self) -> None:
        if self._parts:
            self._emit(b"".join(self._parts))
            self._parts, self._size = [], 0

    def _emit(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace")
        for sink in list(self.sinks):
            try:
                sink(text)
            except Exception:
                LOG.debug("output handler %r failed; dropping it", sink, exc_info=True)
                self.sinks.remove(sink)


async def _exec(
    argv: tuple[str, ...],
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    what: str,
    pass_fds: Sequence[int] = (),
) -> asyncio.subprocess.Process:
    LOG.debug("Executing: %s", quote_argv(argv))
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            pass_fds=tuple(pass_fds),
            start_new_session=True,  # Ctrl-C reaches kiln only; kiln stops its children
        )
    except FileNotFoundError as err:  # the cause is kept: callers may quote it
        raise CommandError(describe_failure(argv, 127, "", what=what), returncode=127) from err
    except PermissionError as err:
        raise CommandError(f"cannot run {argv[0]}: {err}") from err


async def kill_process_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL a child (and its process group) and reap it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())


async def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    cwd: Path | None = None,
    what: str = "",
    on_stdout: LineSink | None = None,
    on_stderr: LineSink | None = None,
    timeout: float | None = None,
) -> Completed:
    """Run a command to completion; stream lines to the callbacks if given.

    `env` is the child's whole environment (default: `inherited_env()`).
    """
    args = tuple(os.fspath(a) for a in argv)
    proc = await _exec(args, env=inherited_env() if env is None else env, cwd=cwd, what=what)
    out_lines: list[str] = []
    err_lines: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(
                LinePump(out_lines.append, on_stdout).run(proc.stdout),
                LinePump(err_lines.append, on_stderr).run(proc.stderr),
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


class Process:
    """A program started by `spawn()`: its state, its last stderr lines, how to stop it."""

    def __init__(self, proc: asyncio.subprocess.Process, argv: tuple[str, ...], what: str):
        self.proc = proc
        self.argv = argv
        self.what = what
        self.stderr_lines: list[str] = []
        self.pumps: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def keep_stderr(self, line: str) -> None:
        self.stderr_lines.append(line)
        del self.stderr_lines[:-STDERR_TAIL]

    def failure(self) -> str:
        """describe_failure() for a program that has exited."""
        code = self.proc.returncode if self.proc.returncode is not None else -1
        return describe_failure(self.argv, code, "\n".join(self.stderr_lines), what=self.what)

    async def wait(self, timeout: float | None = None) -> int:
        """Wait for the program to exit (notified, no polling), then for its output."""
        async with asyncio.timeout(timeout):
            code = await asyncio.shield(self.proc.wait())
        await self.drain()
        return code

    def signal_group(self, signum: int) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signum)

    async def kill(self) -> None:
        """SIGKILL the process group, reap the program, read what is left of its output."""
        exited_before = self.proc.returncode is not None
        await kill_process_group(self.proc)
        await self.drain()
        code = self.proc.returncode
        how = f"exited with {code}" if exited_before else f"was stopped (status {code})"
        LOG.debug("%s (pid %d) %s", self.what, self.proc.pid, how)

    async def drain(self, timeout: float = 2.0) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*self.pumps)


@contextlib.asynccontextmanager
async def spawn(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str],
    what: str = "",
    pass_fds: Sequence[int] = (),
    on_stdout: LineSink | None = None,
    on_stderr: LineSink | None = None,
    raw_stdout: Callable[[bytes], None] | None = None,
    ready: Callable[[Process], Awaitable[None]] | None = None,
    ready_timeout: float | None = None,
    cwd: Path | None = None,
) -> AsyncIterator[Process]:
    """Start a program; yield it once `ready(process)` has returned; kill its group at exit.

    Raises `CommandError` when it cannot start or exits before it is ready (with its
    status and stderr), `NotReady` when `ready` did not return within `ready_timeout`.
    """
    args = tuple(os.fspath(a) for a in argv)
    proc = await _exec(args, env=env, cwd=cwd, what=what, pass_fds=pass_fds)
    process = Process(proc, args, what or Path(args[0]).name)
    assert proc.stdout is not None and proc.stderr is not None
    process.pumps = [
        asyncio.create_task(LinePump(on_stdout, raw=raw_stdout).run(proc.stdout)),
        asyncio.create_task(LinePump(process.keep_stderr, on_stderr).run(proc.stderr)),
    ]
    try:
        if ready is not None:
            await _until_ready(process, ready, ready_timeout)
        LOG.debug("%s (pid %d) is ready", process.what, proc.pid)
        yield process
    finally:
        await process.kill()


async def _until_ready(
    process: Process, ready: Callable[[Process], Awaitable[None]], timeout: float | None
) -> None:
    """Run `ready`; fail at once (with the program's reason) if the program exits first."""
    check = asyncio.ensure_future(ready(process))
    exited = asyncio.ensure_future(process.proc.wait())
    try:
        done, _ = await asyncio.wait({check, exited}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
    except BaseException:
        check.cancel()
        exited.cancel()
        raise
    if check in done:
        if check.exception() is None:
            exited.cancel()
            return
        # A failed check is often the program dying: give it a moment to say why.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(exited), EXIT_GRACE)
        if not exited.done():
            exited.cancel()
            check.result()  # raises the check's own error
    check.cancel()
    with contextlib.suppress(BaseException):
        await check
    if exited.done():
        await process.drain()
        raise CommandError(process.failure(), returncode=process.returncode,
                           stderr="\n".join(process.stderr_lines))  # fmt: skip
    exited.cancel()
    raise NotReady(f"{process.what} was not ready within {timeout:g}s")

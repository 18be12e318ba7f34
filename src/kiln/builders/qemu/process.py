"""A running QEMU, controlled over a private QMP channel.

QMP runs over a `socketpair()`: one end is inherited by QEMU as a file descriptor
(`-chardev socket,fd=N`), so there is no port or socket path to collide on (QEMU's own
`machine.py` does this). `start()` returns only once QMP has answered, i.e. QEMU has parsed
its command line and its VNC server is listening; if QEMU dies first, the error carries
QEMU's own message from its stderr.

Stopping is staged: ACPI power button (`system_powerdown`), QMP `quit`, SIGTERM, SIGKILL;
the process is always reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qemu.qmp import QMPClient

from kiln.errors import KilnError
from kiln.proc import describe_failure
from kiln.ui.log import LOG


class QemuError(KilnError):
    """QEMU could not be started or controlled."""


class QemuProcess:
    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        qmp: QMPClient,
        argv: list[str],
        stderr_log: Path | None,
    ) -> None:
        self.proc = proc
        self.qmp = qmp
        self.argv = argv
        self.stderr_lines: list[str] = []
        self.stderr_log = stderr_log
        self.started_at = time.monotonic()
        self._readers: list[asyncio.Task[None]] = []
        self._exit_waiter: asyncio.Task[int] | None = None
        self.expected_exit = False

    # --- start -----------------------------------------------------------------------
    @classmethod
    async def start(
        cls,
        make_argv: Callable[[int], list[str]],
        *,
        name: str,
        stderr_log: Path | None = None,
        on_stderr: Callable[[str], None] | None = None,
        ready_timeout: float = 60.0,
    ) -> QemuProcess:
        """Start QEMU with argv `make_argv(control_fd)`; return when QMP is up."""
        ours, theirs = socket.socketpair()
        try:
            argv = make_argv(theirs.fileno())
            LOG.debug("Executing: %s", shlex.join(argv))
            try:
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,  # Ctrl-C reaches kiln only; kiln stops QEMU
                )
            except FileNotFoundError:
                raise QemuError(
                    f"{argv[0]} was not found on PATH: install QEMU (apt-get install "
                    "qemu-system-x86) or set qemu_binary"
                ) from None
        finally:
            theirs.close()
        qmp = QMPClient(name)
        self = cls(proc, qmp, argv, stderr_log)
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            asyncio.create_task(self._pump(proc.stderr, "stderr", on_stderr)),
            asyncio.create_task(self._pump(proc.stdout, "stdout", None)),
        ]
        try:
            async with asyncio.timeout(ready_timeout):
                await qmp.connect(ours)
        except BaseException as err:
            ours.close()
            if isinstance(err, Exception) and proc.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proc.wait()), 2.0)
            if proc.returncode is not None:
                await self._drain()
                raise QemuError(self.failure_message("Qemu failed to start")) from None
            await self.kill()
            if isinstance(err, TimeoutError):
                raise QemuError(
                    f"QEMU did not answer on its control channel within {ready_timeout:.0f}s"
                ) from None
            raise
        LOG.debug("QEMU pid %d is up (QMP connected)", proc.pid)
        return self

    async def _pump(
        self,
        stream: asyncio.StreamReader,
        label: str,
        callback: Callable[[str], None] | None,
    ) -> None:
        log = self.stderr_log.open("a", encoding="utf-8") if self.stderr_log else None
        try:
            while line := await stream.readline():
                text = line.decode("utf-8", "replace").rstrip("\n")
                LOG.debug("Qemu %s: %s", label, text)
                if label == "stderr":
                    self.stderr_lines.append(text)
                    if callback is not None:
                        callback(text)
                if log is not None:
                    log.write(f"{label}: {text}\n")
                    log.flush()
        finally:
            if log is not None:
                log.close()

    async def _drain(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await asyncio.gather(*self._readers)

    # --- state -----------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def failure_message(self, what: str) -> str:
        code = self.proc.returncode if self.proc.returncode is not None else -1
        return f"{what}: " + describe_failure(self.argv, code, "\n".join(self.stderr_lines),
                                              what="QEMU")  # fmt: skip

    def exit_reason(self) -> str | None:
        """Why QEMU is gone, if it is (for waits that should stop early)."""
        if self.proc.returncode is None:
            return None
        stderr = "\n".join(self.stderr_lines[-5:]).strip()
        return f"QEMU exited with status {self.proc.returncode}" + (f": {stderr}" if stderr else "")

    async def wait(self, timeout: float | None = None) -> int:
        """Wait for QEMU to exit (immediately notified, no polling)."""
        async with asyncio.timeout(timeout):
            code = await asyncio.shield(self.proc.wait())
        await self._drain()
        return code

    # --- QMP -------------------------------------------------------------------------
    async def command(self, name: str, **arguments: Any) -> Any:
        try:
            return await self.qmp.execute(name, arguments or None)
        except Exception as err:  # qemu.qmp raises its own hierarchy
            raise QemuError(f"QMP {name} failed: {err}") from None

    async def screendump(self, path: Path) -> None:
        """A PNG of the console (QEMU >= 7.1 writes PNG itself)."""
        try:
            await self.command("screendump", filename=str(path), format="png")
        except QemuError:
            await self.command("screendump", filename=str(path.with_suffix(".ppm")))

    async def powerdown(self) -> None:
        """Press the ACPI power button."""
        await self.command("system_powerdown")

    # --- stop ------------------------------------------------------------------------
    async def stop(self, *, powerdown_timeout: float = 0.0, quit_timeout: float = 5.0) -> str:
        """Make sure QEMU is gone; return how it went (for the log)."""
        if self.proc.returncode is not None:
            await self.close_qmp()
            return "already exited"
        self.expected_exit = True
        if powerdown_timeout > 0:
            with contextlib.suppress(QemuError):
                await self.powerdown()
                with contextlib.suppress(TimeoutError):
                    await self.wait(powerdown_timeout)
                    await self.close_qmp()
                    return "powered off (ACPI)"
        with contextlib.suppress(QemuError, TimeoutError):
            await asyncio.wait_for(self.command("quit"), quit_timeout)
            await self.wait(quit_timeout)
            await self.close_qmp()
            return "quit"
        await self.close_qmp()
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await self.wait(5.0)
                return "terminated"
        await self.kill()
        return "killed"

    async def kill(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await asyncio.shield(self.proc.wait())
        await self.close_qmp()
        await self._drain()

    async def close_qmp(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.qmp.disconnect(), 2.0)

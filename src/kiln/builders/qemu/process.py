"""A running QEMU, controlled over a private QMP channel.

QMP runs over a `socketpair()`: one end is inherited by QEMU as a file descriptor
(`-chardev socket,fd=N`), so there is no port or socket path to collide on (QEMU's own
`machine.py` does this). `run_qemu()` yields only once QMP has answered, i.e. QEMU has
parsed its command line and its VNC server is listening; if QEMU dies first, the error
carries QEMU's own message from its stderr. The process itself is `kiln.proc.spawn`'s:
its output pumps, its process group, its environment.

Stopping is staged: ACPI power button (`system_powerdown`), QMP `quit`, SIGTERM, SIGKILL;
the process is always reaped.

Install checkpoints save and load the machine's RAM and device state with QEMU's migration
to and from a file (`save_state`, `load_state`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

from qemu.qmp import EventListener, QMPClient

from kiln import proc
from kiln.errors import KilnError
from kiln.ui.log import LOG
from kiln.ui.redact import redact_data


class QemuError(KilnError):
    """QEMU could not be started or controlled."""


# Migration to a file of a paused guest is throttled by QEMU's default bandwidth limit
# (128 MiB/s): 0.87 s for the example's 120 MB of state; unthrottled 0.17 s.
MIGRATION_BANDWIDTH = 1 << 40  # bytes/s: no limit in practice
MIGRATION_POLL = 0.02  # seconds between `query-migrate` calls


class _OutputLog:
    """QEMU's stdout and stderr lines: to the debug log and to `qemu-stderr.log`."""

    def __init__(self, path: Path | None) -> None:
        self.file: IO[str] | None = path.open("a", encoding="utf-8") if path else None

    def sink(self, label: str) -> Callable[[str], None]:
        def write(line: str) -> None:
            text = redact_data(line)  # QEMU may echo its command line, secrets and all
            LOG.debug("Qemu %s: %s", label, text)
            if self.file is not None:
                self.file.write(f"{label}: {text}\n")
                self.file.flush()

        return write

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class _IoErrors(EventListener):
    """QMP `BLOCK_IO_ERROR` events, handed to a callback as they come (no queue)."""

    def __init__(self, seen: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(("BLOCK_IO_ERROR",))
        self.seen = seen

    async def put(self, event: Any) -> None:
        if self.accept(event):
            self.seen(dict(event.get("data", {})))


class QemuProcess:
    """QEMU while `run_qemu()` holds it: its QMP client, its state, how to stop it."""

    def __init__(self, process: proc.Process, qmp: QMPClient) -> None:
        self.process = process
        self.qmp = qmp
        self.argv = list(process.argv)
        self.started_at = time.monotonic()
        self.expected_exit = False
        # Why the guest is paused on a disk error (a full disk), once QEMU said so.
        self.io_error: str | None = None
        self._io_errors = _IoErrors(self._note_io_error)
        qmp.register_listener(self._io_errors)

    def _note_io_error(self, data: dict[str, Any]) -> None:
        if self.io_error is not None or data.get("action") != "stop":
            return  # "report"/"ignore": the guest goes on and sees the error itself
        nospace = bool(data.get("nospace"))
        reason = data.get("reason") or ("No space left on device" if nospace else "I/O error")
        drive = data.get("device") or data.get("node-name") or "a drive"
        self.io_error = (
            f"QEMU paused the guest: a {data.get('operation', 'disk')} to drive {drive} "
            f"failed ({reason})" + ("; free space where the disk image is" if nospace else "")
        )
        LOG.debug("QEMU: BLOCK_IO_ERROR %s", data)

    # --- state -----------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    @property
    def stderr_lines(self) -> list[str]:
        return self.process.stderr_lines

    def failure_message(self, what: str) -> str:
        return f"{what}: " + self.process.failure()

    def exit_reason(self) -> str | None:
        """Why QEMU is gone or cannot go on (for waits that should stop early): it
        exited, or it paused the guest on a disk error."""
        if self.returncode is None:
            return self.io_error
        stderr = redact_data("\n".join(self.stderr_lines[-5:]).strip())
        return f"QEMU exited with status {self.returncode}" + (f": {stderr}" if stderr else "")

    async def wait(self, timeout: float | None = None) -> int:
        """Wait for QEMU to exit (immediately notified, no polling)."""
        return await self.process.wait(timeout)

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

    # --- machine state (install checkpoints) ------------------------------------------
    async def save_state(self, path: Path, *, timeout: float) -> dict[str, Any]:
        """Pause the guest and write its RAM and device state to `path`; the migration info.

        Afterwards the guest stays paused and QEMU has flushed and released its disk
        images (they are consistent with the state and may be copied) until `resume()`.
        """
        await self.command("stop")
        await self.command("migrate-set-parameters", **{"max-bandwidth": MIGRATION_BANDWIDTH})
        await self.command("migrate", uri=f"exec:cat > {shlex.quote(str(path))}")
        return await self._migration_finished("saving the machine state", timeout)

    async def load_state(self, path: Path, *, timeout: float) -> dict[str, Any]:
        """Load a state `save_state` wrote (QEMU started with `-incoming defer`); the
        guest is left paused (resume it with `resume()`)."""
        await self.command("migrate-incoming", uri=f"exec:cat {shlex.quote(str(path))}")
        return await self._migration_finished("loading the machine state", timeout)

    async def resume(self) -> None:
        await self.command("cont")

    async def cancel_migration(self) -> None:
        """Stop an outgoing migration (the guest stays paused)."""
        with contextlib.suppress(QemuError):
            await self.command("migrate_cancel")

    async def _migration_finished(self, what: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            if self.returncode is not None:
                raise QemuError(f"QEMU exited while {what}: {self.exit_reason()}")
            try:
                info: dict[str, Any] = await self.command("query-migrate")
            except QemuError:
                # QEMU quits when an incoming migration fails: say why, from its stderr.
                with contextlib.suppress(TimeoutError):
                    await self.wait(2.0)
                    raise QemuError(f"QEMU exited while {what}: {self.exit_reason()}") from None
                raise
            status = info.get("status")
            if status == "completed":
                return info
            if status in ("failed", "cancelled"):
                reason = info.get("error-desc") or status
                raise QemuError(f"{what} failed: {reason}")
            if time.monotonic() > deadline:
                await self.cancel_migration()
                raise QemuError(f"{what} took longer than {timeout:.0f}s")
            await asyncio.sleep(MIGRATION_POLL)

    # --- stop ------------------------------------------------------------------------
    async def stop(self, *, powerdown_timeout: float = 0.0, quit_timeout: float = 5.0) -> str:
        """Make sure QEMU is gone; return how it went (for the log)."""
        if self.returncode is not None:
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
        if self.returncode is None:
            self.process.signal_group(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await self.wait(5.0)
                return "terminated"
        await self.kill()
        return "killed"

    async def kill(self) -> None:
        await self.process.kill()
        await self.close_qmp()

    async def close_qmp(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.qmp.disconnect(), 2.0)


@contextlib.asynccontextmanager
async def run_qemu(
    make_argv: Callable[[int], list[str]],
    *,
    name: str,
    stderr_log: Path | None = None,
    on_stderr: Callable[[str], None] | None = None,
    ready_timeout: float = 60.0,
) -> AsyncIterator[QemuProcess]:
    """Start QEMU with argv `make_argv(control_fd)`; yield it once QMP is up.

    Leaving the block kills whatever is left of QEMU (stop it first with `stop()`).
    """
    ours, theirs = socket.socketpair()
    qmp = QMPClient(name)
    output = _OutputLog(stderr_log)

    async def qmp_up(_: proc.Process) -> None:
        theirs.close()  # QEMU has its copy
        await qmp.connect(ours)

    try:
        argv = make_argv(theirs.fileno())
        spawned = proc.spawn(
            argv,
            env=dict(os.environ),
            what="QEMU",
            pass_fds=(theirs.fileno(),),
            on_stdout=output.sink("stdout"),
            on_stderr=_both(output.sink("stderr"), on_stderr),
            ready=qmp_up,
            ready_timeout=ready_timeout,
        )
        async with contextlib.AsyncExitStack() as stack:
            try:
                process = await stack.enter_async_context(spawned)
            except proc.NotReady:
                raise QemuError(
                    f"QEMU did not answer on its control channel within {ready_timeout:.0f}s"
                ) from None
            except proc.CommandError as err:
                if err.returncode == 127:
                    raise QemuError(
                        f"{argv[0]} was not found on PATH: install QEMU (apt-get install "
                        "qemu-system-x86) or set qemu_binary"
                    ) from None
                raise QemuError(f"Qemu failed to start: {err}") from None
            LOG.debug("QEMU pid %d is up (QMP connected)", process.pid)
            qemu = QemuProcess(process, qmp)
            try:
                yield qemu
            finally:
                await qemu.close_qmp()
    finally:
        theirs.close()
        ours.close()
        output.close()


def _both(
    first: Callable[[str], None], second: Callable[[str], None] | None
) -> Callable[[str], None]:
    if second is None:
        return first

    def both(text: str) -> None:
        first(text)
        second(text)

    return both

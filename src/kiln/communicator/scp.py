"""SCP transfers: the classic rcp protocol spoken to a remote ``scp -t`` or ``scp -f``.

asyncssh ships an `scp()` helper, but it falls short here: when the remote has no `scp`
binary a download "succeeds" having written nothing, symbolic links inside an uploaded
tree are rejected, local names containing ``*?[]`` are globbed, and neither the remote
exit status nor its stderr reach the error message. The protocol is small (Packer speaks
it in about 200 lines of Go), so this module speaks it over an asyncssh process: any
remote with an OpenSSH- or dropbear-style `scp` works, as it does with Packer.

Protocol summary (both directions): the receiving side acknowledges every step with a
``\\0`` byte, or ``\\1``/``\\2`` plus an error line. Records are ``C<mode> <size> <name>``
(a file, followed by its bytes and a ``\\0``), ``D<mode> 0 <name>`` (enter a directory),
``E`` (leave it) and ``T...`` (times, only with ``-p``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import asyncssh

from kiln.communicator.paths import (
    LocalEntry,
    TransferError,
    check_record_name,
    shell_quote,
    walk_local,
)

CHUNK = 256 * 1024
# After we are done, how long the remote scp may take to exit before we hang up.
_EXIT_WAIT = 30.0
_SCP_MISSING = 127


class _EndedError(Exception):
    """The remote scp stopped talking (exited or closed its output) unexpectedly."""

    def __init__(self, fallback: str = "the remote scp stopped unexpectedly") -> None:
        super().__init__(fallback)
        self.fallback = fallback


def explain_exit(status: int | None, stderr: str, fallback: str) -> str:
    """Why the remote scp failed, from its exit status and stderr."""
    detail = f": {stderr}" if stderr else ""
    if status == _SCP_MISSING:
        return (
            f"SCP failed to start: the remote system has no `scp` (exit status 127{detail}). "
            "Install scp in the guest or set ssh_file_transfer_method to sftp."
        )
    if status is None:
        return f"{fallback} (no exit status{detail})"
    if status == 0:
        return f"{fallback}{detail}"
    return f"the remote scp exited with status {status}{detail}"


def garbage_message(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return (
        f"unexpected output from the remote scp: {text[:200]!r} (a shell startup file "
        "that prints to standard output breaks SCP: make it quiet, or set "
        "ssh_file_transfer_method to sftp)"
    )


def parse_record(line: bytes) -> tuple[int, int, str]:
    """``(mode, size, name)`` of a ``C`` or ``D`` record line."""
    try:
        mode_text, size_text, name = line[1:].rstrip(b"\n").split(b" ", 2)
        mode = int(mode_text, 8)
        size = int(size_text)
    except ValueError:
        raise TransferError(f"malformed record from the remote scp: {line[:200]!r}") from None
    if size < 0 or not 0 <= mode <= 0o7777:
        raise TransferError(f"malformed record from the remote scp: {line[:200]!r}")
    return mode, size, os.fsdecode(name)


class _Scp:
    """One remote scp process: our end of its protocol, its stderr and exit status."""

    def __init__(self, proc: asyncssh.SSHClientProcess[bytes]) -> None:
        self._proc = proc
        self._stderr = asyncio.ensure_future(proc.stderr.read())

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, conn: asyncssh.SSHClientConnection, command: str) -> AsyncIterator[_Scp]:
        proc = await conn.create_process(command, encoding=None)
        scp = cls(proc)
        try:
            yield scp
        except _EndedError as exc:
            status, stderr = await scp._finish()
            raise TransferError(explain_exit(status, stderr, exc.fallback)) from None
        except BaseException:
            proc.close()
            with contextlib.suppress(Exception):
                await scp._finish()
            raise
        status, stderr = await scp._finish()
        if status != 0:
            raise TransferError(explain_exit(status, stderr, "the remote scp failed"))

    async def _finish(self) -> tuple[int | None, str]:
        with contextlib.suppress(OSError, asyncssh.Error):
            self._proc.stdin.write_eof()
        try:
            await asyncio.wait_for(self._proc.wait(), _EXIT_WAIT)
        except TimeoutError:
            self._proc.close()
        stderr = b""
        try:
            stderr = await asyncio.wait_for(self._stderr, _EXIT_WAIT)
        except (TimeoutError, OSError, asyncssh.Error):
            self._stderr.cancel()
        status = self._proc.exit_status
        if self._proc.exit_signal is not None:
            status = None
        return status, stderr.decode("utf-8", "replace").strip()

    async def read(self, size: int) -> bytes:
        try:
            return await self._proc.stdout.readexactly(size)
        except asyncio.IncompleteReadError:
            raise _EndedError() from None

    async def line(self) -> bytes | None:
        """The next record line, or None at a clean end of output."""
        try:
            return await self._proc.stdout.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise _EndedError() from None
            return None

    async def send(self, data: bytes) -> None:
        try:
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        except BrokenPipeError:
            raise _EndedError() from None

    async def status(self) -> None:
        """Read one acknowledgement; an error line becomes a `TransferError`."""
        code = await self.read(1)
        if code == b"\0":
            return
        rest = await self.line() or b""
        if code in (b"\1", b"\2"):
            message = rest.decode("utf-8", "replace").strip()
            raise TransferError(message or "the remote scp reported an unnamed error")
        raise TransferError(garbage_message(code + rest))

    async def record(self, text: bytes) -> None:
        await self.send(text)
        await self.status()

    async def send_file(self, name: str, mode: int, size: int, source: BinaryIO) -> None:
        header = f"C{mode & 0o7777:04o} {size} ".encode()
        await self.record(header + os.fsencode(check_record_name(name)) + b"\n")
        remaining = size
        while remaining:
            chunk = source.read(min(CHUNK, remaining))
            if not chunk:
                raise TransferError(f"{name} became shorter while it was being sent")
            await self.send(chunk)
            remaining -= len(chunk)
        await self.send(b"\0")
        await self.status()

    async def enter_dir(self, name: str, mode: int) -> None:
        header = f"D{mode & 0o7777:04o} 0 ".encode()
        await self.record(header + os.fsencode(check_record_name(name)) + b"\n")


async def upload_file(
    conn: asyncssh.SSHClientConnection,
    remote_dir: str,
    name: str,
    source: Path | bytes,
    mode: int,
    *,
    exact_mode: bool,
) -> None:
    """Write `source` as `remote_dir`/`name`; `remote_dir` must exist.

    Without `exact_mode` the remote applies its umask to new files (plain scp);
    with it, ``-p`` makes the remote set `mode` exactly.
    """
    flags = "-t -d -p" if exact_mode else "-t -d"
    async with _Scp.open(conn, f"scp {flags} {shell_quote(remote_dir)}") as scp:
        await scp.status()
        if isinstance(source, bytes):
            await scp.send_file(name, mode, len(source), io.BytesIO(source))
        else:
            with source.open("rb") as local:
                size = os.fstat(local.fileno()).st_size
                await scp.send_file(name, mode, size, local)


async def upload_tree(
    conn: asyncssh.SSHClientConnection, parent: str, name: str | None, root: LocalEntry
) -> None:
    """Send the tree under `root` into `parent`/`name` (or straight into `parent`)."""
    async with _Scp.open(conn, f"scp -r -t -d {shell_quote(parent)}") as scp:
        await scp.status()
        if name is not None:
            await scp.enter_dir(name, root.mode)
        for item in walk_local(root.path):
            entry = item.entry
            if item.kind == "enter":
                await scp.enter_dir(entry.name, entry.mode)
            elif item.kind == "leave":
                await scp.record(b"E\n")
            else:
                with entry.path.open("rb") as local:
                    await scp.send_file(entry.name, entry.mode, entry.size, local)
        if name is not None:
            await scp.record(b"E\n")


async def download(
    conn: asyncssh.SSHClientConnection, remote: str, dest: Path, *, recursive: bool
) -> None:
    """Receive remote `remote` as `dest` (which must not exist yet).

    Without `recursive` it must be a file; with it, a directory whose contents end up
    in `dest`. Names sent by the remote are checked (no ``/``, ``.`` or ``..``).
    """
    flags = "-r -f" if recursive else "-f"
    async with _Scp.open(conn, f"scp {flags} {shell_quote(remote)}") as scp:
        await scp.send(b"\0")
        await _Sink(scp, remote, dest, recursive=recursive).run()


class _Sink:
    def __init__(self, scp: _Scp, remote: str, dest: Path, *, recursive: bool) -> None:
        self.scp = scp
        self.remote = remote
        self.dest = dest
        self.recursive = recursive
        self.stack: list[Path] = []
        self.received = False

    async def run(self) -> None:
        while (line := await self.scp.line()) is not None:
            kind = line[:1]
            if kind in (b"\1", b"\2"):
                message = line[1:].decode("utf-8", "replace").strip()
                raise TransferError(message or "the remote scp reported an unnamed error")
            if kind == b"T":
                await self.scp.send(b"\0")
            elif kind == b"E":
                if not self.stack:
                    raise TransferError(garbage_message(line))
                self.stack.pop()
                await self.scp.send(b"\0")
            elif kind in (b"C", b"D"):
                await self._item(kind, line)
            else:
                raise TransferError(garbage_message(line))
        if self.stack:
            raise _EndedError("the remote scp stopped in the middle of a directory")
        if not self.received:
            raise _EndedError("the remote scp sent nothing")

    async def _item(self, kind: bytes, line: bytes) -> None:
        if self.received and not self.stack:
            raise TransferError(f"the remote scp sent more than one item for '{self.remote}'")
        mode, size, name = parse_record(line)
        target = self.stack[-1] / check_record_name(name) if self.stack else self.dest
        if kind == b"D":
            if not self.recursive:
                raise TransferError(f"'{self.remote}' is a directory, not a file")
            target.mkdir(mode=(mode & 0o777) | 0o700)
            self.stack.append(target)
            self.received = True
            await self.scp.send(b"\0")
            return
        if self.recursive and not self.stack:
            raise TransferError(f"'{self.remote}' is a file, not a directory")
        await self.scp.send(b"\0")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, (mode & 0o777) | 0o600)
        with os.fdopen(fd, "wb") as out:
            remaining = size
            while remaining:
                chunk = await self.scp.read(min(CHUNK, remaining))
                out.write(chunk)
                remaining -= len(chunk)
        await self.scp.status()
        await self.scp.send(b"\0")
        self.received = True

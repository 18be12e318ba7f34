"""The scp sink and source the SSH proxy serves itself (Packer's adapter/scp.go at v1.6.6).

When Ansible copies a file with `scp` (OpenSSH's legacy protocol, `scp -O`), the proxy
receives `scp -t TARGET` (upload) or `scp -f SOURCE` (download). As in Packer, kiln speaks
the protocol itself and moves the file with the build's communicator (its own SCP or
SFTP, `ssh_file_transfer_method`), so the guest needs no `scp` program for it. One file
per session, as Ansible sends; a directory (`D` record) is refused.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiln.errors import KilnError
from kiln.ui.log import LOG

if TYPE_CHECKING:
    from kiln.communicator.ssh import SshCommunicator

OK = b"\x00"
_FILE_RECORD = re.compile(rb"([0-7]{1,4}) (\d+) (.*)\n")
_TIME_RECORD = re.compile(rb"(\d+) 0 (\d+) 0\n")


class ScpError(KilnError):
    """The scp exchange failed (the client has been told, if it can be)."""


class Input(Protocol):
    async def readexactly(self, count: int) -> bytes: ...

    async def readline(self, limit: int = ...) -> bytes: ...


def scp_options(args: str) -> tuple[str, str]:
    """Packer's scpOptions: the option letters of ``-t -p dest`` → (``"tp"``, ``"dest"``)."""
    opts: list[str] = []
    end = 0
    in_option = False
    for ch in args:
        if ch == " ":
            in_option = False
        elif ch == "-":
            in_option = True
        elif in_option:
            opts.append(ch)
        else:
            break
        end += 1
    return "".join(opts), args[end:]


def wants_scp(command: str) -> bool:
    """True for an `scp -t`/`scp -f` command the proxy serves itself."""
    if not command.startswith("scp "):
        return False
    opts, _ = scp_options(command[4:])
    return "t" in opts or "f" in opts


def _fail(write: Callable[[bytes], None], message: str) -> ScpError:
    write(b"\x02" + message.encode("utf-8", "replace") + b"\n")
    return ScpError(message)


async def response(inbox: Input) -> None:
    """Read the peer's answer: 0 is fine, 1 a warning, 2 an error (with its message)."""
    code = (await inbox.readexactly(1))[0]
    if code == 0:
        return
    message = (await inbox.readline()).decode("utf-8", "replace").rstrip("\n")
    if code > 1:
        raise ScpError(message)
    LOG.debug("scp warning from the client: %s", message)


async def serve_scp(
    command: str, inbox: Input, write: Callable[[bytes], None], comm: SshCommunicator
) -> None:
    """Serve one `scp -t`/`scp -f` session: `inbox` is the client's input, `write` its output."""
    opts, rest = scp_options(command[4:])
    try:
        target = "".join(shlex.split(rest))  # Ansible quotes the path for a shell
    except ValueError as err:
        raise _fail(write, f"scp: cannot parse {rest!r}: {err}") from None
    if "t" in opts:
        await _sink(target, inbox, write, comm)
    else:
        await _source(opts, target, inbox, write, comm)


async def _sink(
    target: str, inbox: Input, write: Callable[[bytes], None], comm: SshCommunicator
) -> None:
    if not target.strip():
        raise _fail(write, "scp: no scp target specified")
    write(OK)  # the client may start
    while True:
        kind = await inbox.readexactly(1)
        if kind == b"T":
            if not _TIME_RECORD.fullmatch(await inbox.readline()):
                raise _fail(write, "scp: invalid time message")
            write(OK)
        elif kind == b"C":
            await _receive_file(target.strip(), inbox, write, comm)
            return
        elif kind == b"E":
            write(OK)
            return
        elif kind == b"D":
            raise _fail(write, "scp: kiln's SSH proxy does not take directories over scp")
        else:
            raise _fail(write, f"scp: unexpected message: {kind.decode('latin-1')!r}")


async def _receive_file(
    target: str, inbox: Input, write: Callable[[bytes], None], comm: SshCommunicator
) -> None:
    record = _FILE_RECORD.fullmatch(await inbox.readline())
    if record is None:
        raise _fail(write, "scp: invalid file message")
    mode, size = int(record[1], 8), int(record[2])
    write(OK)
    with tempfile.TemporaryDirectory(prefix="ansible-upload") as tmp:
        local = Path(tmp) / "file"
        with local.open("wb") as f:
            left = size
            while left:
                chunk = await inbox.readexactly(min(left, 1 << 16))
                f.write(chunk)
                left -= len(chunk)
        try:
            await comm.upload(local, target, mode=mode)
        except KilnError as err:
            raise _fail(write, f"scp: {err}") from None
    await response(inbox)
    write(OK)


async def _source(
    opts: str, source: str, inbox: Input, write: Callable[[bytes], None], comm: SshCommunicator
) -> None:
    source = source.strip()
    if not source:
        raise _fail(write, "scp: no scp source specified")
    if "d" in opts:
        raise _fail(write, "scp: kiln's SSH proxy does not send directories over scp")
    with tempfile.TemporaryDirectory(prefix="ansible-download") as tmp:
        name = Path(source).name or "file"
        local = Path(tmp) / name
        try:
            await comm.download(source, local)
        except KilnError as err:
            raise _fail(write, f"scp: {err}") from None
        await response(inbox)  # the sink's "ready"
        data = local.read_bytes()
        mode = local.stat().st_mode & 0o777
        write(f"C{mode:04o} {len(data)} {name}\n".encode())
        await response(inbox)
        write(data)
        write(OK)
        await response(inbox)

"""SFTP transfers through asyncssh's SFTP client (the remote's ``sftp`` subsystem).

Same path rules as SCP (see `kiln.communicator.paths`). Uploaded files get their source
permission bits (or the requested mode) with an explicit chmod, as Packer does; new
directories get the source directory's bits once their contents are in place.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh

from kiln.communicator.paths import LocalEntry, TransferError, walk_local

# Bytes handed to one SFTP write call (asyncssh pipelines it in parallel requests).
CHUNK = 4 * 1024 * 1024


@contextlib.asynccontextmanager
async def session(conn: asyncssh.SSHClientConnection) -> AsyncIterator[asyncssh.SFTPClient]:
    """An SFTP client for one operation (Packer also opens one per operation)."""
    try:
        client = await conn.start_sftp_client()
    except (asyncssh.Error, OSError) as exc:
        if isinstance(exc, asyncssh.ChannelOpenError) and conn.is_closed():
            raise  # the connection is gone: the caller reconnects and retries
        reason = exc.reason if isinstance(exc, asyncssh.Error) else str(exc)
        raise TransferError(
            f"SFTP is not available on the remote system ({reason}); install an SFTP "
            "server in the guest or set ssh_file_transfer_method to scp"
        ) from exc
    try:
        yield client
    finally:
        client.exit()
        with contextlib.suppress(asyncssh.Error, OSError):
            await client.wait_closed()


def _reason(exc: asyncssh.SFTPError, path: str) -> str:
    return f"{path}: {exc.reason}"


async def upload_file(
    sftp: asyncssh.SFTPClient, source: Path | bytes, remote: str, mode: int | None
) -> None:
    """Write `source` at exactly `remote`, then chmod it to `mode` when given."""
    try:
        remote_file = await sftp.open(remote, "wb")
    except asyncssh.SFTPError as exc:
        if await sftp.isdir(remote):
            raise TransferError(
                f"{remote} is a directory on the remote: give the full remote file path"
            ) from exc
        if isinstance(exc, asyncssh.SFTPNoSuchFile):
            parent = posixpath.dirname(remote) or "."
            raise TransferError(
                f"{_reason(exc, remote)} (the remote directory {parent} must exist)"
            ) from exc
        raise TransferError(_reason(exc, remote)) from exc
    async with remote_file:
        if isinstance(source, bytes):
            await remote_file.write(source)
        else:
            with source.open("rb") as local:
                while chunk := local.read(CHUNK):
                    await remote_file.write(chunk)
    if mode is not None:
        await sftp.chmod(remote, mode)


async def _ensure_dir(sftp: asyncssh.SFTPClient, path: str) -> bool:
    """Create remote directory `path` unless it exists; True when it was created."""
    try:
        await sftp.mkdir(path)
    except asyncssh.SFTPError as exc:
        if await sftp.isdir(path):
            return False
        if await sftp.exists(path):
            raise TransferError(f"{path} exists on the remote and is not a directory") from exc
        raise TransferError(
            f"cannot create remote directory {path}: {exc.reason} (its parent must exist)"
        ) from exc
    return True


async def upload_tree(sftp: asyncssh.SFTPClient, target: str, root: LocalEntry) -> None:
    """Put the contents of local directory `root` into remote directory `target`."""
    created_root = await _ensure_dir(sftp, target)
    created: list[bool] = []
    for item in walk_local(root.path):
        remote = posixpath.join(target, *item.rel)
        if item.kind == "enter":
            created.append(await _ensure_dir(sftp, remote))
        elif item.kind == "leave":
            if created.pop():
                await sftp.chmod(remote, item.entry.mode)
        else:
            await upload_file(sftp, item.entry.path, remote, item.entry.mode)
    if created_root:
        await sftp.chmod(target, root.mode)


async def _stat_type(sftp: asyncssh.SFTPClient, remote: str) -> int:
    try:
        attrs = await sftp.stat(remote)
    except asyncssh.SFTPError as exc:
        raise TransferError(_reason(exc, remote)) from exc
    return attrs.type


async def download_file(sftp: asyncssh.SFTPClient, remote: str, dest: Path) -> None:
    """Copy remote file `remote` to `dest` (which must not exist yet)."""
    if await _stat_type(sftp, remote) == asyncssh.FILEXFER_TYPE_DIRECTORY:
        raise TransferError(f"'{remote}' is a directory, not a file")
    await sftp.get(remote, dest, follow_symlinks=True)


async def download_tree(sftp: asyncssh.SFTPClient, remote: str, dest: Path) -> None:
    """Copy remote directory `remote` to `dest` (which must not exist yet)."""
    if await _stat_type(sftp, remote) != asyncssh.FILEXFER_TYPE_DIRECTORY:
        raise TransferError(f"'{remote}' is a file, not a directory")
    await sftp.get(remote, dest, recurse=True, follow_symlinks=True)

"""The `file` provisioner: copy files and directories to or from the guest.

Directories follow Packer's rsync-like rule: `dir/` copies the directory's contents into
the destination, `dir` copies the directory itself (creating `destination/dir`). A
destination ending in `/` receives a single file under its own name.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from kiln.provisioners.base import ProvisionContext, ProvisionerError
from kiln.provisioners.config import FileConfig


async def run_file(config: FileConfig, ctx: ProvisionContext) -> None:
    comm = ctx.comm
    if comm is None:
        raise ProvisionerError("the file provisioner needs a communicator (communicator is none)")
    if config.direction == "download":
        src, dst = config.source, config.destination
        ctx.say(f"Downloading {src} => {dst}")
        if src.endswith("/"):
            await comm.download_dir(src, Path(dst))
            return
        local = Path(dst)
        if dst.endswith("/") or local.is_dir():
            local = local / posixpath.basename(src)
        local.parent.mkdir(parents=True, exist_ok=True)
        await comm.download(src, local)
        return
    if config.content:
        ctx.say(f"Uploading content => {config.destination}")
        await comm.upload(config.content.encode(), config.destination)
        return
    sources = [config.source] if config.source else list(config.sources)
    for src in sources:
        path = Path(src).expanduser()
        ctx.say(f"Uploading {src} => {config.destination}")
        if path.is_dir():
            await comm.upload_dir(src, config.destination)
            continue
        dst = config.destination
        if dst.endswith("/") or len(sources) > 1:
            dst = posixpath.join(dst, path.name)
        try:
            await comm.upload(path, dst)
        except FileNotFoundError:
            raise ProvisionerError(f"Error uploading {src}: no such file") from None

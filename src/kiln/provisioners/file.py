"""The `file` provisioner: copy files and directories to or from the guest.

Packer's provisioner/file/provisioner.go, with its documented directory rule applied in
both directions (the rsync rule): a source `dir/` copies the directory's contents into
the destination, `dir` copies the directory itself (creating `destination/dir`). A
destination ending in `/` receives a single file under its own name. Remote paths are
used literally (no globbing).
"""

from __future__ import annotations

import posixpath
import shlex
from pathlib import Path

from kiln.errors import KilnError
from kiln.provisioners.config import Direction, FileConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from kiln.provisioners.shell import require_comm


async def run_file(config: FileConfig, ctx: ProvisionContext) -> None:
    require_comm(ctx, "file")
    try:
        if config.direction == Direction.DOWNLOAD:
            await _download(config, ctx)
        else:
            await _upload(config, ctx)
    except ProvisionerError:
        raise
    except KilnError as err:
        verb = "Download" if config.direction == Direction.DOWNLOAD else "Upload"
        ctx.error(f"{verb} failed: {err}")
        raise ProvisionerError(f"{verb} failed: {err}") from None


def sources_of(config: FileConfig) -> list[str]:
    """`sources` then `source`, as Packer appends them."""
    return [*config.sources, *([config.source] if config.source else [])]


async def _upload(config: FileConfig, ctx: ProvisionContext) -> None:
    comm = require_comm(ctx, "file")
    dst = config.destination
    if config.content:
        if dst.endswith("/"):
            raise ProvisionerError(
                f"destination {dst!r} is a directory: with content, give the full remote "
                "file path to write"
            )
        ctx.say(f"Uploading content => {dst}")
        await comm.upload(config.content.encode(), dst)
        return
    sources = sources_of(config)
    for src in sources:
        ctx.say(f"Uploading {src} => {dst}")
        path = ctx.resolve(src)
        if not path.exists():
            hint = ' (it is "generated": an earlier step should have made it)' * config.generated
            raise ProvisionerError(f"Bad source '{src}': stat {src}: no such file or directory"
                                   + hint)  # fmt: skip
        if path.is_dir():
            # The rule depends on the string as written: keep the user's trailing slash.
            local = str(path) + "/" if src.endswith("/") else str(path)
            await comm.upload_dir(local, dst)
            continue
        target = dst
        if dst.endswith("/"):
            target = dst + path.name
        elif len(sources) > 1:
            target = posixpath.join(dst, path.name)
        await comm.upload(path, target)


async def _is_remote_dir(ctx: ProvisionContext, src: str) -> bool:
    comm = require_comm(ctx, "file")
    quoted = shlex.quote(src if not src.startswith("-") else "./" + src)
    status = await comm.run(f"test -d {quoted}", stdout=ctx.output, stderr=ctx.output)
    return status == 0


async def _download(config: FileConfig, ctx: ProvisionContext) -> None:
    comm = require_comm(ctx, "file")
    for src in sources_of(config):
        dst = config.destination
        local = ctx.resolve(dst)
        if src.endswith("/") or await _is_remote_dir(ctx, src):
            ctx.say(f"Downloading {src} => {dst}")
            await comm.download_dir(src, local)
            continue
        if dst.endswith("/"):
            name = posixpath.basename(src)
            dst = posixpath.join(dst, name)
            local = local / name
        ctx.say(f"Downloading {src} => {dst}")
        if local.is_dir():
            raise ProvisionerError(
                f"cannot download {src} to {dst}: it is a directory; end the destination "
                f"with '/' to download into it"
            )
        await comm.download(src, Path(local))

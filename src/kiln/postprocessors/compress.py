"""The `compress` post-processor: pack the artifact's files into an archive."""

from __future__ import annotations

import asyncio
import bz2
import gzip
import lzma
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import IO

from kiln.build.state import Artifact
from kiln.errors import KilnError
from kiln.postprocessors.config import CompressConfig
from kiln.postprocessors.runner import PostContext, PostResult
from kiln.template import render

FORMATS = {".tar.gz": "tar.gz", ".tgz": "tar.gz", ".tar.xz": "tar.xz", ".tar.bz2": "tar.bz2",
           ".tar": "tar", ".zip": "zip", ".gz": "gz", ".xz": "xz", ".bz2": "bz2"}  # fmt: skip


def archive_format(output: str, forced: str) -> str:
    if forced:
        fmt = forced.lstrip(".")
        if fmt not in FORMATS.values():
            raise KilnError(f"compress: unsupported format {forced!r}; use one of "
                            + ", ".join(sorted(set(FORMATS.values()))))  # fmt: skip
        return fmt
    for ext in sorted(FORMATS, key=len, reverse=True):
        if output.endswith(ext):
            return FORMATS[ext]
    raise KilnError(
        f"compress: cannot tell the archive format from {output!r}: end it with one of "
        + ", ".join(sorted(FORMATS))
    )


def _write(files: list[Path], out: Path, fmt: str, level: int) -> list[Path]:
    if fmt.startswith("tar"):
        mode = {"tar": "w", "tar.gz": "w:gz", "tar.xz": "w:xz", "tar.bz2": "w:bz2"}[fmt]
        kwargs = {} if fmt in ("tar", "tar.xz") else {"compresslevel": max(level, 1)}
        with tarfile.open(out, mode, **kwargs) as tar:  # type: ignore[call-overload]
            for f in files:
                tar.add(f, arcname=f.name)
        return [out]
    if fmt == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
            for f in files:
                z.write(f, arcname=f.name)
        return [out]
    outputs = []
    for f in files:
        target = out if len(files) == 1 else out.with_name(f"{f.name}.{fmt}")
        with f.open("rb") as src, _open_compressed(target, fmt, level) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        outputs.append(target)
    return outputs


def _open_compressed(path: Path, fmt: str, level: int) -> IO[bytes]:
    if fmt == "gz":
        return gzip.GzipFile(path, "wb", compresslevel=max(level, 1))  # type: ignore[return-value]
    if fmt == "xz":
        return lzma.open(path, "wb")
    return bz2.open(path, "wb", compresslevel=max(level, 1))


async def run_compress(config: CompressConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    data = {"BuildName": ctx.plan.name, "BuilderType": ctx.plan.type}
    output = render(config.output, data, ctx.plan.functions(), where="output")
    fmt = archive_format(output, config.format)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    ctx.say(f"Compressing {len(artifact.files)} file(s) into {out} ({fmt})")
    written = await asyncio.to_thread(_write, artifact.files, out, fmt, config.compression_level)
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=out.parent,
        files=written,
        builder_id="packer.post-processor.compress",
        id="",
        description=f"compressed artifacts in: {out}",
    )
    return PostResult(produced, keep_input=False)

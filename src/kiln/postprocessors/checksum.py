"""The `checksum` post-processor: `<hash>\t<file>` lines for each of the artifact's files."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from kiln.build.state import Artifact
from kiln.postprocessors.config import ChecksumConfig
from kiln.postprocessors.runner import PostContext, PostResult
from kiln.template import render


def _hash(path: Path, kind: str) -> str:
    h = hashlib.new(kind)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


async def run_checksum(config: ChecksumConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    written: list[Path] = []
    funcs = ctx.plan.functions()
    for kind in config.checksum_types:
        data = {"BuildName": ctx.plan.name, "BuilderType": ctx.plan.type, "ChecksumType": kind}
        out = Path(render(config.output, data, funcs, where="output"))
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for f in artifact.files:
            digest = await asyncio.to_thread(_hash, f, kind)
            lines.append(f"{digest}\t{f}\n")
        with out.open("a", encoding="utf-8") as fh:
            fh.writelines(lines)
        if out not in written:
            written.append(out)
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=written[0].parent if written else Path("."),
        files=written,
        builder_id="packer.post-processor.checksum",
        id="",
        description="Created artifact from files: " + ", ".join(str(p) for p in written),
    )
    return PostResult(produced, keep_input=True)

"""The `checksum` post-processor: `<hex>\\t<file name>` lines for each of the artifact's files.

Packer's post-processor/checksum (v1.6.6): for each type in `checksum_types`, `output`
is rendered with `{{.BuildName}}`, `{{.BuilderType}}`, `{{.ChecksumType}}` (and the
build's values) and one line per input file, `hex<TAB>basename`, is *appended* to it
(directories are created). The new artifact lists the input's files followed by the
checksum files that did not exist before; its input is always kept.
"""

from __future__ import annotations

from pathlib import Path

from kiln.engine.artifact import Artifact
from kiln.errors import KilnError
from kiln.postprocessors.config import ChecksumConfig
from kiln.postprocessors.context import PostContext, PostResult
from kiln.template.engine import render

CHUNK = 1 << 20


class ChecksumError(KilnError):
    """A checksum could not be computed or written."""


def file_digest(path: Path, kind: str) -> str:
    import hashlib  # for a build only: `kiln validate` loads this module

    h = hashlib.new(kind)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


async def run_checksum(config: ChecksumConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    import asyncio  # for a build only: `kiln validate` loads this module

    files: list[Path] = list(artifact.files)
    funcs = ctx.functions()
    for kind in config.checksum_types or ["md5"]:
        data: dict[str, object] = dict(ctx.build_values)
        data.update(BuildName=ctx.plan.name, BuilderType=ctx.plan.type, ChecksumType=kind)
        name = render(config.output, data, funcs, where="output")
        out = ctx.resolve(name)
        if not out.exists() and Path(name) not in files:
            files.append(Path(name))
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ChecksumError(f"unable to create dir: {err}") from None
        for source in artifact.files:
            try:
                digest = await asyncio.to_thread(file_digest, source, kind)
            except OSError as err:
                raise ChecksumError(f"unable to open file {source}: {err.strerror}") from None
            try:
                with out.open("a", encoding="utf-8") as fh:
                    fh.write(f"{digest}\t{source.name}\n")
            except OSError as err:
                raise ChecksumError(f"unable to create file {name}: {err.strerror}") from None
        ctx.say(f"Wrote {kind} checksums of {len(artifact.files)} file(s) to {name}")
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=Path(config.output).parent,
        files=files,
        builder_id="packer.post-processor.checksum",
        id="",
        description="Created artifact from files: " + ", ".join(str(p) for p in files),
    )
    return PostResult(produced, keep_input=True, force_keep=True)

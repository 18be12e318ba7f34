"""The `compress` post-processor: pack the artifact's files into one archive.

Packer's post-processor/compress (v1.6.6): `output` is rendered with `{{.BuildName}}`,
`{{.BuilderType}}` (and the build's values); the format comes from the name as written
(`kiln.postprocessors.archive.detect_format`); `compression_level` above 9 means 9, 0
and -1 the default (6). The result is a new artifact of one file; the input artifact is
discarded unless `keep_input_artifact`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from kiln.engine.artifact import Artifact
from kiln.postprocessors.archive import ArchiveError, detect_format, effective_level, write_archive
from kiln.postprocessors.config import CompressConfig
from kiln.postprocessors.context import PostContext, PostResult
from kiln.template.engine import render


async def run_compress(config: CompressConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    import asyncio  # for a build only: `kiln validate` loads this module

    fmt = detect_format(config.output, config.format)
    level = effective_level(config.compression_level)
    data: dict[str, object] = dict(ctx.build_values)
    data.update(BuildName=ctx.plan.name, BuilderType=ctx.plan.type)
    name = render(config.output, data, ctx.functions(), where="output")
    target = ctx.resolve(name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ArchiveError(f"Unable to create dir for archive {name}: {err.strerror}") from None
    files = list(artifact.files)
    if fmt.algorithm:
        ctx.say(f"Using {fmt.algorithm} compression for {name}")
    if fmt.archive == "tar":
        ctx.say(f"Tarring {name} with {fmt.compression}")
    elif fmt.archive == "zip":
        ctx.say(f"Zipping {name}")
    elif len(files) == 1:
        ctx.say(f"Archiving {files[0]} with {fmt.compression}")
    stop = threading.Event()
    try:
        await asyncio.to_thread(write_archive, files, target, fmt, level, stop)
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        raise ArchiveError(f"Unable to create archive {name}: {where}{err.strerror}") from None
    finally:
        stop.set()
    ctx.say(f"Archive {name} completed")
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=Path(name).parent,
        files=[Path(name)],
        builder_id="packer.post-processor.compress",
        id="",
        description=f"compressed artifacts in: {name}",
    )
    return PostResult(produced, keep_input=False)

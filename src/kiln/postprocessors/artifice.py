"""The `artifice` post-processor: these files are now the artifact.

Packer's post-processor/artifice (v1.6.6): each entry of `files` is a glob (Go's
filepath.Glob, relative to the directory kiln runs in); the new artifact lists what they
match, in order, and deleting it deletes them. The input is kept by default (Packer
returns keep=true, forceOverride=false), so `keep_input_artifact: false` is how a
template discards the VM. Packer silently drops an entry that matches nothing (a typo
gives an empty artifact); kiln fails, naming it.
"""

from __future__ import annotations

import glob
from pathlib import Path

from kiln.engine.artifact import Artifact
from kiln.errors import KilnError
from kiln.postprocessors.config import ArtificeConfig
from kiln.postprocessors.context import PostContext, PostResult

BUILDER_ID = "packer.post-processor.artifice"


class ArtificeError(KilnError):
    """A file for the new artifact is missing."""


def matching_files(patterns: list[str], cwd: Path) -> list[Path]:
    """Each pattern's matches, sorted (as filepath.Glob returns them), paths as written."""
    found: list[Path] = []
    missing: list[str] = []
    for pattern in patterns:
        absolute = Path(pattern).expanduser()
        base = absolute if absolute.is_absolute() else cwd / absolute
        matches = sorted(glob.glob(str(base)))
        if not matches:
            missing.append(pattern)
            continue
        for match in matches:
            path = Path(match)
            found.append(path if absolute.is_absolute() else path.relative_to(cwd))
    if missing:
        raise ArtificeError(
            "artifice: no file matches "
            + ", ".join(repr(m) for m in missing)
            + f" (relative to {cwd}); the files must exist when the post-processor runs"
        )
    return found


async def run_artifice(config: ArtificeConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    if artifact.files:
        ctx.say("Discarding files from artifact: " + ", ".join(str(f) for f in artifact.files))
    files = matching_files(config.files, ctx.cwd)
    shown = ", ".join(str(f) for f in files)
    ctx.say(f"Using these artifact files: {shown}")
    produced = Artifact(
        build_name=artifact.build_name,
        builder_type=artifact.builder_type,
        output_dir=Path("."),
        files=files,
        builder_id=BUILDER_ID,
        id="",
        description=f"Created artifact from files: {shown}",
    )
    return PostResult(produced, keep_input=True)

"""The `manifest` post-processor: append this build to a JSON manifest (Packer's format)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from kiln.build.state import Artifact
from kiln.errors import KilnError
from kiln.postprocessors.config import ManifestConfig
from kiln.postprocessors.runner import PostContext, PostResult

# One id per kiln run, like Packer's PACKER_RUN_UUID.
RUN_UUID = str(uuid.uuid4())


async def run_manifest(config: ManifestConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    path = Path(config.output)
    files = []
    for f in artifact.files:
        name = f.name if config.strip_path else str(f)
        files.append({"name": name, "size": f.stat().st_size if f.exists() else 0})
    entry: dict[str, object] = {
        "name": ctx.plan.name,
        "builder_type": ctx.plan.type,
        "build_time": 0 if config.strip_time else int(time.time()),
        "files": files,
        "artifact_id": artifact.id,
        "packer_run_uuid": RUN_UUID,
        "custom_data": dict(config.custom_data) or None,
    }
    manifest: dict[str, object] = {"builds": [], "last_run_uuid": ""}
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise KilnError(f"Unable to read the existing manifest {path}: {err}") from None
        if not isinstance(manifest.get("builds"), list):
            raise KilnError(f'{path} is not a Packer manifest (no "builds" list)')
    builds = manifest["builds"]
    assert isinstance(builds, list)
    builds.append(entry)
    manifest["last_run_uuid"] = RUN_UUID
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    ctx.say(f"Writing manifest to {path}")
    return PostResult(artifact, keep_input=True, force_keep=True)

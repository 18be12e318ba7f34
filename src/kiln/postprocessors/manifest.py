"""The `manifest` post-processor: append this build to a JSON manifest (Packer's format).

Packer's post-processor/manifest (v1.6.6): the file holds `{"builds": [...],
"last_run_uuid": ...}`; each build is `name, builder_type, build_time (omitted when 0,
i.e. with strip_time), files [{name, size}], artifact_id, packer_run_uuid, custom_data`.
Builds are appended; with `-force` a manifest from another run is started afresh. The
read-modify-write holds `<output>.lock` (created exclusively, removed after), so parallel
builds and parallel kiln runs never lose each other's entries. The input artifact is
always kept and passed on.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from kiln.engine.artifact import Artifact
from kiln.engine.run_id import RUN_UUID
from kiln.errors import KilnError
from kiln.postprocessors.config import ManifestConfig
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.gojson import marshal_indent, sorted_map

LOCK_ATTEMPTS = 50
LOCK_DELAY = 0.1


class ManifestError(KilnError):
    """The manifest file could not be read, parsed, locked or written."""


@contextlib.contextmanager
def manifest_lock(path: Path) -> Iterator[None]:
    """Hold `<path>.lock` (O_EXCL), as Packer does; waits up to ~5 s for another writer."""
    lock = Path(f"{path}.lock")
    for _ in range(LOCK_ATTEMPTS):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            time.sleep(LOCK_DELAY)
            continue
        except OSError as err:
            raise ManifestError(f"Unable to lock {path} ({lock}): {err.strerror}") from None
        os.close(fd)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
        return
    raise ManifestError(
        f"Unable to lock {path}: {lock} exists and was not released within "
        f"{LOCK_ATTEMPTS * LOCK_DELAY:g}s; if no other build is writing the manifest, delete it"
    )


def manifest_entry(
    config: ManifestConfig, artifact: Artifact, ctx: PostContext
) -> dict[str, object]:
    files = []
    for f in artifact.files:
        try:
            size = f.stat().st_size
        except OSError:
            size = 0
        files.append({"name": f.name if config.strip_path else str(f), "size": size})
    entry: dict[str, object] = {"name": ctx.plan.name, "builder_type": ctx.plan.type}
    if not config.strip_time:
        entry["build_time"] = int(time.time())
    entry["files"] = files or None
    entry["artifact_id"] = artifact.id
    entry["packer_run_uuid"] = RUN_UUID
    entry["custom_data"] = sorted_map(config.custom_data if "custom_data" in ctx.step.raw
                                      else None)  # fmt: skip
    return entry


def update_manifest(path: Path, entry: dict[str, object], *, force: bool) -> None:
    """Append `entry` to the manifest at `path` (created if missing)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except OSError as err:
        raise ManifestError(f"Unable to open {path} for reading: {err.strerror}") from None
    manifest: dict[str, object] = {"builds": [], "last_run_uuid": ""}
    if text:
        try:
            loaded = json.loads(text)
        except ValueError as err:
            raise ManifestError(f"Unable to parse content from {path}: {err}") from None
        if not isinstance(loaded, dict) or not isinstance(loaded.get("builds") or [], list):
            raise ManifestError(
                f"Unable to parse content from {path}: not a Packer manifest (an object with "
                'a "builds" list); move it away or choose another "output"'
            )
        manifest = {"builds": loaded.get("builds") or [],
                    "last_run_uuid": loaded.get("last_run_uuid", "")}  # fmt: skip
    if force and manifest["last_run_uuid"] != RUN_UUID:
        manifest = {"builds": [], "last_run_uuid": ""}
    builds = manifest["builds"]
    if not isinstance(builds, list):  # for the type checker: checked above
        raise ManifestError(f"Unable to parse content from {path}")
    builds.append(entry)
    manifest["last_run_uuid"] = RUN_UUID
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(marshal_indent(manifest), encoding="utf-8")
        tmp.chmod(0o664)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ManifestError(f"Unable to write {path}: {err.strerror}") from None


async def run_manifest(config: ManifestConfig, artifact: Artifact, ctx: PostContext) -> PostResult:
    path = ctx.resolve(config.output)
    entry = manifest_entry(config, artifact, ctx)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ManifestError(f"Unable to write {path}: {err.strerror}") from None
    # No await between read and write: builds of this run cannot interleave here.
    with manifest_lock(path):
        update_manifest(path, entry, force=ctx.force)
    ctx.say(f"Added this build to the manifest {config.output}")
    return PostResult(artifact, keep_input=True, force_keep=True)

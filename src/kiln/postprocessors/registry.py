"""Post-processor type → the coroutine that runs it."""

from __future__ import annotations

from kiln.postprocessors.checksum import run_checksum
from kiln.postprocessors.compress import run_compress
from kiln.postprocessors.manifest import run_manifest
from kiln.postprocessors.runner import PostProcessor
from kiln.postprocessors.shell_local import run_shell_local_pp

POST_PROCESSORS: dict[str, PostProcessor] = {
    "manifest": run_manifest,
    "checksum": run_checksum,
    "compress": run_compress,
    "shell-local": run_shell_local_pp,
}

"""Every post-processor kiln runs, declared once: name, option table, run, validate-time check.

To add one, see docs/architecture.md ("How to add a provisioner or a post-processor"): a
module with its `run(config, artifact, ctx)`, its option table in `config.py`, one row
here. The plan decodes and checks with the row, the runner runs it, the docs list it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.engine.artifact import Artifact
from kiln.postprocessors.checks import check_artifice, check_compress
from kiln.postprocessors.config import (
    ArtificeConfig,
    ChecksumConfig,
    CompressConfig,
    ManifestConfig,
    VagrantCloudConfig,
    VagrantConfig,
)
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.vagrant_prepare import check_vagrant, check_vagrant_cloud
from kiln.provisioners.checks import check_shell_local, no_checks
from kiln.provisioners.config import ShellLocalConfig

Run = Callable[[Any, Artifact, PostContext], Awaitable[PostResult]]
# Checks beyond decoding, run when the options decoded cleanly (allowed values are checked
# from the option table's `choices`); `cwd` is where relative paths resolve.
Check = Callable[[Any, Path], list[str]]


def _on_first_run(module: str, name: str) -> Run:
    """`module.name`, imported when a build first runs it: `kiln validate` needs only the
    option tables and checks, and the runners' imports (asyncio, HTTP, archives) cost it
    ~40 ms."""

    async def run(config: Any, artifact: Artifact, ctx: PostContext) -> PostResult:
        function: Run = getattr(importlib.import_module(f"kiln.postprocessors.{module}"), name)
        return await function(config, artifact, ctx)

    return run


run_manifest = _on_first_run("manifest", "run_manifest")
run_checksum = _on_first_run("checksum", "run_checksum")
run_compress = _on_first_run("compress", "run_compress")
run_shell_local_pp = _on_first_run("shell_local", "run_shell_local_pp")
run_vagrant = _on_first_run("vagrant", "run_vagrant")
run_vagrant_cloud = _on_first_run("vagrant_cloud", "run_vagrant_cloud")
run_artifice = _on_first_run("artifice", "run_artifice")


@dataclass(frozen=True, slots=True)
class PostProcessorType:
    name: str
    config: type  # the option table (a dataclass of `option()` fields)
    run: Run
    check: Check = no_checks


POST_PROCESSORS: dict[str, PostProcessorType] = {
    p.name: p
    for p in (
        PostProcessorType("manifest", ManifestConfig, run_manifest),
        PostProcessorType("checksum", ChecksumConfig, run_checksum),
        PostProcessorType("compress", CompressConfig, run_compress, check_compress),
        PostProcessorType("shell-local", ShellLocalConfig, run_shell_local_pp, check_shell_local),
        PostProcessorType("vagrant", VagrantConfig, run_vagrant, check_vagrant),
        PostProcessorType(
            "vagrant-cloud", VagrantCloudConfig, run_vagrant_cloud, check_vagrant_cloud
        ),
        PostProcessorType("artifice", ArtificeConfig, run_artifice, check_artifice),
    )
}

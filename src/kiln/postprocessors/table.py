"""Every post-processor kiln runs, declared once: name, option table, run, validate-time check.

To add one, see docs/architecture.md ("How to add a provisioner or a post-processor"): a
module with its `run(config, artifact, ctx)`, its option table in `config.py`, one row
here. The plan decodes and checks with the row, the runner runs it, the docs list it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.engine.artifact import Artifact
from kiln.postprocessors.artifice import run_artifice
from kiln.postprocessors.checks import check_artifice, check_compress
from kiln.postprocessors.checksum import run_checksum
from kiln.postprocessors.compress import run_compress
from kiln.postprocessors.config import (
    ArtificeConfig,
    ChecksumConfig,
    CompressConfig,
    ManifestConfig,
    VagrantCloudConfig,
    VagrantConfig,
)
from kiln.postprocessors.context import PostContext, PostResult
from kiln.postprocessors.manifest import run_manifest
from kiln.postprocessors.shell_local import run_shell_local_pp
from kiln.postprocessors.vagrant import run_vagrant
from kiln.postprocessors.vagrant_cloud import run_vagrant_cloud
from kiln.postprocessors.vagrant_prepare import check_vagrant, check_vagrant_cloud
from kiln.provisioners.checks import check_shell_local, no_checks
from kiln.provisioners.config import ShellLocalConfig

Run = Callable[[Any, Artifact, PostContext], Awaitable[PostResult]]
# Checks beyond decoding, run when the options decoded cleanly (allowed values are checked
# from the option table's `choices`); `cwd` is where relative paths resolve.
Check = Callable[[Any, Path], list[str]]


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

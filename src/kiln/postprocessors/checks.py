"""Checks to run at validate time for post-processors (beside the option decoding)."""

from __future__ import annotations

from pathlib import Path

from kiln.postprocessors.archive import ArchiveError, effective_level
from kiln.postprocessors.config import ArtificeConfig, CompressConfig
from kiln.provisioners.checks import extra_provisioner_checks


def extra_post_processor_checks(config: object) -> list[str]:
    """Messages for `config` (a decoded post-processor)."""
    if isinstance(config, CompressConfig):
        try:
            effective_level(config.compression_level)
        except ArchiveError as err:
            return [str(err)]
        return []
    return extra_provisioner_checks(config)


def check_compress(config: CompressConfig, cwd: Path) -> list[str]:
    return extra_post_processor_checks(config)


def check_artifice(config: ArtificeConfig, cwd: Path) -> list[str]:
    """Packer's Configure: files are required (whether they exist is known when it runs)."""
    return [] if config.files else ["No files specified in artifice configuration"]

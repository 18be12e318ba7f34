"""Checks to run at validate time for post-processors (beside the option decoding)."""

from __future__ import annotations

from pathlib import Path

from kiln.postprocessors.archive import FILENAME_PATTERN, ArchiveError, effective_level
from kiln.postprocessors.config import ArtificeConfig, CompressConfig
from kiln.provisioners.checks import extra_provisioner_checks


def extra_post_processor_checks(config: object) -> list[str]:
    """Messages for `config` (a decoded post-processor)."""
    if isinstance(config, CompressConfig):
        problems = _unwritten_format(config)
        try:
            effective_level(config.compression_level)
        except ArchiveError as err:
            problems.append(str(err))
        return problems
    return extra_provisioner_checks(config)


def check_compress(config: CompressConfig, cwd: Path) -> list[str]:
    return extra_post_processor_checks(config)


def check_artifice(config: ArtificeConfig, cwd: Path) -> list[str]:
    """Packer's Configure: files are required (whether they exist is known when it runs)."""
    return [] if config.files else ["No files specified in artifice configuration"]


# Compression formats neither Packer nor kiln writes: Packer silently makes a gzipped tar
# under such a name (post-processor/compress detectFromFilename); kiln refuses it.
_OTHER_COMPRESSIONS = ("bz2", "tbz", "tbz2", "zst", "zstd", "lzma", "lz", "7z", "rar", "txz")


def _unwritten_format(config: CompressConfig) -> list[str]:
    name = f"{config.output}.{config.format}" if config.format else config.output
    found = FILENAME_PATTERN.findall(name)
    if not found or found[-1] not in _OTHER_COMPRESSIONS:
        return []
    key = "format" if config.format else "output"
    return [
        f"compress: {key} {name!r} asks for .{found[-1]}, which kiln (like Packer) cannot "
        "write: Packer would write a gzip-compressed tar under that name. Use .tar.gz, "
        ".tar.xz, .tar.lz4, .tar.bgzf, .zip or .tar (or .gz, .xz, .lz4 for one file)"
    ]

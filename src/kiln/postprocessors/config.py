"""Option tables of the post-processors kiln implements."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.options.spec import option

CHECKSUM_TYPES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


@dataclass
class CommonPostProcessorConfig:
    """Keys every post-processor accepts (decoded by the plan)."""

    keep_input_artifact: bool = option(
        False,
        section="post-processor",
        help="Keep the artifact a post-processor consumed (default: it is deleted, except "
        "for post-processors that only read it).",
    )


@dataclass
class ManifestConfig:
    """`"type": "manifest"`: record each build's artifact in a JSON file."""

    output: str = option(
        "packer-manifest.json", section="manifest", help="The manifest file (appended to)."
    )
    strip_path: bool = option(
        False, section="manifest", help="Record file names without their directories."
    )
    strip_time: bool = option(False, section="manifest", help="Omit the build time.")
    custom_data: dict[str, str] = option(
        section="manifest", factory=dict, help="Extra key/values stored with the build."
    )


@dataclass
class ChecksumConfig:
    """`"type": "checksum"`: write checksums of the artifact's files."""

    checksum_types: list[str] = option(
        section="checksum",
        factory=lambda: ["md5"],
        item_choices=CHECKSUM_TYPES,
        choice_message="Unrecognized checksum type: {value} (allowed: {allowed})",
        help="Hashes to compute.",
    )
    output: str = option(
        "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum",
        section="checksum",
        late=True,
        help="The checksum file; `{{.BuildName}}`, `{{.BuilderType}}`, `{{.ChecksumType}}`.",
    )


@dataclass
class CompressConfig:
    """`"type": "compress"`: pack the artifact's files into an archive."""

    output: str = option(
        "packer_{{.BuildName}}_{{.BuilderType}}",
        section="compress",
        late=True,
        help="Archive path; its extension picks the format (.tar.gz, .tgz, .zip, .gz, "
        ".tar, .tar.xz, .xz, .tar.bz2, .bz2, .lz4 not supported).",
    )
    format: str = option("", section="compress", help="Force a format instead of the extension.")
    compression_level: int = option(6, section="compress", help="0 (none) to 9 (best).")

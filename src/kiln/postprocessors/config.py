"""Option tables of the post-processors kiln implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        help="Archive path; its extension picks the format: .tar.gz, .tar.xz, .tar.lz4, "
        ".tar.bgzf (a compressed tar), .zip, .tar, or .gz, .xz, .lz4, .bgzf (one file "
        "compressed). Other names make a gzipped tar, as in Packer; .bz2, .zst and other "
        "compressions neither writes are an error.",
    )
    format: str = option("", section="compress", help="Force a format instead of the extension.")
    compression_level: int = option(6, section="compress", help="0 (none) to 9 (best).")


VAGRANT_CLOUD_URL = "https://vagrantcloud.com/api/v1"


@dataclass
class VagrantConfig:
    """`"type": "vagrant"`: turn the qemu image into a Vagrant box for the libvirt provider."""

    compression_level: int = option(
        -1,
        section="vagrant",
        since="1.6.6",
        keeps_zero=True,
        default_doc="`-1` (gzip's default, 6)",
        help="gzip level of the box, 1 (fastest) to 9 (smallest); 0 writes an uncompressed tar.",
    )
    include: list[str] = option(
        section="vagrant",
        since="1.6.6",
        factory=list,
        help="Extra files put at the top of the box (by their base name), e.g. an "
        "`info.json`; a `metadata.json` here replaces the generated one.",
    )
    output: str = option(
        "packer_{{ .BuildName }}_{{.Provider}}.box",
        section="vagrant",
        since="1.6.6",
        late=True,
        help="The box file; `{{ .BuildName }}`, `{{ .Provider }}`, `{{ .ArtifactId }}` and "
        "the build's values are filled in.",
    )
    vagrantfile_template: str = option(
        "",
        section="vagrant",
        since="1.6.6",
        help="A file whose contents (a Go template with the same values as `output`) are "
        "appended to the box's Vagrantfile.",
    )
    vagrantfile_template_generated: bool = option(
        False,
        section="vagrant",
        since="1.6.6",
        help="The `vagrantfile_template` is made during the build: do not check at validate "
        "time that it exists.",
    )
    provider_override: str = option(
        "",
        section="vagrant",
        since="1.6.6",
        default_doc="`libvirt` for the qemu builder",
        help="The box's provider; kiln makes `libvirt` boxes (Packer's other providers need "
        "their own builders).",
    )
    override: dict[str, dict[str, Any]] = option(
        section="vagrant",
        since="1.6.6",
        factory=dict,
        late=True,
        help='Options by provider name (`{"libvirt": {"output": "…"}}`), applied over '
        "the others when the box is for that provider.",
    )


@dataclass
class VagrantCloudConfig:
    """`"type": "vagrant-cloud"`: publish a box made by `vagrant` (or named by `artifice`)."""

    box_tag: str = option(
        "", section="vagrant-cloud", since="1.6.6", required=True, help="The box, as `user/name`."
    )
    version: str = option(
        "",
        section="vagrant-cloud",
        since="1.6.6",
        required=True,
        help="The version to create or add to.",
    )
    version_description: str = option(
        "", section="vagrant-cloud", since="1.6.6", help="Description of the version (Markdown)."
    )
    no_release: bool = option(
        False,
        section="vagrant-cloud",
        since="1.6.6",
        help="Leave the version unreleased after the upload.",
    )
    access_token: str = option(
        "",
        section="vagrant-cloud",
        since="1.6.6",
        secret=True,
        env=("VAGRANT_CLOUD_TOKEN", "ATLAS_TOKEN"),
        default_doc="`$VAGRANT_CLOUD_TOKEN`",
        help="API token; required unless `vagrant_cloud_url` points elsewhere.",
    )
    vagrant_cloud_url: str = option(
        VAGRANT_CLOUD_URL,
        section="vagrant-cloud",
        since="1.6.6",
        help="Base URL of the Vagrant Cloud API.",
    )
    insecure_skip_tls_verify: bool = option(
        False,
        section="vagrant-cloud",
        since="1.6.6",
        help="Do not verify the server's TLS certificate (only for a `vagrant_cloud_url` other "
        "than the default).",
    )
    box_download_url: str = option(
        "",
        section="vagrant-cloud",
        since="1.6.6",
        late=True,
        help="Register this URL for the box instead of uploading it; `{{ .Provider }}` and "
        "`{{ .ArtifactId }}` are filled in.",
    )
    no_direct_upload: bool = option(
        False,
        section="vagrant-cloud",
        since="1.6.6",
        help="Upload through the API server instead of directly to its storage.",
    )


@dataclass
class ArtificeConfig:
    """`"type": "artifice"`: make these files the artifact, in place of the build's."""

    files: list[str] = option(
        section="artifice",
        since="1.6.6",
        factory=list,
        required=True,
        help="The files (globs allowed) that become the artifact.",
    )

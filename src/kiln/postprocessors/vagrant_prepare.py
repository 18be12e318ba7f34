"""Validate-time checks of the `vagrant`, `vagrant-cloud` and `artifice` post-processors.

What Packer's `Configure` of each checks (post-processor/vagrant, vagrant-cloud and
artifice at v1.6.6), in its words, plus what kiln can tell before the build starts.
Nothing here touches the network or the build: the plan calls the checks (rows of
kiln.postprocessors.table) with the decoded options and the working directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kiln.options.decode import decode_sections
from kiln.postprocessors.config import (
    VAGRANT_CLOUD_URL,
    VagrantCloudConfig,
    VagrantConfig,
)
from kiln.postprocessors.vagrant_box import BoxError, check_level
from kiln.suggest import did_you_mean

# Packer's `builtins` (builder id → provider) and the providers `provider_override` accepts.
BUILTINS = {
    "mitchellh.amazonebs": "aws",
    "mitchellh.amazon.instance": "aws",
    "mitchellh.virtualbox": "virtualbox",
    "mitchellh.vmware": "vmware",
    "mitchellh.vmware-esx": "vmware",
    "pearkes.digitalocean": "digitalocean",
    "packer.googlecompute": "google",
    "hashicorp.scaleway": "scaleway",
    "packer.parallels": "parallels",
    "MSOpenTech.hyperv": "hyperv",
    "transcend.qemu": "libvirt",
    "ustream.lxc": "lxc",
    "Azure.ResourceManagement.VMImage": "azure",
    "packer.post-processor.docker-import": "docker",
    "packer.post-processor.docker-tag": "docker",
    "packer.post-processor.docker-push": "docker",
}
PROVIDERS = sorted(set(BUILTINS.values()))
SUPPORTED_PROVIDERS = ("libvirt",)


def check_vagrant(config: VagrantConfig, cwd: Path) -> list[str]:
    """Packer's Configure checks; the `override` entries are decoded like the options (their
    template strings are rendered, and so checked, only when the box is made)."""
    errors: list[str] = []
    try:
        check_level(config.compression_level)
    except BoxError as err:
        errors.append(str(err))
    errors += _check_provider(config.provider_override)
    if config.vagrantfile_template and not config.vagrantfile_template_generated:
        path = Path(config.vagrantfile_template).expanduser()
        if not (path if path.is_absolute() else cwd / path).exists():
            errors.append(
                f"vagrantfile_template '{config.vagrantfile_template}' does not exist (set "
                '"vagrantfile_template_generated": true if the build makes it)'
            )
    for provider, options in config.override.items():
        for key in ("override", "provider_override"):
            if key in options:
                errors.append(f"override.{provider}: '{key}' cannot be set per provider")
        literal = {k: v for k, v in options.items() if not (isinstance(v, str) and "{{" in v)}
        decoded = decode_sections(literal, [VagrantConfig])
        errors += [f"override.{provider}: {e}" for e in decoded.errors]
        if not decoded.errors and "compression_level" in literal:
            try:
                check_level(decoded.get(VagrantConfig).compression_level)
            except BoxError as err:
                errors.append(f"override.{provider}: {err}")
    return errors


def _check_provider(name: str) -> list[str]:
    if not name or name in SUPPORTED_PROVIDERS:
        return []
    if name not in PROVIDERS:
        return [
            f"The given provider_override {name} is not valid. Please choose from one of "
            + ", ".join(PROVIDERS)
            + did_you_mean(name, PROVIDERS)
        ]
    return [
        f"provider_override {name!r}: kiln makes Vagrant boxes for the libvirt provider only "
        "(from the qemu builder's image); remove provider_override or set it to libvirt"
    ]


def resolve_token(config: VagrantCloudConfig, env: Mapping[str, str]) -> tuple[str, bool]:
    """(token, taken from ATLAS_TOKEN?): the option, else VAGRANT_CLOUD_TOKEN, else
    ATLAS_TOKEN (Packer's Configure). The options a post-processor runs with are decoded
    afresh from the template, so it resolves the token again with the run's environment."""
    if config.access_token:
        return config.access_token, False
    token = env.get("VAGRANT_CLOUD_TOKEN", "")
    if token:
        return token, False
    token = env.get("ATLAS_TOKEN", "")
    return token, bool(token)


def check_vagrant_cloud(config: VagrantCloudConfig, cwd: Path) -> list[str]:
    """Packer's Configure checks (the plan has filled access_token from the environment)."""
    errors = [f"{key} must be set" for key in ("box_tag", "version") if not getattr(config, key)]
    if config.vagrant_cloud_url == VAGRANT_CLOUD_URL and not config.access_token:
        errors.append(
            "access_token must be set if vagrant_cloud_url has not been overridden (set "
            "access_token, or VAGRANT_CLOUD_TOKEN in the environment)"
        )
    if config.vagrant_cloud_url and not config.vagrant_cloud_url.startswith(
        ("http://", "https://")
    ):
        errors.append(
            f"vagrant_cloud_url {config.vagrant_cloud_url!r} is not an http:// or https:// URL"
        )
    return errors

"""Checks to run at validate time beside `kiln.provisioners.config.check_provisioner`.

They catch at `kiln validate` what would otherwise fail only once the VM is up: variable
names a shell cannot take, `only_on` names Packer does not know, and `content` aimed at
a directory.
"""

from __future__ import annotations

from kiln.provisioners.config import FileConfig, ShellConfig, ShellLocalConfig
from kiln.provisioners.envvars import bad_names

# Packer's supportedSyslist (SDK shell-local/config.go).
SUPPORTED_OS = ("darwin", "freebsd", "linux", "openbsd", "solaris", "windows")


def extra_provisioner_checks(config: object) -> list[str]:
    """Messages for `config` (a decoded provisioner or shell-local post-processor)."""
    errors: list[str] = []
    if isinstance(config, ShellConfig | ShellLocalConfig):
        names = [p.partition("=")[0] for p in config.environment_vars if "=" in p]
        for name in bad_names([n for n in names if n] + list(config.env)):
            errors.append(
                f"environment variable name {name!r} is invalid: use letters, digits and "
                "underscores, not starting with a digit"
            )
    if isinstance(config, ShellLocalConfig):
        for name in config.only_on:
            if name not in SUPPORTED_OS:
                errors.append(
                    f"Invalid OS specified in only_on: '{name}'\nSupported OS names: "
                    + ", ".join(SUPPORTED_OS)
                )
    if isinstance(config, FileConfig) and config.content and config.destination.endswith("/"):
        errors.append(
            f"destination {config.destination!r} is a directory: with content, give the full "
            "remote file path to write"
        )
    return errors

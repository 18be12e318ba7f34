"""Validate-time checks of the provisioners: one `check_<type>` each (kiln.provisioners.table).

`check_provisioner` makes the checks Packer's provisioners make in Prepare (files must
exist, …); `extra_provisioner_checks` catch at `kiln validate` what would otherwise fail
only once the VM is up: variable names a shell cannot take, `only_on` names Packer does
not know, and `content` aimed at a directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from kiln.envname import bad_name_message, bad_names
from kiln.provisioners.config import (
    AnsibleConfig,
    AnsibleLocalConfig,
    Direction,
    FileConfig,
    ShellConfig,
    ShellLocalConfig,
)

# Packer's supportedSyslist (SDK shell-local/config.go).
SUPPORTED_OS = ("darwin", "freebsd", "linux", "openbsd", "solaris", "windows")


def extra_provisioner_checks(config: object) -> list[str]:
    """Messages for `config` (a decoded provisioner or shell-local post-processor)."""
    errors: list[str] = []
    if isinstance(config, ShellConfig | ShellLocalConfig):
        names = [p.partition("=")[0] for p in config.environment_vars if "=" in p]
        for name in bad_names([n for n in names if n] + list(config.env)):
            errors.append(bad_name_message(name))
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


def check_provisioner(typ: str, config: object, *, cwd: Path) -> list[str]:
    """Type-specific checks Packer's provisioners do in Prepare (files must exist, …)."""
    errors: list[str] = []

    def exists(label: str, name: str) -> None:
        try:
            path = Path(name).expanduser()
        except RuntimeError:  # `~user/x` for a user that does not exist
            path = Path(name)
        try:
            os.stat(path if path.is_absolute() else cwd / path)
        except FileNotFoundError:
            errors.append(f"Bad {label} '{name}': stat {name}: no such file or directory")
        except OSError as err:
            reason = (err.strerror or str(err)).lower()
            errors.append(f"Bad {label} '{name}': stat {name}: {reason}")
        except ValueError:
            errors.append(f"Bad {label} {name!r}: a file name cannot contain a NUL character")

    if isinstance(config, ShellConfig | ShellLocalConfig):
        command = config.command if isinstance(config, ShellLocalConfig) else ""
        given = [bool(config.inline), bool(config.script), bool(config.scripts), bool(command)]
        if sum(given) == 0:
            errors.append(
                "Either a script file or inline script must be specified (set inline, script "
                "or scripts)."
            )
        elif sum(given) > 1:
            errors.append("Only one of inline, script, scripts or command can be specified.")
        for name in [config.script] * bool(config.script) + config.scripts:
            exists("script", name)
        for pair in config.environment_vars:
            if "=" not in pair or pair.startswith("="):
                errors.append(f"Environment variable not in format 'key=value': {pair}")
    elif isinstance(config, FileConfig):
        sources = [config.source] * bool(config.source) + config.sources
        if config.content and sources:
            errors.append("Only one of source, sources or content can be specified.")
        elif not config.content and not sources:
            errors.append("Source must be specified (set source, sources or content).")
        if config.direction == Direction.DOWNLOAD and (config.sources or config.content):
            errors.append("A download takes one source; sources and content are for uploads.")
        if not config.destination:
            errors.append("Destination must be specified.")
        if config.direction == Direction.UPLOAD and not config.generated:
            for name in sources:
                exists("source", name)
    return errors


def check_shell(config: ShellConfig, cwd: Path) -> list[str]:
    return check_provisioner("shell", config, cwd=cwd) + extra_provisioner_checks(config)


def check_file(config: FileConfig, cwd: Path) -> list[str]:
    return check_provisioner("file", config, cwd=cwd) + extra_provisioner_checks(config)


def check_shell_local(config: ShellLocalConfig, cwd: Path) -> list[str]:
    return check_provisioner("shell-local", config, cwd=cwd) + extra_provisioner_checks(config)


def no_checks(config: object, cwd: Path) -> list[str]:
    return []


def _stat_problem(key: str, name: str, cwd: Path, *, want_dir: bool) -> str | None:
    """Packer's validateFileConfig / validateDirConfig for one path (relative to `cwd`)."""
    try:
        path = Path(name).expanduser()
    except RuntimeError:  # `~user/x` for a user that does not exist
        path = Path(name)
    try:
        is_dir = (path if path.is_absolute() else cwd / path).is_dir()
        os.stat(path if path.is_absolute() else cwd / path)
    except ValueError:
        return f"{key}: {name!r} is invalid: a path cannot contain a NUL character"
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        return f"{key}: {name} is invalid: stat {name}: {reason}"
    if want_dir and not is_dir:
        return f"{key}: {name} must point to a directory"
    if not want_dir and is_dir:
        return f"{key}: {name} must point to a file"
    return None


def _file_problems(key: str, name: str, cwd: Path) -> list[str]:
    if not name:
        return [f"{key} must be specified."]
    problem = _stat_problem(key, name, cwd, want_dir=False)
    return [problem] if problem else []


def _dir_problems(key: str, name: str, cwd: Path) -> list[str]:
    problem = _stat_problem(key, name, cwd, want_dir=True)
    return [problem] if problem else []


def check_ansible(config: AnsibleConfig, cwd: Path) -> list[str]:
    """Packer's ansible Prepare: files exist, the port is valid, Ansible answers."""
    from kiln.provisioners.ansible_tools import current_user, version_error

    errors = _file_problems("playbook_file", config.playbook_file, cwd)
    for key in ("galaxy_file", "ssh_authorized_key_file", "ssh_host_key_file"):
        name = getattr(config, key)
        if name:
            errors += _file_problems(key, name, cwd)
    if not 0 <= config.local_port <= 65535:
        errors.append(f"local_port: {config.local_port} must be a valid port")
    if config.inventory_directory:
        errors += _dir_problems("inventory_directory", config.inventory_directory, cwd)
    if not config.skip_version_check:
        problem = version_error(config.command, cwd)
        if problem:
            errors.append(problem)
    if not config.user and not current_user():
        errors.append("user: could not determine current user from environment.")
    return errors


def check_ansible_local(config: AnsibleLocalConfig, cwd: Path) -> list[str]:
    """Packer's ansible-local Prepare: one of playbook_file/playbook_files, paths exist."""
    errors: list[str] = []
    if config.playbook_files and config.playbook_file:
        errors.append("Either playbook_file or playbook_files can be specified, not both")
    if not config.playbook_files and not config.playbook_file:
        errors.append("Either playbook_file or playbook_files must be specified")
    if config.playbook_file:
        errors += _file_problems("playbook_file", config.playbook_file, cwd)
    for name in config.playbook_files:
        errors += _file_problems("playbook_files", name, cwd)
    for key in ("inventory_file", "galaxy_file"):
        if getattr(config, key):
            errors += _file_problems(key, getattr(config, key), cwd)
    for key in ("playbook_dir", "group_vars", "host_vars"):
        if getattr(config, key):
            errors += _dir_problems(key, getattr(config, key), cwd)
    for name in config.playbook_paths:
        errors += _dir_problems("playbook_paths", name, cwd)
    for name in config.role_paths:
        errors += _dir_problems("role_paths", name, cwd)
    return errors

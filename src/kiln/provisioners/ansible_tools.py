"""The host side of the Ansible provisioners: finding `ansible-playbook`, its version,
the user running kiln, and temporary files named as Packer names them.

`kiln validate` loads this module: what only a check or a build needs is imported there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kiln.provisioners.ansible_args import major_version, parse_version

INSTALL_HINT = (
    "install Ansible on this machine (pip install 'kiln[ansible]' or pip install ansible-core "
    "into kiln's environment, pipx install ansible-core, or apt-get install ansible), set "
    '"command" to its path, or set "skip_version_check": true if the build installs it'
)
_VERSIONS: dict[str, str] = {}  # resolved command → version (the check's result, reused)


def find_command(command: str, cwd: Path) -> str | None:
    """Where `command` is, as Go's exec.Command finds it: a name is looked up on PATH, a
    path is taken as is (relative to `cwd`). A name missing from PATH is also looked for
    next to kiln's Python, where `pip install 'kiln[ansible]'` puts `ansible-playbook`."""
    import shutil

    if os.sep in command:
        path = Path(command).expanduser()
        path = path if path.is_absolute() else cwd / path
        return str(path) if os.access(path, os.X_OK) and path.is_file() else None
    found = shutil.which(command)
    if found:
        return found
    beside = Path(sys.executable).parent / command
    return str(beside) if os.access(beside, os.X_OK) and beside.is_file() else None


def version_error(command: str, cwd: Path) -> str | None:
    """getVersion at validate time: None when `<command> --version` names a version."""
    path = find_command(command, cwd)
    if path is None:
        return (
            f'Error running "{command} --version": exec: "{command}": executable file not '
            f"found in $PATH: {INSTALL_HINT}"
        )
    if path in _VERSIONS:
        return None
    import subprocess

    try:
        proc = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=120,
            check=False,
            cwd=cwd,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f'Error running "{command} --version": {err}: {INSTALL_HINT}'
    return _record(command, path, proc.returncode, proc.stdout)


def _record(command: str, path: str, returncode: int, output: str) -> str | None:
    if returncode != 0:
        return f'Error running "{command} --version": exit status {returncode}: {INSTALL_HINT}'
    version = parse_version(output)
    if version is None:
        return f"Could not find {command} version in output:\n{output}"
    try:
        major_version(version)
    except ValueError:
        return f'Could not parse major version from "{version}".'
    _VERSIONS[path] = version
    return None


def known_version(command: str, cwd: Path) -> str | None:
    """The version found by `version_error` for this command (None if never checked)."""
    path = find_command(command, cwd)
    return _VERSIONS.get(path) if path else None


def current_user() -> str:
    """The user running kiln (Go's user.Current: the password database, not $USER)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return ""


def go_temp_file(directory: str | Path, prefix: str) -> Path:
    """Create an empty 0600 file named as Go's ioutil.TempFile names it: `prefix` and a
    random number (`/tmp/packer-provisioner-ansible3632805123`)."""
    import random
    import tempfile

    base = Path(directory) if str(directory) else Path(tempfile.gettempdir())
    for _ in range(10000):
        path = base / f"{prefix}{random.randrange(1 << 32)}"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(f"no free temporary file name for {base / prefix}*")

"""Running host tools, logging, and the build's error type."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


class BuildError(Exception):
    """A build failure with a message for the user."""


def log(msg: str) -> None:
    print(f"guest/build.py: {msg}", file=sys.stderr, flush=True)


def run(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a host command; on failure raise BuildError with its stderr."""
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BuildError(
            f"command not found: {argv[0]} (needed by the guest build; install it with apt-get)"
        ) from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise BuildError(f"command failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")
    return proc.stdout


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

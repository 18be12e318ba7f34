"""Golden files for `kiln build -dry-run` (virt-install's tests/test_cli.py style).

Each case is a template `tests/data/golden/<case>.json`; its expected output is
`<case>.txt`: what the real CLI prints (stdout, then stderr and the exit status when there
are any). `pytest --regenerate-output` (registered when tests/conftest.py has
`pytest_plugins = ["golden_plugin"]`) or `KILN_REGENERATE=1` rewrites the .txt files
instead of comparing.

The run is deterministic: the cwd is the data dir (relative paths in templates resolve
there), `PACKER_CACHE_DIR` is `/kiln-cache` (the ISO is an http URL with an inline
checksum, so its path is the cache target), display variables are unset unless the case
sets them (`CASE_ENV`), and QEMU, qemu-img and swtpm on PATH are traps that record any
call, so a dry run that starts anything (the KVM probe included) fails.
"""

from __future__ import annotations

import os
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "data" / "golden"
CACHE_DIR = "/kiln-cache"
REGENERATE_ENV = "KILN_REGENERATE"
# Environment a case needs beyond the neutral one (the display cases).
CASE_ENV: dict[str, dict[str, str]] = {
    "headless_false_with_display": {"DISPLAY": ":0"},
    "headless_true_with_display": {"DISPLAY": ":0"},
    "display_sdl": {"DISPLAY": ":0"},
    "use_default_display": {"WAYLAND_DISPLAY": "wayland-0"},
    # A firmware descriptor (xdg/qemu/firmware/01-…) that sorts before any system one.
    "efi_secure_boot_q35": {"XDG_CONFIG_HOME": "xdg"},
}
_CLEARED_ENV = ("DISPLAY", "WAYLAND_DISPLAY", "PACKER_LOG", "PACKER_LOG_PATH", "KILN_LOG",
                "KILN_LOG_PATH", "XDG_CACHE_HOME", "PACKER_KEY_INTERVAL")  # fmt: skip
_TRAPPED = ("qemu-system-x86_64", "qemu-system-i386", "qemu-img", "swtpm")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regenerate-output",
        action="store_true",
        default=False,
        help="rewrite the golden files in tests/data/golden instead of comparing with them",
    )


def regenerate_requested(config: pytest.Config) -> bool:
    option = bool(config.getoption("--regenerate-output", default=False))
    return option or os.environ.get(REGENERATE_ENV, "") == "1"


def golden_cases() -> list[str]:
    return sorted(p.stem for p in GOLDEN_DIR.glob("*.json"))


@dataclass(frozen=True)
class DryRun:
    stdout: str
    stderr: str
    status: int
    trapped: list[str]  # commands the traps caught (must stay empty)

    def golden_text(self) -> str:
        text = self.stdout
        if self.stderr:
            text += "--- stderr ---\n" + self.stderr
        if self.status:
            text += f"--- exit status {self.status} ---\n"
        return text


def _install_traps(bin_dir: Path, log: Path) -> None:
    bin_dir.mkdir()
    for name in _TRAPPED:
        trap = bin_dir / name
        trap.write_text(f'#!/bin/sh\necho "{name} $*" >> {shlex.quote(str(log))}\nexit 1\n')
        trap.chmod(trap.stat().st_mode | stat.S_IXUSR)


def run_dry_run(
    case: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> DryRun:
    """`kiln build -dry-run <case>.json` in-process, in the neutral environment."""
    from kiln.cli.main import main

    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in CASE_ENV.get(case, {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PACKER_CACHE_DIR", CACHE_DIR)
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "kiln-cache"))
    trap_log = tmp_path / "trapped.log"
    _install_traps(tmp_path / "bin", trap_log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.chdir(GOLDEN_DIR)
    capsys.readouterr()
    status = main(["build", "-dry-run", f"{case}.json"])
    out, err = capsys.readouterr()
    trapped = trap_log.read_text().splitlines() if trap_log.exists() else []
    return DryRun(out, err, status, trapped)


def golden_commands(case: str) -> list[list[str]]:
    """The commands a case's golden file lists, as argv lists."""
    text = (GOLDEN_DIR / f"{case}.txt").read_text().split("--- stderr ---")[0]
    commands = []
    for line in text.splitlines():
        head, sep, rest = line.partition(": ")
        if line.startswith("    ") and sep and head.strip() == _build_name(case):
            argv = shlex.split(rest)
            if argv and (argv[0] in ("cp", "qemu-img") or "qemu-system" in argv[0]):
                commands.append(argv)
    return commands


def golden_qemu_argv(case: str) -> list[str]:
    """The QEMU command line of a case's golden file."""
    found = [a for a in golden_commands(case) if "qemu-system" in Path(a[0]).name]
    if len(found) != 1:
        raise AssertionError(f"{case}.txt lists {len(found)} QEMU command lines, expected 1")
    return found[0]


def _build_name(case: str) -> str:
    import json

    builders = json.loads((GOLDEN_DIR / f"{case}.json").read_text())["builders"]
    return str(builders[0].get("name", builders[0]["type"]))

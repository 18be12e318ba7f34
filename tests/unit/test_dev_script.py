"""`./dev` and the README: a new developer's first commands say what they do."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dev_help_lists_every_command_and_nothing_else() -> None:
    proc = subprocess.run([str(REPO / "dev"), "help"], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    commands = [line.split()[1] for line in lines if line.lstrip().startswith("./dev ")]
    assert commands == ["setup", "example", "test", "lint", "docs"]
    assert not any(line.startswith(("set ", "cd ", "#!")) for line in lines), lines
    assert ".venv/bin/kiln" in proc.stdout


def test_dev_example_says_where_kiln_is() -> None:
    script = (REPO / "dev").read_text()
    example = script[script.index("  example)") : script.index("  test)")]
    assert "run .venv/bin/kiln" in example
    assert "examples/debian12/build_iso.py" in example


def test_readme_starts_with_the_user() -> None:
    readme = (REPO / "README.md").read_text()
    sections = [line[3:] for line in readme.splitlines() if line.startswith("## ")]
    assert sections[:2] == ["Install", "Your Packer template with kiln"]
    assert sections.index("Developing kiln") > sections.index("A short tour of the CLI")
    install = readme[readme.index("## Install") : readme.index("## Your Packer")]
    assert "Python ≥ 3.11" in install and "qemu-system-x86 qemu-utils" in install
    assert "pipx install ./kiln" in install and "pip install ./kiln" in install
    usage = readme[readme.index("## Your Packer") : readme.index("## A short tour")]
    order = [usage.index(c) for c in ("kiln validate template.json",
             "kiln build -dry-run template.json", "kiln build template.json")]  # fmt: skip
    assert order == sorted(order)
    developing = readme[readme.index("## Developing kiln") :]
    assert ".venv/bin/kiln" in developing and "source .venv/bin/activate" in developing

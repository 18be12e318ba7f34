"""A new user's first hour, as an end-to-end test: clone → the README's install → `kiln` on
PATH → validate, dry-run and build of the example; and the README's virtual-environment
install, outside the checkout, with validate and dry-run.

The commands are read from README.md's code blocks and run as written, with three
substitutions a real user makes too: the repository URL (here: this checkout, committed
state), `sudo` (a no-op for root) and a home directory of the test's own (so pipx and the
venv land in it). The example commands come from README.md's "Your Packer template" block
with examples/tiny's template, after examples/tiny/README.md's `python3 guest/build.py`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from build_harness import qemu_processes_under

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def code_blocks(section: str) -> list[list[str]]:
    """The shell commands of each ```sh block under `## section` (comments dropped)."""
    start = README.index(f"## {section}")
    end = README.find("\n## ", start + 1)
    body = README[start : end if end > 0 else None]
    blocks = re.findall(r"```sh\n(.*?)```", body, re.S)
    return [
        [line.split("  #")[0].strip() for line in block.splitlines()
         if line.strip() and not line.lstrip().startswith("#")]
        for block in blocks
    ]  # fmt: skip


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A user's environment: an own HOME, PATH without this checkout's kiln."""
    home = tmp_path_factory.mktemp("home")
    path = [d for d in os.environ["PATH"].split(os.pathsep)
            if d and not (Path(d) / "kiln").exists()]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPX_", "VIRTUAL_ENV"))}
    env.update({
        "HOME": str(home),
        "PATH": os.pathsep.join([str(home / ".local" / "bin"), *path]),
        "KILN_GUEST_CACHE": os.environ.get("KILN_GUEST_CACHE")
        or str(Path.home() / ".cache" / "kiln" / "guest"),  # the shared, locked package cache
        "XDG_CACHE_HOME": str(home / ".cache"),
    })  # fmt: skip
    env.pop("DISPLAY", None)
    return env


def sh(command: str, *, cwd: Path, env: dict[str, str], timeout: float = 1200) -> str:
    prelude = (
        # root needs no sudo (and CI may have none); apt waits for another apt's lock
        'sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else command sudo "$@"; fi; }\n'
        'apt-get() { command apt-get -o DPkg::Lock::Timeout=600 "$@"; }\n'
        "set -e\n"
    )
    command = command.replace("<kiln's repository URL>", str(REPO))
    proc = subprocess.run(["bash", "-c", prelude + command], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    assert proc.returncode == 0, f"$ {command}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def test_readme_install_then_the_example(user: dict[str, str], tmp_path: Path) -> None:
    work = Path(user["HOME"])
    assert shutil.which("kiln", path=user["PATH"]) is None
    install, venv = code_blocks("Install")
    for command in install:
        out = sh(command, cwd=work, env=user)
    assert shutil.which("kiln", path=user["PATH"]) == str(work / ".local" / "bin" / "kiln")
    assert out.startswith("kiln v")
    clone = work / "kiln"
    sh("python3 guest/build.py", cwd=clone, env=user)  # examples/tiny/README.md, step 1
    (usage,) = code_blocks("Your Packer template with kiln")
    outputs = [sh(c.replace("template.json", "examples/tiny/template.json"), cwd=clone, env=user)
               for c in usage]  # fmt: skip
    validate, dry_run, build = outputs
    assert validate.rstrip().endswith("Template validated successfully.")
    assert "qemu-system-x86_64 -name tiny.qcow2" in dry_run
    assert "--> qemu: VM files in directory: build/tiny" in build
    assert (clone / "build" / "tiny" / "tiny.qcow2").is_file()
    assert qemu_processes_under(clone) == []

    # The virtual environment, outside the checkout: validate and dry-run.
    for command in venv:
        out = sh(command, cwd=work, env=user)
    assert out.startswith("kiln v")
    kiln = work / "kiln-venv" / "bin" / "kiln"
    where = sh(f'{kiln.parent / "python"} -c "import kiln; print(kiln.__file__)"', cwd=work,
               env=user)  # fmt: skip
    assert not Path(where.strip()).is_relative_to(clone)  # installed, not the checkout
    # (build/tiny holds the image built above: a new output directory, as Packer wants)
    assert "Template validated successfully." in sh(
        f"{kiln} validate -var output_directory=build/tiny2 examples/tiny/template.json",
        cwd=clone, env=user,
    )  # fmt: skip
    assert "qemu-img create -f qcow2" in sh(
        f"{kiln} build -dry-run -var output_directory=build/tiny2 examples/tiny/template.json",
        cwd=clone, env=user,
    )  # fmt: skip

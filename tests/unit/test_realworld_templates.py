"""Public templates (tests/data/realworld, see its README) validate and dry-run unchanged.

Packer 1.6.6 validates each of them with the same flags. Each runs in a copy of its
directory tree (a dry run must not write, but a regression could), from the directory its
README says to run Packer from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kiln.cli.main import main

DATA = Path(__file__).resolve().parents[1] / "data" / "realworld"
CASES: list[dict[str, Any]] = json.loads((DATA / "cases.json").read_text())


def _write_key(path: Path) -> None:
    """A fresh key where the template expects its (not vendored) private key."""
    key = ed25519.Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


@pytest.fixture
def case_dir(request: pytest.FixtureRequest, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Path:  # fmt: skip
    case: dict[str, Any] = request.param
    top = case["cwd"].split("/")[0]
    shutil.copytree(DATA / top, tmp_path / top)
    cwd = tmp_path / case["cwd"]
    if "ssh_key" in case:
        _write_key(cwd / case["ssh_key"])
    for name in ("PACKER_LOG", "KILN_LOG", "DISPLAY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PACKER_CACHE_DIR", str(tmp_path / "packer_cache"))
    monkeypatch.setenv("KILN_CACHE_DIR", str(tmp_path / "kiln_cache"))
    monkeypatch.chdir(cwd)
    return cwd


@pytest.mark.parametrize("case_dir", CASES, ids=[c["name"] for c in CASES], indirect=True)
def test_public_template_validates_and_dry_runs(
    case_dir: Path, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    case = request.node.callspec.params["case_dir"]
    top = case_dir  # the copied tree: up from where the case runs to its top directory
    for _ in Path(case["cwd"]).parts[1:]:
        top = top.parent
    before = sorted(top.rglob("*"))
    assert main(["validate", *case["args"], case["template"]]) == 0, capsys.readouterr()
    assert capsys.readouterr().out.endswith("Template validated successfully.\n")
    assert main(["build", "-dry-run", *case["args"], case["template"]]) == 0, capsys.readouterr()
    out, err = capsys.readouterr()
    text = out + err
    assert "qemu-system-" in text and "qemu-img create" in text
    # The passwords are common words (vagrant, nixos): names and paths must stay whole.
    assert "<sensitive>" not in text
    assert "{{" not in text and "Traceback" not in text
    assert sorted(top.rglob("*")) == before  # the dry run wrote nothing there

"""Shared by the Packer capture (tests/data/ansible/golden/capture_packer.py) and kiln's
golden tests of the ansible provisioners: the provisioners both run, the recording
stand-in for ansible-playbook, and how a recorded run is normalised (temporary names,
ports and directories become placeholders) so Packer's and kiln's can be compared.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "data" / "ansible" / "golden"
PACKER_RECORD = GOLDEN / "packer-1.6.6.json"
# Environment variables a recorded run reports (the rest is the caller's environment).
REPORTED_ENV = re.compile(r"^(ANSIBLE_|FOO$)")


def provisioners() -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads((GOLDEN / "provisioners.json").read_text())
    result: list[dict[str, Any]] = data["provisioners"]
    return result


def materialize(work: Path, python: str) -> tuple[list[dict[str, Any]], Path]:
    """Copy the provisioners' files into `work`, make the two keys they name and the
    recording stand-ins (run by `python`); return the provisioners with the stand-ins'
    paths filled in, and the capture directory the stand-ins write to."""
    shutil.copytree(GOLDEN / "files", work, dirs_exist_ok=True)
    for name in ("hostkey", "userkey"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(work / name)],
            check=True,
        )
    fake_source = (GOLDEN / "fake_ansible.py").read_text().split("\n", 1)[1]
    fakes = {}
    for name in ("fake-ansible", "fake-galaxy"):
        path = work.parent / name
        path.write_text(f"#!{python}\n{fake_source}")
        path.chmod(0o755)
        fakes[name] = str(path)
    text = json.dumps(provisioners())
    text = text.replace("{fake}", fakes["fake-ansible"])
    text = text.replace("{fake_galaxy}", fakes["fake-galaxy"])
    filled: list[dict[str, Any]] = json.loads(text)
    return filled, work.parent / "capture"


def records(capture: Path) -> list[dict[str, Any]]:
    """The stand-ins' records, oldest first, each with its program's `name`."""
    found = []
    for path in capture.glob("*.json"):
        name, _, stamp = path.stem.rpartition("-")
        found.append((int(stamp), name, json.loads(path.read_text())))
    return [{"name": name, **record} for _, name, record in sorted(found)]


class Normalizer:
    """Replaces what differs between two runs by placeholders."""

    def __init__(self, *, cwd: Path, tmp: Path, ssh_port: str, http_port: str) -> None:
        self.pairs = [(str(cwd.parent), "{scratch}"), (str(tmp), "{tmp}")]
        self.ssh_port = ssh_port
        self.http_port = http_port

    def text(self, value: str, *, proxy_port: str = "") -> str:
        for real, placeholder in self.pairs:
            value = value.replace(real, placeholder)
        value = re.sub(
            r"(ansible-key|packer-shell|packer-provisioner-ansible(?:-local)?)\d+", r"\1{N}", value
        )
        value = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                       "{uuid}", value)  # fmt: skip
        value = value.replace(f"10.0.2.2:{self.http_port}", "10.0.2.2:{http_port}")
        if proxy_port:
            value = re.sub(rf"(port=){proxy_port}\b", r"\1{proxy_port}", value)
        return re.sub(rf"(port=){self.ssh_port}\b", r"\1{ssh_port}", value)

    def record(self, record: dict[str, Any], baseline: dict[str, str]) -> dict[str, Any]:
        """args, added environment, inventory (with its mode) and key file facts."""
        inventory = record.get("inventory", "")
        proxy = re.search(r"port=(\d+)", inventory)
        proxy_port = proxy[1] if proxy and proxy[1] != self.ssh_port else ""
        out: dict[str, Any] = {
            "args": [self.text(a, proxy_port=proxy_port) for a in record["args"]],
            "env": {
                k: v
                for k, v in sorted(record["env"].items())
                if REPORTED_ENV.match(k) and baseline.get(k) != v
            },
        }
        if "inventory" in record:
            out["inventory"] = self.text(inventory, proxy_port=proxy_port)
            out["inventory_mode"] = record["inventory_mode"]
        if "key_file" in record:
            out["key_file"] = record["key_file"]
        return out

"""The `ansible` provisioner's inventory, command line and environment, held to Packer 1.6.6.

tests/data/ansible/golden/packer-1.6.6.json is what Packer 1.6.6 did with the
provisioners of provisioners.json on the test guest (capture_packer.py recorded it: a
stand-in `ansible-playbook` wrote down its argv, environment, inventory and key file).
Here kiln runs the same provisioners, through the plan and `run_provisioner`, with the
same stand-in, and its records must match Packer's after normalisation (temporary file
names, ports, directories), except for the differences docs/compatibility.md lists,
which each test names. Ansible never runs and nothing connects, so no communicator is
needed: the proxy only listens.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

import asyncssh
import pytest

from ansible_golden import PACKER_RECORD, Normalizer, materialize, records
from kiln.engine.provision import run_provisioner
from kiln.provisioners.context import ProvisionContext
from template_plans import BUILDER, plan_of

PACKER: dict[str, Any] = json.loads(PACKER_RECORD.read_text())
ANSIBLE = [p for p in PACKER["provisioners"] if p["type"] == "ansible"]
SSH_PORT = "2222"
HTTP_PORT = "8123"


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("CAPTURE_DIR", str(tmp_path / "capture"))  # see materialize()
    # The capture ran as root: the proxy's default user is the user running the tool.
    monkeypatch.setattr("kiln.provisioners.ansible.current_user", lambda: "root")
    return tmp_path


def kiln_values() -> dict[str, str]:
    """The build values kiln's qemu builder gives a provisioner (password login, its own
    key), with the ports of the normalisation."""
    return {
        "ID": "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER",
        "Host": "127.0.0.1",
        "Port": SSH_PORT,
        "User": "root",
        "Password": "golden-pw",
        "ConnType": "ssh",
        "SSHPublicKey": "",
        "SSHPrivateKey": asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode(),
        "PackerRunUUID": "run-uuid",
        "PackerHTTPIP": "10.0.2.2",
        "PackerHTTPPort": HTTP_PORT,
        "PackerHTTPAddr": f"10.0.2.2:{HTTP_PORT}",
    }


async def run_kiln(scratch: Path, index: int) -> tuple[dict[str, Any], list[str]]:
    """Run provisioner `index` with kiln; return its normalised record and its output."""
    work = scratch / "work"
    provisioners, capture = materialize(work, sys.executable)
    plan = plan_of(work, {"builders": [BUILDER], "provisioners": [provisioners[index]]})
    build = plan.builds[0]
    output: list[str] = []
    ctx = ProvisionContext(
        plan=build,
        say=output.append,
        message=output.append,
        error=output.append,
        comm=cast(Any, object()),  # the proxy listens; no session reaches it here
        build_values=kiln_values(),
        cwd=work,
    )
    await run_provisioner(build.provisioners[0], ctx)
    baseline = dict(os.environ)
    norm = Normalizer(cwd=work, tmp=scratch / "tmp", ssh_port=SSH_PORT, http_port=HTTP_PORT)
    recorded = records(capture)
    galaxy = [norm.record(r, baseline)["args"] for r in recorded if r["name"] == "fake-galaxy"]
    (run,) = [norm.record(r, baseline) for r in recorded if r["name"] == "fake-ansible"]
    # A message of several lines is printed as several UI lines.
    lines = [norm.text(line) for message in output for line in message.split("\n")]
    return {**run, "galaxy": galaxy}, lines


def packer_entry(index: int) -> dict[str, Any]:
    entry = dict(PACKER["provisioners"][index])
    assert entry["type"] == "ansible"
    return entry


def test_the_capture_is_packer_1_6_6() -> None:
    assert PACKER["packer"] == "Packer v1.6.6"
    assert len(ANSIBLE) == 5


async def test_proxy_with_groups_galaxy_and_environment(scratch: Path) -> None:
    kiln, output = await run_kiln(scratch, 0)
    packer = packer_entry(0)
    assert kiln["args"] == packer["args"]
    assert (
        kiln["env"]
        == packer["env"]
        == {
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_NOCOLOR": "True",
            "ANSIBLE_SCP_IF_SSH": "True",
            "FOO": "bar baz",
        }
    )
    assert kiln["inventory"] == packer["inventory"]
    assert kiln["inventory_mode"] == packer["inventory_mode"] == "0o600"
    # Both generate an RSA key pair and write the private half PKCS#1-PEM, 0600.
    assert kiln["key_file"]["mode"] == packer["key_file"]["mode"] == "0o600"
    assert kiln["key_file"]["first_line"] == packer["key_file"]["first_line"]
    # Difference: the options are spelled as Packer's documentation says.
    assert packer["galaxy"] == [
        ["install", "-r", "requirements.yml", "-f", "-p", "galaxy/roles"],
        ["collection", "install", "-r", "requirements.yml", "-f", "-p", "galaxy/collections"],
    ]
    assert kiln["galaxy"] == [
        ["install", "-r", "requirements.yml", "--force", "--roles-path", "galaxy/roles"],
        ["collection", "install", "-r", "requirements.yml", "--force",
         "--collections-path", "galaxy/collections"],
    ]  # fmt: skip
    assert output == packer["output"]


async def test_direct_with_ssh_extra_args_and_inventory_directory(scratch: Path) -> None:
    kiln, output = await run_kiln(scratch, 1)
    packer = packer_entry(1)
    # Difference: Packer 1.6.6 glues the items together; kiln separates them.
    assert packer["args"][7] == "'-o ControlMaster=no-o Foo=bar'"
    assert kiln["args"][7] == "'-o ControlMaster=no -o Foo=bar'"
    assert kiln["args"][:7] + kiln["args"][8:] == packer["args"][:7] + packer["args"][8:]
    assert kiln["env"] == packer["env"]
    assert kiln["inventory"] == packer["inventory"]
    assert kiln["inventory_mode"] == packer["inventory_mode"]
    # Difference: Packer 1.6.6's qemu builder has no key with a password login and writes
    # an empty key file; kiln's build has its own key and writes that.
    assert packer["key_file"] == {"mode": "0o600", "first_line": "", "size": 0}
    assert kiln["key_file"]["mode"] == "0o600"
    assert kiln["key_file"]["first_line"] == "-----BEGIN OPENSSH PRIVATE KEY-----"
    assert [line.replace("no -o", "no-o") for line in output] == packer["output"]
    kept = list((scratch / "work" / "inv").glob("packer-provisioner-ansible*"))
    assert len(kept) == 1  # keep_inventory_file


async def test_skip_version_check_authorized_key_and_host_key(scratch: Path) -> None:
    kiln, output = await run_kiln(scratch, 2)
    packer = packer_entry(2)
    compared = ("args", "env", "inventory", "inventory_mode", "galaxy")
    assert {k: kiln[k] for k in compared} == {k: packer[k] for k in compared}
    assert "key_file" not in kiln and "key_file" not in packer
    # No version known: the inventory uses Ansible 1's variable names, as in Packer.
    assert kiln["inventory"].startswith("default ansible_ssh_host=127.0.0.1 ansible_ssh_user=")
    assert kiln["env"] == {}
    assert output == packer["output"]


async def test_inventory_file_template_and_ansible_password(scratch: Path) -> None:
    kiln, output = await run_kiln(scratch, 3)
    packer = packer_entry(3)
    assert kiln["args"] == packer["args"]
    assert kiln["env"] == packer["env"]
    assert (
        kiln["inventory"]
        == packer["inventory"]
        == (
            "default ansible_host=127.0.0.1 ansible_user=root ansible_port={ssh_port} conn=ssh "
            "id=ERR_ID_NOT_IMPLEMENTED_BY_BUILDER http=10.0.2.2:{http_port}\n"
        )
    )
    assert "key_file" not in kiln  # ansible_password replaces the key
    assert output == packer["output"]
    assert any("ansible_password=*****" in line for line in output)


async def test_own_inventory_file(scratch: Path) -> None:
    kiln, output = await run_kiln(scratch, 4)
    packer = packer_entry(4)
    assert kiln["args"] == packer["args"]
    assert kiln["inventory"] == packer["inventory"]
    assert kiln["env"] == packer["env"]
    assert output == packer["output"]

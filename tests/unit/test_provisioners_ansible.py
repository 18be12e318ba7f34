"""The ansible and ansible-local provisioners: options, validate-time checks, the pure
pieces (inventory, argv, galaxy, guest command lines) and the error paths of `ansible`
that need no SSH (stand-in programs record what they were given; see
tests/data/ansible/golden/fake_ansible.py). Tables marked "Packer's" are ports of
provisioner/ansible/provisioner_test.go at v1.6.6."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pytest
from test_options_provisioners import errors, step

from ansible_golden import GOLDEN, records
from kiln.communicator.adapter_scp import scp_options, wants_scp
from kiln.provisioners import ansible_tools
from kiln.provisioners.ansible import run_ansible
from kiln.provisioners.ansible_args import (
    INVENTORY_V1,
    INVENTORY_V2,
    INVENTORY_WINRM_V2,
    check_arg,
    command_args,
    galaxy_commands,
    inventory_template,
    inventory_text,
    parse_version,
    prepared_env_vars,
    sanitized,
)
from kiln.provisioners.ansible_local import (
    extra_vars,
    galaxy_command,
    go_base,
    go_join,
    inventory_content,
    inventory_groups,
    playbook_command,
    time_ordered_uuid,
)
from kiln.provisioners.ansible_tools import (
    current_user,
    find_command,
    go_temp_file,
    version_error,
)
from kiln.provisioners.config import AnsibleConfig, AnsibleLocalConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from template_plans import build_of

# --- recording stand-ins ----------------------------------------------------------------


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """fake-ansible, fake-galaxy (recorders), a playbook, and a private TMPDIR."""
    source = (GOLDEN / "fake_ansible.py").read_text().split("\n", 1)[1]
    made = {}
    for name in ("fake-ansible", "fake-galaxy"):
        path = tmp_path / name
        path.write_text(f"#!{sys.executable}\n{source}")
        path.chmod(0o755)
        made[name] = path
    (tmp_path / "play.yml").write_text("- hosts: all\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("CAPTURE_DIR", str(tmp_path / "capture"))
    made["tmp"] = tmp
    return made


def values(**changes: str) -> dict[str, str]:
    base = {
        "ID": "ERR_ID_NOT_IMPLEMENTED_BY_BUILDER",
        "Host": "127.0.0.1",
        "Port": "2222",
        "User": "builder",
        "Password": "s3cret-pw",
        "ConnType": "ssh",
        "SSHPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nkey\n",
        "PackerHTTPAddr": "10.0.2.2:8123",
    }
    base.update(changes)
    return base


class Seen:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.errors: list[str] = []

    def ctx(self, cwd: Path, comm: object = None, **kw: Any) -> ProvisionContext:
        return ProvisionContext(
            plan=build_of(cwd),
            say=self.lines.append,
            message=self.lines.append,
            error=self.errors.append,
            comm=cast(Any, object() if comm is None else comm),
            build_values=kw.pop("build_values", values()),
            cwd=cwd,
            **kw,
        )


def ansible(fakes: dict[str, Path], **options: Any) -> AnsibleConfig:
    options.setdefault("playbook_file", "play.yml")
    options.setdefault("command", str(fakes["fake-ansible"]))
    return AnsibleConfig(**options)


def the_run(tmp_path: Path) -> dict[str, Any]:
    (run,) = [r for r in records(tmp_path / "capture") if r["name"] == "fake-ansible"]
    return run


# --- option decoding and validate-time checks -------------------------------------------


def test_ansible_options_decode(tmp_path: Path, fakes: dict[str, Path]) -> None:
    (tmp_path / "req.yml").write_text("roles: []\n")
    (tmp_path / "inv").mkdir()
    (tmp_path / "k.pub").write_text("ssh-ed25519 AAAA x\n")
    (tmp_path / "hk").write_text("key\n")
    s = step(
        tmp_path,
        type="ansible",
        playbook_file="play.yml",
        command=str(fakes["fake-ansible"]),
        extra_arguments=["-v"],
        ansible_env_vars=["A=b"],
        ansible_ssh_extra_args=["-o X=y"],
        groups=["g"],
        empty_groups="e",
        host_alias="box",
        user="me",
        local_port="2200",
        ssh_host_key_file="hk",
        ssh_authorized_key_file="k.pub",
        sftp_command="/usr/libexec/sftp-server",
        skip_version_check="true",
        use_sftp=True,
        inventory_directory="inv",
        inventory_file_template="{{ .HostAlias }} x\n",
        inventory_file="",
        keep_inventory_file=1,
        galaxy_file="req.yml",
        galaxy_command="my-galaxy",
        galaxy_force_install=True,
        roles_path="r",
        collections_path="c",
        use_proxy="false",
    )
    c = s.config
    assert isinstance(c, AnsibleConfig)
    assert (c.empty_groups, c.local_port, c.skip_version_check, c.keep_inventory_file) == (
        ["e"],
        2200,
        True,
        True,
    )
    assert c.use_proxy is False
    assert c.inventory_file_template == "{{ .HostAlias }} x\n"  # late: kept raw
    assert (c.sftp_command, c.galaxy_command, c.roles_path, c.collections_path) == (
        "/usr/libexec/sftp-server",
        "my-galaxy",
        "r",
        "c",
    )
    assert (c.host_alias, c.user, c.use_sftp, c.galaxy_force_install) == ("box", "me", True, True)


@pytest.mark.parametrize(
    ("raw", "decoded"), [(None, None), ("", None), ("true", True), (False, False), (1, True)]
)
def test_use_proxy_is_a_trilean(
    tmp_path: Path, fakes: dict[str, Path], raw: Any, decoded: bool | None
) -> None:
    pdef: dict[str, Any] = {
        "type": "ansible",
        "playbook_file": "play.yml",
        "command": str(fakes["fake-ansible"]),
    }
    if raw is not None:
        pdef["use_proxy"] = raw
    assert step(tmp_path, **pdef).config.use_proxy is decoded


def test_use_proxy_rejects_words(tmp_path: Path, fakes: dict[str, Path]) -> None:
    assert errors(
        tmp_path,
        type="ansible",
        playbook_file="play.yml",
        use_proxy="maybe",
        command=str(fakes["fake-ansible"]),
    ) == [
        "provisioner 1 (ansible): cannot parse 'use_proxy' as bool: strconv.ParseBool: "
        'parsing "maybe": invalid syntax (expected true or false)'
    ]


def test_ansible_checks_every_path_at_once(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    found = errors(
        tmp_path,
        type="ansible",
        playbook_file="adir",
        galaxy_file="missing.yml",
        ssh_authorized_key_file="nokey.pub",
        ssh_host_key_file="adir",
        local_port=70000,
        inventory_directory="afile",
        command="no-such-ansible-playbook",
    )
    where = "provisioner 1 (ansible): "
    assert found == [
        where + "playbook_file: adir must point to a file",
        where + "galaxy_file: missing.yml is invalid: stat missing.yml: no such file or directory",
        where + "ssh_authorized_key_file: nokey.pub is invalid: stat nokey.pub: no such file or "
        "directory",
        where + "ssh_host_key_file: adir must point to a file",
        where + "local_port: 70000 must be a valid port",
        where + "inventory_directory: afile must point to a directory",
        where + 'Error running "no-such-ansible-playbook --version": exec: '
        '"no-such-ansible-playbook": executable file not found in $PATH: '
        + ansible_tools.INSTALL_HINT,
    ]


def test_ansible_needs_a_playbook(tmp_path: Path) -> None:
    assert errors(tmp_path, type="ansible", skip_version_check=True) == [
        "provisioner 1 (ansible): playbook_file must be specified."
    ]
    assert errors(
        tmp_path,
        type="ansible",
        playbook_file="nope.yml",
        skip_version_check=True,
        inventory_directory="nodir",
        local_port=-1,
    ) == [
        "provisioner 1 (ansible): playbook_file: nope.yml is invalid: stat nope.yml: no such "
        "file or directory",
        "provisioner 1 (ansible): local_port: -1 must be a valid port",
        "provisioner 1 (ansible): inventory_directory: nodir is invalid: stat nodir: no such file "
        "or directory",
    ]


def test_ansible_without_a_user(
    tmp_path: Path, fakes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ansible_tools, "current_user", lambda: "")
    assert errors(
        tmp_path, type="ansible", playbook_file="play.yml", command=str(fakes["fake-ansible"])
    ) == ["provisioner 1 (ansible): user: could not determine current user from environment."]


def test_ansible_local_options_and_checks(tmp_path: Path) -> None:
    for d in ("pd", "gv", "hv", "r1", "pp"):
        (tmp_path / d).mkdir()
    for f in ("a.yml", "b.yml", "inv", "req.yml"):
        (tmp_path / f).write_text("")
    s = step(
        tmp_path,
        type="ansible-local",
        playbook_files=["a.yml", "b.yml"],
        playbook_dir="pd",
        playbook_paths=["pp"],
        command="ansible-playbook",
        extra_arguments=["-v"],
        group_vars="gv",
        host_vars="hv",
        role_paths=["r1"],
        staging_directory="/tmp/st",
        clean_staging_directory="true",
        inventory_file="inv",
        inventory_groups="web,db",
        galaxy_file="req.yml",
        galaxy_command="ansible-galaxy",
    )
    c = s.config
    assert isinstance(c, AnsibleLocalConfig)
    assert inventory_groups(c) == ["web", "db"]
    assert c.clean_staging_directory is True
    assert errors(tmp_path, type="ansible-local") == [
        "provisioner 1 (ansible-local): Either playbook_file or playbook_files must be specified"
    ]
    found = errors(
        tmp_path,
        type="ansible-local",
        playbook_file="a.yml",
        playbook_files=["nope.yml", "pd"],
        playbook_dir="a.yml",
        group_vars="gv-missing",
        host_vars="inv",
        inventory_file="pd",
        galaxy_file="nothere",
        playbook_paths=["a.yml"],
        role_paths=["gone"],
    )
    where = "provisioner 1 (ansible-local): "
    assert found == [
        where + "Either playbook_file or playbook_files can be specified, not both",
        where + "playbook_files: nope.yml is invalid: stat nope.yml: no such file or directory",
        where + "playbook_files: pd must point to a file",
        where + "inventory_file: pd must point to a file",
        where + "galaxy_file: nothere is invalid: stat nothere: no such file or directory",
        where + "playbook_dir: a.yml must point to a directory",
        where + "group_vars: gv-missing is invalid: stat gv-missing: no such file or directory",
        where + "host_vars: inv must point to a directory",
        where + "playbook_paths: a.yml must point to a directory",
        where + "role_paths: gone is invalid: stat gone: no such file or directory",
    ]


# --- finding ansible-playbook and its version ------------------------------------------


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("ansible-playbook [core 2.19.15]\n  config file = None", "2.19.15"),
        ("ansible-playbook 2.9.27\n  config file = /etc/ansible/ansible.cfg", "2.9.27"),
        ("ansible-playbook 1.9.4\n", "1.9.4"),
        ("ansible-playbook 2.10.0.dev0", "2.10.0."),  # Packer's regexp stops at the letter
        ("no version here", None),
    ],
)
def test_parse_version(output: str, version: str | None) -> None:
    assert parse_version(output) == version


def test_find_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "my-ansible"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_command("my-ansible", tmp_path) == str(tool)
    assert find_command("bin/my-ansible", tmp_path) == str(tool)  # relative to cwd
    assert find_command("./nope", tmp_path) is None
    # Not on PATH: next to kiln's Python (a virtualenv's bin/).
    venv = tmp_path / "venv-bin"
    venv.mkdir()
    beside = venv / "ansible-playbook"
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    assert find_command("ansible-playbook", tmp_path) == str(beside)
    beside.chmod(0o644)
    assert find_command("ansible-playbook", tmp_path) is None


def test_version_errors(tmp_path: Path) -> None:
    exit1 = tmp_path / "exit1"
    exit1.write_text("#!/bin/sh\nexit 1\n")
    exit1.chmod(0o755)
    silent = tmp_path / "silent"
    silent.write_text("#!/bin/sh\necho hello\n")
    silent.chmod(0o755)
    odd = tmp_path / "odd"
    odd.write_text("#!/bin/sh\necho 'ansible-playbook 99999999999999999999.1'\n")
    odd.chmod(0o755)
    good = tmp_path / "good"
    good.write_text("#!/bin/sh\necho 'ansible-playbook [core 2.17.1]'\n")
    good.chmod(0o755)
    # Packer's TestAnsibleGetVersionError: the message names the command.
    assert version_error("./exit1", tmp_path) == (
        f'Error running "./exit1 --version": exit status 1: {ansible_tools.INSTALL_HINT}'
    )
    assert version_error("./silent", tmp_path) == (
        "Could not find ./silent version in output:\nhello\n"
    )
    assert version_error("./good", tmp_path) is None
    assert ansible_tools.known_version("./good", tmp_path) == "2.17.1"
    assert version_error("./odd", tmp_path) is None  # Python's int has no overflow
    assert "pip install" in ansible_tools.INSTALL_HINT
    assert "apt-get install ansible" in ansible_tools.INSTALL_HINT


def test_go_temp_file(tmp_path: Path) -> None:
    path = go_temp_file(tmp_path, "packer-provisioner-ansible")
    assert re.fullmatch(r"packer-provisioner-ansible\d+", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == ""


def test_current_user() -> None:
    import pwd

    assert current_user() == pwd.getpwuid(os.getuid()).pw_name


# --- inventory, argv, environment (pure) -------------------------------------------------


def test_prepared_env_vars() -> None:
    assert prepared_env_vars(AnsibleConfig(ansible_env_vars=["A=1"])) == [
        "A=1",
        "ANSIBLE_HOST_KEY_CHECKING=False",
        "ANSIBLE_SCP_IF_SSH=True",
    ]
    assert prepared_env_vars(AnsibleConfig(ssh_host_key_file="k", use_sftp=True)) == []


def test_inventory_template_choice() -> None:
    config = AnsibleConfig()
    assert inventory_template(config, 2, use_proxy=True, conn_type="ssh") == INVENTORY_V2
    assert inventory_template(config, 1, use_proxy=True, conn_type="ssh") == INVENTORY_V1
    assert inventory_template(config, 0, use_proxy=False, conn_type="ssh") == INVENTORY_V1
    assert inventory_template(config, 2, use_proxy=False, conn_type="winrm") == INVENTORY_WINRM_V2
    assert inventory_template(config, 2, use_proxy=True, conn_type="winrm") == INVENTORY_V2
    custom = AnsibleConfig(inventory_file_template="{{ .Host }}\n")
    assert inventory_template(custom, 2, use_proxy=False, conn_type="winrm") == "{{ .Host }}\n"


V1 = "default ansible_ssh_host=123.45.67.89 ansible_ssh_user=testuser ansible_ssh_port=1234\n"


@pytest.mark.parametrize(
    ("groups", "empty", "expected"),
    [  # Packer's TestCreateInventoryFile
        ([], [], V1),
        (["Group1", "Group2"], [], f"{V1}[Group1]\n{V1}[Group2]\n{V1}"),
        ([], ["Group1", "Group2"], f"{V1}[Group1]\n[Group2]\n"),
        (["Group1", "Group2"], ["Group3"], f"{V1}[Group1]\n{V1}[Group2]\n{V1}[Group3]\n"),
    ],
)
def test_inventory_text(groups: list[str], empty: list[str], expected: str) -> None:
    assert inventory_text(V1, groups, empty) == expected


def test_check_arg() -> None:
    assert check_arg("ansible_password", ["-e", "ansible_password=x"])
    assert check_arg("ANSIBLE_HOST_KEY_CHECKING", ["ANSIBLE_HOST_KEY_CHECKING=False"])
    assert not check_arg("ansible_password", ["-e", "my_ansible_password=x"])


def gen(**changes: str) -> dict[str, str]:
    """Packer's basicGenData."""
    data = {
        "Host": "123.45.67.89",
        "Port": "1234",
        "ConnType": "ssh",
        "SSHPrivateKey": "asdf",
        "User": "PartyPacker",
        "PackerHTTPAddr": "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER",
    }
    data.update(changes)
    return data


NO_HTTP = "ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER"
CMD_ARGS_CASES = [  # Packer's TestCreateCmdArgs: name, build name, use_proxy, data, ssh extra,
    # extra arguments, env vars, private key file, expected args, expected env
    ("SSH with private key and an extra argument", "packerparty", None, gen(), [],
     ["-e", "hello-world"], ["ENV_1=pancakes", "ENV_2=bananas"], "/path/to/privkey.pem",
     ["-e", 'packer_build_name="packerparty"', "-e", "packer_builder_type=fakebuilder", "-e",
      "ansible_ssh_private_key_file=/path/to/privkey.pem", "--ssh-extra-args",
      "'-o IdentitiesOnly=yes'", "-e", "hello-world", "-i", "/var/inventory",
      "test-playbook.yml"], ["ENV_1=pancakes", "ENV_2=bananas"]),
    ("... and a ssh extra argument", "packerparty", None, gen(), ["-o IdentitiesOnly=no"],
     ["-e", "hello-world"], ["ENV_1=pancakes", "ENV_2=bananas"], "/path/to/privkey.pem",
     ["-e", 'packer_build_name="packerparty"', "-e", "packer_builder_type=fakebuilder",
      "--ssh-extra-args", "'-o IdentitiesOnly=no'", "-e",
      "ansible_ssh_private_key_file=/path/to/privkey.pem", "-e", "hello-world", "-i",
      "/var/inventory", "test-playbook.yml"], ["ENV_1=pancakes", "ENV_2=bananas"]),
    ("Winrm, but no_proxy is unset", "packerparty", None, gen(ConnType="winrm"), [],
     ["-e", "hello-world"], ["ENV_1=pancakes", "ENV_2=bananas"], "",
     ["-e", 'packer_build_name="packerparty"', "-e", "packer_builder_type=fakebuilder", "-e",
      "hello-world", "-i", "/var/inventory", "test-playbook.yml"],
     ["ENV_1=pancakes", "ENV_2=bananas"]),
    ("HTTPAddr should be set", "packerparty", None, gen(PackerHTTPAddr="123.45.67.89"), [],
     ["-e", "hello-world"], [], "",
     ["-e", 'packer_build_name="packerparty"', "-e", "packer_builder_type=fakebuilder", "-e",
      "packer_http_addr=123.45.67.89", "-e", "hello-world", "-i", "/var/inventory",
      "test-playbook.yml"], []),
    ("ansible_password for proxyless winrm", "", False,
     gen(ConnType="winrm", Password="ilovebananapancakes", PackerHTTPAddr="123.45.67.89"), [], [],
     ["ENV_1=pancakes", "ENV_2=bananas"], "",
     ["-e", "packer_builder_type=fakebuilder", "-e", "packer_http_addr=123.45.67.89", "-e",
      "ansible_password=ilovebananapancakes", "-i", "/var/inventory", "test-playbook.yml"],
     ["ENV_1=pancakes", "ENV_2=bananas"]),
    ("docker", "packerparty", None, gen(ConnType="docker"), [], ["-e", "hello-world"],
     ["ENV_1=pancakes", "ENV_2=bananas"], "",
     ["-e", 'packer_build_name="packerparty"', "-e", "packer_builder_type=fakebuilder", "-e",
      "hello-world", "-i", "/var/inventory", "test-playbook.yml"],
     ["ENV_1=pancakes", "ENV_2=bananas"]),
    ("SSH, use ansible_password", "", None,
     gen(Password="ilovebananapancakes", PackerHTTPAddr="123.45.67.89"), [],
     ["-e", "hello-world", "-e", "ansible_password=ilovebananapancakes"],
     ["ENV_1=pancakes", "ENV_2=bananas"], "",
     ["-e", "packer_builder_type=fakebuilder", "-e", "packer_http_addr=123.45.67.89", "-e",
      "hello-world", "-e", "ansible_password=ilovebananapancakes", "-e",
      "ansible_host_key_checking=False", "-i", "/var/inventory", "test-playbook.yml"],
     ["ENV_1=pancakes", "ENV_2=bananas"]),
    ("SSH, already in ENV ansible_host_key_checking", "", None,
     gen(Password="ilovebananapancakes", PackerHTTPAddr="123.45.67.89"), [],
     ["-e", "hello-world", "-e", "ansible_password=ilovebananapancakes"],
     ["ENV_1=pancakes", "ENV_2=bananas", "ANSIBLE_HOST_KEY_CHECKING=False"], "",
     ["-e", "packer_builder_type=fakebuilder", "-e", "packer_http_addr=123.45.67.89", "-e",
      "hello-world", "-e", "ansible_password=ilovebananapancakes", "-i", "/var/inventory",
      "test-playbook.yml"], ["ENV_1=pancakes", "ENV_2=bananas", "ANSIBLE_HOST_KEY_CHECKING=False"]),
    ("Use SSH Agent", "", True, gen(), [], [], [], "",
     ["-e", "packer_builder_type=fakebuilder", "-i", "/var/inventory", "test-playbook.yml"], []),
]  # fmt: skip


@pytest.mark.parametrize("case", CMD_ARGS_CASES, ids=[c[0] for c in CMD_ARGS_CASES])
def test_command_args(case: tuple[Any, ...]) -> None:
    _, name, use_proxy, data, ssh_extra, extra, env, key, expected_args, expected_env = case
    config = AnsibleConfig(
        ansible_ssh_extra_args=ssh_extra, extra_arguments=extra, use_proxy=use_proxy
    )
    args, envs = command_args(
        config,
        build_name=name,
        builder_type="fakebuilder",
        build_values=data,
        inventory="/var/inventory",
        playbook="test-playbook.yml",
        private_key_file=key,
        use_proxy=use_proxy is not False,
        env_vars=env,
    )
    assert Counter(args) == Counter(expected_args)  # Packer's assert.ElementsMatch
    assert args[-1] == "test-playbook.yml"
    assert envs == expected_env


def test_ssh_extra_args_are_joined_with_spaces() -> None:
    config = AnsibleConfig(ansible_ssh_extra_args=["-o A=1", "-o B=2"])
    args, _ = command_args(
        config,
        build_name="b",
        builder_type="qemu",
        build_values=gen(),
        inventory="i",
        playbook="p",
        private_key_file="k",
        use_proxy=True,
        env_vars=[],
    )
    assert args[args.index("--ssh-extra-args") + 1] == "'-o A=1 -o B=2'"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("- src: geerlingguy.java\n", ["install"]),  # v1 format: a list of roles
        ("roles:\n  - name: x\n", ["install"]),
        ("collections:\n  - name: y\n", ["collection"]),
        ("---\nroles: []\ncollections: []\n", ["install", "collection"]),
        ("  roles:\n", ["install"]),  # indented: not a top-level key; no collections → roles
    ],
)
def test_galaxy_commands(text: str, kinds: list[str]) -> None:
    config = AnsibleConfig(galaxy_file="req.yml", galaxy_command="g")
    commands = galaxy_commands(config, text)
    assert [c[1] for c in commands] == kinds
    forced = AnsibleConfig(
        galaxy_file="r.yml",
        galaxy_command="g",
        galaxy_force_install=True,
        roles_path="rp",
        collections_path="cp",
    )
    assert galaxy_commands(forced, "roles:\ncollections:\n") == [
        ["g", "install", "-r", "r.yml", "--force", "--roles-path", "rp"],
        ["g", "collection", "install", "-r", "r.yml", "--force", "--collections-path", "cp"],
    ]


def test_sanitized() -> None:
    argv = ["ansible-playbook", "-e", "ansible_password=pw1", "-e", "x=pw1"]
    assert sanitized(argv, ["pw1"]) == "ansible-playbook -e ansible_password=***** -e x=*****"
    assert sanitized(["a", "pw1"], ["pw1"]) == "a pw1"  # Packer: only with ansible_password


# --- ansible-local (pure) -----------------------------------------------------------------


def test_time_ordered_uuid() -> None:
    value = time_ordered_uuid(0x5FD0A3B4)
    assert re.fullmatch(r"5fd0a3b4-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value)
    assert time_ordered_uuid(0x5FD0A3B4) != value
    assert int(time_ordered_uuid()[:8], 16) == pytest.approx(time.time(), abs=5)


@pytest.mark.parametrize(
    ("path", "base"),
    [("roles/r1", "r1"), ("roles/r1/", "r1"), ("/", "/"), ("", "."), ("a//", "a"), ("x", "x")],
)
def test_go_base(path: str, base: str) -> None:
    assert go_base(path) == base


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (("/tmp/st", "/sub/inside.yml"), "/tmp/st/sub/inside.yml"),
        (("/tmp/st", "/home/u/x.yml"), "/tmp/st/home/u/x.yml"),
        (("/tmp/st", "roles", "r1"), "/tmp/st/roles/r1"),
        (("", "/x"), "/x"),
        (("/tmp/a/", "../b"), "/tmp/b"),
        (("//x", "y"), "/x/y"),
    ],
)
def test_go_join(parts: tuple[str, ...], joined: str) -> None:
    assert go_join(*parts) == joined


def test_ansible_local_command_lines() -> None:
    extra = extra_vars("qemu", "qemu", "10.0.2.2:8000", [])
    assert extra == (
        ' --extra-vars "packer_build_name=qemu packer_builder_type=qemu '
        'packer_http_addr=10.0.2.2:8000 -o IdentitiesOnly=yes" '
    )
    assert playbook_command("/st", "ansible-playbook", "/st/p.yml", extra, "/st/inv") == (
        'cd /st && ansible-playbook /st/p.yml --extra-vars "packer_build_name=qemu '
        'packer_builder_type=qemu packer_http_addr=10.0.2.2:8000 -o IdentitiesOnly=yes"  '
        "-c local -i /st/inv"
    )
    assert galaxy_command("/st", "ansible-galaxy", "deps/req.yml") == (
        "cd /st && ansible-galaxy install -r /st/req.yml -p /st/roles"
    )
    assert inventory_content([]) == "127.0.0.1"
    assert inventory_content(["a", "b"]) == "[a]\n127.0.0.1\n[b]\n127.0.0.1\n"
    assert inventory_groups(AnsibleLocalConfig(inventory_groups=["a,b", "c"])) == ["a", "b", "c"]


# --- scp commands the proxy serves itself -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "opts", "rest"),
    [
        ("-t /tmp/x", "t", "/tmp/x"),
        ("-v -t -- /tmp/x", "vt", "/tmp/x"),
        ("-pf '/tmp/a b'", "pf", "'/tmp/a b'"),
        ("-r -d -t dir", "rdt", "dir"),
        ("/only/path", "", "/only/path"),
    ],
)
def test_scp_options(args: str, opts: str, rest: str) -> None:
    assert scp_options(args) == (opts, rest)


def test_wants_scp() -> None:
    assert wants_scp("scp -t /tmp/x")
    assert wants_scp("scp -f /tmp/x")
    assert not wants_scp("scp /tmp/x")
    assert not wants_scp("scpx -t /tmp/x")
    assert not wants_scp("/bin/sh -c 'scp -t x'")


# --- running `ansible` with stand-ins -----------------------------------------------------


async def test_failure_names_ansibles_failed_tasks(tmp_path: Path, fakes: dict[str, Path]) -> None:
    failing = tmp_path / "failing-ansible"
    failing.write_text(
        "#!/bin/sh\necho 'TASK [x] ***'\n"
        'echo \'fatal: [default]: FAILED! => {"changed": false, "msg": "no way"}\'\n'
        "echo 'some noise' >&2\nexit 2\n"
    )
    failing.chmod(0o755)
    seen = Seen()
    with pytest.raises(ProvisionerError) as failed:
        await run_ansible(
            ansible(fakes, command=str(failing), skip_version_check=True), seen.ctx(tmp_path)
        )
    assert str(failed.value) == (
        "Error executing Ansible: Non-zero exit status: exit status 2\n"
        '  fatal: [default]: FAILED! => {"changed": false, "msg": "no way"}'
    )
    assert "some noise" in seen.lines
    assert list(fakes["tmp"].iterdir()) == []  # key and inventory removed


async def test_a_killed_ansible(tmp_path: Path, fakes: dict[str, Path]) -> None:
    killed = tmp_path / "killed"
    killed.write_text("#!/bin/sh\nkill -9 $$\n")
    killed.chmod(0o755)
    with pytest.raises(ProvisionerError, match=r"Non-zero exit status: signal: killed$"):
        await run_ansible(
            ansible(fakes, command=str(killed), skip_version_check=True), Seen().ctx(tmp_path)
        )


async def test_missing_command_at_run_time(tmp_path: Path, fakes: dict[str, Path]) -> None:
    with pytest.raises(ProvisionerError) as failed:
        await run_ansible(
            ansible(fakes, command="gone-ansible", skip_version_check=True), Seen().ctx(tmp_path)
        )
    assert str(failed.value).startswith(
        'Error executing Ansible: exec: "gone-ansible": executable file not found in $PATH: '
        "install Ansible"
    )
    with pytest.raises(ProvisionerError, match=r'^Error running "gone-ansible --version"'):
        await run_ansible(ansible(fakes, command="gone-ansible"), Seen().ctx(tmp_path))


async def test_version_asked_at_run_time(tmp_path: Path, fakes: dict[str, Path]) -> None:
    old = tmp_path / "old-ansible"
    old.write_text(
        f"#!/bin/sh\n[ \"$1\" = --version ] && echo 'ansible-playbook 1.9.6' && exit 0\n"
        f'exec {fakes["fake-ansible"]} "$@"\n'
    )
    old.chmod(0o755)
    await run_ansible(ansible(fakes, command=str(old)), Seen().ctx(tmp_path))
    assert the_run(tmp_path)["inventory"].startswith("default ansible_ssh_host=127.0.0.1 ")


async def test_galaxy_failures(
    tmp_path: Path, fakes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "req.yml").write_text("roles: []\n")
    monkeypatch.setenv("FAKE_EXIT", "3")
    config = ansible(
        fakes,
        galaxy_file="req.yml",
        galaxy_command=str(fakes["fake-galaxy"]),
        skip_version_check=True,
    )
    with pytest.raises(ProvisionerError) as failed:
        await run_ansible(config, Seen().ctx(tmp_path))
    assert str(failed.value) == (
        "Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit status: "
        "exit status 3"
    )
    monkeypatch.delenv("FAKE_EXIT")
    config.galaxy_command = "no-galaxy-here"
    with pytest.raises(ProvisionerError, match=r'exec: "no-galaxy-here": executable file'):
        await run_ansible(config, Seen().ctx(tmp_path))
    config.galaxy_file = "gone.yml"
    with pytest.raises(ProvisionerError, match=r"Error executing Ansible Galaxy: .*gone.yml"):
        await run_ansible(config, Seen().ctx(tmp_path))


async def test_bad_keys_for_the_proxy(tmp_path: Path, fakes: dict[str, Path]) -> None:
    (tmp_path / "bad.pub").write_text("not a key\n")
    (tmp_path / "bad.key").write_text("not a key\n")
    with pytest.raises(ProvisionerError, match=r"Failed to parse authorized key bad.pub"):
        await run_ansible(ansible(fakes, ssh_authorized_key_file="bad.pub"), Seen().ctx(tmp_path))
    with pytest.raises(ProvisionerError, match=r"Failed to read public key gone.pub"):
        await run_ansible(ansible(fakes, ssh_authorized_key_file="gone.pub"), Seen().ctx(tmp_path))
    with pytest.raises(ProvisionerError, match=r"Failed to parse private host key bad.key"):
        await run_ansible(ansible(fakes, ssh_host_key_file="bad.key"), Seen().ctx(tmp_path))
    with pytest.raises(ProvisionerError, match=r"Failed to load private host key gone.key"):
        await run_ansible(ansible(fakes, ssh_host_key_file="gone.key"), Seen().ctx(tmp_path))
    assert list(fakes["tmp"].iterdir()) == []


async def test_bad_inventory_template(tmp_path: Path, fakes: dict[str, Path]) -> None:
    config = ansible(fakes, use_proxy=False, inventory_file_template="{{ .Host ")
    with pytest.raises(ProvisionerError, match=r"^Error generating inventory file from template"):
        await run_ansible(config, Seen().ctx(tmp_path))


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"Host": ""}, "does not have an IP address"),
        ({"ConnType": "docker"}, "communicator is neither ssh nor winrm"),
    ],
)
async def test_direct_falls_back_to_the_proxy(
    tmp_path: Path, fakes: dict[str, Path], changes: dict[str, str], warning: str
) -> None:
    seen = Seen()
    await run_ansible(
        ansible(fakes, use_proxy=False), seen.ctx(tmp_path, build_values=values(**changes))
    )
    assert len(seen.errors) == 1 and warning in seen.errors[0]
    assert "Setting up proxy adapter for Ansible...." in seen.lines
    assert "ansible_host=127.0.0.1" in the_run(tmp_path)["inventory"]


async def test_direct_mode_keys(tmp_path: Path, fakes: dict[str, Path]) -> None:
    seen = Seen()
    await run_ansible(
        ansible(fakes, use_proxy=False), seen.ctx(tmp_path, ssh_private_key_file="~/my_key")
    )
    run = the_run(tmp_path)
    home = os.path.expanduser("~")
    assert f"ansible_ssh_private_key_file={home}/my_key" in run["args"]
    assert (
        run["inventory"]
        == "default ansible_host=127.0.0.1 ansible_user=builder ansible_port=2222\n"
    )
    (tmp_path / "capture").rename(tmp_path / "capture-1")
    # No key at all (a password login): no key file, no --ssh-extra-args.
    await run_ansible(
        ansible(fakes, use_proxy=False, user="other"),
        seen.ctx(tmp_path, build_values=values(SSHPrivateKey="")),
    )
    run = the_run(tmp_path)
    assert "--ssh-extra-args" not in run["args"]
    assert not any(a.startswith("ansible_ssh_private_key_file") for a in run["args"])
    assert "ansible_user=other" in run["inventory"]


async def test_keep_inventory_file(tmp_path: Path, fakes: dict[str, Path]) -> None:
    await run_ansible(ansible(fakes, keep_inventory_file=True), Seen().ctx(tmp_path))
    kept = [p.name for p in fakes["tmp"].iterdir()]
    assert len(kept) == 1 and kept[0].startswith("packer-provisioner-ansible")


async def test_needs_a_communicator_and_a_user(
    tmp_path: Path, fakes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen()
    ctx = seen.ctx(tmp_path)
    ctx.comm = None
    with pytest.raises(ProvisionerError, match=r"the ansible provisioner needs a communicator"):
        await run_ansible(ansible(fakes), ctx)
    monkeypatch.setattr("kiln.provisioners.ansible.current_user", lambda: "")
    with pytest.raises(ProvisionerError, match=r"could not determine current user"):
        await run_ansible(ansible(fakes), seen.ctx(tmp_path))


async def test_environment_reaches_ansible(tmp_path: Path, fakes: dict[str, Path]) -> None:
    config = ansible(fakes, ansible_env_vars=["MY_VAR=a=b", "NOEQUALS", "ANSIBLE_FORKS=1"])
    await run_ansible(config, Seen().ctx(tmp_path))
    env = the_run(tmp_path)["env"]
    assert (env["MY_VAR"], env["ANSIBLE_FORKS"], env["ANSIBLE_HOST_KEY_CHECKING"]) == (
        "a=b",
        "1",
        "False",
    )
    assert "NOEQUALS" not in env
    assert json.loads(json.dumps(env))["ANSIBLE_SCP_IF_SSH"] == "True"

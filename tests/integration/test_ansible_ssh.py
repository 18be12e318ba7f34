# ruff: noqa: F811  (pytest fixtures imported by name)
"""The SSH proxy (kiln.communicator.adapter) and the ansible provisioners against a real
OpenSSH server, driven by real clients: OpenSSH's `ssh`, `sftp` and `scp -O`, and
`ansible-playbook` (ansible-core from the `ansible` extra) with this machine's Python as
the target's interpreter.

Uses the sshd fixtures of test_ssh_communicator.py (a throwaway user, sshd on 127.0.0.1).
Ansible's own state (~/.ansible, known_hosts) goes to a per-test HOME.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from test_ssh_communicator import (  # noqa: F401 (fixtures)
    LogLines,
    Sshd,
    SshdEnv,
    remote_dir,
    settings_for,
    sshd,
    sshd_env,
)

from ansible_golden import PACKER_RECORD, Normalizer, materialize
from kiln.communicator.adapter import SshAdapter
from kiln.communicator.ssh import SshCommunicator
from kiln.engine.provision import run_provisioner
from kiln.provisioners.ansible import run_ansible
from kiln.provisioners.ansible_local import (
    DEFAULT_STAGING,
    go_join,
    run_ansible_local,
    time_ordered_uuid,
)
from kiln.provisioners.config import AnsibleConfig, AnsibleLocalConfig
from kiln.provisioners.context import ProvisionContext, ProvisionerError
from template_plans import build_of

pytestmark = pytest.mark.timeout(300)

ANSIBLE_BIN = Path(sys.executable).parent
SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", "LogLevel=ERROR",
]  # fmt: skip


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ansible and OpenSSH write under $HOME: keep that inside the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANSIBLE_NOCOLOR", "1")


@pytest.fixture(params=["scp", "sftp"])
async def comm(
    request: pytest.FixtureRequest, sshd_env: SshdEnv, sshd: Sshd
) -> AsyncIterator[SshCommunicator]:
    settings = settings_for(sshd_env, sshd.port, file_transfer_method=request.param)
    async with await SshCommunicator.wait_for(settings, log=LogLines()) as communicator:
        yield communicator


@pytest.fixture
def client_key(tmp_path: Path) -> Iterator[tuple[asyncssh.SSHKey, Path]]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "proxy_client_key"
    path.write_bytes(key.export_private_key("openssh"))
    path.chmod(0o600)
    yield key, path


@pytest.fixture
async def adapter(
    comm: SshCommunicator, client_key: tuple[asyncssh.SSHKey, Path]
) -> AsyncIterator[SshAdapter]:
    reported: list[str] = []
    async with SshAdapter(
        comm,
        user="ansible-user",
        authorized_key=client_key[0],
        host_key=asyncssh.generate_private_key("ssh-ed25519"),
        sftp_command="/usr/lib/openssh/sftp-server -e",
        report=reported.append,
    ) as served:
        yield served


async def run_client(
    argv: list[str], stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def ssh_argv(
    adapter: SshAdapter, key: Path, *command: str, user: str = "ansible-user"
) -> list[str]:
    port = str(adapter.port)
    return ["ssh", "-p", port, "-i", str(key), *SSH_OPTIONS, f"{user}@127.0.0.1", *command]


# --------------------------------------------------------------------------------------
# The proxy with OpenSSH's clients
# --------------------------------------------------------------------------------------


async def test_exec_relays_streams_and_exit_status(
    adapter: SshAdapter, client_key: tuple[asyncssh.SSHKey, Path], sshd_env: SshdEnv
) -> None:
    result = await run_client(
        ssh_argv(adapter, client_key[1], "cat; echo to-err >&2; id -un; exit 3"),
        stdin=b"piped through\n" + bytes(range(256)) * 2000,
    )
    assert result.returncode == 3, result.stderr
    assert (
        result.stdout
        == b"piped through\n" + bytes(range(256)) * 2000 + (sshd_env.user + "\n").encode()
    )
    assert result.stderr == b"to-err\n"


async def test_a_pty_request_is_accepted_and_ignored(
    adapter: SshAdapter, client_key: tuple[asyncssh.SSHKey, Path]
) -> None:
    result = await run_client(ssh_argv(adapter, client_key[1], "-tt", "test -t 0 || echo no-tty"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == b"no-tty"


async def test_login_needs_the_user_and_the_key(
    adapter: SshAdapter, client_key: tuple[asyncssh.SSHKey, Path], tmp_path: Path
) -> None:
    wrong_user = await run_client(ssh_argv(adapter, client_key[1], "true", user="root"))
    assert wrong_user.returncode == 255
    assert b"Permission denied" in wrong_user.stderr
    other = tmp_path / "other_key"
    other.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    other.chmod(0o600)
    wrong_key = await run_client(ssh_argv(adapter, other, "true"))
    assert wrong_key.returncode == 255
    assert b"Permission denied" in wrong_key.stderr


async def test_a_shell_is_refused(
    adapter: SshAdapter, client_key: tuple[asyncssh.SSHKey, Path]
) -> None:
    result = await run_client(ssh_argv(adapter, client_key[1]), stdin=b"echo hi\n")
    assert result.returncode != 0
    assert b"hi" not in result.stdout


async def test_sftp_subsystem_runs_the_guest_sftp_server(
    adapter: SshAdapter,
    client_key: tuple[asyncssh.SSHKey, Path],
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    local = tmp_path / "up.bin"
    local.write_bytes(os.urandom(300_000))
    batch = tmp_path / "batch"
    batch.write_text(f"put {local} {remote_dir}/up.bin\nget {remote_dir}/up.bin {tmp_path}/back\n")
    port, key = str(adapter.port), str(client_key[1])
    sftp = ["sftp", "-P", port, "-i", key, *SSH_OPTIONS, "-b", str(batch), "ansible-user@127.0.0.1"]
    result = await run_client(sftp)
    assert result.returncode == 0, result.stderr
    assert (remote_dir / "up.bin").read_bytes() == local.read_bytes()
    assert (tmp_path / "back").read_bytes() == local.read_bytes()


async def test_legacy_scp_is_served_by_kiln(
    adapter: SshAdapter,
    client_key: tuple[asyncssh.SSHKey, Path],
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    local = tmp_path / "name with space.txt"
    local.write_bytes(b"scp data\n" * 5000)
    local.chmod(0o640)
    base = ["scp", "-O", "-P", str(adapter.port), "-i", str(client_key[1]), *SSH_OPTIONS]
    up = await run_client([*base, str(local), f"ansible-user@127.0.0.1:{remote_dir}/copied.txt"])
    assert up.returncode == 0, up.stderr
    assert (remote_dir / "copied.txt").read_bytes() == local.read_bytes()
    assert (remote_dir / "copied.txt").stat().st_mode & 0o777 == 0o640
    down = await run_client(
        [*base, f"ansible-user@127.0.0.1:{remote_dir}/copied.txt", str(tmp_path / "down.txt")]
    )
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "down.txt").read_bytes() == local.read_bytes()
    missing = await run_client(
        [*base, f"ansible-user@127.0.0.1:{remote_dir}/nope", str(tmp_path / "nope")]
    )
    assert missing.returncode != 0
    assert not (tmp_path / "nope").exists()
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "f").write_text("f")
    recursive = await run_client([*base, "-r", str(tree), f"ansible-user@127.0.0.1:{remote_dir}"])
    assert recursive.returncode != 0
    assert b"does not take directories" in recursive.stderr


async def test_a_busy_port_moves_to_the_next(
    comm: SshCommunicator, client_key: tuple[asyncssh.SSHKey, Path]
) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    busy = blocker.sockets[0].getsockname()[1]
    try:
        async with SshAdapter(
            comm, user="u", authorized_key=client_key[0], host_key=key, first_port=busy
        ) as served:
            assert served.port != busy
            assert busy < served.port < busy + 10
    finally:
        blocker.close()
        await blocker.wait_closed()


# --------------------------------------------------------------------------------------
# The provisioners with ansible-playbook
# --------------------------------------------------------------------------------------


class Seen:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.messages: list[str] = []
        self.errors: list[str] = []

    def ctx(
        self, comm: SshCommunicator, cwd: Path, values: dict[str, str], **kw: Any
    ) -> ProvisionContext:
        return ProvisionContext(
            plan=build_of(cwd),
            say=self.said.append,
            message=self.messages.append,
            error=self.errors.append,
            comm=comm,
            build_values=values,
            cwd=cwd,
            **kw,
        )


def values_for(env: SshdEnv, sshd: Sshd, **extra: str) -> dict[str, str]:
    return {
        "Host": "127.0.0.1",
        "Port": str(sshd.port),
        "User": env.user,
        "Password": "",
        "ConnType": "ssh",
        "SSHPrivateKey": env.client_key.read_text(),
        "PackerHTTPAddr": "10.0.2.2:8123",
        **extra,
    }


def write_playbook(directory: Path, remote: Path, name: str, *, facts: bool = False) -> Path:
    playbook = directory / "play.yml"
    content = "{{ packer_build_name }} {{ packer_builder_type }} {{ packer_http_addr }}"
    playbook.write_text(
        f"""- hosts: all
  gather_facts: {str(facts).lower()}
  vars:
    ansible_python_interpreter: /usr/bin/python3
  tasks:
    - copy:
        dest: "{remote}/{name}"
        content: "{content}\\n"
    - command: id -un
      register: who
    - debug:
        msg: "remote user {{{{ who.stdout }}}}"
"""
    )
    return playbook


# What `python3 -m ansible.cli.playbook` needs from kiln's environment.
ANSIBLE_PACKAGES = ("ansible", "jinja2", "markupsafe", "yaml", "_yaml", "packaging", "resolvelib")


@pytest.fixture(scope="session")
def guest_pythonpath(sshd_env: SshdEnv) -> str:
    """ansible-core and its dependencies copied where the test user can read them (kiln's
    environment may sit under a directory only root can enter), with their metadata."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    target = sshd_env.root / "pylib"
    for entry in site.iterdir():
        name = entry.name.split("-")[0].lower()
        if name in ANSIBLE_PACKAGES or (
            entry.suffix == ".dist-info"
            and name
            in ("ansible_core", "jinja2", "markupsafe", "pyyaml", "packaging", "resolvelib")
        ):
            shutil.copytree(
                entry, target / entry.name, ignore=shutil.ignore_patterns("__pycache__")
            )
    return str(target)


@pytest.fixture
def ansible_command() -> str:
    path = shutil.which("ansible-playbook") or str(ANSIBLE_BIN / "ansible-playbook")
    if not Path(path).exists():
        pytest.fail("ansible-playbook is missing: ./dev setup installs the ansible extra")
    return path


ANSIBLE_WAYS = {
    # Ansible's default transfer: SFTP, relayed to the guest's sftp-server.
    "proxy": (True, [], False),
    # OpenSSH's legacy scp protocol, served by kiln's scp sink/source.
    "proxy-scp": (True, ["ANSIBLE_SSH_TRANSFER_METHOD=scp", "ANSIBLE_SCP_EXTRA_ARGS=-O"], False),
    # Modules on stdin and fact gathering (Packer 1.6.6's adapter could hang here).
    "proxy-pipelining": (True, ["ANSIBLE_PIPELINING=True"], True),
    "direct": (False, [], False),
}


@pytest.mark.parametrize("way", sorted(ANSIBLE_WAYS))
async def test_ansible_runs_a_playbook(
    comm: SshCommunicator,
    sshd_env: SshdEnv,
    sshd: Sshd,
    remote_dir: Path,
    tmp_path: Path,
    ansible_command: str,
    way: str,
) -> None:
    use_proxy, env_vars, facts = ANSIBLE_WAYS[way]
    playbook = write_playbook(tmp_path, remote_dir, "out.txt", facts=facts)
    seen = Seen()
    # With the proxy, `user` defaults to the user running kiln (root here), and Ansible
    # expands `~` for that name; the guest account is another user, so say it (as the
    # Packer documentation advises). Direct mode takes the communicator's user.
    config = AnsibleConfig(
        playbook_file=playbook.name,
        command=ansible_command,
        user=sshd_env.user if use_proxy else "",
        use_proxy=use_proxy,
        ansible_env_vars=env_vars,
        sftp_command="/usr/lib/openssh/sftp-server -e",
        groups=["web"],
    )
    await run_ansible(config, seen.ctx(comm, tmp_path, values_for(sshd_env, sshd)))
    assert (remote_dir / "out.txt").read_text() == "qemu qemu 10.0.2.2:8123\n"
    assert f'"msg": "remote user {sshd_env.user}"' in "\n".join(seen.messages)
    executing = [s for s in seen.said if s.startswith("Executing Ansible: ")]
    assert len(executing) == 1
    # no key, no inventory left behind
    inventory = executing[0].split(" -i ")[1].split()[0]
    assert not Path(inventory).exists()
    if use_proxy:
        assert "Setting up proxy adapter for Ansible...." in seen.messages
    else:
        key_file = executing[0].split("ansible_ssh_private_key_file=")[1].split()[0]
        assert not Path(key_file).exists()


async def test_a_failing_task_fails_with_ansibles_message(
    comm: SshCommunicator,
    sshd_env: SshdEnv,
    sshd: Sshd,
    tmp_path: Path,
    ansible_command: str,
) -> None:
    playbook = tmp_path / "fail.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  vars:\n"
        "    ansible_python_interpreter: /usr/bin/python3\n"
        "  tasks:\n    - fail:\n        msg: the task says no\n"
    )
    seen = Seen()
    config = AnsibleConfig(playbook_file="fail.yml", command=ansible_command, user=sshd_env.user)
    with pytest.raises(ProvisionerError) as failed:
        await run_ansible(config, seen.ctx(comm, tmp_path, values_for(sshd_env, sshd)))
    text = str(failed.value)
    assert text.startswith("Error executing Ansible: Non-zero exit status: exit status 2")
    assert "the task says no" in text
    assert any("the task says no" in m for m in seen.messages)


async def test_ansible_local_uploads_and_runs_in_the_guest(
    comm: SshCommunicator,
    sshd_env: SshdEnv,
    sshd: Sshd,
    remote_dir: Path,
    tmp_path: Path,
    guest_pythonpath: str,
) -> None:
    """The "guest" is this machine: the throwaway user runs the ansible-core kiln's Python
    has, with the system's Python (kiln's may sit where that user cannot read)."""
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("greeting: from group_vars\n")
    role = tmp_path / "roles" / "writer" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text(
        f'- copy:\n    dest: "{remote_dir}/local.txt"\n'
        '    content: "{{ greeting }} via role on {{ packer_builder_type }}\\n"\n'
    )
    (tmp_path / "site.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  vars:\n"
        "    ansible_python_interpreter: /usr/bin/python3\n  roles:\n    - writer\n"
    )
    staging = remote_dir / "staging"
    seen = Seen()
    config = AnsibleLocalConfig(
        playbook_file="site.yml",
        group_vars="group_vars",
        role_paths=["roles/writer"],
        staging_directory=str(staging),
        command=f"HOME={remote_dir} ANSIBLE_NOCOLOR=1 PYTHONPATH={guest_pythonpath} "
        "/usr/bin/python3 -m ansible.cli.playbook",
        clean_staging_directory=True,
    )
    await run_ansible_local(config, seen.ctx(comm, tmp_path, values_for(sshd_env, sshd)))
    assert (remote_dir / "local.txt").read_text() == "from group_vars via role on qemu\n"
    assert not staging.exists()
    assert seen.messages[-1] == f"Removing directory: {staging}"


# --------------------------------------------------------------------------------------
# ansible-local against what Packer 1.6.6 printed (tests/data/ansible/golden)
# --------------------------------------------------------------------------------------

PACKER: dict[str, Any] = json.loads(PACKER_RECORD.read_text())


@pytest.mark.parametrize("index", [5, 6, 7, 9])
async def test_ansible_local_says_and_runs_what_packer_does(
    comm: SshCommunicator,
    sshd_env: SshdEnv,
    sshd: Sshd,
    remote_dir: Path,
    tmp_path: Path,
    index: int,
) -> None:
    """Same provisioner, same messages and guest command lines as Packer 1.6.6's.

    The guest paths under /tmp are moved into the test user's directory (and moved back
    in the comparison): /tmp/al-staging, and the default staging directory's parent.
    """
    work = tmp_path / "work"
    provisioners, _ = materialize(work, sys.executable)
    pdef = dict(provisioners[index])
    packer = PACKER["provisioners"][index]
    assert pdef["type"] == packer["type"] == "ansible-local"
    staging = pdef.get("staging_directory") or go_join(DEFAULT_STAGING, time_ordered_uuid())
    pdef["staging_directory"] = str(remote_dir) + staging.removeprefix("/tmp")
    plan = build_of(work, {"provisioners": [pdef]})
    output: list[str] = []
    ctx = ProvisionContext(
        plan=plan,
        say=output.append,
        message=output.append,
        error=output.append,
        comm=comm,
        build_values=values_for(sshd_env, sshd),
        cwd=work,
    )
    failure = ""
    try:
        await run_provisioner(plan.provisioners[0], ctx)
    except ProvisionerError as err:
        failure = str(err)
    norm = Normalizer(cwd=work, tmp=tmp_path, ssh_port=str(sshd.port), http_port="8123")
    lines = [norm.text(line.replace(str(remote_dir), "/tmp")) for line in output]
    expected = packer["output"]
    if index == 9:  # ansible-playbook is not in the guest: the shell says so in its words
        assert lines[-1].endswith("ansible-playbook: not found")
        lines, expected = lines[:-1], expected[:-1]
        assert failure == (
            "provisioner 1 (ansible-local): Error executing Ansible: ANSIBLE_FORCE_COLOR=1 "
            "PYTHONUNBUFFERED=1 ansible-playbook could not be found. Verify that it is "
            "available on the\nPATH after connecting to the machine."
        )
    else:
        assert not failure
    assert lines == expected
    # What was uploaded: Packer's shell provisioner listed it (provisioner 8's output).
    listing = PACKER["provisioners"][8]["output"]
    top = {5: "al-staging", 7: "al-three"}.get(index)
    if top is not None:
        root = Path(pdef["staging_directory"])
        found = sorted(norm.text(f"{top}/{p.relative_to(root)}") for p in root.rglob("*"))
        assert [top, *found] == [line for line in listing if line.split("/")[0] == top]
    if index == 5:
        (inventory,) = Path(pdef["staging_directory"]).glob("packer-provisioner-ansible-local*")
        assert inventory.read_text() == "[a]\n127.0.0.1\n[b]\n127.0.0.1\n"
    if index == 6:  # clean_staging_directory
        assert not Path(pdef["staging_directory"]).exists()


async def test_ansible_local_errors(
    comm: SshCommunicator,
    sshd_env: SshdEnv,
    sshd: Sshd,
    remote_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    (tmp_path / "play.yml").write_text("- hosts: all\n")
    (tmp_path / "req.yml").write_text("roles: []\n")
    seen = Seen()
    values = values_for(sshd_env, sshd)

    async def fails(**options: Any) -> str:
        config = AnsibleLocalConfig(**options)
        with pytest.raises(ProvisionerError) as failed:
            await run_ansible_local(config, seen.ctx(comm, tmp_path, values))
        return str(failed.value)

    staging = str(remote_dir / "st")
    assert await fails(playbook_file="play.yml", staging_directory="/proc/kiln-nope") == (
        "Error creating staging directory: Non-zero exit status. See output above for more "
        "information."
    )
    assert await fails(playbook_file="play.yml", staging_directory=staging, command="false") == (
        "Error executing Ansible: Non-zero exit status: 1"
    )
    assert await fails(
        playbook_file="play.yml",
        staging_directory=staging,
        galaxy_file="req.yml",
        galaxy_command="false",
    ) == ("Error executing Ansible: Error executing Ansible Galaxy: Non-zero exit status: 1")
    assert await fails(playbook_file="gone.yml", staging_directory=staging) == (
        "Error uploading main playbook: Error opening: open gone.yml: no such file or directory"
    )
    message = await fails(
        playbook_file="play.yml", staging_directory=staging, group_vars="no-such-dir"
    )
    assert message.startswith("Error uploading group_vars directory: ")
    assert list(scratch.iterdir()) == []  # the generated inventory never outlives the run

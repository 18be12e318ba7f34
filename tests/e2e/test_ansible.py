"""The ansible and ansible-local provisioners end to end, on the test guest with Python 3
and ansible-core (`guest/build.py --variant ansible`, fixture `tiny_iso_ansible`).

Two kiln builds, started together (each ~1 min of TCG): one whose provisioners run
`ansible` straight to the guest's forwarded SSH port with the build's own key, `ansible`
through kiln's SSH proxy, and `ansible-local` with `group_vars` and a role, each writing a
file that the offline image check reads; and one whose playbook has a failing task.
Ansible's own files (~/.ansible, known_hosts) go to a HOME inside the test directory.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from build_harness import (
    KilnRun,
    kiln_env,
    read_guest_file,
    start_kiln,
    tiny_builder,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e


@dataclass
class Runs:
    work: Path
    ok: KilnRun
    failing: KilnRun


# One task per play: each module run starts Python in the TCG guest (~10 s on a busy machine).
PLAY = """- hosts: {hosts}
  gather_facts: false
  tasks:
    - shell: echo "{name} $(cat /etc/kiln-marker) {vars}" > /root/ansible-{name}.txt
"""
VARS = " ".join(
    "{{ %s }}" % v  # noqa: UP031  (braces everywhere)
    for v in ("packer_build_name", "packer_builder_type", "packer_http_addr", "from_cli")
)


def _ok_template(work: Path, iso: object) -> None:
    write_answers(work / "http", marker="ansible-e2e")
    (work / "direct.yml").write_text(PLAY.format(hosts="default", name="direct", vars=VARS))
    (work / "proxy.yml").write_text(PLAY.format(hosts="web", name="proxy", vars=VARS))
    local = work / "local"
    (local / "group_vars").mkdir(parents=True)
    (local / "group_vars" / "all.yml").write_text("greeting: hello from group_vars\n")
    (local / "roles" / "writer" / "tasks").mkdir(parents=True)
    (local / "roles" / "writer" / "tasks" / "main.yml").write_text(
        '- shell: echo "{{ greeting }} via the writer role, {{ packer_builder_type }}"'
        " > /root/ansible-local.txt\n"
    )
    (local / "site.yml").write_text(
        "- hosts: all\n  connection: local\n  gather_facts: false\n  roles:\n    - writer\n"
    )
    provisioners = [
        # Direct mode logs in with the key kiln made for this build: authorise it.
        {
            "type": "shell",
            "inline": [
                "mkdir -p /root/.ssh",
                "echo '{{ build `SSHPublicKey` }}' >> /root/.ssh/authorized_keys",
            ],
        },
        {
            "type": "ansible",
            "playbook_file": "direct.yml",
            "use_proxy": False,
            "ansible_env_vars": ["ANSIBLE_PIPELINING=True"],  # the module over stdin
            "extra_arguments": [
                "-e",
                "from_cli=direct-cli",
                "-e",
                "ansible_python_interpreter=/usr/bin/python3",
            ],
        },
        {
            "type": "ansible",
            "playbook_file": "proxy.yml",
            "use_proxy": True,
            "user": "root",
            "groups": ["web"],  # no pipelining: the module goes over SFTP, relayed by the proxy
            "extra_arguments": ["--extra-vars", "from_cli=proxy-cli"],
        },
        {
            "type": "ansible-local",
            "playbook_file": "local/site.yml",
            "group_vars": "local/group_vars",
            "role_paths": ["local/roles/writer"],
            "clean_staging_directory": True,
        },
    ]
    write_template(work / "template.json", [tiny_builder(iso)], provisioners=provisioners)


def _failing_template(work: Path, iso: object) -> None:
    write_answers(work / "http", marker="ansible-failing")
    (work / "fail.yml").write_text(
        "- hosts: default\n  gather_facts: false\n  tasks:\n"
        "    - fail:\n        msg: the guest says no to this playbook\n"
    )
    write_template(
        work / "template.json",
        [tiny_builder(iso)],
        provisioners=[{"type": "ansible", "playbook_file": "fail.yml", "user": "root"}],
    )


def _env(work: Path, cache: Path) -> dict[str, str]:
    env = kiln_env(work, cache)
    (work / "home").mkdir()
    env["HOME"] = str(work / "home")
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def _finish(proc: subprocess.Popen[str], started: float) -> KilnRun:
    out, _ = proc.communicate(timeout=900)
    return KilnRun(proc.returncode, out, time.monotonic() - started)


@pytest.fixture(scope="module")
def runs(
    tiny_iso_ansible: object, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Runs:
    work = tmp_path_factory.mktemp("ansible")
    failing_dir = tmp_path_factory.mktemp("ansible-failing")
    _ok_template(work, tiny_iso_ansible)
    _failing_template(failing_dir, tiny_iso_ansible)
    started = time.monotonic()
    ok = start_kiln(["build", "template.json"], cwd=work, env=_env(work, kiln_session_cache))
    failing = start_kiln(
        ["build", "template.json"], cwd=failing_dir, env=_env(failing_dir, kiln_session_cache)
    )
    failing_run = _finish(failing, started)
    ok_run = _finish(ok, started)
    print(f"\nansible e2e: ok build {ok_run.seconds:.1f}s, failing {failing_run.seconds:.1f}s")
    for run in (ok_run, failing_run):  # kiln's step timings, for bench notes (with -s)
        print(
            "\n".join(
                line
                for line in run.output.splitlines()
                if line.startswith("    qemu: ")
                and line.rstrip().endswith("s")
                and "  " in line[10:]
            )
        )
    assert ok_run.returncode == 0, ok_run.output
    return Runs(work, ok_run, failing_run)


def test_playbooks_wrote_their_files(runs: Runs, tmp_path: Path) -> None:
    image = runs.work / "out" / "tiny.qcow2"

    def cat(path: str) -> str:
        return read_guest_file(image, path, tmp_path)

    http = "10.0.2.2:"
    direct = cat("/root/ansible-direct.txt")
    assert direct.startswith("direct ansible-e2e qemu qemu " + http), direct
    assert direct.endswith(" direct-cli\n")
    proxy = cat("/root/ansible-proxy.txt")
    assert proxy.startswith("proxy ansible-e2e qemu qemu " + http), proxy
    assert proxy.endswith(" proxy-cli\n")
    assert cat("/root/ansible-local.txt") == "hello from group_vars via the writer role, qemu\n"


def test_output_is_packer_shaped(runs: Runs) -> None:
    out = runs.ok.output
    for line in (
        "==> qemu: Provisioning with Ansible...",
        "    qemu: Not using Proxy adapter for Ansible run:",
        "    qemu: Setting up proxy adapter for Ansible....",
        '==> qemu: Executing Ansible: ansible-playbook -e packer_build_name="qemu" '
        "-e packer_builder_type=qemu -e packer_http_addr=10.0.2.2:",
        "    qemu: Uploading group_vars directory...",
        "    qemu: Removing staging directory...",
        "Build 'qemu' finished after ",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert out.count("PLAY RECAP") == 3
    assert "kiln-e2e-pw" not in out
    assert "PRIVATE KEY" not in out


def test_a_failing_task_fails_the_build_with_ansibles_message(runs: Runs) -> None:
    out = runs.failing.output
    assert runs.failing.returncode == 1, out
    assert "the guest says no to this playbook" in out
    summary = out[out.index("Build 'qemu' errored") :]
    assert "Error executing Ansible: Non-zero exit status: exit status 2" in summary
    assert "the guest says no to this playbook" in summary

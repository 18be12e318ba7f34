"""Session-wide artifacts shared by the end-to-end build tests (each build costs ~30 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from build_harness import (
    KilnRun,
    kiln_env,
    run_kiln,
    tiny_builder,
    write_answers,
    write_template,
)
from vagrant_cloud_server import CloudState, Version, local_vagrant_cloud

# The basic build also makes a Vagrant box and publishes it to a local Vagrant Cloud.
CLOUD_TOKEN = "e2e-cloud-token-5d2c9b"
# What Vagrant needs to drive the test guest (busybox, root only, no sudo, no bash, no
# /etc/os-release): set in the box, so a project's Vagrantfile only names the box.
VAGRANTFILE_TEMPLATE = """Vagrant.configure("2") do |config|
  # made by {{ build_name }} for {{ .Provider }}
  config.vm.guest = :linux
  config.ssh.username = "root"
  config.ssh.insert_key = false
  config.ssh.shell = "sh"
  config.ssh.sudo_command = "%c"
  config.vm.synced_folder ".", "/vagrant", disabled: true
end
"""
# Vagrant's well-known insecure key (Debian's vagrant package ships it): authorised for
# root in the image, so `vagrant ssh` can log in to a box made from it.
VAGRANT_PUBLIC_KEY = Path("/usr/share/rubygems-integration/all/gems/vagrant-2.3.4/keys/vagrant.pub")


@dataclass
class BuiltImage:
    workdir: Path
    image: Path
    run: KilnRun
    env: dict[str, str]
    box: Path | None = None  # the vagrant post-processor's box
    cloud: CloudState | None = None  # the local Vagrant Cloud after the build published it


@pytest.fixture(scope="session")
def kiln_session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cache and port-lock directories shared by every kiln run of the session."""
    return tmp_path_factory.mktemp("kiln-cache")


@pytest.fixture(scope="session")
def basic_build(
    tiny_iso: object, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> BuiltImage:
    """The basic example: qcow2 on virtio, answers over HTTP, shell, file and sleep
    provisioners; then a `vagrant` box (kept image) published by `vagrant-cloud`."""
    work = tmp_path_factory.mktemp("basic")
    write_answers(work / "http", marker="basic-http")
    (work / "files" / "tree" / "sub").mkdir(parents=True)
    (work / "files" / "hello.txt").write_text("hello from the host\n")
    (work / "files" / "tree" / "a.txt").write_text("A\n")
    (work / "files" / "tree" / "sub" / "b.txt").write_text("B\n")
    (work / "setup.sh").write_text('#!/bin/sh\necho "script ran as $(id -u)" > /root/script.txt\n')
    (work / "files" / "info.json").write_text('{"author": "kiln e2e"}\n')
    (work / "files" / "Vagrantfile.tpl").write_text(VAGRANTFILE_TEMPLATE)
    vagrant_key = VAGRANT_PUBLIC_KEY.read_text().strip() if VAGRANT_PUBLIC_KEY.exists() else ""
    with local_vagrant_cloud(CLOUD_TOKEN) as cloud:
        cloud.state.add_box("kiln/tiny", Version("0.9.0", status="active"))
        write_template(
            work / "template.json",
            [tiny_builder(tiny_iso)],
            provisioners=[
                {"type": "shell", "inline": ["echo inline:$GREETING > /root/inline.txt"],
                 "environment_vars": ["GREETING=it's here"]},
                {"type": "shell", "script": "setup.sh"},
                {"type": "file", "source": "files/hello.txt", "destination": "/root/hello.txt"},
                {"type": "file", "source": "files/tree", "destination": "/root"},
                {"type": "sleep", "duration": "1s"},
                {"type": "shell",
                 "inline": ["mkdir -p /root/.ssh",
                            f"echo '{vagrant_key}' >> /root/.ssh/authorized_keys"]},
            ],
            **{"post-processors": [[
                {"type": "vagrant", "output": "box/{{ .BuildName }}_{{.Provider}}.box",
                 "include": ["files/info.json"], "vagrantfile_template": "files/Vagrantfile.tpl",
                 "compression_level": 1, "keep_input_artifact": True},
                {"type": "vagrant-cloud", "box_tag": "kiln/tiny", "version": "1.0.0",
                 "version_description": "the test guest", "vagrant_cloud_url": cloud.url},
            ]]},
        )  # fmt: skip
        env = kiln_env(work, kiln_session_cache)
        env["VAGRANT_CLOUD_TOKEN"] = CLOUD_TOKEN
        env["PACKER_LOG_PATH"] = str(work / "kiln-debug.log")
        run = run_kiln(["build", "template.json"], cwd=work, env=env)
    assert run.returncode == 0, run.output
    box = work / "box" / "qemu_libvirt.box"
    return BuiltImage(work, work / "out" / "tiny.qcow2", run, env, box, cloud.state)

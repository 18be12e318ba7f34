"""The `vagrant` and `vagrant-cloud` post-processors on a real build (the basic build of
tests/e2e/conftest.py makes the box and publishes it to a local Vagrant Cloud), and the
real Vagrant (Debian's `vagrant` package) adding the box."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from build_harness import image_info, read_guest_file

pytestmark = pytest.mark.e2e


def _box_members(box: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(box, "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def _read(box: Path, name: str) -> bytes:
    with tarfile.open(box, "r:gz") as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()


def test_the_build_says_what_it_packed_and_published(basic_build) -> None:
    out = basic_build.run.output
    for line in (
        "==> qemu: Running post-processor: vagrant",
        "==> qemu (vagrant): Creating Vagrant box for 'libvirt' provider",
        "    qemu (vagrant): Copying from include: files/info.json",
        "    qemu (vagrant): Copying from artifact: out/tiny.qcow2",
        "    qemu (vagrant): Using custom Vagrantfile: files/Vagrantfile.tpl",
        "    qemu (vagrant): Packing into box/qemu_libvirt.box (gzip level 1, streamed)",
        "==> qemu: Running post-processor: vagrant-cloud",
        "    qemu (vagrant-cloud): Version successfully released and available",
        "--> qemu: VM files in directory: out",
        "--> qemu: 'libvirt' provider box: box/qemu_libvirt.box",
        "--> qemu: 'libvirt': kiln/tiny",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert basic_build.env["VAGRANT_CLOUD_TOKEN"] not in out


def test_the_box_holds_packers_files(basic_build) -> None:
    box = basic_build.box
    members = _box_members(box)
    assert list(members) == ["Vagrantfile", "box.img", "info.json", "metadata.json"]
    assert all(m.isreg() and m.mode == 0o644 for m in members.values())
    assert json.loads(_read(box, "metadata.json")) == {
        "provider": "libvirt",
        "format": "qcow2",
        "virtual_size": 1,  # 256M, in whole GiB rounded up
    }
    assert _read(box, "info.json") == b'{"author": "kiln e2e"}\n'
    vagrantfile = _read(box, "Vagrantfile").decode()
    assert 'libvirt.driver = "qemu"' in vagrantfile  # accelerator tcg
    assert "# made by qemu for libvirt\n" in vagrantfile  # the rendered template
    # The image itself stays (keep_input_artifact) and box.img is that image, byte for byte.
    assert members["box.img"].size == basic_build.image.stat().st_size
    assert box.stat().st_size < basic_build.image.stat().st_size


def test_box_img_is_the_provisioned_qcow2(basic_build, tmp_path: Path) -> None:
    with tarfile.open(basic_build.box, "r:gz") as tar:
        tar.extract("box.img", tmp_path, filter="data")
    disk = tmp_path / "box.img"
    info = image_info(disk)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] == 256 * 1024 * 1024
    assert disk.read_bytes() == basic_build.image.read_bytes()
    assert read_guest_file(disk, "/root/inline.txt", tmp_path) == "inline:it's here\n"


def test_the_box_was_published_to_vagrant_cloud(basic_build) -> None:
    state = basic_build.cloud
    version = state.boxes["kiln/tiny"]["1.0.0"]
    assert (version.status, version.description) == ("active", "the test guest")
    assert version.providers["libvirt"].data == basic_build.box.read_bytes()
    assert state.boxes["kiln/tiny"]["0.9.0"].providers == {}
    # kiln checked the token before the VM started, as Packer does when it configures
    assert state.calls()[0] == "GET authenticate"
    (upload,) = [r for r in state.requests if r.path.startswith("/storage/")]
    assert upload.authorization == "" and not upload.chunked


@pytest.fixture
def vagrant_home(tmp_path: Path) -> dict[str, str]:
    if shutil.which("vagrant") is None:
        pytest.fail("vagrant is not installed (./dev setup installs Debian's vagrant package)")
    env = dict(os.environ, VAGRANT_HOME=str(tmp_path / "vagrant.d"), VAGRANT_CHECKPOINT_DISABLE="1")
    return env


def test_vagrant_adds_and_lists_the_box(basic_build, vagrant_home: dict[str, str]) -> None:
    added = subprocess.run(
        ["vagrant", "box", "add", "--name", "kiln-tiny", str(basic_build.box)],
        env=vagrant_home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    assert "Successfully added box 'kiln-tiny' (v0) for 'libvirt'!" in added.stdout
    listed = subprocess.run(
        ["vagrant", "box", "list"], env=vagrant_home, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert listed.stdout.splitlines() == ["kiln-tiny (libvirt, 0)"]
    stored = Path(vagrant_home["VAGRANT_HOME"]) / "boxes" / "kiln-tiny" / "0" / "libvirt"
    assert sorted(p.name for p in stored.iterdir()) == [
        "Vagrantfile", "box.img", "info.json", "metadata.json"]  # fmt: skip

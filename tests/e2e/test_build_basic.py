"""`kiln build` end to end on the test guest: the basic example and its artifact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from build_harness import image_info, read_guest_file

pytestmark = pytest.mark.e2e


def test_basic_build_output_is_packer_shaped(basic_build) -> None:
    out = basic_build.run.output
    for line in (
        "==> qemu: Retrieving ISO",
        "    qemu: Not using a NetBridge -- skipping StepWaitGuestAddress",
        "==> qemu: Starting HTTP server on port",
        "==> qemu: Starting VM, booting from CD-ROM",
        "==> qemu: Typing the boot command over VNC...",
        "==> qemu: Waiting for SSH to become available...",
        "==> qemu: Connected to SSH!",
        "==> qemu: Provisioning with shell script: <inline script>",
        "==> qemu: Gracefully halting virtual machine...",
        "==> qemu: Converting hard drive...",
        "--> qemu: VM files in directory: out",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "HTTP GET /ks.cfg -> 200" in out
    assert "kiln-e2e-pw" not in out, "the SSH password leaked into the output"


def test_the_guest_reaches_the_http_server_bound_to_the_loopback(basic_build) -> None:
    """Issue 15 #9: with user networking the guest's 10.0.2.2 is the host's loopback, so
    the answer files are served on 127.0.0.1 only, and the installer still gets them."""
    log = (basic_build.workdir / "kiln-debug.log").read_text()
    assert re.search(r"HTTP server listening on 127\.0\.0\.1 port \d+", log), log[-3000:]
    assert "HTTP GET /ks.cfg -> 200" in basic_build.run.output
    assert "from 127.0.0.1:" in log  # slirp connects from the host's loopback


def test_basic_artifact_is_a_compacted_qcow2(basic_build) -> None:
    info = image_info(basic_build.image)
    assert info["format"] == "qcow2"
    assert info["virtual-size"] == 256 * 1024 * 1024
    assert info["actual-size"] < 128 * 1024 * 1024
    assert [p.name for p in basic_build.image.parent.iterdir()] == ["tiny.qcow2"]


def test_basic_provisioners_wrote_into_the_image(basic_build, tmp_path: Path) -> None:
    def cat(path: str) -> str:
        return read_guest_file(basic_build.image, path, tmp_path)

    assert cat("/etc/kiln-marker").strip() == "basic-http"
    assert cat("/root/inline.txt") == "inline:it's here\n"
    assert cat("/root/script.txt") == "script ran as 0\n"
    assert cat("/root/hello.txt") == "hello from the host\n"
    assert cat("/root/tree/a.txt") == "A\n"
    assert cat("/root/tree/sub/b.txt") == "B\n"


def test_basic_build_leaves_no_temp_files_or_processes(basic_build) -> None:
    from build_harness import qemu_processes_under

    tmp = basic_build.workdir / "tmp"
    assert list(tmp.iterdir()) == []
    assert qemu_processes_under(basic_build.workdir) == []
    assert not (basic_build.workdir / "failures").exists()

"""`kiln build` on every disk interface, answers from floppy and CD, and from a disk image.

The scsi+floppy and virtio-scsi+CD builds run at the same time in two kiln processes that
share the port-lock directory: that is also the "two builds at once never clash" test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from build_harness import (
    image_info,
    kiln_env,
    read_guest_file,
    run_kiln,
    start_kiln,
    tiny_builder,
    write_answers,
    write_template,
)

pytestmark = pytest.mark.e2e


def test_ide_raw_with_dead_first_mirror(tiny_iso, kiln_session_cache: Path, tmp_path: Path) -> None:
    write_answers(tmp_path / "http", marker="ide-raw")
    dead = "http://127.0.0.1:9/tiny-installer.iso"  # the discard port: connection refused
    builder = tiny_builder(tiny_iso, iso_url=None, iso_urls=[dead, str(tiny_iso.path)],
                           disk_interface="ide", format="raw", vm_name="tiny.img")  # fmt: skip
    write_template(tmp_path / "t.json", [builder])
    run = run_kiln(["build", "t.json"], cwd=tmp_path, env=kiln_env(tmp_path, kiln_session_cache))
    assert run.returncode == 0, run.output
    assert f"Trying {dead}" in run.output and "Download failed" in run.output
    image = tmp_path / "out" / "tiny.img"
    info = image_info(image)
    assert info["format"] == "raw"
    assert info["virtual-size"] == 256 * 1024 * 1024
    assert "Converting hard drive" not in run.output  # raw images are not compacted
    assert read_guest_file(image, "/etc/kiln-marker", tmp_path).strip() == "ide-raw"


def test_two_processes_scsi_floppy_and_virtio_scsi_cd(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path
) -> None:
    floppy_dir, cd_dir = tmp_path / "floppy", tmp_path / "cd"
    write_answers(floppy_dir / "answers", marker="from-floppy")
    write_answers(cd_dir / "answers", marker="from-cd")
    write_template(floppy_dir / "t.json", [tiny_builder(
        tiny_iso, disk_interface="scsi", http_directory=None,
        floppy_files=["answers/ks.cfg"], boot_command=["install ks=floppy<enter>"],
        # a narrow shared range: the two processes must pick different ports
        host_port_min=3300, host_port_max=3301, vnc_port_min=5990, vnc_port_max=5991,
    )])  # fmt: skip
    write_template(cd_dir / "t.json", [tiny_builder(
        tiny_iso, disk_interface="virtio-scsi", http_directory=None,
        cd_files=["answers/ks.cfg"], cd_label="cidata", boot_command=["install ks=cdrom<enter>"],
        host_port_min=3300, host_port_max=3301, vnc_port_min=5990, vnc_port_max=5991,
    )])  # fmt: skip
    procs = [
        start_kiln(["build", "t.json"], cwd=d, env=kiln_env(d, kiln_session_cache))
        for d in (floppy_dir, cd_dir)
    ]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out
    assert "Creating floppy disk..." in outputs[0]
    assert "Creating CD disk..." in outputs[1]
    ports = [
        {line.split()[-1].rstrip(".") for line in out.splitlines() if "Found port" in line}
        for out in outputs
    ]
    assert ports[0].isdisjoint(ports[1]), ports
    for d, marker in ((floppy_dir, "from-floppy"), (cd_dir, "from-cd")):
        image = d / "out" / "tiny.qcow2"
        assert image_info(image)["format"] == "qcow2"
        assert read_guest_file(image, "/etc/kiln-marker", d).strip() == marker


def test_disk_image_from_first_artifact_with_compression(
    basic_build, kiln_session_cache: Path, tmp_path: Path
) -> None:
    source = basic_build.image
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    # No shutdown_command: kiln presses the ACPI power button (Packer would kill QEMU).
    builder = tiny_builder(
        None, iso_url=str(source), iso_checksum=f"sha256:{digest}", disk_image=True,
        disk_size="512M", disk_compression=True, http_directory=None, boot_command=None,
        boot_wait="0.1s", shutdown_command=None,
    )  # fmt: skip
    write_template(
        tmp_path / "t.json",
        [builder],
        provisioners=[{"type": "shell", "inline": ["echo second > /root/second.txt"]}],
    )
    run = run_kiln(["build", "t.json"], cwd=tmp_path, env=kiln_env(tmp_path, kiln_session_cache))
    assert run.returncode == 0, run.output
    assert "Starting VM, booting disk image" in run.output
    assert "Resizing hard drive..." in run.output
    assert "Halting the virtual machine (ACPI power button)..." in run.output
    assert "did not power off" not in run.output
    image = tmp_path / "out" / "tiny.qcow2"
    info = image_info(image)
    assert info["virtual-size"] == 512 * 1024 * 1024
    assert info["format"] == "qcow2"
    compressed = info.get("format-specific", {}).get("data", {}).get("compression-type")
    assert compressed is not None or info["actual-size"] < source.stat().st_size
    assert read_guest_file(image, "/root/second.txt", tmp_path) == "second\n"
    assert read_guest_file(image, "/root/inline.txt", tmp_path) == "inline:it's here\n"


def test_communicator_none_waits_for_the_guest_to_power_off(
    tiny_iso, kiln_session_cache: Path, tmp_path: Path
) -> None:
    write_answers(tmp_path / "http", marker="no-ssh", after="poweroff")
    builder = tiny_builder(
        tiny_iso, communicator="none", ssh_username=None, ssh_password=None, ssh_timeout=None,
        shutdown_command=None, shutdown_timeout="3m",
    )  # fmt: skip
    write_template(tmp_path / "t.json", [builder])
    run = run_kiln(["build", "t.json"], cwd=tmp_path, env=kiln_env(tmp_path, kiln_session_cache))
    assert run.returncode == 0, run.output
    assert "No communicator is set; skipping port forwarding setup." in run.output
    assert "Waiting for shutdown..." in run.output
    assert "Found port for communicator" not in run.output
    image = tmp_path / "out" / "tiny.qcow2"
    assert read_guest_file(image, "/etc/kiln-marker", tmp_path).strip() == "no-ssh"

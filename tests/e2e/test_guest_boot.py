"""The test guest, driven by plain QEMU (no kiln): boot prompt, installer, installed system.

Each install test boots the ISO with ``-boot once=d``, waits for the isolinux ``boot:`` prompt
on the serial log, types the boot command over QMP ``send-key``, lets the installer fetch its
answers (HTTP, floppy or CD), and reaches SSH on the installed system. Serial logs of failed
tests are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from guest_fixtures import (
    QemuVM,
    TinyIso,
    free_tcp_port,
    keep_on_failure,
    serve_directory,
    ssh_output,
    start_qemu,
    type_text,
    wait_for_ssh,
)

pytestmark = pytest.mark.e2e

PASSWORD = "kiln-test-pw"
PART_OFFSET = 1024 * 1024  # the installer's one partition starts at sector 2048


@dataclass(frozen=True)
class Machine:
    """How a test attaches the disk and NIC (the guest must cope with each)."""

    disk_interface: str  # virtio | ide | virtio-scsi | lsi (lsi53c895a, Packer's "scsi" HBA)
    nic: str

    def disk_args(self, disk: Path) -> list[str]:
        opts = "cache=writeback,discard=ignore,format=qcow2"
        if self.disk_interface in ("virtio", "ide"):
            return ["-drive", f"file={disk},if={self.disk_interface},{opts}"]
        hba = "virtio-scsi-pci" if self.disk_interface == "virtio-scsi" else "lsi53c895a"
        return [
            "-device", f"{hba},id=scsi0",
            "-device", "scsi-hd,bus=scsi0.0,drive=drive0",
            "-drive", f"if=none,file={disk},id=drive0,{opts}",
        ]  # fmt: skip

    def net_args(self, ssh_port: int) -> list[str]:
        return [
            "-netdev", f"user,id=user.0,hostfwd=tcp:127.0.0.1:{ssh_port}-:22",
            "-device", f"{self.nic},netdev=user.0",
        ]  # fmt: skip


def make_disk(path: Path, size: str = "256M") -> Path:
    subprocess.run(
        ["qemu-img", "create", "-f", "qcow2", str(path), size], check=True, capture_output=True
    )
    return path


def debugfs_cat(disk: Path, guest_path: str) -> str:
    """Read a file from the installed ext4 root of a qcow2 image without booting it."""
    raw = disk.with_suffix(".raw")
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(disk), str(raw)], check=True)
    try:
        proc = subprocess.run(
            ["debugfs", "-R", f"cat {guest_path}", f"{raw}?offset={PART_OFFSET}"],
            check=True,
            capture_output=True,
            text=True,
        )
        state = subprocess.run(
            ["dumpe2fs", "-h", f"{raw}?offset={PART_OFFSET}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        raw.unlink()
    assert re.search(r"Filesystem state:\s+clean", state), f"root fs not clean:\n{state}"
    return proc.stdout


async def boot_installer(vm: QemuVM, boot_command: str) -> float:
    """Wait for the isolinux prompt, type `boot_command` + Enter; return seconds to the prompt."""
    waited = await vm.wait_serial("boot:", timeout=60)
    await type_text(vm.qmp, boot_command + "\n")
    return waited


@pytest.mark.parametrize(
    "machine",
    [Machine("virtio", "virtio-net"), Machine("ide", "e1000")],
    ids=["virtio-disk-virtio-net", "ide-disk-e1000"],
)
async def test_http_install_reaches_ssh(
    tiny_iso: TinyIso, tmp_path: Path, machine: Machine
) -> None:
    marker = f"marker-{secrets.token_hex(4)}"
    http_dir = tmp_path / "http"
    http_dir.mkdir()
    (http_dir / "ks.cfg").write_text(
        f"# kiln test answers\nrootpw={PASSWORD}\nhostname=tiny-{machine.disk_interface}\n"
        f"marker={marker}\n"
    )
    disk = make_disk(tmp_path / "disk.qcow2")
    port = free_tcp_port()
    name = f"guest-http-{machine.disk_interface}-{machine.nic}"
    with serve_directory(http_dir) as served, keep_on_failure(name, tmp_path / "serial.log"):
        start = time.monotonic()
        async with start_qemu(
            tmp_path,
            [
                *machine.disk_args(disk),
                "-drive", f"file={tiny_iso.path},media=cdrom",
                "-boot", "once=d",
                *machine.net_args(port),
            ],
        ) as vm:  # fmt: skip
            await boot_installer(vm, f"install ks={served.guest_url('ks.cfg')}")
            await vm.wait_serial("kiln-installer: done, rebooting", timeout=180)
            async with await wait_for_ssh(port, password=PASSWORD, alive=vm, timeout=180) as conn:
                boot_to_ssh = time.monotonic() - start
                print(f"\n{name}: QEMU start to SSH on the installed system: {boot_to_ssh:.1f} s")
                got = await ssh_output(conn, "cat /etc/kiln-marker; hostname; id -u")
                assert got == f"{marker}\ntiny-{machine.disk_interface}\n0\n"
                expected_disk = "/dev/vda1" if machine.disk_interface == "virtio" else "/dev/sda1"
                mounts = await ssh_output(conn, "cat /proc/mounts")
                assert f"{expected_disk} / ext4 rw" in mounts
                # SCP both ways (OpenSSH's scp -t / -f in the guest) and SFTP.
                src = tmp_path / "payload.txt"
                src.write_text("uploaded over scp\n")
                await asyncssh.scp(src, (conn, "/root/provisioned"))
                await asyncssh.scp((conn, "/etc/kiln-marker"), tmp_path / "marker.txt")
                assert (tmp_path / "marker.txt").read_text() == f"{marker}\n"
                async with conn.start_sftp_client() as sftp:
                    assert await sftp.exists("/root/provisioned")
                    await sftp.put(src, "/tmp/sftp-upload")
                with contextlib.suppress(asyncssh.Error):  # the session may die with the VM
                    await conn.run("sync; shutdown -P now", check=False)
            assert await vm.wait_exit(timeout=90) == 0
            assert "kiln-guest: root file system is read-only" in vm.serial_text()
    assert "GET /ks.cfg" in " ".join(served.requests)
    assert debugfs_cat(disk, "/root/provisioned") == "uploaded over scp\n"


async def test_floppy_answers_key_auth_acpi_and_reboot_from_disk(
    tiny_iso: TinyIso, tmp_path: Path
) -> None:
    """ks=floppy on a virtio-scsi disk with rtl8139; SSH by key; ACPI power-down; then the
    installed disk boots on its own (-boot c) on IDE with e1000."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    marker = f"floppy-{secrets.token_hex(4)}"
    answers = tmp_path / "ks.cfg"
    answers.write_text(
        f"rootpw=\nhostname=floppy\r\nmarker={marker}\n"
        f"ssh_authorized_key={key.export_public_key().decode().strip()}\n"
    )
    floppy = tmp_path / "floppy.img"
    subprocess.run(["mformat", "-C", "-f", "1440", "-v", "KS", "-i", str(floppy), "::"], check=True)
    subprocess.run(["mcopy", "-i", str(floppy), str(answers), "::ks.cfg"], check=True)
    disk = make_disk(tmp_path / "disk.qcow2")
    port = free_tcp_port()
    first = tmp_path / "install"
    again = tmp_path / "reboot"
    with keep_on_failure("guest-floppy", first / "serial.log", again / "serial.log"):
        installed = Machine("virtio-scsi", "rtl8139")
        async with start_qemu(
            first,
            [
                *installed.disk_args(disk),
                "-drive", f"file={tiny_iso.path},media=cdrom",
                "-fda", str(floppy),
                "-boot", "once=d",
                *installed.net_args(port),
            ],
        ) as vm:  # fmt: skip
            await boot_installer(vm, "install ks=floppy")
            await vm.wait_serial("kiln-installer: fetched answers from floppy", timeout=120)
            async with await wait_for_ssh(port, client_keys=[key], alive=vm, timeout=180) as conn:
                got = await ssh_output(conn, "cat /etc/kiln-marker; hostname")
                assert got == f"{marker}\nfloppy\n"
                await ssh_output(conn, "echo written-before-acpi > /root/acpi.txt")
            with pytest.raises(asyncssh.PermissionDenied):
                await asyncssh.connect(
                    "127.0.0.1", port, username="root", password="", known_hosts=None,
                    client_keys=None,
                )  # fmt: skip
            await vm.wait_serial("kiln-guest: ready")
            await vm.qmp.execute("system_powerdown")
            assert await vm.wait_exit(timeout=90) == 0
        assert debugfs_cat(disk, "/root/acpi.txt") == "written-before-acpi\n"

        moved = Machine("ide", "e1000")
        async with start_qemu(
            again, [*moved.disk_args(disk), "-boot", "c", *moved.net_args(port)]
        ) as vm:
            async with await wait_for_ssh(port, client_keys=[key], alive=vm, timeout=120) as conn:
                got = await ssh_output(conn, "cat /etc/kiln-marker /root/acpi.txt")
                assert got == f"{marker}\nwritten-before-acpi\n"
                with contextlib.suppress(asyncssh.Error):
                    await conn.run("shutdown -h now", check=False)
            assert await vm.wait_exit(timeout=90) == 0


async def test_cdrom_answers_and_poweroff_after_install(tiny_iso: TinyIso, tmp_path: Path) -> None:
    """ks=cdrom from a 'cidata' CD, onto a disk behind QEMU's lsi53c895a SCSI HBA (sym53c8xx);
    after=poweroff ends the VM when the install is done (what `communicator: none` waits for)."""
    marker = f"cdrom-{secrets.token_hex(4)}"
    cd_dir = tmp_path / "cd"
    cd_dir.mkdir()
    (cd_dir / "ks.cfg").write_text(f"rootpw={PASSWORD}\nmarker={marker}\nafter=poweroff\n")
    cd = tmp_path / "cidata.iso"
    subprocess.run(
        [
            "xorriso",
            "-as",
            "genisoimage",
            "-rock",
            "-joliet",
            "-volid",
            "cidata",
            "-output",
            str(cd),
            str(cd_dir),
        ],
        check=True,
        capture_output=True,
    )
    disk = make_disk(tmp_path / "disk.qcow2")
    with keep_on_failure("guest-cdrom", tmp_path / "serial.log"):
        async with start_qemu(
            tmp_path,
            [
                *Machine("lsi", "virtio-net").disk_args(disk),
                "-drive", f"file={tiny_iso.path},media=cdrom",
                "-drive", f"file={cd},media=cdrom",
                "-boot", "once=d",
                "-netdev", "user,id=user.0", "-device", "virtio-net,netdev=user.0",
            ],
        ) as vm:  # fmt: skip
            await boot_installer(vm, "install ks=cdrom")
            assert await vm.wait_exit(timeout=180) == 0
            log = vm.serial_text()
            assert "kiln-installer: fetched answers from cdrom" in log
            assert "kiln-installer: installing to /dev/sda" in log
            assert "kiln-installer: done, powering off" in log
    assert debugfs_cat(disk, "/etc/kiln-marker") == f"{marker}\n"


async def test_install_without_ks_explains_and_opens_a_shell(
    tiny_iso: TinyIso, tmp_path: Path
) -> None:
    with keep_on_failure("guest-no-ks", tmp_path / "serial.log"):
        async with start_qemu(
            tmp_path, ["-drive", f"file={tiny_iso.path},media=cdrom", "-boot", "once=d"]
        ) as vm:
            await boot_installer(vm, "install")
            await vm.wait_serial("kiln-installer: no ks= on the kernel command line")
            await vm.wait_serial("kiln: rescue shell")
            # The shell on tty1 takes keyboard input; make it prove itself on the serial log.
            await vm.wait_serial("BusyBox", timeout=30)
            await type_text(vm.qmp, "echo shell-says-$((6*7)) >/dev/ttyS0\n")
            await vm.wait_serial("shell-says-42")


async def test_missing_rootpw_is_reported(tiny_iso: TinyIso, tmp_path: Path) -> None:
    http_dir = tmp_path / "http"
    http_dir.mkdir()
    (http_dir / "ks.cfg").write_text("hostname=nopw\nbogus=1\n")
    with (
        serve_directory(http_dir) as served,
        keep_on_failure("guest-no-rootpw", tmp_path / "serial.log"),
    ):
        async with start_qemu(
            tmp_path,
            [
                "-drive", f"file={tiny_iso.path},media=cdrom",
                "-boot", "once=d",
                "-netdev", "user,id=user.0", "-device", "e1000,netdev=user.0",
            ],
        ) as vm:  # fmt: skip
            await boot_installer(vm, f"install ks={served.guest_url('ks.cfg')}")
            await vm.wait_serial("kiln-installer: ERROR: the answers have no rootpw= line")
            assert "unknown answer key 'bogus' ignored" in vm.serial_text()


def test_iso_and_checksum_file(tiny_iso: TinyIso) -> None:
    assert tiny_iso.path.stat().st_size < 30 * 1024 * 1024
    sums = tiny_iso.sums_file.read_text()
    assert sums == f"{tiny_iso.sha256}  tiny-installer.iso\n"
    listing = subprocess.run(
        ["xorriso", "-indev", str(tiny_iso.path), "-find", "/", "-type", "f"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for f in (
        "/isolinux/isolinux.bin",
        "/isolinux/ldlinux.c32",
        "/kiln/vmlinuz",
        "/kiln/initrd.gz",
        "/boot/grub/efi.img",
        "/boot/grub/grub.cfg",
        "/boot/grub/x86_64-efi/read.mod",
        "/kiln/initrd-efi.gz",
    ):
        assert f"'{f}'" in listing
    boot_records = subprocess.run(
        ["xorriso", "-indev", str(tiny_iso.path), "-report_el_torito", "plain"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    platforms = re.findall(r"El Torito boot img :\s+\d+\s+(\w+)", boot_records)
    assert platforms == ["BIOS", "UEFI"], boot_records

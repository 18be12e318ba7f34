"""`kiln build` with `efi_boot` on the test guest, then its artifact booted again under OVMF.

The build boots the hybrid ISO under OVMF (GRUB's `boot:` prompt), the installer writes GPT +
ESP and registers the boot entry `kiln` in the VM's variable store, the installed system
reaches SSH, a provisioner runs, the VM powers off, and the artifact is the qcow2 plus
`efivars.fd`. The second boot uses only that artifact (an overlay on the qcow2 and a copy of
`efivars.fd`): no ISO, so it is the boot entry the installer wrote that starts it.

A second build puts Secure Boot, a vTPM and an installer that registers no boot entry
together (three things, one build: each costs about a minute under TCG); a third, cut short,
is refused by Secure Boot and must say so.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from build_harness import (
    ROOT_PASSWORD,
    image_info,
    kiln_env,
    read_guest_file,
    run_kiln,
    tiny_builder,
    write_answers,
    write_template,
)
from conftest import BuiltImage
from guest_fixtures import free_tcp_port, keep_on_failure, ssh_output, start_qemu, wait_for_ssh

pytestmark = pytest.mark.e2e

# OVMF under TCG shows GRUB's prompt after about 5 s on a quiet host and 13 s with its load
# at 12 (measured here); keys typed before GRUB reads them are lost, so EFI builds wait much
# longer than the BIOS one (1 s). With a TPM, OVMF and GRUB measure what they load (hashing
# under TCG), and with Secure Boot's SMM the firmware is slower too: about twice as long.
EFI_BOOT_WAIT = "25s"
SLOW_EFI_BOOT_WAIT = "45s"
USING = re.compile(r"==> qemu: Using UEFI firmware (\S+) \(descriptor (\S+)\)")


@pytest.fixture(scope="session")
def efi_build(
    tiny_iso: object, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> BuiltImage:
    work = tmp_path_factory.mktemp("efi")
    write_answers(work / "http", marker="efi-http")
    write_template(
        work / "template.json",
        [tiny_builder(tiny_iso, efi_boot=True, vm_name="efi.qcow2", boot_wait=EFI_BOOT_WAIT)],
        provisioners=[
            {"type": "shell",
             "inline": ["test -d /sys/firmware/efi && echo uefi > /root/firmware.txt"]},
        ],
    )  # fmt: skip
    env = kiln_env(work, kiln_session_cache)
    run = run_kiln(["build", "template.json"], cwd=work, env=env)
    assert run.returncode == 0, run.output
    return BuiltImage(work, work / "out" / "efi.qcow2", run, env)


def firmware_used(build: BuiltImage) -> tuple[Path, Path]:
    """The code image and descriptor the build's output names."""
    found = USING.search(build.run.output)
    assert found, f"no 'Using UEFI firmware' line in:\n{build.run.output}"
    return Path(found[1]), Path(found[2])


def test_efi_build_uses_a_descriptor_and_keeps_efivars(efi_build: BuiltImage) -> None:
    out = efi_build.run.output
    code, descriptor = firmware_used(efi_build)
    assert descriptor.is_file() and descriptor.parent.name == "firmware"
    assert code.is_file()
    for line in (
        "==> qemu: Starting VM, booting from CD-ROM",
        "==> qemu: Connected to SSH!",
        "==> qemu: Gracefully halting virtual machine...",
        "--> qemu: VM files in directory: out",
    ):
        assert line in out, f"missing {line!r} in:\n{out}"
    files = sorted(p.name for p in efi_build.image.parent.iterdir())
    assert files == ["efi.qcow2", "efivars.fd"]
    assert image_info(efi_build.image)["format"] == "qcow2"


def test_efi_install_wrote_its_boot_entry_into_efivars(efi_build: BuiltImage) -> None:
    """efibootmgr in the guest wrote Boot#### "kiln" into the pflash that is the artifact's
    efivars.fd (UEFI variable names and descriptions are UTF-16)."""
    efivars = (efi_build.image.parent / "efivars.fd").read_bytes()
    assert "kiln".encode("utf-16-le") + b"\0\0" in efivars
    assert "\\EFI\\kiln\\shimx64.efi".encode("utf-16-le") in efivars


def test_efi_provisioner_ran_under_uefi(efi_build: BuiltImage, tmp_path: Path) -> None:
    assert read_guest_file(efi_build.image, "/root/firmware.txt", tmp_path) == "uefi\n"
    assert read_guest_file(efi_build.image, "/etc/kiln-marker", tmp_path) == "efi-http\n"


async def test_efi_artifact_boots_again_from_its_efivars(
    efi_build: BuiltImage, tmp_path: Path
) -> None:
    """The artifact alone (no ISO, no -boot) reaches SSH through the installer's boot entry."""
    code, _ = firmware_used(efi_build)
    disk = tmp_path / "disk.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-f", "qcow2", "-F", "qcow2", "-b", str(efi_build.image),
         str(disk)],
        check=True, capture_output=True,
    )  # fmt: skip
    efivars = tmp_path / "efivars.fd"
    efivars.write_bytes((efi_build.image.parent / "efivars.fd").read_bytes())
    port = free_tcp_port()
    with keep_on_failure("efi-artifact-reboot", tmp_path / "serial.log"):
        async with start_qemu(
            tmp_path,
            [
                "-drive", f"file={code},if=pflash,unit=0,format=raw,readonly=on",
                "-drive", f"file={efivars},if=pflash,unit=1,format=raw",
                "-drive", f"file={disk},if=virtio,format=qcow2",
                "-netdev", f"user,id=user.0,hostfwd=tcp:127.0.0.1:{port}-:22",
                "-device", "virtio-net,netdev=user.0",
            ],
        ) as vm:  # fmt: skip
            async with await wait_for_ssh(
                port, password=ROOT_PASSWORD, alive=vm, timeout=180
            ) as conn:
                got = await ssh_output(conn, "cat /etc/kiln-marker /root/firmware.txt")
                assert got == "efi-http\nuefi\n"
                assert (await ssh_output(conn, "ls -d /sys/firmware/efi")).strip()
            serial = vm.serial_text()
    started = re.search(r'BdsDxe: starting Boot[0-9A-F]{4} "([^"]*)"', serial)
    assert started and started[1] == "kiln", serial[:2000]


# --- Secure Boot + TPM (as Windows 11 wants), an installer that registers no boot entry ---

SB_TPM_SCRIPT = """\
test -e /sys/class/tpm/tpm0 || { echo 'no /sys/class/tpm/tpm0' >&2; exit 1; }
cat /sys/class/tpm/tpm0/tpm_version_major > /root/tpm-version.txt
cat /sys/class/tpm/tpm0/pcr-sha256/0 > /root/pcr0.txt
dmesg | grep -o 'Secure boot enabled' > /root/sb.txt
"""


@pytest.fixture(scope="session")
def efi_sb_tpm_build(
    tiny_iso: object, kiln_session_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> BuiltImage:
    """efi_secure_boot + vtpm on q35, one build for three things. efi_secure_boot picks
    Debian's enrolled-keys firmware (Microsoft's keys, SMM): the guest's shim
    (Microsoft-signed) → GRUB (Debian-signed) → kernel (Debian-signed) boot, and GRUB's own
    command line takes the boot command. The installer leaves the boot order alone
    (efi_boot_entry=no), so only kiln's "ISO once, then disk" gets the installed system
    booted after its reboot (through \\EFI\\BOOT\\BOOTX64.EFI, shim again)."""
    work = tmp_path_factory.mktemp("efi-sb-tpm")
    write_answers(work / "http", marker="efi-no-entry", extra="efi_boot_entry=no\n")
    (work / "sb-tpm.sh").write_text(SB_TPM_SCRIPT)
    builder = tiny_builder(
        tiny_iso, efi_secure_boot=True, machine_type="q35", vtpm=True, vm_name="sb-tpm.qcow2",
        boot_wait=SLOW_EFI_BOOT_WAIT, ssh_timeout="8m",
    )  # fmt: skip
    write_template(
        work / "template.json", [builder], provisioners=[{"type": "shell", "script": "sb-tpm.sh"}]
    )
    env = kiln_env(work, kiln_session_cache)
    run = run_kiln(["build", "template.json"], cwd=work, env=env)
    assert run.returncode == 0, run.output
    return BuiltImage(work, work / "out" / "sb-tpm.qcow2", run, env)


def test_efi_without_a_boot_entry_boots_the_disk_after_the_install(
    efi_sb_tpm_build: BuiltImage, tmp_path: Path
) -> None:
    image = efi_sb_tpm_build.image
    assert read_guest_file(image, "/etc/kiln-marker", tmp_path) == "efi-no-entry\n"
    efivars = (image.parent / "efivars.fd").read_bytes()
    assert "\\EFI\\kiln\\shimx64.efi".encode("utf-16-le") not in efivars
    assert "Could not make the disk boot first" not in efi_sb_tpm_build.run.output


def test_secure_boot_build_works_with_the_signed_boot_chain(
    efi_sb_tpm_build: BuiltImage, tmp_path: Path
) -> None:
    _, descriptor = firmware_used(efi_sb_tpm_build)
    assert "enrolled-keys" in descriptor.read_text()
    sb = read_guest_file(efi_sb_tpm_build.image, "/root/sb.txt", tmp_path)
    assert sb == "Secure boot enabled\n"


def test_vtpm_is_seen_and_measured_in_the_guest(
    efi_sb_tpm_build: BuiltImage, tmp_path: Path
) -> None:
    image = efi_sb_tpm_build.image
    assert read_guest_file(image, "/root/tpm-version.txt", tmp_path) == "2\n"
    pcr0 = read_guest_file(image, "/root/pcr0.txt", tmp_path).strip()
    assert re.fullmatch(r"[0-9A-F]{64}", pcr0), pcr0
    assert pcr0 != "0" * 64, "OVMF measured nothing into PCR 0"


def test_vtpm_leaves_no_swtpm_and_no_state(efi_sb_tpm_build: BuiltImage) -> None:
    from build_harness import qemu_processes_under

    assert qemu_processes_under(efi_sb_tpm_build.workdir, "swtpm") == []
    assert list((efi_sb_tpm_build.workdir / "tmp").iterdir()) == []


# --- Secure Boot refusing the loader -------------------------------------------------------


def test_secure_boot_refusing_the_loader_fails_saying_why(
    tiny_iso: object, kiln_session_cache: Path, tmp_path: Path
) -> None:
    """OVMF's snakeoil variable store enrolls only a test key: it refuses Microsoft-signed
    shim (Access Denied) and OVMF would go on to minutes of network boot. The build must
    stop with that explanation instead of waiting out ssh_timeout (10 m)."""
    write_answers(tmp_path / "http", marker="never")
    builder = tiny_builder(
        tiny_iso, efi_firmware_code="/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
        efi_firmware_vars="/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd", machine_type="q35",
        vm_name="sb.qcow2", boot_wait=EFI_BOOT_WAIT, ssh_timeout="10m",
    )  # fmt: skip
    write_template(tmp_path / "template.json", [builder])
    run = run_kiln(
        ["build", "template.json"], cwd=tmp_path, env=kiln_env(tmp_path, kiln_session_cache)
    )
    assert run.returncode == 1, run.output
    assert (
        'Secure Boot refused to start "UEFI QEMU DVD-ROM QM00001" (Access Denied): the '
        "firmware has Secure Boot on, and its boot loader is not signed by a key in the "
        "firmware's database." in run.output
    ), run.output
    assert "Timeout waiting for SSH" not in run.output

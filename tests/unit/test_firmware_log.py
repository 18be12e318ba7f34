"""OVMF's boot failures from the serial log (kiln.builders.qemu.firmware_log), on serial logs
OVMF 2022.11 (Debian 12) wrote under QEMU 7.2 (tests/data/ovmf)."""

from __future__ import annotations

from pathlib import Path

from kiln.builders.qemu.firmware_log import BootFailure, FirmwareLog, SerialWatch

DATA = Path(__file__).resolve().parent.parent / "data" / "ovmf"
SECURE = DATA / "serial-secure-boot-refuses-unsigned-grub.log"
BIOS_ONLY = DATA / "serial-bios-only-iso-falls-to-the-shell.log"


def test_secure_boot_refusing_an_unsigned_loader_is_explained() -> None:
    log = FirmwareLog()
    log.feed(SECURE.read_text(errors="replace"))
    assert log.gave_up
    assert log.failures == [
        BootFailure("UEFI QEMU DVD-ROM QM00001", "Access Denied"),
        BootFailure("UEFI QEMU DVD-ROM QM00005", "Not Found"),
        BootFailure("UEFI Misc Device", "Not Found"),
        BootFailure("EFI Internal Shell", "Security Violation"),
    ]
    problem = log.problem(secure_boot=True)
    assert problem == (
        'Secure Boot refused to start "UEFI QEMU DVD-ROM QM00001" (Access Denied): '
        "efi_secure_boot is on, and its boot loader is not signed by a key in the firmware's "
        "database. Boot an installer with a signed loader (shim signed by Microsoft's UEFI CA, "
        "as distribution ISOs have), or use a firmware without Secure Boot "
        "(efi_secure_boot: false)"
    )
    assert "the firmware has Secure Boot on" in (log.problem(secure_boot=False) or "")


def test_a_refusal_stops_at_once() -> None:
    log = FirmwareLog()
    text = SECURE.read_text(errors="replace")
    log.feed(text[: text.index("Not Found")])
    assert not log.gave_up
    assert (log.problem(secure_boot=True) or "").startswith("Secure Boot refused to start")


def test_falling_back_to_the_uefi_shell_is_not_a_failure() -> None:
    """Some templates type their boot command into the UEFI shell on purpose."""
    log = FirmwareLog()
    log.feed(BIOS_ONLY.read_text(errors="replace"))
    assert [f.status for f in log.failures] == ["Not Found"] * 3
    assert not log.gave_up
    assert log.problem(secure_boot=False) is None


def test_nothing_bootable_without_secure_boot() -> None:
    log = FirmwareLog()
    log.feed(
        'BdsDxe: failed to load Boot0001 "UEFI QEMU DVD-ROM QM00001 " from PciRoot(0x0)/Pci'
        "(0x1,0x1)/Ata(Primary,Master,0x0): Not Found\r\n"
        "BdsDxe: No bootable option or device was found.\r\n"
    )
    assert log.problem(secure_boot=False) == (
        'the UEFI firmware found nothing to boot (boot options tried: "UEFI QEMU DVD-ROM '
        'QM00001": Not Found): does the ISO have a UEFI boot loader (an El Torito EFI image)? '
        "An installer that boots only under BIOS needs efi_boot: false"
    )


def test_lines_split_across_reads(tmp_path: Path) -> None:
    serial = tmp_path / "serial.log"
    text = SECURE.read_bytes()
    watch = SerialWatch(serial, secure_boot=True)
    assert watch.problem() is None  # no file yet
    refused_ends = text.index(b"\n", text.index(b"Access Denied")) + 1
    with serial.open("wb") as f:
        for i in range(0, len(text), 7):
            f.write(text[i : i + 7])
            f.flush()
            got = watch.problem()
            assert (got is not None) == (i + 7 >= refused_ends), i
    assert watch.log.failures[0] == BootFailure("UEFI QEMU DVD-ROM QM00001", "Access Denied")

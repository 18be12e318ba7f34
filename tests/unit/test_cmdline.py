"""QEMU argv assembly (kiln.builders.qemu.cmdline) and the qemu-img argv builders.

Sources: Packer v1.6.6 builder/qemu/step_run.go (argv), step_create_disk.go, step_convert_disk.go
and
step_resize_disk.go (qemu-img), packer-plugin-qemu builder/qemu/config.go (`QemuSMPConfig`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.cmdline import (
    AHCI_PORTS,
    LSI_TARGETS,
    RuntimeFacts,
    build_argv,
    default_switches,
    device_and_drive_args,
    disk_paths,
    qemuargs_template_data,
    smp_value,
)
from kiln.builders.qemu.config import QemuConfig
from kiln.builders.qemu.firmware import Firmware, FlashImage
from kiln.builders.qemu.qemu_names import drive_file, plain_file
from kiln.communicator.config import CommConfig
from kiln.errors import KilnError

ISO = "/cache/installer.iso"
DISK = "out/vm"


def cfg(**kw: Any) -> QemuConfig:
    """A config as `prepare` leaves it for a build named "vm"."""
    return dataclasses.replace(QemuConfig(vm_name="vm", output_directory="out"), **kw)


def facts(**kw: Any) -> RuntimeFacts:
    base: dict[str, Any] = {
        "accelerator": "tcg",
        "disk_paths": (DISK,),
        "iso_path": ISO,
        "vnc_port": 5900,
        "comm_host_port": 2222,
    }
    return RuntimeFacts(**{**base, **kw})


def argv_of(config: QemuConfig, rows: list[list[str]] | None = None, **kw: Any) -> list[str]:
    comm = kw.pop("comm", CommConfig())
    return build_argv(config, comm, facts(**kw), rows).argv


def pairs(argv: list[str], switch: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == switch]


# --- smp_value --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpus", "sockets", "cores", "threads", "expected"),
    [
        (2, 0, 0, 0, "2"),  # the reference's examples (plugin step_run_test.go)
        (2, 1, 0, 0, "1,sockets=1"),
        (0, 2, 5, 2, "20,sockets=2,cores=5,threads=2"),
        (8, 2, 2, 0, "4,sockets=2,cores=2"),
        (0, 0, 0, 0, "1"),
        (1, 0, 0, 0, "1"),
        (4, 4, 0, 0, "4,sockets=4"),
        (0, 0, 0, 3, "3,threads=3"),
        # kiln: fewer CPUs than the topology holds needs maxcpus (QEMU >= 6.2 rejects it)
        (2, 2, 2, 0, "2,sockets=2,cores=2,maxcpus=4"),
        (1, 2, 2, 1, "1,sockets=2,cores=2,threads=1,maxcpus=4"),
    ],
)
def test_smp_value(cpus: int, sockets: int, cores: int, threads: int, expected: str) -> None:
    assert smp_value(cpus, sockets, cores, threads) == expected


@given(*(st.integers(min_value=0, max_value=16) for _ in range(4)))
def test_smp_value_is_a_topology_qemu_accepts(cpus: int, s: int, c: int, t: int) -> None:
    fields = smp_value(cpus, s, c, t).split(",")
    online = int(fields[0])
    named = dict(f.split("=") for f in fields[1:])
    product = 1
    for key in ("sockets", "cores", "threads"):
        product *= int(named.get(key, 1))
    assert online >= 1
    if any((s, c, t)):
        # QEMU: online <= maxcpus, and a full topology's product must equal maxcpus
        maxcpus = int(named.get("maxcpus", online))
        assert online <= maxcpus
        assert product == maxcpus
    else:
        assert fields == [str(max(cpus, 1))]


# --- default switches --------------------------------------------------------------------


def test_default_switches_iso_build() -> None:
    assert default_switches(cfg(), CommConfig(), facts()) == {
        "-name": ["vm"],
        "-machine": ["type=pc,accel=tcg"],
        "-netdev": ["user,id=user.0,hostfwd=tcp::2222-:22"],
        "-vnc": ["127.0.0.1:0"],
        "-m": ["512M"],
        "-smp": ["1"],
        "-boot": ["once=d"],
        "-device": ["virtio-net,netdev=user.0"],
        "-drive": [
            f"file={DISK},if=virtio,cache=writeback,discard=ignore,format=qcow2",
            f"file={ISO},media=cdrom",
        ],
    }


def test_machine_without_accelerator_for_none() -> None:
    args = default_switches(cfg(machine_type="q35"), CommConfig(), facts(accelerator="none"))
    assert args["-machine"] == ["type=q35"]


@pytest.mark.parametrize(
    ("config", "comm", "kw", "expected"),
    [
        (cfg(), CommConfig(ssh_port=2200), {"comm_host_port": 3000},
         "user,id=user.0,hostfwd=tcp::3000-:2200"),
        (cfg(), CommConfig(communicator="none"), {"comm_host_port": None}, "user,id=user.0"),
        (cfg(), CommConfig(communicator="none"), {"comm_host_port": 2222}, "user,id=user.0"),
        (cfg(net_bridge="br0"), CommConfig(), {"comm_host_port": None},
         "bridge,id=user.0,br=br0"),
    ],
)  # fmt: skip
def test_netdev(config: QemuConfig, comm: CommConfig, kw: dict[str, Any], expected: str) -> None:
    assert default_switches(config, comm, facts(**kw))["-netdev"] == [expected]


@pytest.mark.parametrize(
    ("config", "port", "expected"),
    [
        (cfg(), 5900, "127.0.0.1:0"),
        (cfg(vnc_bind_address="0.0.0.0"), 5957, "0.0.0.0:57"),
        (cfg(vnc_use_password=True), 5905, "127.0.0.1:5,password=on"),
    ],
)
def test_vnc_display_is_port_minus_5900(config: QemuConfig, port: int, expected: str) -> None:
    assert default_switches(config, CommConfig(), facts(vnc_port=port))["-vnc"] == [expected]


@pytest.mark.parametrize(
    ("config", "kw", "expected"),
    [
        (cfg(), {"headless": True}, None),  # VNC carries the console
        (cfg(), {"headless": True, "vnc_port": None}, ["none"]),
        (cfg(), {"headless": False}, ["gtk"]),
        (cfg(display="sdl"), {"headless": False}, ["sdl"]),
        (cfg(use_default_display=True), {"headless": False}, None),
        (cfg(display="sdl", use_default_display=True), {"headless": False}, ["sdl"]),
    ],
)
def test_display(config: QemuConfig, kw: dict[str, Any], expected: list[str] | None) -> None:
    assert default_switches(config, CommConfig(), facts(**kw)).get("-display") == expected


def test_optional_switches() -> None:
    config = cfg(cpu_model="host", vga="virtio", qmp_enable=True, qmp_socket_path="out/q.sock",
                 firmware="fw.bin", memory=2048, cpus=2, disk_image=True)  # fmt: skip
    args = default_switches(config, CommConfig(), facts(floppy_path="/w/floppy.img"))
    assert args["-cpu"] == ["host"]
    assert args["-vga"] == ["virtio"]
    assert args["-qmp"] == ["unix:out/q.sock,server=on,wait=off"]
    assert args["-bios"] == ["fw.bin"]
    assert args["-fda"] == ["/w/floppy.img"]
    assert args["-m"] == ["2048M"]
    assert args["-smp"] == ["2"]
    assert args["-boot"] == ["c"]
    assert not any(d.endswith("media=cdrom") for d in args["-drive"])  # disk image: no ISO


def test_absent_optional_switches() -> None:
    args = default_switches(cfg(qmp_enable=True), CommConfig(), facts())
    for switch in ("-cpu", "-vga", "-qmp", "-bios", "-fda", "-chardev", "-tpmdev"):
        assert switch not in args  # qmp_enable without a socket path: prepare sets one


def test_efi_boot_drops_boot_and_adds_pflash() -> None:
    config = cfg(efi_boot=True, efi_firmware_code="/fw/CODE.fd")
    args = default_switches(config, CommConfig(), facts(efivars_path="out/efivars.fd"))
    assert "-boot" not in args
    assert args["-drive"][-2:] == [
        "file=/fw/CODE.fd,if=pflash,unit=0,format=raw,readonly=on",
        "file=out/efivars.fd,if=pflash,unit=1,format=raw",
    ]


def test_secure_boot_firmware_with_smm_gets_smm_and_a_secure_flash() -> None:
    """firmware.json: requires-smm → `-machine smm=on`; with secure-boot, only SMM may write
    the variables: `-global driver=cfi.pflash01,property=secure,value=on`."""
    code, vars_ = FlashImage("/fw/SB_CODE.fd"), FlashImage("/fw/SB_VARS.fd")
    sb = Firmware(code, vars_, features=frozenset({"secure-boot", "requires-smm"}))
    config = cfg(efi_boot=True, efi_firmware_code=code.path, machine_type="q35")
    argv = build_argv(config, CommConfig(), facts(efivars_path="out/efivars.fd", firmware=sb)).argv
    assert argv[argv.index("-machine") + 1] == "type=q35,accel=tcg,smm=on"
    assert argv[argv.index("-global") + 1] == "driver=cfi.pflash01,property=secure,value=on"
    smm_only = Firmware(code, vars_, features=frozenset({"requires-smm"}))
    args = default_switches(
        config, CommConfig(), facts(efivars_path="out/efivars.fd", firmware=smm_only)
    )
    assert args["-machine"] == ["type=q35,accel=tcg,smm=on"]
    assert "-global" not in args
    plain = default_switches(config, CommConfig(), facts(efivars_path="out/efivars.fd"))
    assert plain["-machine"] == ["type=q35,accel=tcg"]
    assert "-global" not in plain


def test_smm_needs_efi_boot_on() -> None:
    sb = Firmware(FlashImage("/c"), FlashImage("/v"), features=frozenset({"requires-smm"}))
    args = default_switches(cfg(machine_type="q35"), CommConfig(), facts(firmware=sb))
    assert args["-machine"] == ["type=q35,accel=tcg"]


def test_qcow2_firmware_images_keep_their_format() -> None:
    """packer-plugin-qemu#225: Fedora's 4 MB images are qcow2; Packer hard-codes raw."""
    q = Firmware(FlashImage("/e/CODE.qcow2", "qcow2"), FlashImage("/e/VARS.qcow2", "qcow2"))
    config = cfg(efi_boot=True, efi_firmware_code="/e/CODE.qcow2")
    args = default_switches(config, CommConfig(), facts(efivars_path="out/efivars.fd", firmware=q))
    assert args["-drive"][-2:] == [
        "file=/e/CODE.qcow2,if=pflash,unit=0,format=qcow2,readonly=on",
        "file=out/efivars.fd,if=pflash,unit=1,format=qcow2",
    ]


def test_firmware_as_pflash() -> None:
    args = default_switches(cfg(firmware="fw.bin", use_pflash=True), CommConfig(), facts())
    assert "-bios" not in args
    assert args["-drive"][-1] == "file=fw.bin,if=pflash,format=raw,readonly=on"


def test_vtpm() -> None:
    args = default_switches(cfg(vtpm=True), CommConfig(), facts(tpm_socket="/w/vtpm.sock"))
    assert args["-chardev"] == ["socket,id=vtpm,path=/w/vtpm.sock"]
    assert args["-tpmdev"] == ["emulator,id=tpm0,chardev=vtpm"]
    assert args["-device"][-1] == "tpm-tis,tpmdev=tpm0"


# --- -drive / -device --------------------------------------------------------------------

TAIL = "cache=writeback,discard=ignore,format=qcow2"
TWO_DISKS = (DISK, f"{DISK}-1")


@pytest.mark.parametrize("iface", ["ide", "virtio"])
def test_drives_with_if(iface: str) -> None:
    devices, drives = device_and_drive_args(cfg(disk_interface=iface),
                                            facts(disk_paths=TWO_DISKS))  # fmt: skip
    assert devices == ["virtio-net,netdev=user.0"]
    assert drives == [f"file={DISK},if={iface},{TAIL}", f"file={DISK}-1,if={iface},{TAIL}",
                      f"file={ISO},media=cdrom"]  # fmt: skip


@pytest.mark.parametrize(
    ("iface", "controller", "disk_devices"),
    [
        ("virtio-scsi", ["virtio-scsi-pci,id=scsi0"],
         ["scsi-hd,bus=scsi0.0,drive=drive0", "scsi-hd,bus=scsi0.0,drive=drive1"]),
        ("scsi", ["lsi53c895a,id=lsi0"],
         ["scsi-hd,bus=lsi0.0,drive=drive0", "scsi-hd,bus=lsi0.0,drive=drive1"]),
        ("sata", ["ahci,id=ahci0"],
         ["ide-hd,bus=ahci0.0,drive=drive0", "ide-hd,bus=ahci0.1,drive=drive1"]),
    ],
)  # fmt: skip
def test_drives_on_controllers(iface: str, controller: list[str], disk_devices: list[str]) -> None:
    devices, drives = device_and_drive_args(cfg(disk_interface=iface),
                                            facts(disk_paths=TWO_DISKS))  # fmt: skip
    assert devices == [*controller, *disk_devices, "virtio-net,netdev=user.0"]
    assert drives == [
        f"if=none,file={DISK},id=drive0,{TAIL}",
        f"if=none,file={DISK}-1,id=drive1,{TAIL}",
        f"file={ISO},media=cdrom",
    ]


def test_sd_cards_get_one_controller_each() -> None:
    devices, _ = device_and_drive_args(cfg(disk_interface="sd"), facts(disk_paths=TWO_DISKS))
    assert devices == [
        "sdhci-pci,id=sdhci0",
        "sd-card,drive=drive0",
        "sdhci-pci,id=sdhci1",
        "sd-card,drive=drive1",
        "virtio-net,netdev=user.0",
    ]


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, ""),
        ({"disk_detect_zeroes": "on"}, ",detect-zeroes=on"),
        ({"disk_detect_zeroes": "unmap", "disk_interface": "virtio-scsi"}, ",detect-zeroes=unmap"),
    ],
)
def test_detect_zeroes_appended_unless_off(kw: dict[str, str], expected: str) -> None:
    _, drives = device_and_drive_args(cfg(**kw), facts())
    assert drives[0].endswith(f"format=qcow2{expected}")


def test_disk_options_in_drive() -> None:
    config = cfg(disk_cache="none", disk_discard="unmap", format="raw")
    _, drives = device_and_drive_args(config, facts())
    assert drives[0] == f"file={DISK},if=virtio,cache=none,discard=unmap,format=raw"


def test_cd_files_after_iso() -> None:
    _, drives = device_and_drive_args(cfg(), facts(cd_path="/w/cd.iso"))
    assert drives[1:] == [f"file={ISO},media=cdrom", "file=/w/cd.iso,media=cdrom"]


def test_disk_image_has_no_installer_cd() -> None:
    _, drives = device_and_drive_args(cfg(disk_image=True), facts(cd_path="/w/cd.iso"))
    assert drives[1:] == ["file=/w/cd.iso,media=cdrom"]


@pytest.mark.parametrize(
    ("disk_iface", "cd_iface", "indexes"),
    [
        ("virtio", "virtio", [2, 3]),  # plugin #136: after the two disks
        ("ide", "ide", [2, 3]),
        ("virtio", "ide", [0, 1]),  # other bus: from 0
        ("ide", "virtio", [0, 1]),
    ],
)
def test_cd_index_fix(disk_iface: str, cd_iface: str, indexes: list[int]) -> None:
    config = cfg(disk_interface=disk_iface, cdrom_interface=cd_iface)
    _, drives = device_and_drive_args(config, facts(disk_paths=TWO_DISKS, cd_path="/w/cd.iso"))
    assert drives[2:] == [
        f"file={ISO},if={cd_iface},index={indexes[0]},id=cdrom0,media=cdrom",
        f"file=/w/cd.iso,if={cd_iface},index={indexes[1]},id=cdrom1,media=cdrom",
    ]


def test_virtio_scsi_cd_shares_the_disks_controller() -> None:
    config = cfg(disk_interface="virtio-scsi", cdrom_interface="virtio-scsi")
    devices, drives = device_and_drive_args(config, facts(cd_path="/w/cd.iso"))
    assert devices == ["virtio-scsi-pci,id=scsi0", "scsi-hd,bus=scsi0.0,drive=drive0",
                       "virtio-net,netdev=user.0", "scsi-cd,bus=scsi0.0,drive=cdrom0",
                       "scsi-cd,bus=scsi0.0,drive=cdrom1"]  # fmt: skip
    assert drives[1:] == [f"file={ISO},if=none,index=1,id=cdrom0,media=cdrom",
                          "file=/w/cd.iso,if=none,index=2,id=cdrom1,media=cdrom"]  # fmt: skip


def test_virtio_scsi_cd_adds_the_controller_itself() -> None:  # plugin #41
    devices, drives = device_and_drive_args(cfg(cdrom_interface="virtio-scsi"), facts())
    assert devices == ["virtio-net,netdev=user.0", "virtio-scsi-pci,id=scsi0",
                       "scsi-cd,bus=scsi0.0,drive=cdrom0"]  # fmt: skip
    assert drives[1] == f"file={ISO},if=none,index=0,id=cdrom0,media=cdrom"


@pytest.mark.parametrize(
    ("disk_iface", "cd_iface", "cd_device"),
    [
        ("sata", "sata", "ide-cd,bus=ahci0.1,drive=cdrom0"),
        ("virtio", "sata", "ide-cd,bus=ahci0.0,drive=cdrom0"),
        ("scsi", "scsi", "scsi-cd,bus=lsi0.0,drive=cdrom0"),
        ("virtio-scsi", "scsi", "scsi-cd,bus=lsi0.0,drive=cdrom0"),
    ],
)
def test_sata_and_scsi_cds(disk_iface: str, cd_iface: str, cd_device: str) -> None:
    devices, drives = device_and_drive_args(
        cfg(disk_interface=disk_iface, cdrom_interface=cd_iface), facts()
    )
    assert devices[-1] == cd_device
    assert drives[-1] == f"file={ISO},if=none,id=cdrom0,media=cdrom"
    assert sum(d.startswith(("ahci,", "lsi53c895a,")) for d in devices) == 1


def test_sd_cdrom_is_an_error() -> None:
    with pytest.raises(KilnError, match="cdrom_interface 'sd' cannot hold a CD-ROM"):
        device_and_drive_args(cfg(cdrom_interface="sd"), facts())


def test_ahci_ports_run_out() -> None:
    paths = tuple(f"{DISK}-{i}" for i in range(AHCI_PORTS))
    device_and_drive_args(cfg(disk_interface="sata"), facts(disk_paths=paths))
    with pytest.raises(KilnError, match=r"CD-ROM 1 .*6 ports"):
        device_and_drive_args(cfg(disk_interface="sata", cdrom_interface="sata"),
                              facts(disk_paths=paths))  # fmt: skip


def test_lsi_targets_run_out() -> None:
    paths = tuple(f"{DISK}-{i}" for i in range(LSI_TARGETS + 1))
    with pytest.raises(KilnError, match=r"disk 8 .*at most 7"):
        device_and_drive_args(cfg(disk_interface="scsi"), facts(disk_paths=paths))


# --- qemuargs overrides ------------------------------------------------------------------


def test_no_qemuargs_no_notes() -> None:
    command = build_argv(cfg(), CommConfig(), facts())
    assert command.notes == []
    assert command.argv[0] == "qemu-system-x86_64"
    assert command.argv[1:3] == ["-name", "vm"]


def test_user_switch_replaces_default_in_place() -> None:
    argv = argv_of(cfg(memory=2048), [["-m", "1024M"]])
    assert pairs(argv, "-m") == ["1024M"]
    assert argv.index("-m") < argv.index("-smp")  # the default's position


def test_user_device_drops_defaults_and_rescues_net_device() -> None:
    argv = argv_of(cfg(disk_interface="virtio-scsi"), [["-device", "virtio-rng-pci"]])
    assert pairs(argv, "-device") == ["virtio-rng-pci", "virtio-net,netdev=user.0"]


def test_no_rescue_when_net_device_is_a_substring() -> None:
    rows = [["-device", "virtio-rng-pci"], ["-device", "e1000,netdev=user.0,mac=52:54:00:00:00:01"]]
    argv = argv_of(cfg(net_device="e1000"), rows)
    assert pairs(argv, "-device") == [r[1] for r in rows]


def test_rescue_with_empty_device_value() -> None:
    argv = argv_of(cfg(), [["-device", ""]])
    assert pairs(argv, "-device") == ["virtio-net,netdev=user.0"]


def test_user_drive_drops_disks_cds_and_pflash() -> None:
    config = cfg(firmware="fw.bin", use_pflash=True)
    argv = argv_of(config, [["-drive", "file=my.qcow2,if=virtio"]], cd_path="/w/cd.iso")
    assert pairs(argv, "-drive") == ["file=my.qcow2,if=virtio"]


def test_notes() -> None:
    command = build_argv(cfg(), CommConfig(), facts(), [["-device", "x"], ["-drive", "y"]])
    assert command.notes[0] == "Overriding default Qemu arguments with qemuargs template option..."
    assert "qemuargs sets -drive and -device, which replaces ALL" in command.notes[1]
    assert build_argv(cfg(), CommConfig(), facts(), [["-usb", ""]]).notes == [
        "Overriding default Qemu arguments with qemuargs template option..."
    ]


def test_empty_value_gives_bare_switch() -> None:
    argv = argv_of(cfg(), [["-usb", ""], ["-enable-kvm"]])
    assert argv[argv.index("-usb") + 1] == "-enable-kvm"


def test_multi_part_values_are_concatenated() -> None:
    argv = argv_of(cfg(), [["-netdev", "user,id=user.0,", "hostfwd=tcp::2222-:22"],
                           ["-rtc", "base=", "utc"]])  # fmt: skip
    assert pairs(argv, "-netdev") == ["user,id=user.0,hostfwd=tcp::2222-:22"]
    assert pairs(argv, "-rtc") == ["base=utc"]


def test_repeated_switches_accumulate_in_order() -> None:
    rows = [["-object", "a"], ["-device", "d1"], ["-object", "b"], ["-device", "d2"]]
    argv = argv_of(cfg(net_device="d"), rows)
    assert pairs(argv, "-object") == ["a", "b"]
    assert pairs(argv, "-device") == ["d1", "d2"]  # "d" is a substring: no rescue


def test_user_only_switches_follow_defaults_in_user_order() -> None:
    argv = argv_of(cfg(), [["-rtc", "base=utc"], ["-usb", ""], ["-m", "1G"]])
    tail = argv[argv.index("-drive") :]
    assert [a for a in tail if a in ("-rtc", "-usb")] == ["-rtc", "-usb"]


def test_user_switch_without_default_takes_its_table_slot() -> None:
    argv = argv_of(cfg(), [["-rtc", "base=utc"], ["-cpu", "host"]])
    assert argv.index("-smp") < argv.index("-cpu") < argv.index("-boot")


def test_empty_rows_are_ignored() -> None:
    assert argv_of(cfg(), [[]]) == argv_of(cfg(), None)


def test_unrendered_qemuargs_from_config_when_not_given() -> None:
    command = build_argv(cfg(qemuargs=[["-usb", ""]]), CommConfig(), facts(), None)
    assert "-usb" in command.argv


def test_kiln_plumbing_comes_last_and_serial_yields_to_user() -> None:
    plumbing: dict[str, Any] = {"control_fd": 7, "serial_log": "/w/serial.log"}
    argv = argv_of(cfg(), **plumbing)
    assert argv[-6:] == ["-chardev", "socket,id=kiln-qmp,fd=7",
                         "-mon", "chardev=kiln-qmp,mode=control",
                         "-serial", "file:/w/serial.log"]  # fmt: skip
    assert pairs(argv_of(cfg(), [["-serial", "null"]], **plumbing), "-serial") == ["null"]
    assert "-serial" not in argv_of(cfg(), [["-nographic", ""]], **plumbing)


def test_user_chardev_does_not_remove_kiln_control_channel() -> None:
    argv = argv_of(cfg(), [["-chardev", "null,id=x"]], control_fd=7)
    assert pairs(argv, "-chardev") == ["null,id=x", "socket,id=kiln-qmp,fd=7"]


# --- template data and paths -----------------------------------------------------------


def test_qemuargs_template_data() -> None:
    config = cfg(http_directory="http", http_content={"/a": "b"})
    data = qemuargs_template_data(config, CommConfig(), facts(http_port=8000))
    assert data == {"HTTPIP": "10.0.2.2", "HTTPPort": 8000, "HTTPDir": "http",
                    "HTTPContent": {"/a": "b"}, "OutputDir": "out", "Name": "vm",
                    "SSHHostPort": 2222}  # fmt: skip
    no_comm = qemuargs_template_data(config, CommConfig(communicator="none"), facts())
    assert no_comm["SSHHostPort"] == 0


def test_disk_paths() -> None:
    config = cfg(disk_additional_size=["1G", "2G"])
    assert disk_paths(config) == ("out/vm", "out/vm-1", "out/vm-2")


# --- qemu-img argv -------------------------------------------------------------------------


def test_create_argv() -> None:
    assert qemu_img.create_argv("out/vm", "10G", fmt="raw") == [
        "qemu-img", "create", "-f", "raw", "out/vm", "10G"]  # fmt: skip
    assert qemu_img.create_argv("out/vm", "10G", fmt="qcow2", extra=["-o", "x=1"]) == [
        "qemu-img", "create", "-f", "qcow2", "-o", "x=1", "out/vm", "10G"]  # fmt: skip


def test_create_argv_with_backing_file_names_its_format() -> None:
    argv = qemu_img.create_argv("out/vm", "10G", fmt="qcow2", extra=["-o", "x=1"],
                                backing_file="/cache/src.img")  # fmt: skip
    assert argv == ["qemu-img", "create", "-f", "qcow2", "-b", "/cache/src.img", "-F", "qcow2",
                    "-o", "x=1", "out/vm", "10G"]  # fmt: skip


def test_convert_argv() -> None:
    assert qemu_img.convert_argv("a", "b", out_fmt="qcow2") == [
        "qemu-img", "convert", "-O", "qcow2", "a", "b"]  # fmt: skip
    extra = ["-o", "cluster_size=65536"]
    assert qemu_img.convert_argv("a", "b", out_fmt="qcow2", compress=True, extra=extra) == [
        "qemu-img", "convert", "-c", *extra, "-O", "qcow2", "a", "b"]  # fmt: skip


def test_resize_argv() -> None:
    assert qemu_img.resize_argv("out/vm", "20G", fmt="qcow2", extra=["--shrink"]) == [
        "qemu-img", "resize", "-f", "qcow2", "--shrink", "out/vm", "20G"]  # fmt: skip


@pytest.mark.parametrize(
    ("size", "nbytes"),
    [("40960M", 40960 * 1024**2), ("10G", 10 * 1024**3), ("100b", 100), ("12k", 12 * 1024),
     ("1T", 1024**4), ("20000", 20000 * 1024**2)],
)  # fmt: skip
def test_size_to_bytes(size: str, nbytes: int) -> None:
    assert qemu_img.size_to_bytes(size) == nbytes


@pytest.mark.parametrize("size", ["10GB", "1.5G", "", "G"])
def test_size_to_bytes_rejects(size: str) -> None:
    with pytest.raises(KilnError, match="invalid disk size"):
        qemu_img.size_to_bytes(size)


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(10 * 1024**3, "10G"), (1536 * 1024**2, "1536M"), (1024**4, "1T"), (3, "3b"),
     (2048, "2K")],
)  # fmt: skip
def test_human_size(nbytes: int, text: str) -> None:
    assert qemu_img.human_size(nbytes) == text


@pytest.mark.parametrize(
    ("path", "drive", "plain"),
    [
        ("out/disk.qcow2", "out/disk.qcow2", "out/disk.qcow2"),
        ("out,put/a,snapshot=on", "out,,put/a,,snapshot=on", "out,put/a,snapshot=on"),
        ("nbd:evil:10809/disk", "./nbd:evil:10809/disk", "./nbd:evil:10809/disk"),
        ("/abs/a:b/c,d", "/abs/a:b/c,,d", "/abs/a:b/c,d"),  # absolute: never a protocol
        ("out/a:b", "out/a:b", "out/a:b"),  # a colon after the first slash is a file name
    ],
)
def test_names_as_qemu_reads_them(path: str, drive: str, plain: str) -> None:
    """Issue 15 #12: commas doubled inside option lists, colons never a protocol."""
    assert drive_file(path) == drive
    assert plain_file(path) == plain

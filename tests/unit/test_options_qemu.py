"""The qemu builder's options through `make_plan`: computed defaults, forced values, and every
validation rule of prepare.py with its exact message (Packer's words where Packer has them)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kiln.builders.qemu.config import QemuConfig
from kiln.communicator.config import CommConfig
from kiln.engine.plan import BuildPlan
from kiln.media.checksum import CHECKSUM_MISSING
from kiln.options.spec import Duration, QemuImgArgs
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.loader import parse_template

BASE: dict[str, object] = {
    "type": "qemu",
    "iso_url": "http://example.com/debian.iso",
    "iso_checksum": "none",
    "ssh_username": "root",
    "ssh_password": "secret",
}
SHA256 = "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58"
MD5 = "0ca12fe5f28c2ceed4f4084b41ff8a0b"
NONE_WARNING = (
    "A checksum of 'none' was specified. Since ISO files are so big,\n"
    "a checksum is highly recommended."
)


def run(
    tmp_path: Path, *, force: bool = False, drop: tuple[str, ...] = (), **options: object
) -> tuple[BuildPlan | None, list[str], list[str]]:
    """Plan one qemu build from BASE + options: (build or None, errors, warnings)."""
    builder = {k: v for k, v in {**BASE, **options}.items() if k not in drop}
    tpl = parse_template(json.dumps({"builders": [builder]}), tmp_path / "template.json")
    try:
        plan = make_plan(tpl, PlanOptions(cwd=tmp_path, env={}, force=force))
    except ValidationFailed as failed:
        errors = [e for _, group in failed.groups for e in group]
        return None, errors, [w for _, w in failed.warnings]
    return plan.builds[0], [], [w for _, w in plan.warnings]


def build(tmp_path: Path, **options: object) -> BuildPlan:
    result, errors, _ = run(tmp_path, **options)
    assert errors == []
    assert result is not None
    return result


def config(tmp_path: Path, **options: object) -> QemuConfig:
    return build(tmp_path, **options).config


def comm(tmp_path: Path, **options: object) -> CommConfig:
    return build(tmp_path, **options).comm


def errors(tmp_path: Path, **options: object) -> list[str]:
    return run(tmp_path, **options)[1]


def warnings(tmp_path: Path, **options: object) -> list[str]:
    return run(tmp_path, **options)[2]


# --- computed defaults -----------------------------------------------------------------


def test_computed_defaults_of_a_minimal_build(tmp_path: Path) -> None:
    c = config(tmp_path)
    assert c.output_directory == "output-qemu"
    assert c.vm_name == "packer-qemu"
    assert c.iso_checksum == "none"
    assert c.disk_size == "40960M"
    assert c.boot_wait == Duration(10.0, "10s")
    assert c.shutdown_timeout == Duration(300.0, "5m")
    assert c.qmp_enable is False
    assert c.qmp_socket_path == ""
    assert c.vnc_password == ""
    assert c.efi_firmware_code == ""


def test_names_come_from_the_build_name(tmp_path: Path) -> None:
    c = config(tmp_path, name="debian")
    assert (c.output_directory, c.vm_name) == ("output-debian", "packer-debian")


def test_explicit_output_names_are_kept(tmp_path: Path) -> None:
    c = config(tmp_path, output_directory="out", vm_name="disk.qcow2")
    assert (c.output_directory, c.vm_name) == ("out", "disk.qcow2")


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        # Go zero values mean the default (Packer's Prepare fills them in).
        ("vnc_port_min", 0, 5900),
        ("vnc_port_max", "0", 6000),
        ("http_port_min", 0, 8000),
        ("http_port_max", 0, 9000),
        ("disk_cache", "", "writeback"),
        ("disk_discard", "", "ignore"),
        ("disk_detect_zeroes", "", "off"),
        ("disk_interface", "", "virtio"),
        ("format", "", "qcow2"),
        ("machine_type", "", "pc"),
        ("qemu_binary", "", "qemu-system-x86_64"),
        ("net_device", "", "virtio-net"),
        ("vnc_bind_address", "", "127.0.0.1"),
        ("http_bind_address", "", "127.0.0.1"),  # user networking: the loopback (kiln)
        ("http_network_protocol", "", "tcp"),
        ("tpm_device_type", "", "tpm-tis"),
        ("floppy_label", "", "packer"),
        ("cd_label", "", "packer"),
        ("iso_target_extension", "", "iso"),
        ("shutdown_timeout", "0s", Duration(300.0, "5m")),
        ("boot_wait", "0s", Duration(10.0, "10s")),
        ("boot_wait", 0, Duration(10.0, "10s")),
        # Packer's computed and normalised values.
        ("memory", 0, 512),
        ("memory", 9, 512),
        ("memory", "10", 10),
        ("memory", "0x400", 1024),
        ("memory", 2048.0, 2048),
        ("cpus", 0, 0),
        ("cpus", "4", 4),
        ("iso_target_extension", "IMG", "img"),
        ("boot_wait", "-1s", Duration(-1.0, "-1s")),  # negative: no wait
        ("boot_wait", "1m30s", Duration(90.0, "1m30s")),
        ("boot_key_interval", "10ms", Duration(0.01, "10ms")),
        ("disk_size", 20000, "20000M"),
        ("disk_size", "20000", "20000M"),
        ("disk_size", 20000.0, "20000M"),
        ("disk_size", "0", "40960M"),
        ("disk_size", "", "40960M"),
        ("disk_size", "10G", "10G"),
        ("disk_size", "100b", "100b"),
        ("disk_size", "12345T", "12345T"),
        ("disk_size", "5k", "5k"),
        ("disk_size", "1m", "1m"),
        ("disk_additional_size", ["100", "2G"], ["100M", "2G"]),
        ("disk_additional_size", "3G", ["3G"]),
        ("headless", "true", True),
        ("headless", 1, True),
        ("headless", "0", False),
        ("disk_image", "t", True),
        ("floppy_files", {}, []),
        ("qemuargs", [["-m", 1024]], [["-m", "1024"]]),
        ("qemuargs", [["-usb"], "-no-reboot"], [["-usb"], ["-no-reboot"]]),
        ("qemu_img_args", {"convert": "-c"}, QemuImgArgs(convert=("-c",))),
        ("vm_name", 1.5, "1.5"),
        ("vm_name", True, "1"),
        ("vm_name", 10, "10"),
        ("display", "none", ""),  # documented as "do not pass -display"
        ("display", "sdl", "sdl"),
        ("vnc_port_min", "0x1770", 6000),
    ],
)
def test_option_value_after_prepare(
    tmp_path: Path, option: str, value: object, expected: object
) -> None:
    assert getattr(config(tmp_path, **{option: value}), option) == expected


def test_display_none_means_qemus_default_display(tmp_path: Path) -> None:
    assert config(tmp_path, display="none").use_default_display is True


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("iso_target_path", "/var/cache/isos"),
        ("machine_type", "q35"),
        ("cpu_model", "host"),
        ("sockets", 2),
        ("cores", 2),
        ("threads", 2),
        ("net_device", "e1000"),
        ("vga", "std"),
        ("vnc_bind_address", "0.0.0.0"),
        ("qemu_binary", "qemu-kvm"),
        ("use_default_display", True),
        ("http_bind_address", "127.0.0.1"),
        ("http_network_protocol", "tcp4"),
        ("http_content", {"/ks.cfg": "text"}),
        ("floppy_label", "OEMDRV"),
        ("cd_label", "cidata"),
        ("cd_content", {"meta-data": ""}),
        ("floppy_content", {"a/b.txt": "x"}),
        ("shutdown_command", "poweroff"),
        ("use_pflash", True),
        ("use_tpm1", True),
        ("tpm_device_type", "tpm-crb"),
        ("efi_drop_efivars", True),
        ("headless", True),
        ("skip_compaction", True),
        ("disk_compression", True),
        ("disk_interface", "virtio-scsi"),
        ("disk_cache", "unsafe"),
        ("disk_discard", "unmap"),
        ("disk_detect_zeroes", "unmap"),
        ("accelerator", "tcg"),
        ("format", "raw"),
        ("vnc_port_min", 5901),
        ("vnc_port_max", 5999),
        ("http_port_min", 8100),
        ("http_port_max", 8200),
        ("cdrom_interface", "virtio-scsi"),
    ],
)
def test_option_passes_through(tmp_path: Path, option: str, value: object) -> None:
    assert getattr(config(tmp_path, **{option: value}), option) == value


def test_iso_urls_list(tmp_path: Path) -> None:
    c = config(tmp_path, drop=("iso_url",), iso_urls=["http://a/x.iso", "http://b/x.iso"])
    assert c.iso_urls == ["http://a/x.iso", "http://b/x.iso"]
    assert c.iso_url == ""
    assert config(tmp_path, drop=("iso_url",), iso_urls="http://a/x.iso").iso_urls == [
        "http://a/x.iso"
    ]


# --- forced values ---------------------------------------------------------------------


def test_raw_forces_skip_compaction_and_no_compression(tmp_path: Path) -> None:
    result, errs, warns = run(tmp_path, format="raw", disk_compression=True)
    assert errs == []
    assert result is not None
    assert result.config.skip_compaction is True
    assert result.config.disk_compression is False
    assert "disk_compression has no effect on raw images; ignoring it" in warns


def test_qcow2_keeps_compaction(tmp_path: Path) -> None:
    c = config(tmp_path, disk_compression=True)
    assert (c.skip_compaction, c.disk_compression) == (False, True)


def test_use_backing_file_forces_skip_compaction(tmp_path: Path) -> None:
    c = config(tmp_path, disk_image=True, use_backing_file=True, skip_resize_disk=True)
    assert c.skip_compaction is True
    assert (c.use_backing_file, c.skip_resize_disk, c.disk_image) == (True, True, True)


def test_vnc_use_password_enables_qmp_and_makes_a_password(tmp_path: Path) -> None:
    c = config(tmp_path, vnc_use_password=True)
    assert c.qmp_enable is True
    assert c.qmp_socket_path == os.path.join("output-qemu", "packer-qemu.monitor")
    assert len(c.vnc_password) == 8
    assert c.vnc_password.isalnum()


def test_a_given_vnc_password_is_kept(tmp_path: Path) -> None:
    assert config(tmp_path, vnc_use_password=True, vnc_password="abc").vnc_password == "abc"


def test_net_bridge_enables_qmp(tmp_path: Path) -> None:
    c = config(tmp_path, net_bridge="virbr0", vm_name="vm", output_directory="out")
    assert (c.net_bridge, c.qmp_enable, c.qmp_socket_path) == ("virbr0", True, "out/vm.monitor")


def test_qmp_socket_path_default_and_explicit(tmp_path: Path) -> None:
    assert config(tmp_path, qmp_enable=True).qmp_socket_path == "output-qemu/packer-qemu.monitor"
    c = config(tmp_path, qmp_enable=True, qmp_socket_path="/tmp/q.sock")
    assert c.qmp_socket_path == "/tmp/q.sock"


def test_iso_skip_cache_forces_no_checksum(tmp_path: Path) -> None:
    result, errs, warns = run(tmp_path, iso_skip_cache=True, iso_checksum="md5:zz")
    assert errs == []
    assert result is not None
    assert result.config.iso_checksum == "none"
    assert result.config.iso_skip_cache is True
    assert NONE_WARNING not in warns


def test_efi_firmware_code_turns_efi_on(tmp_path: Path) -> None:
    (tmp_path / "CODE.fd").write_bytes(b"\0")
    result, errs, _ = run(tmp_path, efi_firmware_code="CODE.fd")
    if Path("/usr/share/OVMF/OVMF_VARS.fd").is_file():
        assert result is not None
        assert result.config.efi_boot is True
        assert result.config.efi_firmware_vars == "/usr/share/OVMF/OVMF_VARS.fd"
    else:
        assert errs == [
            "efi_firmware_vars '/usr/share/OVMF/OVMF_VARS.fd' does not exist: install OVMF "
            "(apt-get install ovmf) or point efi_firmware_vars at your firmware"
        ]


def test_efi_firmware_vars_turns_efi_on_with_both_files_given(tmp_path: Path) -> None:
    for name in ("CODE.fd", "VARS.fd"):
        (tmp_path / name).write_bytes(b"\0")
    c = config(tmp_path, efi_firmware_code="CODE.fd", efi_firmware_vars="VARS.fd")
    assert (c.efi_boot, c.efi_firmware_code, c.efi_firmware_vars) == (True, "CODE.fd", "VARS.fd")


def test_firmware_file(tmp_path: Path) -> None:
    (tmp_path / "bios.bin").write_bytes(b"\0")
    assert config(tmp_path, firmware="bios.bin").firmware == "bios.bin"


# --- checksums -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"iso_checksum": MD5}, f"md5:{MD5}"),  # type from the length
        ({"iso_checksum": SHA256.upper()}, f"sha256:{SHA256}"),
        ({"iso_checksum": f"SHA256:{SHA256}"}, f"sha256:{SHA256}"),
        ({"iso_checksum": "none"}, "none"),
        # The seed's forms.
        ({"iso_checksum": MD5, "iso_checksum_type": "md5"}, f"md5:{MD5}"),
        ({"iso_checksum": MD5, "iso_checksum_type": "MD5"}, f"md5:{MD5}"),
        ({"iso_checksum": f"md5:{MD5}", "iso_checksum_type": "md5"}, f"md5:{MD5}"),
        ({"iso_checksum": MD5, "iso_checksum_type": "none"}, "none"),
        (
            {"iso_checksum": "", "iso_checksum_url": "http://example.com/SUMS"},
            "file:http://example.com/SUMS",
        ),
        (
            {"iso_checksum": MD5, "iso_checksum_url": "http://example.com/SUMS"},
            f"md5:{MD5}",
        ),  # the checksum wins, as the seed says
    ],
)
def test_checksum_is_normalised(tmp_path: Path, options: dict[str, object], expected: str) -> None:
    assert config(tmp_path, **options).iso_checksum == expected


def test_legacy_checksum_keys_warn_with_the_modern_spelling(tmp_path: Path) -> None:
    warns = warnings(tmp_path, iso_checksum=MD5, iso_checksum_type="md5")
    assert (
        "iso_checksum_type is deprecated (Packer 1.6 removed it; kiln still reads it, as the "
        f'QEMU page documented it). Write "iso_checksum": "md5:{MD5}" instead.'
    ) in warns
    warns = warnings(tmp_path, iso_checksum="", iso_checksum_url="http://x/SUMS")
    assert (
        "iso_checksum_url is deprecated (Packer 1.6 removed it; kiln still reads it, as the "
        'QEMU page documented it). Write "iso_checksum": "file:http://x/SUMS" instead.'
    ) in warns
    warns = warnings(tmp_path, iso_checksum=MD5, iso_checksum_url="http://x/SUMS")
    assert "iso_checksum_url is ignored because iso_checksum is set" in warns


def test_none_checksum_warns(tmp_path: Path) -> None:
    assert NONE_WARNING in warnings(tmp_path)


def test_local_checksum_file_is_read_at_validate_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "SHA256SUMS").write_text(f"{SHA256}  debian.iso\n{'1' * 64}  other.iso")
    (tmp_path / "other.iso").write_bytes(b"")  # a local ISO must exist at validate time
    assert config(tmp_path, iso_checksum="file:SHA256SUMS").iso_checksum == f"sha256:{SHA256}"
    assert (
        config(tmp_path, iso_checksum="file:./SHA256SUMS", iso_url="other.iso").iso_checksum
        == f"sha256:{'1' * 64}"
    )


def test_remote_checksum_file_waits_for_the_build(tmp_path: Path) -> None:
    c = config(tmp_path, iso_checksum="file:http://127.0.0.1:9/SHA256SUMS")
    assert c.iso_checksum == "file:http://127.0.0.1:9/SHA256SUMS"


@pytest.mark.parametrize(
    ("value", "messages"),
    [
        ("", [CHECKSUM_MISSING]),
        ("md5:zzzz", ["invalid checksum: encoding/hex: invalid byte: U+007A 'z' in \"md5:zzzz\""]),
        ("abcd", ['Unknown type for checksum abcd in "abcd"']),
        ("sha3:abcd", ['unsupported checksum type: sha3 in "sha3:abcd"']),
        (
            "ubuntu.iso",
            [
                "invalid checksum: encoding/hex: invalid byte: U+0075 'u' in \"ubuntu.iso\"",
                "Error parsing checksum: .iso is not a valid checksum ending",
            ],
        ),
        (
            f"sha1:{SHA256}",
            [f'checksum length does not match its type: sha1 needs 40 hex digits, got 64 in '
             f'"sha1:{SHA256}"'],
        ),
    ],
)  # fmt: skip
def test_checksum_errors(tmp_path: Path, value: str, messages: list[str]) -> None:
    assert errors(tmp_path, iso_checksum=value) == messages


def test_missing_checksum_key(tmp_path: Path) -> None:
    assert errors(tmp_path, drop=("iso_checksum",)) == [CHECKSUM_MISSING]


def test_unknown_legacy_checksum_type(tmp_path: Path) -> None:
    assert errors(tmp_path, iso_checksum=MD5, iso_checksum_type="sha3") == [
        "Unsupported checksum type: sha3. iso_checksum_type must be one of none, md5, sha1, "
        'sha256, sha512 (or leave it out and write the type into iso_checksum, e.g. "sha256:<hex>")'
    ]


def test_local_checksum_file_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert errors(tmp_path, iso_checksum="file:missing.sum") == [
        "Error downloading checksum file: open missing.sum: no such file or directory in "
        '"file:missing.sum"'
    ]
    (tmp_path / "SUMS").write_text(f"{SHA256}  other.iso\n")
    assert errors(tmp_path, iso_checksum="file:SUMS") == [
        'no checksum found in: SUMS in "file:SUMS"'
    ]


# --- validation, in Packer's order -----------------------------------------------------


@pytest.mark.parametrize(
    ("options", "messages"),
    [
        ({"shutdown_timeout": "-1s"}, ["shutdown_timeout must be positive, got -1s"]),
        (
            {"disk_size": "10GB"},
            ["Invalid disk size. disk_size '10GB': use a number of megabytes (e.g. 20000) or a "
             "number with one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"disk_size": "1.5G"},
            ["Invalid disk size. disk_size '1.5G': use a number of megabytes (e.g. 20000) or a "
             "number with one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"disk_size": " 10G"},
            ["Invalid disk size. disk_size ' 10G': use a number of megabytes (e.g. 20000) or a "
             "number with one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"disk_size": "10G\n"},
            ["Invalid disk size. disk_size '10G\\n': use a number of megabytes (e.g. 20000) or "
             "a number with one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"disk_size": "١٠"},
            ["Invalid disk size. disk_size '١٠': use a number of megabytes (e.g. 20000) or a "
             "number with one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"disk_additional_size": ["1G", "junk"]},
            ["disk_additional_size[1]: invalid disk size 'junk': use megabytes or a number with "
             "one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"disk_additional_size": ["0"]},
            ["disk_additional_size[0]: invalid disk size '0': use megabytes or a number with "
             "one of the units b, k, m, g, t (e.g. 10G)"],
        ),
        (
            {"boot_command": ["<enter>"], "disable_vnc": True},
            ["A boot command cannot be used when vnc is disabled."],
        ),
        ({"boot_command": ["<wait-1s>"]}, ["Expecting a positive wait value. Got -1s"]),
        ({"boot_command": ["<wait0s>"]}, ["Expecting a positive wait value. Got 0s"]),
        (
            {"boot_command": ["<wait-1m>", "<wait-2s>"]},
            ["Expecting a positive wait value. Got -1m0s",
             "Expecting a positive wait value. Got -2s"],
        ),
        (
            {"boot_steps": [["a", "b", "c"]]},
            ["boot_steps[0] must be [command] or [command, description], got 3 items"],
        ),
        (
            {"boot_steps": [[]]},
            ["boot_steps[0] must be [command] or [command, description], got 0 items"],
        ),
        (
            {"boot_steps": [["<enter>", "go"], ["<wait-1s>"]]},
            ["boot_steps[1]: Expecting a positive wait value. Got -1s"],
        ),
        (
            {"boot_command": ["http://{{ .HTTPIp }}/ks.cfg"]},
            ["invalid 'boot_command': {{ .HTTPIp }} is not available here — did you mean "
             '"HTTPIP"?; available: {{ .HTTPIP }}, {{ .HTTPPort }}, {{ .Name }}, '
             "{{ .SSHPublicKey }}"],
        ),
        (
            {"boot_steps": [["{{ .OutputDir }}", "x"]]},
            ["invalid 'boot_steps[0]': {{ .OutputDir }} is not available here; available: "
             "{{ .HTTPIP }}, {{ .HTTPPort }}, {{ .Name }}, {{ .SSHPublicKey }}"],
        ),
        ({"qemuargs": [[]]}, ["qemuargs[0] is empty: each row is a switch and its values"]),
        (
            {"qemuargs": [["-name", "{{ .VMName }}"]]},
            ["invalid 'qemuargs[0][1]': {{ .VMName }} is not available here — did you mean "
             '"Name"?; available: '
             "{{ .HTTPIP }}, {{ .HTTPPort }}, {{ .HTTPDir }}, {{ .HTTPContent }}, "
             "{{ .OutputDir }}, {{ .Name }}, {{ .SSHHostPort }}"],
        ),
        (
            {"iso_urls": ["http://a/x.iso"]},
            ["Only one of iso_url or iso_urls must be specified"],
        ),
        (
            {"http_directory": "http", "http_content": {"/a": "b"}},
            ["http_content cannot be used in conjunction with http_directory: serve files "
             "either from the directory or from the template",
             "http_directory 'http' is not a directory (resolved against {tmp})"],
        ),
        (
            {"http_port_min": 9000, "http_port_max": 8000},
            ["http_port_min must be less than http_port_max (got 9000 and 8000; set them equal "
             "to force one port)"],
        ),
        (
            {"http_port_max": 70000},
            ["http_port_max must be a TCP port between 1 and 65535, got 70000"],
        ),
        (
            {"http_port_min": -1},
            ["http_port_min must be a TCP port between 1 and 65535, got -1"],
        ),
        (
            {"http_interface": "eth0", "http_bind_address": "0.0.0.0"},
            ["either http_interface or http_bind_address can be specified"],
        ),
        (
            {"http_network_protocol": "unix"},
            ["http_network_protocol 'unix' is not supported by kiln: the guest reaches the "
             "HTTP server over TCP (use tcp, tcp4 or tcp6)"],
        ),
        (
            {"http_network_protocol": "udp"},
            ["http_network_protocol is invalid. Must be one of: [tcp tcp4 tcp6 unix "
             "unixpacket] (http_network_protocol = 'udp'; allowed: tcp, tcp4, tcp6, unix, "
             "unixpacket)"],
        ),
        (
            {"use_backing_file": True},
            ["use_backing_file can only be enabled for QCOW2 images and when disk_image is true"],
        ),
        (
            {"use_backing_file": True, "disk_image": True, "format": "raw"},
            ["use_backing_file can only be enabled for QCOW2 images and when disk_image is true"],
        ),
        (
            {"skip_resize_disk": True},
            ["skip_resize_disk can only be used when disk_image is true"],
        ),
        ({"cpus": -1}, ["cpus must be a positive number"]),
        (
            {"sockets": -1, "cores": -2, "threads": -3},
            ["sockets must be a positive number", "cores must be a positive number",
             "threads must be a positive number"],
        ),
        (
            {"cdrom_interface": "floppy"},
            ["cdrom_interface 'floppy' is not supported: use one of ide, scsi, virtio, "
             "virtio-scsi, sata, sd"],
        ),
        (
            {"cdrom_interface": "virtio-scs"},
            ["cdrom_interface 'virtio-scs' is not supported: use one of ide, scsi, virtio, "
             'virtio-scsi, sata, sd — did you mean "virtio-scsi"?'],
        ),
        (
            {"efi_firmware_code": "nope.fd", "efi_firmware_vars": "nope-vars.fd"},
            ["efi_firmware_code 'nope.fd' does not exist: install OVMF (apt-get install ovmf) "
             "or point efi_firmware_code at your firmware",
             "efi_firmware_vars 'nope-vars.fd' does not exist: install OVMF (apt-get install "
             "ovmf) or point efi_firmware_vars at your firmware"],
        ),
        ({"firmware": "missing.bin"}, ["firmware 'missing.bin' does not exist"]),
        (
            {"vnc_port_min": 5000},
            ["vnc_port_min cannot be below 5900 (got 5000): VNC display N listens on port "
             "5900+N"],
        ),
        (
            {"vnc_port_max": 70000},
            ["vnc_port_min and vnc_port_max must both be below 65535 to be valid TCP ports"],
        ),
        (
            {"vnc_port_min": 6000, "vnc_port_max": 5999},
            ["vnc_port_min must be less than vnc_port_max"],
        ),
        (
            {"vnc_use_password": True, "vnc_password": "123456789"},
            ["vnc_password is 9 characters long; VNC passwords have at most 8"],
        ),
        (
            {"boot_command": ["a"], "boot_steps": [["b"]]},
            ["boot_command and boot_steps cannot be used together"],
        ),
        (
            {"accelerator": "kvm2"},
            ["invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' "
             "are allowed (accelerator = 'kvm2'; allowed: none, kvm, tcg, xen, hax, hvf, whpx) "
             '— did you mean "kvm"?'],
        ),
        (
            {"format": "vmdk"},
            ["invalid format, only 'qcow2' or 'raw' are allowed (format = 'vmdk'; allowed: "
             "qcow2, raw)"],
        ),
        (
            {"disk_interface": "nvme"},
            ["unrecognized disk interface type (disk_interface = 'nvme'; allowed: ide, scsi, "
             "virtio, virtio-scsi, sata, sd)"],
        ),
        (
            {"disk_cache": "write-back"},
            ["unrecognized disk cache type (disk_cache = 'write-back'; allowed: writethrough, "
             'writeback, none, unsafe, directsync) — did you mean "writeback"?'],
        ),
        (
            {"disk_discard": "on"},
            ["unrecognized disk discard type (disk_discard = 'on'; allowed: unmap, ignore)"],
        ),
        (
            {"disk_detect_zeroes": "yes"},
            ["unrecognized disk detect zeroes setting (disk_detect_zeroes = 'yes'; allowed: "
             "unmap, on, off)"],
        ),
    ],
)  # fmt: skip
def test_validation(tmp_path: Path, options: dict[str, object], messages: list[str]) -> None:
    expected = [m.replace("{tmp}", str(tmp_path)) for m in messages]
    assert errors(tmp_path, **options) == expected


def test_missing_iso_url(tmp_path: Path) -> None:
    assert errors(tmp_path, drop=("iso_url",)) == ["One of iso_url or iso_urls must be specified"]


def test_errors_come_in_packers_order(tmp_path: Path) -> None:
    found = errors(
        tmp_path,
        disk_size="10X",
        http_port_min=9001,
        format="vmdk",
        accelerator="bogus",
        disk_interface="bogus",
        vnc_port_min=6001,
    )
    assert [m.split(" (")[0].split(".")[0] for m in found] == [
        "Invalid disk size",
        "http_port_min must be less than http_port_max",
        "invalid format, only 'qcow2' or 'raw' are allowed",
        "invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are "
        "allowed",
        "unrecognized disk interface type",
        "vnc_port_min must be less than vnc_port_max",
    ]


def test_net_device_outside_the_documented_list_is_a_warning(tmp_path: Path) -> None:
    _, errs, warns = run(tmp_path, net_device="virtio-net-pc")
    assert errs == []
    assert (
        "net_device 'virtio-net-pc' is not one of the documented models — did you mean "
        '"virtio-net-pci"?; kiln passes it to QEMU as is'
    ) in warns


def test_vtpm_needs_swtpm(tmp_path: Path) -> None:
    result, errs, _ = run(tmp_path, vtpm=True)
    if shutil.which("swtpm"):
        assert result is not None
        assert result.config.vtpm is True
    else:
        assert errs == ["vtpm needs swtpm on PATH: apt-get install swtpm"]


# --- files on disk ---------------------------------------------------------------------


def test_media_files_must_exist(tmp_path: Path) -> None:
    assert errors(
        tmp_path, floppy_files=["ks.cfg", "a[.cfg"], floppy_dirs=["drivers"], cd_files=["user-data"]
    ) == [
        "Bad Floppy disk file 'ks.cfg': stat ks.cfg: no such file or directory",
        "Bad Floppy disk file 'a[.cfg': syntax error in pattern",
        "Bad Floppy disk directory 'drivers': stat drivers: no such file or directory",
        "Bad CD disk file 'user-data': stat user-data: no such file or directory",
    ]


def test_media_files_found(tmp_path: Path) -> None:
    (tmp_path / "ks.cfg").write_text("x")
    (tmp_path / "drivers").mkdir()
    c = config(
        tmp_path, floppy_files=["ks.cfg", "*.cfg"], floppy_dirs=["drivers"], cd_files=["ks.cfg"]
    )
    assert (c.floppy_files, c.floppy_dirs, c.cd_files) == (
        ["ks.cfg", "*.cfg"],
        ["drivers"],
        ["ks.cfg"],
    )


@pytest.mark.parametrize("option", ["floppy_content", "cd_content"])
def test_content_keys_stay_inside_the_image(tmp_path: Path, option: str) -> None:
    assert errors(tmp_path, **{option: {"../etc/passwd": "x", "": "y"}}) == [
        f"{option} key '../etc/passwd' is not a file path inside the image: use a relative "
        "path such as 'dir/name.txt' (no '..', not empty)",
        f"{option} key '' is not a file path inside the image: use a relative "
        "path such as 'dir/name.txt' (no '..', not empty)",
    ]


def test_http_directory_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "http").mkdir()
    assert config(tmp_path, http_directory="http").http_directory == "http"
    (tmp_path / "file").write_text("")
    assert errors(tmp_path, http_directory="file") == [
        f"http_directory 'file' is not a directory (resolved against {tmp_path})"
    ]


def test_output_directory_must_not_exist(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert config(tmp_path, output_directory="out").output_directory == "out"  # empty: fine
    (out / "disk.qcow2").write_text("")
    assert errors(tmp_path, output_directory="out") == [
        "Output directory 'out' already exists. It must not exist (or be empty): remove it, "
        "choose another output_directory, or run with -force."
    ]
    result, errs, _ = run(tmp_path, force=True, output_directory="out")
    assert errs == []
    assert result is not None


def test_an_existing_file_as_output_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("")
    assert errors(tmp_path, output_directory="out")[0].startswith(
        "Output directory 'out' already exists."
    )


# --- warnings for options that do nothing ----------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [("run_once", True), ("boot_keygroup_interval", "100ms")],
)
def test_inert_options_warn(tmp_path: Path, option: str, value: object) -> None:
    _, errs, warns = run(tmp_path, **{option: value})
    assert errs == []
    assert (
        f"{option} is accepted for compatibility but has no effect in kiln "
        "(docs/options/qemu.md says why)"
    ) in warns


def test_inert_options_set_to_their_default_say_nothing(tmp_path: Path) -> None:
    assert not [w for w in warnings(tmp_path, run_once=False) if "run_once" in w]


# --- names no file can have ------------------------------------------------------------


def test_file_names_with_nul(tmp_path: Path) -> None:
    assert errors(tmp_path, floppy_files=["a\0b"], floppy_dirs=["\0"], cd_files=["c\0"]) == [
        "floppy_files[0] 'a\\x00b' contains a NUL character: no file is named so",
        "floppy_dirs[0] '\\x00' contains a NUL character: no file is named so",
        "cd_files[0] 'c\\x00' contains a NUL character: no file is named so",
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("http_directory", "http_directory '{v}' is not a directory (resolved against {tmp})"),
        ("firmware", "firmware '{v}' does not exist"),
    ],
)
@pytest.mark.parametrize("value", ["x" * 5000, "~no-such-user-here/x", "a\0b"])
def test_impossible_paths_are_plain_errors(
    tmp_path: Path, option: str, message: str, value: str
) -> None:
    (found,) = errors(tmp_path, **{option: value})
    assert found == message.format(v=value, tmp=tmp_path).replace("\0", "\\x00")


def test_impossible_output_directory_is_accepted_until_the_build(tmp_path: Path) -> None:
    assert config(tmp_path, output_directory="x" * 5000).output_directory == "x" * 5000


def test_checksum_file_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "SHA256SUMS").write_text(f"{SHA256} *debian.iso\n")
    for value in ("file://./SHA256SUMS", f"file:file://{tmp_path}/SHA256SUMS",
                  f"file:{tmp_path}/SHA256SUMS"):  # fmt: skip
        assert config(tmp_path, iso_checksum=value).iso_checksum == f"sha256:{SHA256}"


def test_checksum_file_in_the_template_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (tmp_path / "SUMS").write_text(f"{MD5}  debian.iso\n")
    assert config(tmp_path, iso_checksum="file:SUMS").iso_checksum == f"md5:{MD5}"


def test_checksum_file_name_with_nul(tmp_path: Path) -> None:
    assert errors(tmp_path, iso_checksum="file:a\0b") == [
        "iso_checksum 'file:a\\x00b': embedded null byte"
    ]


async def test_checksum_file_is_read_under_a_running_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "SUMS").write_text(f"{MD5}  debian.iso\n")
    assert config(tmp_path, iso_checksum="file:SUMS").iso_checksum == f"md5:{MD5}"


@pytest.mark.parametrize(
    ("binary", "install"),
    [
        ("qemu-system-x86_64", "install OVMF (apt-get install ovmf)"),
        ("/usr/bin/qemu-system-x86_64", "install OVMF (apt-get install ovmf)"),
        ("qemu-system-i386", "install OVMF for 32-bit x86 (apt-get install ovmf-ia32)"),
        (
            "qemu-system-aarch64",
            "install the UEFI firmware for aarch64 (apt-get install "
            "qemu-efi-aarch64; Fedora: edk2-aarch64)",
        ),
        (
            "/opt/qemu/bin/qemu-system-arm",
            "install the UEFI firmware for arm (apt-get install qemu-efi-arm; Fedora: edk2-arm)",
        ),
        ("qemu-system-riscv64", "install UEFI firmware for riscv64"),
        ("my-qemu-wrapper", "install UEFI firmware for your QEMU's architecture"),
    ],
)
def test_efi_firmware_hint_names_the_package_for_the_architecture(
    tmp_path: Path, binary: str, install: str
) -> None:
    """An aarch64 build was told to install OVMF, which is x86 firmware (issue 10 §2.7)."""
    _, errs, _ = run(tmp_path, qemu_binary=binary, efi_firmware_code="nope.fd",
                     efi_firmware_vars="nope-vars.fd")  # fmt: skip
    assert errs == [
        f"efi_firmware_code 'nope.fd' does not exist: {install} or point efi_firmware_code at "
        "your firmware",
        f"efi_firmware_vars 'nope-vars.fd' does not exist: {install} or point "
        "efi_firmware_vars at your firmware",
    ]


def test_http_bind_address_is_the_loopback_with_user_networking(tmp_path: Path) -> None:
    """Issue 15 #9: slirp's 10.0.2.2 is the host's loopback, so the answer files (root
    passwords) need not be served on every interface, as Packer's 0.0.0.0 does."""
    assert config(tmp_path).http_bind_address == "127.0.0.1"
    assert config(tmp_path, net_bridge="br0").http_bind_address == "0.0.0.0"
    assert config(tmp_path, http_bind_address="0.0.0.0").http_bind_address == "0.0.0.0"
    assert config(tmp_path, http_bind_address="192.0.2.7").http_bind_address == "192.0.2.7"

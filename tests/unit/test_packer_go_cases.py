"""Packer's own Go tests of the qemu builder, case by case, against kiln.

Sources: builder/qemu/*_test.go at Packer v1.6.6 and in packer-plugin-qemu (main). Each test
names the Go test it ports. Where kiln deliberately differs, the test asserts kiln's
behaviour and docs/compatibility.md lists the difference (the comment says which).
`TestBuilder_ImplementsBuilder` (a Go interface check) has no Python counterpart.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from test_cmdline import argv_of, cfg, facts, pairs

from kiln.builders.qemu import qemu_img
from kiln.builders.qemu.cmdline import qemuargs_template_data, smp_value
from kiln.builders.qemu.config import SLIRP_HOST_IP
from kiln.communicator.config import CommConfig
from kiln.engine.plan import BuildPlan
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.loader import parse_template

# config_test.go's testConfig()
TEST_CONFIG: dict[str, Any] = {
    "type": "qemu",
    "name": "foo",
    "iso_checksum": "md5:0B0F137F17AC10944716020B018F8126",
    "iso_url": "http://www.google.com/",
    "ssh_username": "foo",
}
# config_test.go's testPem (an RSA key made for the test)
TEST_PEM = """\
-----BEGIN RSA PRIVATE KEY-----
MIIEpQIBAAKCAQEAxd4iamvrwRJvtNDGQSIbNvvIQN8imXTRWlRY62EvKov60vqu
hh+rDzFYAIIzlmrJopvOe0clqmi3mIP9dtkjPFrYflq52a2CF5q+BdwsJXuRHbJW
LmStZUwW1khSz93DhvhmK50nIaczW63u4EO/jJb3xj+wxR1Nkk9bxi3DDsYFt8SN
AzYx9kjlEYQ/+sI4/ATfmdV9h78SVotjScupd9KFzzi76gWq9gwyCBLRynTUWlyD
2UOfJRkOvhN6/jKzvYfVVwjPSfA9IMuooHdScmC4F6KBKJl/zf/zETM0XyzIDNmH
uOPbCiljq2WoRM+rY6ET84EO0kVXbfx8uxUsqQIDAQABAoIBAQCkPj9TF0IagbM3
5BSs/CKbAWS4dH/D4bPlxx4IRCNirc8GUg+MRb04Xz0tLuajdQDqeWpr6iLZ0RKV
BvreLF+TOdV7DNQ4XE4gSdJyCtCaTHeort/aordL3l0WgfI7mVk0L/yfN1PEG4YG
E9q1TYcyrB3/8d5JwIkjabxERLglCcP+geOEJp+QijbvFIaZR/n2irlKW4gSy6ko
9B0fgUnhkHysSg49ChHQBPQ+o5BbpuLrPDFMiTPTPhdfsvGGcyCGeqfBA56oHcSF
K02Fg8OM+Bd1lb48LAN9nWWY4WbwV+9bkN3Ym8hO4c3a/Dxf2N7LtAQqWZzFjvM3
/AaDvAgBAoGBAPLD+Xn1IYQPMB2XXCXfOuJewRY7RzoVWvMffJPDfm16O7wOiW5+
2FmvxUDayk4PZy6wQMzGeGKnhcMMZTyaq2g/QtGfrvy7q1Lw2fB1VFlVblvqhoJa
nMJojjC4zgjBkXMHsRLeTmgUKyGs+fdFbfI6uejBnnf+eMVUMIdJ+6I9AoGBANCn
kWO9640dttyXURxNJ3lBr2H3dJOkmD6XS+u+LWqCSKQe691Y/fZ/ZL0Oc4Mhy7I6
hsy3kDQ5k2V0fkaNODQIFJvUqXw2pMewUk8hHc9403f4fe9cPrL12rQ8WlQw4yoC
v2B61vNczCCUDtGxlAaw8jzSRaSI5s6ax3K7enbdAoGBAJB1WYDfA2CoAQO6y9Sl
b07A/7kQ8SN5DbPaqrDrBdJziBQxukoMJQXJeGFNUFD/DXFU5Fp2R7C86vXT7HIR
v6m66zH+CYzOx/YE6EsUJms6UP9VIVF0Rg/RU7teXQwM01ZV32LQ8mswhTH20o/3
uqMHmxUMEhZpUMhrfq0isyApAoGAe1UxGTXfj9AqkIVYylPIq2HqGww7+jFmVEj1
9Wi6S6Sq72ffnzzFEPkIQL/UA4TsdHMnzsYKFPSbbXLIWUeMGyVTmTDA5c0e5XIR
lPhMOKCAzv8w4VUzMnEkTzkFY5JqFCD/ojW57KvDdNZPVB+VEcdxyAW6aKELXMAc
eHLc1nkCgYEApm/motCTPN32nINZ+Vvywbv64ZD+gtpeMNP3CLrbe1X9O+H52AXa
1jCoOldWR8i2bs2NVPcKZgdo6fFULqE4dBX7Te/uYEIuuZhYLNzRO1IKU/YaqsXG
3bfQ8hKYcSnTfE0gPtLDnqCIxTocaGLSHeG3TH9fTw+dA8FvWpUztI4=
-----END RSA PRIVATE KEY-----
"""


@dataclasses.dataclass
class Prepared:
    errors: str  # every error as kiln prints them, "" when valid
    warnings: list[str]
    build: BuildPlan[Any] | None


def prepare(tmp_path: Path, **keys: Any) -> Prepared:
    builder = {**TEST_CONFIG, **keys}
    builder = {k: v for k, v in builder.items() if v is not None}
    tpl = parse_template(json.dumps({"builders": [builder]}), tmp_path / "t.json")
    try:
        plan = make_plan(tpl, PlanOptions(cwd=tmp_path, env={}))
    except ValidationFailed as failed:
        return Prepared(failed.format(), [m for _, m in failed.warnings], None)
    return Prepared("", [m for _, m in plan.warnings], plan.builds[0])


# Without a password or key file kiln logs in with its temporary key and says so (Packer
# 1.6.6: silent; compatibility.md "No password and no key file").
TEMP_KEY_WARNING = "No ssh_password or ssh_private_key_file is set"


def other_warnings(p: Prepared) -> list[str]:
    return [w for w in p.warnings if not w.startswith(TEMP_KEY_WARNING)]


# --- config_test.go / comm_config_test.go (Prepare) -----------------------------------


def test_BuilderPrepare_Defaults_and_CommConfigPrepare(tmp_path: Path) -> None:
    p = prepare(tmp_path)
    assert p.errors == "" and other_warnings(p) == []
    assert p.build is not None
    c, comm = p.build.config, p.build.comm
    assert c.output_directory == "output-foo"
    assert (comm.host_port_min, comm.host_port_max, comm.ssh_port) == (2222, 4444, 22)
    assert c.vm_name == "packer-foo"
    assert c.format == "qcow2"
    assert c.vnc_bind_address == "127.0.0.1"  # TestBuilderPrepare_VNCBindAddress


def test_BuilderPrepare_DiskCompaction(tmp_path: Path) -> None:
    bad = prepare(tmp_path, skip_compaction=False, disk_compression=True, format="img")
    assert "invalid format" in bad.errors
    good = prepare(tmp_path, skip_compaction=False, disk_compression=True, format="qcow2")
    assert good.errors == "" and good.build is not None
    assert (good.build.config.skip_compaction, good.build.config.disk_compression) == (False, True)


@pytest.mark.parametrize(
    ("size", "normalised", "error"),
    [(None, "40960M", False), ("12345", "12345M", False), ("12345x", None, True),
     ("12345T", "12345T", False), ("12345b", "12345b", False), ("60000M", "60000M", False)],
)  # fmt: skip
def test_BuilderPrepare_DiskSize(
    tmp_path: Path, size: str | None, normalised: str | None, error: bool
) -> None:
    p = prepare(tmp_path, disk_size=size)
    assert bool(p.errors) is error
    if not error:
        assert p.build is not None and p.build.config.disk_size == normalised


def test_BuilderPrepare_AdditionalDiskSize(tmp_path: Path) -> None:
    with_image = prepare(tmp_path, disk_additional_size=["1M"], disk_image=True)
    assert with_image.errors == "" and other_warnings(with_image) == []
    plain = prepare(tmp_path, disk_additional_size=["1M"])
    assert plain.build is not None and plain.build.config.disk_additional_size == ["1M"]


@pytest.mark.parametrize(("fmt", "ok"), [("illegal value", False), ("qcow2", True), ("raw", True)])
def test_BuilderPrepare_Format(tmp_path: Path, fmt: str, ok: bool) -> None:
    assert (prepare(tmp_path, format=fmt).errors == "") is ok


@pytest.mark.parametrize(
    ("disk_image", "fmt", "ok"),
    [(False, "qcow2", False), (True, "raw", False), (True, "qcow2", True)],
)
def test_BuilderPrepare_UseBackingFile(
    tmp_path: Path, disk_image: bool, fmt: str, ok: bool
) -> None:
    p = prepare(tmp_path, use_backing_file=True, disk_image=disk_image, format=fmt)
    assert (p.errors == "") is ok


def test_BuilderPrepare_SkipResizeDisk(tmp_path: Path) -> None:
    assert prepare(tmp_path, skip_resize_disk=True, disk_image=False).errors


def test_BuilderPrepare_FloppyFiles_and_InvalidFloppies(tmp_path: Path) -> None:
    (tmp_path / "bar.bat").write_text("x")
    (tmp_path / "foo.ps1").write_text("y")
    p = prepare(tmp_path, floppy_files=["bar.bat", "foo.ps1"])
    assert p.build is not None and p.build.config.floppy_files == ["bar.bat", "foo.ps1"]
    bad = prepare(tmp_path, floppy_files=["nonexistent.bat", "nonexistent.ps1"])
    assert "2 errors occurred" in bad.errors


def test_BuilderPrepare_InvalidKey(tmp_path: Path) -> None:
    assert "i_should_not_be_valid" in prepare(tmp_path, i_should_not_be_valid=True).errors


def test_BuilderPrepare_OutputDir(tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "disk").write_text("x")
    assert prepare(tmp_path, output_directory=str(full)).errors
    # An existing EMPTY directory (Go's TempDir) is accepted by kiln (compatibility.md:
    # "An existing, empty output directory"); Packer 1.6.6 rejects it.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare(tmp_path, output_directory=str(empty)).errors == ""
    assert prepare(tmp_path, output_directory="i-hope-i-dont-exist").errors == ""


@pytest.mark.parametrize("key", ["shutdown_timeout", "ssh_timeout"])
def test_BuilderPrepare_ShutdownTimeout_and_SSHWaitTimeout(tmp_path: Path, key: str) -> None:
    assert prepare(tmp_path, **{key: "this is not good"}).errors
    assert prepare(tmp_path, **{key: "5s"}).errors == ""


@pytest.mark.parametrize(
    ("low", "high", "ok"), [(1000, 500, False), (-500, 500, False), (500, 1000, True)]
)
def test_BuilderPrepare_SSHHostPort(tmp_path: Path, low: int, high: int, ok: bool) -> None:
    p = prepare(tmp_path, host_port_min=low, host_port_max=high)
    assert (p.errors == "") is ok


def test_BuilderPrepare_SSHPrivateKey(tmp_path: Path) -> None:
    assert prepare(tmp_path, ssh_private_key_file="").errors == ""
    assert prepare(tmp_path, ssh_private_key_file="/i/dont/exist").errors
    bad = tmp_path / "bad"
    bad.write_text("HELLO!")
    assert prepare(tmp_path, ssh_private_key_file=str(bad)).errors
    good = tmp_path / "good"
    good.write_text(TEST_PEM)
    assert prepare(tmp_path, ssh_private_key_file=str(good)).errors == ""


def test_BuilderPrepare_QemuArgs(tmp_path: Path) -> None:
    p = prepare(tmp_path)
    assert p.build is not None and p.build.config.qemuargs == []
    p = prepare(tmp_path, qemuargs=[["foo", "bar", "baz"]])
    assert p.build is not None and p.build.config.qemuargs == [["foo", "bar", "baz"]]


def test_BuilderPrepare_VNCPassword(tmp_path: Path) -> None:
    p = prepare(tmp_path, vnc_use_password=True, output_directory="not-a-real-directory")
    assert p.errors == "" and p.build is not None
    assert p.build.config.qmp_socket_path == "not-a-real-directory/packer-foo.monitor"


def test_CommConfigPrepare_BackwardsCompatibility(tmp_path: Path) -> None:
    # Go passes a time.Duration; a JSON template writes "2m" (a bare number is an error in
    # kiln: compatibility.md "A bare number as a duration").
    p = prepare(tmp_path, ssh_wait_timeout="2m", ssh_host_port_min=1234, ssh_host_port_max=4321)
    assert p.errors == "" and p.build is not None
    assert other_warnings(p)  # deprecated spellings warn
    comm = p.build.comm
    assert (comm.ssh_timeout.seconds, comm.host_port_min, comm.host_port_max) == (120, 1234, 4321)


def test_BuilderPrepare_LoadQemuImgArgs(tmp_path: Path) -> None:
    args = {"convert": ["-o", "preallocation=full"], "resize": ["-foo", "bar"],
            "create": ["-baz", "bang"]}  # fmt: skip
    p = prepare(tmp_path, qemu_img_args=args)
    assert p.build is not None
    q = p.build.config.qemu_img_args
    assert [list(q.convert), list(q.resize), list(q.create)] == [
        args["convert"],
        args["resize"],
        args["create"],
    ]


def test_plugin_BuilderPrepare_cd_content(tmp_path: Path) -> None:
    p = prepare(tmp_path, cd_content={"meta-data": "hello", "user-data": "world"})
    assert p.errors == "" and p.build is not None
    assert p.build.config.cd_content == {"meta-data": "hello", "user-data": "world"}


def test_plugin_VNCPassword_rules(tmp_path: Path) -> None:
    """TestVNCPasswordEmptyWhenUsePasswordFalse, …RandomWhenVNCPasswordEmpty,
    …SetWhenVNCPasswordNotEmpty, …ErrorWhenPasswordLenMoreThan8."""
    off = prepare(tmp_path, vnc_use_password=False)
    assert off.build is not None and off.build.config.vnc_password == ""
    random = prepare(tmp_path, vnc_use_password=True)
    assert random.build is not None and len(random.build.config.vnc_password) == 8
    given = prepare(tmp_path, vnc_use_password=True, vnc_password="secret")
    assert given.build is not None and given.build.config.vnc_password == "secret"
    assert prepare(tmp_path, vnc_use_password=True, vnc_password="123456789").errors


def test_plugin_CommConfigPrepare_WinHostPort(tmp_path: Path) -> None:
    # WinRM is not supported by kiln: a winrm communicator is an error (compatibility.md).
    assert "winrm" in prepare(tmp_path, communicator="winrm", winrm_username="u").errors


# --- step_create_disk_test.go / step_convert_disk_test.go / step_resize_disk_test.go ------


@pytest.mark.parametrize(
    ("backing", "extra", "expected"),
    [
        (None, (), ["create", "-f", "qcow2", "target.qcow2", "1234M"]),
        ("source.qcow2", (),
         ["create", "-f", "qcow2", "-b", "source.qcow2", "-F", "qcow2", "target.qcow2", "1234M"]),
        ("source.qcow2", ("-foo", "bar"),
         ["create", "-f", "qcow2", "-b", "source.qcow2", "-F", "qcow2", "-foo", "bar",
          "target.qcow2", "1234M"]),
        (None, ("-foo", "bar"), ["create", "-f", "qcow2", "-foo", "bar", "target.qcow2", "1234M"]),
    ],
)  # fmt: skip
def test_buildCreateCommand(
    backing: str | None, extra: tuple[str, ...], expected: list[str]
) -> None:
    """The plugin's cases (Packer 1.6.6's omit `-F qcow2`: compatibility.md)."""
    argv = qemu_img.create_argv("target.qcow2", "1234M", fmt="qcow2", extra=extra,
                                backing_file=backing)  # fmt: skip
    assert argv == ["qemu-img", *expected]


@pytest.mark.parametrize(
    ("compress", "extra", "expected"),
    [
        (False, (), ["convert", "-O", "qcow2", "source.qcow", "target.qcow2"]),
        (True, (), ["convert", "-c", "-O", "qcow2", "source.qcow", "target.qcow2"]),
        (True, ("-o", "preallocation=full"),
         ["convert", "-c", "-o", "preallocation=full", "-O", "qcow2", "source.qcow",
          "target.qcow2"]),
    ],
)  # fmt: skip
def test_buildConvertCommand(compress: bool, extra: tuple[str, ...], expected: list[str]) -> None:
    """The argv builder is Packer's; the compaction step adds `-W` when compressing
    (compatibility.md: "A compressing convert")."""
    argv = qemu_img.convert_argv("source.qcow", "target.qcow2", out_fmt="qcow2", extra=extra,
                                 compress=compress)  # fmt: skip
    assert argv == ["qemu-img", *expected]
    assert qemu_img.COMPRESS_OPTIONS == ("-W",)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [((), ["resize", "-f", "qcow2", "source.qcow", "1234M"]),
     (("-foo", "bar"), ["resize", "-f", "qcow2", "-foo", "bar", "source.qcow", "1234M"])],
)  # fmt: skip
def test_buildResizeCommand(extra: tuple[str, ...], expected: list[str]) -> None:
    argv = qemu_img.resize_argv("source.qcow", "1234M", fmt="qcow2", extra=extra)
    assert argv == ["qemu-img", *expected]


# Test_StepCopySkip, Test_StepCopyCalled, Test_StepQemuImgCalled,
# Test_StepQemuImgCalledWithExtraArgs, Test_StepCreateCalled and TestStepResizeDisk_Skips run
# the steps: tests/data/golden/disk_image*.json and defaults.json hold their argv (the dry run
# runs the same steps as a build), checked by test_golden_argv.py.


# --- step_http_ip_discover_test.go -------------------------------------------------------


def test_StepHTTPIPDiscover_Run() -> None:
    assert SLIRP_HOST_IP == "10.0.2.2"


# --- step_run_test.go ------------------------------------------------------------------


def test_UserOverrides_interpolation() -> None:
    data = qemuargs_template_data(
        cfg(http_directory="http/directory", output_directory="output/directory", vm_name="myvm"),
        CommConfig(),
        facts(http_ip="127.0.0.1", http_port=1234, comm_host_port=5000),
    )
    assert (data["HTTPIP"], data["HTTPPort"], data["HTTPDir"]) == ("127.0.0.1", 1234,
                                                                    "http/directory")  # fmt: skip
    assert (data["OutputDir"], data["Name"]) == ("output/directory", "myvm")


def test_UserOverrides_display_and_device() -> None:
    argv = argv_of(cfg(headless=False), [["-display", "partydisplay"]], headless=False)
    assert pairs(argv, "-display") == ["partydisplay"]
    argv = argv_of(cfg(net_device="mynetdevice"), [["-device", "somerandomdevice"]])
    assert pairs(argv, "-device") == ["somerandomdevice", "mynetdevice,netdev=user.0"]


def test_DriveAndDeviceArgs_virtio_scsi() -> None:
    argv = argv_of(cfg(disk_interface="virtio-scsi", disk_detect_zeroes="on"),
                   cd_path="fake_cd_path.iso", disk_paths=("qemupath1", "qemupath2"))  # fmt: skip
    assert pairs(argv, "-boot") == ["once=d"]
    assert pairs(argv, "-device")[:3] == ["virtio-scsi-pci,id=scsi0",
        "scsi-hd,bus=scsi0.0,drive=drive0", "scsi-hd,bus=scsi0.0,drive=drive1"]  # fmt: skip
    drives = pairs(argv, "-drive")
    assert drives[:2] == [
        "if=none,file=qemupath1,id=drive0,cache=writeback,discard=ignore,format=qcow2,"
        "detect-zeroes=on",
        "if=none,file=qemupath2,id=drive1,cache=writeback,discard=ignore,format=qcow2,"
        "detect-zeroes=on",
    ]
    # CD-ROMs carry no index= (the modern plugin; 1.6.6 writes index=0, index=1):
    # compatibility.md "QEMU command line".
    assert drives[2:] == [
        "file=/cache/installer.iso,media=cdrom",
        "file=fake_cd_path.iso,media=cdrom",
    ]


def test_DriveAndDeviceArgs_disk_image_boots_c() -> None:
    argv = argv_of(cfg(disk_image=True), cd_path="fake_cd_path.iso", iso_path=None,
                   disk_paths=("path_to_output",))  # fmt: skip
    assert pairs(argv, "-boot") == ["c"]
    assert pairs(argv, "-drive") == [
        "file=path_to_output,if=virtio,cache=writeback,discard=ignore,format=qcow2",
        "file=fake_cd_path.iso,media=cdrom",
    ]


def test_OptionalConfigOptionsGetSet() -> None:
    argv = argv_of(cfg(vnc_use_password=True, qmp_enable=True, qmp_socket_path="qmp_path",
                       vm_name="MyFancyName", machine_type="pc", accelerator="hvf"),
                   accelerator="hvf", floppy_path="fake_floppy_path")  # fmt: skip
    assert pairs(argv, "-name") == ["MyFancyName"]
    assert pairs(argv, "-machine") == ["type=pc,accel=hvf"]
    assert pairs(argv, "-fda") == ["fake_floppy_path"]
    # QEMU 7's spellings (compatibility.md): Packer 1.6.6 writes `:5905,password` and
    # `unix:qmp_path,server,nowait`.
    assert pairs(argv, "-vnc") == ["127.0.0.1:0,password=on"]
    assert pairs(argv, "-qmp") == ["unix:qmp_path,server=on,wait=off"]


@pytest.mark.parametrize(
    ("kw", "switch", "value"),
    [({}, "-boot", "once=d"), ({"disk_image": True}, "-boot", "c"),
     ({"qmp_enable": True, "qmp_socket_path": "/path/to/socket"}, "-qmp",
      "unix:/path/to/socket,server=on,wait=off"),
     ({"vm_name": "partyname"}, "-name", "partyname"),
     ({"memory": 2345}, "-m", "2345M"),
     ({"machine_type": "partytype", "accelerator": "kvm"}, "-machine", "type=partytype,accel=tcg"),
     ({"net_device": "party"}, "-device", "party,netdev=user.0")],
)  # fmt: skip
def test_Defaults(kw: dict[str, Any], switch: str, value: str) -> None:
    """Test_Defaults: Packer-generated switches are present (the accelerator in the argv is
    the resolved one, here the test's tcg)."""
    iso = {"iso_path": None} if kw.get("disk_image") else {}
    assert value in pairs(argv_of(cfg(**kw), **iso), switch)


# --- step_shutdown_test.go ---------------------------------------------------------------
# Test_Shutdown_Null_success / _failure (communicator none: wait for QEMU to exit within
# shutdown_timeout, else "Failed to shutdown") run QEMU: tests/e2e (communicator none builds)
# and kiln.builders.qemu.step_shutdown. Test_Shutdown_NoShutdownCommand: Packer kills QEMU at
# once; kiln presses the ACPI power button first (compatibility.md "Accelerator, shutdown").


# --- packer-plugin-qemu step_run_test.go: Test_Defaults' further cases ----------------------


@pytest.mark.parametrize(
    ("cpus", "sockets", "cores", "threads", "smp"),
    [(2, 0, 0, 0, "2"), (2, 1, 0, 0, "1,sockets=1"), (0, 2, 5, 2, "20,sockets=2,cores=5,threads=2"),
     (8, 2, 2, 0, "4,sockets=2,cores=2")],
)  # fmt: skip
def test_plugin_Defaults_smp(cpus: int, sockets: int, cores: int, threads: int, smp: str) -> None:
    assert smp_value(cpus, sockets, cores, threads) == smp


def test_plugin_Defaults_machine_netdev_vnc_display_vga() -> None:
    argv = argv_of(cfg(accelerator="none", machine_type="fancymachine"), accelerator="none")
    assert pairs(argv, "-machine") == ["type=fancymachine"]  # no accel= for "none"
    assert pairs(argv_of(cfg(net_bridge="fakebridge"), comm_host_port=None), "-netdev") == [
        "bridge,id=user.0,br=fakebridge"
    ]
    none = dataclasses.replace(CommConfig(), communicator="none")
    assert pairs(argv_of(cfg(), comm=none, comm_host_port=None), "-netdev") == ["user,id=user.0"]
    ssh = dataclasses.replace(CommConfig(), ssh_port=4567)
    assert pairs(argv_of(cfg(), comm=ssh, comm_host_port=1111), "-netdev") == [
        "user,id=user.0,hostfwd=tcp::1111-:4567"
    ]
    assert pairs(argv_of(cfg(vnc_bind_address="1.1.1.1"), vnc_port=5959), "-vnc") == ["1.1.1.1:59"]
    argv = argv_of(cfg(cpus=2), floppy_path="/path/to/floppy")
    assert (pairs(argv, "-fda"), pairs(argv, "-smp")) == (["/path/to/floppy"], ["2"])
    shown = argv_of(cfg(headless=False, display="fakedisplay"), headless=False)
    assert pairs(shown, "-display") == ["fakedisplay"]
    assert pairs(argv_of(cfg(headless=False), headless=False), "-display") == ["gtk"]
    assert pairs(argv_of(cfg(vga="virtio")), "-vga") == ["virtio"]
    # "Boot value (-boot) should not be set when using UEFI builds": the EFI work
    # (efi_boot, tests/data/golden/efi_boot.*) owns those argv.

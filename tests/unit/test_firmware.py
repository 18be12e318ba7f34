"""UEFI firmware from QEMU's firmware descriptors (kiln.builders.qemu.firmware).

The descriptors are Debian's own (tests/data/firmware/debian: `ovmf` and `qemu-efi-aarch64`)
and hand-made ones (tests/data/firmware/handmade); each test lays them out in the three
search directories under tmp_path. Image files are not needed: `exists` is given.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kiln.builders.qemu import firmware as fw
from kiln.builders.qemu import prepare as prepare_mod
from kiln.builders.qemu.cmdline import RuntimeFacts, build_argv
from kiln.builders.qemu.config import QemuConfig
from kiln.engine.plan import BuildPlan
from kiln.plan import PlanOptions, ValidationFailed, make_plan
from kiln.template.loader import parse_template

DATA = Path(__file__).resolve().parent.parent / "data" / "firmware"
DEBIAN = DATA / "debian"
HANDMADE = DATA / "handmade"
BASE = {
    "type": "qemu",
    "iso_url": "http://example.com/x.iso",
    "iso_checksum": "none",
    "ssh_username": "root",
    "ssh_password": "secret",
}
X86 = ("40-edk2-x86_64-secure-enrolled.json", "50-edk2-x86_64-secure.json", "60-edk2-x86_64.json")


def always(_: str) -> bool:
    return True


class Dirs:
    """usr/share, etc and the user's directory, general to specific."""

    def __init__(self, root: Path) -> None:
        self.share = root / "usr-share-qemu-firmware"
        self.etc = root / "etc-qemu-firmware"
        self.user = root / "config-qemu-firmware"
        for d in self.all:
            d.mkdir()

    @property
    def all(self) -> list[Path]:
        return [self.share, self.etc, self.user]

    def debian(self) -> Dirs:
        for f in DEBIAN.glob("*.json"):
            shutil.copy(f, self.share / f.name)
        return self

    def select(self, **want: object) -> fw.Selection:
        files, passed = fw.descriptor_files(self.all)
        sel = fw.select(files, fw.Search(**want), exists=always)  # type: ignore[arg-type]
        sel.skipped[:0] = passed
        return sel


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    return Dirs(tmp_path)


def chosen(sel: fw.Selection) -> str:
    assert sel.firmware is not None and sel.firmware.descriptor is not None, sel.skipped
    return sel.firmware.descriptor.path.name


def reasons(sel: fw.Selection) -> dict[str, str]:
    return {path.name: why for path, why in sel.skipped}


# --- Debian's descriptors ----------------------------------------------------------------


def test_debian_pc_gets_the_plain_4m_firmware(dirs: Dirs) -> None:
    sel = dirs.debian().select(machine="pc")
    assert chosen(sel) == "60-edk2-x86_64.json"
    assert sel.firmware is not None
    assert sel.firmware.code == fw.FlashImage("/usr/share/OVMF/OVMF_CODE_4M.fd", "raw")
    assert sel.firmware.vars == fw.FlashImage("/usr/share/OVMF/OVMF_VARS_4M.fd", "raw")
    assert not sel.firmware.needs_smm and not sel.firmware.secure_pflash
    why = reasons(sel)
    # name order: 40-edk2-aarch64… < 40-edk2-x86_64… < 50… < 60-edk2-aarch64 < 60-edk2-x86_64
    assert why["40-edk2-aarch64-secure-enrolled.json"] == "for aarch64, not x86_64"
    assert why["40-edk2-x86_64-secure-enrolled.json"] == (
        "machine type 'pc' is not one of pc-q35-*"
    )
    assert why["50-edk2-x86_64-secure.json"] == "machine type 'pc' is not one of pc-q35-*"
    assert why["60-edk2-aarch64.json"] == "for aarch64, not x86_64"


def test_debian_q35_without_secure_boot_skips_the_secure_boot_builds(dirs: Dirs) -> None:
    sel = dirs.debian().select(machine="q35")
    assert chosen(sel) == "60-edk2-x86_64.json"
    why = reasons(sel)
    assert why["40-edk2-x86_64-secure-enrolled.json"] == (
        "has secure-boot (used only with efi_secure_boot: true)"
    )
    assert why["50-edk2-x86_64-secure.json"] == why["40-edk2-x86_64-secure-enrolled.json"]


def test_debian_q35_secure_boot_gets_enrolled_keys_and_smm(dirs: Dirs) -> None:
    sel = dirs.debian().select(machine="q35", secure_boot=True)
    assert chosen(sel) == "40-edk2-x86_64-secure-enrolled.json"
    assert sel.firmware is not None
    assert sel.firmware.code.path == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
    assert sel.firmware.vars.path == "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
    assert sel.firmware.needs_smm and sel.firmware.secure_pflash


def test_debian_secure_boot_without_enrolled_keys_is_not_enough(dirs: Dirs) -> None:
    (dirs.share / "50-edk2-x86_64-secure.json").write_bytes(
        (DEBIAN / "50-edk2-x86_64-secure.json").read_bytes()
    )
    sel = dirs.select(machine="q35", secure_boot=True)
    assert sel.firmware is None
    assert reasons(sel)["50-edk2-x86_64-secure.json"] == (
        "lacks enrolled-keys (efi_secure_boot asks for both)"
    )


def test_debian_pc_secure_boot_finds_nothing(dirs: Dirs) -> None:
    sel = dirs.debian().select(machine="pc", secure_boot=True)
    assert sel.firmware is None
    assert reasons(sel)["60-edk2-x86_64.json"] == (
        "lacks enrolled-keys and secure-boot (efi_secure_boot asks for both)"
    )


def test_aarch64_virt_gets_its_own_and_not_x86(dirs: Dirs) -> None:
    sel = dirs.debian().select(architecture="aarch64", machine="virt")
    assert chosen(sel) == "60-edk2-aarch64.json"
    why = reasons(sel)
    assert why["40-edk2-x86_64-secure-enrolled.json"] == "for x86_64, not aarch64"
    assert why["40-edk2-aarch64-secure-enrolled.json"] == (
        "has secure-boot (used only with efi_secure_boot: true)"
    )


# --- priorities and overrides ------------------------------------------------------------


def test_a_lower_number_in_any_directory_comes_first(dirs: Dirs) -> None:
    dirs.debian()
    shutil.copy(HANDMADE / "10-qemu-upstream-x86_64.json", dirs.user)
    sel = dirs.select(machine="pc")
    assert chosen(sel) == "10-qemu-upstream-x86_64.json"
    assert sel.firmware is not None
    assert sel.firmware.code.path == "/usr/local/share/qemu/edk2-x86_64-code.fd"


def test_a_higher_number_in_a_specific_directory_comes_later(dirs: Dirs) -> None:
    dirs.debian()
    shutil.copy(HANDMADE / "10-qemu-upstream-x86_64.json", dirs.etc / "99-mine.json")
    assert chosen(dirs.select(machine="pc")) == "60-edk2-x86_64.json"


def test_the_same_name_in_etc_replaces_the_distribution_file(dirs: Dirs) -> None:
    dirs.debian()
    shutil.copy(HANDMADE / "10-qemu-upstream-x86_64.json", dirs.etc / "60-edk2-x86_64.json")
    sel = dirs.select(machine="pc")
    assert sel.firmware is not None and sel.firmware.descriptor is not None
    assert sel.firmware.descriptor.path == dirs.etc / "60-edk2-x86_64.json"
    assert sel.firmware.code.path == "/usr/local/share/qemu/edk2-x86_64-code.fd"
    skipped = dict(sel.skipped)
    assert skipped[dirs.share / "60-edk2-x86_64.json"] == (
        f"overridden by {dirs.etc / '60-edk2-x86_64.json'}"
    )


def test_the_user_directory_beats_etc(dirs: Dirs) -> None:
    dirs.debian()
    shutil.copy(HANDMADE / "10-qemu-upstream-x86_64.json", dirs.etc / "60-edk2-x86_64.json")
    shutil.copy(DEBIAN / "60-edk2-x86_64.json", dirs.user / "60-edk2-x86_64.json")
    sel = dirs.select(machine="pc")
    assert sel.firmware is not None and sel.firmware.descriptor is not None
    assert sel.firmware.descriptor.path == dirs.user / "60-edk2-x86_64.json"
    assert sel.firmware.code.path == "/usr/share/OVMF/OVMF_CODE_4M.fd"


def test_an_empty_file_hides_the_distribution_file(dirs: Dirs) -> None:
    dirs.debian()
    (dirs.user / "60-edk2-x86_64.json").write_text("")
    sel = dirs.select(machine="pc")
    assert sel.firmware is None
    skipped = dict(sel.skipped)
    assert skipped[dirs.user / "60-edk2-x86_64.json"] == (
        "empty: it hides the descriptors of the same name"
    )
    assert dirs.share / "60-edk2-x86_64.json" in skipped


def test_missing_directories_and_non_json_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "README").write_text("not a descriptor")
    shutil.copy(DEBIAN / "60-edk2-x86_64.json", tmp_path / "d")
    files, passed = fw.descriptor_files([tmp_path / "absent", tmp_path / "d"])
    assert files == [tmp_path / "d" / "60-edk2-x86_64.json"]
    assert passed == []


def test_images_that_do_not_exist_are_passed_over(dirs: Dirs) -> None:
    dirs.debian()
    shutil.copy(HANDMADE / "10-qemu-upstream-x86_64.json", dirs.share)
    files, _ = fw.descriptor_files(dirs.all)
    sel = fw.select(files, fw.Search(machine="pc"), exists=lambda p: "/usr/local/" not in p)
    assert chosen(sel) == "60-edk2-x86_64.json"
    assert reasons(sel)["10-qemu-upstream-x86_64.json"] == (
        "/usr/local/share/qemu/edk2-x86_64-code.fd and "
        "/usr/local/share/qemu/edk2-i386-vars.fd missing"
    )


# --- what a descriptor must be -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("30-seabios.json", "not UEFI (interface-types: bios)"),
        ("31-stateless.json", "flash mode 'stateless' without separate code and vars images"),
        ("34-broken.json", "not valid JSON: "),
    ],
)
def test_unusable_descriptors_say_why(dirs: Dirs, name: str, why: str) -> None:
    shutil.copy(HANDMADE / name, dirs.share)
    sel = dirs.select(machine="q35")
    assert sel.firmware is None
    assert reasons(sel)[name].startswith(why)


def test_a_memory_mapped_uefi_is_not_flash() -> None:
    d = fw.parse_descriptor(
        Path("x.json"),
        '{"interface-types": ["uefi"], "mapping": {"device": "memory", "filename": "/f"},'
        ' "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}]}',
    )
    assert fw.why_not(d, fw.Search(machine="q35")) == (
        "mapped as memory, not flash (kiln uses pflash code + vars)"
    )


@pytest.mark.parametrize(
    "text", ["[]", '{"interface-types": ["uefi"]}', '{"mapping": 3}', "not json"]
)
def test_malformed_descriptors_raise(text: str) -> None:
    with pytest.raises(fw.FirmwareError):
        fw.parse_descriptor(Path("x.json"), text)


def test_qcow2_images_keep_their_format(dirs: Dirs) -> None:
    shutil.copy(HANDMADE / "20-fedora-style-qcow2.json", dirs.share)
    sel = dirs.select(machine="q35")
    assert sel.firmware is not None
    assert sel.firmware.code.format == "qcow2" and sel.firmware.vars.format == "qcow2"


def test_requires_smm_is_skipped_on_i440fx(dirs: Dirs) -> None:
    shutil.copy(HANDMADE / "32-smm-on-i440fx.json", dirs.share)
    sel = dirs.select(machine="pc", secure_boot=True)
    assert sel.firmware is None
    assert reasons(sel)["32-smm-on-i440fx.json"] == (
        "requires SMM, which machine type 'pc' cannot give (use q35)"
    )
    assert chosen(dirs.select(machine="q35", secure_boot=True)) == "32-smm-on-i440fx.json"


# --- machine types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "machine", "expected"),
    [
        (["pc-q35-*"], "q35", True),
        (["pc-q35-*"], "pc-q35-7.2", True),
        (["pc-q35-*"], "pc", False),
        (["pc-i440fx-*"], "pc", True),
        (["pc-i440fx-*"], "pc-i440fx-2.12", True),
        (["pc-i440fx-*"], "ubuntu", True),
        (["pc-q35-*"], "ubuntu-q35", True),
        (["pc-q35-4.*"], "pc-q35-4.2", True),
        (["pc-q35-4.*"], "q35", False),  # the alias is the newest type, not a 4.x one
        (["virt-*"], "virt", True),
        (["microvm"], "microvm", True),
        ([], "pc", False),
    ],
)
def test_machine_matches(patterns: list[str], machine: str, expected: bool) -> None:
    assert fw.machine_matches(patterns, machine) is expected


def test_a_version_bound_glob_needs_a_versioned_machine(dirs: Dirs) -> None:
    shutil.copy(HANDMADE / "33-old-q35-only.json", dirs.share)
    assert dirs.select(machine="q35").firmware is None
    assert chosen(dirs.select(machine="pc-q35-4.2")) == "33-old-q35-only.json"


# --- directories, explicit images, machine problems ---------------------------------------


def test_descriptor_dirs_follow_xdg_config_home() -> None:
    system = [Path("/usr/share/qemu/firmware"), Path("/etc/qemu/firmware")]
    assert fw.descriptor_dirs({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}) == [
        *system,
        Path("/x/qemu/firmware"),
    ]
    assert fw.descriptor_dirs({"HOME": "/h"}) == [*system, Path("/h/.config/qemu/firmware")]
    assert fw.descriptor_dirs({"XDG_CONFIG_HOME": "", "HOME": "/h"})[-1] == Path(
        "/h/.config/qemu/firmware"
    )
    assert fw.descriptor_dirs({}) == system


def debian_descriptors() -> list[fw.Descriptor]:
    return [
        fw.parse_descriptor(DEBIAN / name, (DEBIAN / name).read_text())
        for name in ("40-edk2-x86_64-secure-enrolled.json", *X86[1:])
    ]


def test_explicit_images_take_a_matching_descriptors_features() -> None:
    firmware = fw.describe_explicit(
        "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
        "/my/vars.fd",
        debian_descriptors(),
        lambda _: "raw",
    )
    assert firmware.descriptor is not None
    assert firmware.descriptor.path.name == "50-edk2-x86_64-secure.json"
    assert firmware.vars == fw.FlashImage("/my/vars.fd", "raw")
    assert firmware.needs_smm and firmware.secure_pflash
    problem = fw.machine_problem(firmware, "pc")
    assert problem is not None
    assert problem.startswith(
        "the UEFI firmware /usr/share/OVMF/OVMF_CODE_4M.secboot.fd "
        f"({DEBIAN / '50-edk2-x86_64-secure.json'}) requires SMM (System Management Mode), "
        "which machine_type 'pc' cannot provide for it"
    )
    assert '"machine_type": "q35"' in problem
    assert fw.machine_problem(firmware, "q35") is None


def test_explicit_images_no_descriptor_names_get_sniffed_formats() -> None:
    formats = {"/a/code.qcow2": "qcow2", "/a/vars.fd": "raw"}
    firmware = fw.describe_explicit(
        "/a/code.qcow2", "/a/vars.fd", debian_descriptors(), formats.__getitem__
    )
    assert firmware == fw.Firmware(
        fw.FlashImage("/a/code.qcow2", "qcow2"), fw.FlashImage("/a/vars.fd")
    )
    assert fw.machine_problem(firmware, "pc") is None


def test_sniff_format(tmp_path: Path) -> None:
    (tmp_path / "q").write_bytes(fw.QCOW2_MAGIC + b"\0" * 100)
    (tmp_path / "r").write_bytes(b"\0" * 100)
    assert fw.sniff_format(str(tmp_path / "q")) == "qcow2"
    assert fw.sniff_format(str(tmp_path / "r")) == "raw"
    assert fw.sniff_format(str(tmp_path / "absent")) == "raw"


# --- through make_plan: prepare picks, the argv follows ----------------------------------


class Host:
    """A host with its own descriptor directories (system ones patched) and image files."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = tmp_path
        self.share = tmp_path / "share"
        self.etc = tmp_path / "etc"
        self.config_home = tmp_path / "config"
        self.user = self.config_home / "qemu" / "firmware"
        for d in (self.share, self.etc, self.user):
            d.mkdir(parents=True)
        monkeypatch.setattr(fw, "SYSTEM_DIRS", (self.share, self.etc))
        monkeypatch.setattr(prepare_mod, "DEFAULT_EFI_CODE", str(tmp_path / "no-OVMF_CODE.fd"))

    def image(self, name: str, data: bytes = b"\0" * 64) -> str:
        path = self.root / "images" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return str(path)

    def descriptor(self, where: Path, name: str, source: Path, **paths: str) -> Path:
        """`source` (a Debian or hand-made descriptor) with its image paths moved here."""
        data = json.loads(source.read_text())
        for key, value in paths.items():
            data["mapping"]["executable" if key == "code" else "nvram-template"]["filename"] = value
        out = where / name
        out.write_text(json.dumps(data))
        return out

    def plan(self, **builder: object) -> tuple[BuildPlan[QemuConfig] | None, list[str]]:
        template = {"builders": [{**BASE, "accelerator": "tcg", **builder}]}
        tpl = parse_template(json.dumps(template), self.root / "t.json")
        env = {"XDG_CONFIG_HOME": str(self.config_home)}
        try:
            plan = make_plan(tpl, PlanOptions(cwd=self.root, env=env))
        except ValidationFailed as failed:
            return None, [e for _, group in failed.groups for e in group]
        return plan.builds[0], []

    def firmware(self, build: BuildPlan[QemuConfig]) -> fw.Firmware:
        """What the efivars step settles on for the build (as it does at run time)."""
        c = build.config
        dirs = fw.descriptor_dirs({"XDG_CONFIG_HOME": str(self.config_home)})
        return fw.settled(c.efi_firmware_code, c.efi_firmware_vars, dirs)

    def argv(self, build: BuildPlan[QemuConfig]) -> list[str]:
        efivars = str(self.root / "out" / "efivars.fd")
        firmware = self.firmware(build)
        run = RuntimeFacts("tcg", ("out/vm",), efivars_path=efivars, firmware=firmware)
        return build_argv(build.config, build.comm, run).argv


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Host:
    return Host(tmp_path, monkeypatch)


def debian_like(host: Host) -> dict[str, str]:
    """Debian's three x86_64 descriptors, pointing at files under tmp_path."""
    images = {
        name: host.image(name)
        for name in ("CODE_4M.ms.fd", "VARS_4M.ms.fd", "CODE_4M.secboot.fd", "CODE_4M.fd",
                     "VARS_4M.fd")
    }  # fmt: skip
    host.descriptor(host.share, X86[0], DEBIAN / X86[0], code=images["CODE_4M.ms.fd"],
                    vars=images["VARS_4M.ms.fd"])  # fmt: skip
    host.descriptor(host.share, X86[1], DEBIAN / X86[1], code=images["CODE_4M.secboot.fd"],
                    vars=images["VARS_4M.fd"])  # fmt: skip
    host.descriptor(host.share, X86[2], DEBIAN / X86[2], code=images["CODE_4M.fd"],
                    vars=images["VARS_4M.fd"])  # fmt: skip
    return images


def test_efi_boot_takes_the_descriptors_images(host: Host) -> None:
    images = debian_like(host)
    build, errors = host.plan(efi_boot=True)
    assert errors == [] and build is not None
    c = build.config
    assert (c.efi_firmware_code, c.efi_firmware_vars) == (
        images["CODE_4M.fd"],
        images["VARS_4M.fd"],
    )
    firmware = host.firmware(build)
    assert firmware.descriptor is not None and firmware.descriptor.path == host.share / X86[2]
    argv = host.argv(build)
    assert f"file={images['CODE_4M.fd']},if=pflash,unit=0,format=raw,readonly=on" in argv
    assert argv[argv.index("-machine") + 1] == "type=pc,accel=tcg"


def test_a_users_descriptor_wins(host: Host) -> None:
    debian_like(host)
    mine = host.image("mine-code.qcow2", fw.QCOW2_MAGIC + b"\0" * 60)
    host.descriptor(host.user, "10-mine.json", HANDMADE / "20-fedora-style-qcow2.json",
                    code=mine, vars=host.image("mine-vars.qcow2"))  # fmt: skip
    build, errors = host.plan(efi_boot=True, machine_type="q35")
    assert errors == [] and build is not None
    assert build.config.efi_firmware_code == mine
    assert f"file={mine},if=pflash,unit=0,format=qcow2,readonly=on" in host.argv(build)


def test_secure_boot_on_q35_gets_smm_options(host: Host) -> None:
    images = debian_like(host)
    build, errors = host.plan(efi_secure_boot=True, machine_type="q35")
    assert errors == [] and build is not None
    assert build.config.efi_boot is True
    assert build.config.efi_firmware_code == images["CODE_4M.ms.fd"]
    argv = host.argv(build)
    assert argv[argv.index("-machine") + 1] == "type=q35,accel=tcg,smm=on"
    assert argv[argv.index("-global") + 1] == "driver=cfi.pflash01,property=secure,value=on"


def test_secure_boot_on_pc_is_an_error_naming_the_fix(host: Host) -> None:
    debian_like(host)
    build, errors = host.plan(efi_secure_boot=True)
    assert build is None
    (message,) = errors
    lines = message.splitlines()
    assert lines[0] == (
        "efi_boot: no Secure Boot UEFI firmware for x86_64 and machine_type 'pc': no firmware "
        f"descriptor fits (looked in {host.share}, {host.etc}, {host.user})"
    )
    assert f"  {X86[0]}: machine type 'pc' is not one of pc-q35-*" in lines
    assert '  Secure Boot firmware needs SMM: set "machine_type": "q35"' in lines


def test_no_firmware_at_all_says_what_to_install(host: Host) -> None:
    build, errors = host.plan(efi_boot=True)
    assert build is None
    assert errors[0].startswith(
        "efi_boot: no UEFI firmware for x86_64 and machine_type 'pc': no firmware descriptor "
        f"fits (looked in {host.share}, {host.etc}, {host.user}) and "
        f"{host.root / 'no-OVMF_CODE.fd'} does not exist"
    )
    assert errors[0].endswith(
        "install OVMF (apt-get install ovmf), or set efi_firmware_code and efi_firmware_vars"
    )


def test_packers_default_paths_are_the_fallback(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, vars_ = host.image("OVMF_CODE.fd"), host.image("OVMF_VARS.fd")
    monkeypatch.setattr(prepare_mod, "DEFAULT_EFI_CODE", code)
    monkeypatch.setattr(prepare_mod, "DEFAULT_EFI_VARS", vars_)
    build, errors = host.plan(efi_boot=True)
    assert errors == [] and build is not None
    assert (build.config.efi_firmware_code, build.config.efi_firmware_vars) == (code, vars_)
    assert host.firmware(build).descriptor is None


def test_explicit_code_gets_its_descriptors_vars(host: Host) -> None:
    images = debian_like(host)
    build, errors = host.plan(efi_firmware_code=images["CODE_4M.fd"])
    assert errors == [] and build is not None
    assert build.config.efi_firmware_vars == images["VARS_4M.fd"]


def test_explicit_vars_keep_the_descriptors_code(host: Host) -> None:
    images = debian_like(host)
    mine = host.image("my-vars.fd")
    build, errors = host.plan(efi_firmware_vars=mine)
    assert errors == [] and build is not None
    assert (build.config.efi_firmware_code, build.config.efi_firmware_vars) == (
        images["CODE_4M.fd"],
        mine,
    )


def test_explicit_secure_boot_code_on_pc_is_refused(host: Host) -> None:
    """Packer starts it, and OVMF's SMM build hangs on i440fx without a word."""
    images = debian_like(host)
    build, errors = host.plan(
        efi_firmware_code=images["CODE_4M.secboot.fd"], efi_firmware_vars=images["VARS_4M.fd"]
    )
    assert build is None
    (message,) = errors
    assert message.startswith(
        f"the UEFI firmware {images['CODE_4M.secboot.fd']} ({host.share / X86[1]}) requires "
        "SMM (System Management Mode), which machine_type 'pc' cannot provide for it"
    )
    build, errors = host.plan(
        efi_firmware_code=images["CODE_4M.secboot.fd"],
        efi_firmware_vars=images["VARS_4M.fd"],
        machine_type="q35",
    )
    assert errors == [] and build is not None
    assert "driver=cfi.pflash01,property=secure,value=on" in host.argv(build)

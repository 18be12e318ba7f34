"""UEFI firmware chosen the way QEMU's own tooling chooses it: from firmware descriptors.

Distributions describe their firmware images in JSON files (QEMU's
`docs/interop/firmware.json`): Debian's `ovmf` package installs
`/usr/share/qemu/firmware/60-edk2-x86_64.json` and friends, Fedora's `edk2-ovmf` its own,
QEMU's upstream build `edk2-x86_64-code.fd`'s. Management software (libvirt, mkosi) reads
them instead of guessing file names, which differ between distributions and releases (2 MB
and 4 MB images, `/usr/share/OVMF`, `/usr/share/edk2/ovmf`, qcow2 images on Fedora).

The rules, from the specification:

* files come from `/usr/share/qemu/firmware` (distributions), `/etc/qemu/firmware`
  (administrators) and `$XDG_CONFIG_HOME/qemu/firmware` (users; `~/.config`), general to
  specific; a file in a more specific directory replaces the one of the same name in a more
  general one, and an empty file there hides it;
* the list is sorted by file name (hence the `NN-` prefixes), and the first descriptor that
  matches the search wins;
* `targets[].machines` are globs over concrete machine types (`pc-q35-*`); `pc` and `q35`
  are aliases of the newest `pc-i440fx-X.Y` / `pc-q35-X.Y`.

kiln's search: a UEFI (`interface-types` has `uefi`) flash firmware with separate code and
variables images (`mapping.device` `flash`, `mode` `split`) for the emulator's architecture
and the template's `machine_type`; without Secure Boot unless asked (`secure-boot` and
`enrolled-keys` both present when asked, neither `secure-boot` otherwise, which is what
Packer's default `OVMF_CODE.fd` is); and a firmware that `requires-smm` only on a machine
that can give it (q35). Everything here is pure: the directories are arguments, and the
reasons each descriptor was passed over are returned for the debug log.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_DIRS = (Path("/usr/share/qemu/firmware"), Path("/etc/qemu/firmware"))
# Machine type aliases and the family of versioned types each stands for (its newest one).
MACHINE_ALIASES = {
    "pc": "pc-i440fx-",
    "q35": "pc-q35-",
    "ubuntu": "pc-i440fx-",
    "ubuntu-q35": "pc-q35-",
    "virt": "virt-",
}
SMM_FAMILIES = ("pc-q35-",)  # OVMF's SMM builds run on Q35 only (they need its TSEG)
QCOW2_MAGIC = b"QFI\xfb"


class FirmwareError(Exception):
    """A descriptor that cannot be used, or a firmware a machine type cannot run."""


@dataclass(frozen=True, slots=True)
class FlashImage:
    path: str
    format: str = "raw"


@dataclass(frozen=True, slots=True)
class Target:
    architecture: str
    machines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One parsed firmware descriptor file (only what kiln uses)."""

    path: Path
    description: str
    interface_types: tuple[str, ...]
    device: str
    mode: str
    code: FlashImage | None
    vars: FlashImage | None
    targets: tuple[Target, ...]
    features: frozenset[str]

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class Firmware:
    """What the build uses: the two flash images and what the machine must provide."""

    code: FlashImage
    vars: FlashImage
    descriptor: Descriptor | None = None  # None: explicit paths no descriptor describes
    features: frozenset[str] = frozenset()

    @property
    def needs_smm(self) -> bool:
        return "requires-smm" in self.features

    @property
    def secure_pflash(self) -> bool:
        """`-global driver=cfi.pflash01,property=secure,value=on` (firmware.json, requires-smm)."""
        return self.needs_smm and "secure-boot" in self.features


@dataclass(frozen=True, slots=True)
class Search:
    architecture: str = "x86_64"
    machine: str = "pc"
    secure_boot: bool = False


@dataclass(slots=True)
class Selection:
    firmware: Firmware | None
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)


def descriptor_dirs(env: Mapping[str, str]) -> list[Path]:
    """The three search directories, general to specific (firmware.json's `Firmware`)."""
    xdg = env.get("XDG_CONFIG_HOME") or ""
    if xdg:
        user = Path(xdg)
    elif env.get("HOME"):
        user = Path(env["HOME"]) / ".config"
    else:
        return list(SYSTEM_DIRS)
    return [*SYSTEM_DIRS, user / "qemu" / "firmware"]


def descriptor_files(dirs: Sequence[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files to consider, in priority order, and the ones overridden or hidden (why)."""
    by_name: dict[str, Path] = {}
    passed: list[tuple[Path, str]] = []
    for directory in dirs:
        try:
            names = sorted(p for p in directory.iterdir() if p.name.endswith(".json"))
        except OSError:
            continue
        for path in names:
            if path.name in by_name:
                older = by_name[path.name]
                passed.append((older, f"overridden by {path}"))
            by_name[path.name] = path
    files: list[Path] = []
    for name in sorted(by_name):
        path = by_name[name]
        try:
            empty = path.stat().st_size == 0
        except OSError as err:
            passed.append((path, f"unreadable: {err.strerror or err}"))
            continue
        if empty:
            passed.append((path, "empty: it hides the descriptors of the same name"))
        else:
            files.append(path)
    return files, passed


def parse_descriptor(path: Path, text: str) -> Descriptor:
    """A descriptor from its JSON text; FirmwareError says what is wrong with it."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise FirmwareError(f"not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise FirmwareError("not a JSON object")
    mapping = data.get("mapping")
    if not isinstance(mapping, dict):
        raise FirmwareError("no 'mapping' object")
    targets = []
    for t in _list(data, "targets"):
        if isinstance(t, dict) and isinstance(t.get("architecture"), str):
            machines = tuple(m for m in t.get("machines") or () if isinstance(m, str))
            targets.append(Target(t["architecture"], machines))
    return Descriptor(
        path=path,
        description=str(data.get("description", "")),
        interface_types=tuple(str(x) for x in _list(data, "interface-types")),
        device=str(mapping.get("device", "")),
        mode=str(mapping.get("mode", "split")),
        code=_flash(mapping.get("executable")),
        vars=_flash(mapping.get("nvram-template")),
        targets=tuple(targets),
        features=frozenset(str(x) for x in _list(data, "features")),
    )


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key)
    return list(value) if isinstance(value, list) else []


def _flash(value: object) -> FlashImage | None:
    if not isinstance(value, dict) or not isinstance(value.get("filename"), str):
        return None
    return FlashImage(value["filename"], str(value.get("format", "raw")))


def machine_matches(patterns: Iterable[str], machine: str) -> bool:
    """Does `machine` (a concrete type or an alias) match one of the descriptor's globs?

    An alias stands for its newest versioned type, whose version is not known without
    asking QEMU: it matches the family's `*` glob (`pc-q35-*`), not a version-bound one.
    """
    family = MACHINE_ALIASES.get(machine)
    for pattern in patterns:
        if family is not None:
            if pattern == family + "*" or pattern == machine:
                return True
        elif fnmatch.fnmatchcase(machine, pattern):
            return True
    return False


def can_smm(machine: str) -> bool:
    return MACHINE_ALIASES.get(machine, machine).startswith(SMM_FAMILIES)


def why_not(d: Descriptor, want: Search) -> str | None:
    """Why `d` does not fit `want` (None when it does)."""
    if "uefi" not in d.interface_types:
        return f"not UEFI (interface-types: {', '.join(d.interface_types) or 'none'})"
    if d.device != "flash":
        return f"mapped as {d.device or 'nothing'}, not flash (kiln uses pflash code + vars)"
    if d.mode != "split" or d.code is None or d.vars is None:
        return f"flash mode {d.mode!r} without separate code and vars images"
    arch = [t for t in d.targets if t.architecture == want.architecture]
    if not arch:
        found = ", ".join(sorted({t.architecture for t in d.targets})) or "none"
        return f"for {found}, not {want.architecture}"
    if not any(machine_matches(t.machines, want.machine) for t in arch):
        machines = ", ".join(m for t in arch for m in t.machines) or "none"
        return f"machine type {want.machine!r} is not one of {machines}"
    if want.secure_boot:
        missing = sorted({"secure-boot", "enrolled-keys"} - d.features)
        if missing:
            return f"lacks {' and '.join(missing)} (efi_secure_boot asks for both)"
    elif "secure-boot" in d.features:
        return "has secure-boot (used only with efi_secure_boot: true)"
    if "requires-smm" in d.features and not can_smm(want.machine):
        return f"requires SMM, which machine type {want.machine!r} cannot give (use q35)"
    return None


def select(
    files: Sequence[Path],
    want: Search,
    *,
    read: Callable[[Path], str] | None = None,
    exists: Callable[[str], bool] | None = None,
) -> Selection:
    """The first descriptor of `files` (priority order) that fits `want` and whose images
    `exists` (default: on this host)."""
    reader = read or (lambda p: p.read_text(encoding="utf-8"))
    present = exists or os.path.isfile
    out = Selection(None)
    for path in files:
        try:
            d = parse_descriptor(path, reader(path))
        except (OSError, UnicodeDecodeError) as err:
            why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            out.skipped.append((path, f"unreadable: {why}"))
            continue
        except FirmwareError as err:
            out.skipped.append((path, str(err)))
            continue
        reason = why_not(d, want)
        if reason is not None:
            out.skipped.append((path, reason))
            continue
        assert d.code is not None and d.vars is not None
        missing = [f.path for f in (d.code, d.vars) if not present(f.path)]
        if missing:
            out.skipped.append((path, f"{' and '.join(missing)} missing"))
            continue
        out.firmware = Firmware(d.code, d.vars, d, d.features)
        return out
    return out


def describe_explicit(
    code: str, vars_: str, descriptors: Iterable[Descriptor], sniff: Callable[[str], str]
) -> Firmware:
    """Explicit `efi_firmware_code`/`_vars`: the features of a descriptor naming the same code
    image (so a Secure Boot + SMM image gets what it needs), else none; formats from the
    descriptor or the file's magic (`sniff`)."""
    real = os.path.realpath(code)

    def rank(d: Descriptor) -> tuple[int, int]:
        """Lower is better: the same code path (not just the same file), the same vars."""
        assert d.code is not None
        return (d.code.path != code, d.vars is None or d.vars.path != vars_)

    same = [d for d in descriptors if d.code and os.path.realpath(d.code.path) == real]
    if not same:
        return Firmware(FlashImage(code, sniff(code)), FlashImage(vars_, sniff(vars_)))
    d = min(same, key=rank)  # stable: the first in priority order among equals
    assert d.code is not None
    vars_format = d.vars.format if d.vars is not None else sniff(vars_)
    return Firmware(FlashImage(code, d.code.format), FlashImage(vars_, vars_format), d, d.features)


def parse_files(files: Iterable[Path]) -> list[Descriptor]:
    """The descriptors of `files` that parse (the others are passed over silently)."""
    out = []
    for path in files:
        try:
            out.append(parse_descriptor(path, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, FirmwareError):
            continue
    return out


def settled(code: str, vars_: str, dirs: Sequence[Path]) -> Firmware:
    """The firmware of a prepared config, whose `efi_firmware_code`/`_vars` prepare has
    filled: with the features and formats of the descriptor that names them (if any)."""
    files, _ = descriptor_files(dirs)
    return describe_explicit(code, vars_, parse_files(files), sniff_format)


def sniff_format(path: str) -> str:
    """`qcow2` when the file starts with qcow2's magic, else `raw`."""
    try:
        with open(path, "rb") as f:
            return "qcow2" if f.read(4) == QCOW2_MAGIC else "raw"
    except OSError:
        return "raw"


def machine_problem(firmware: Firmware, machine: str) -> str | None:
    """Why `machine` cannot run `firmware` (None when it can)."""
    if firmware.needs_smm and not can_smm(machine):
        where = f" ({firmware.descriptor.path})" if firmware.descriptor else ""
        return (
            f"the UEFI firmware {firmware.code.path}{where} requires SMM (System Management "
            f"Mode), which machine_type {machine!r} cannot provide for it: set "
            '"machine_type": "q35", or choose a firmware without Secure Boot'
        )
    return None

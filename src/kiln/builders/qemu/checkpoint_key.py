"""The key of an install checkpoint: every input that shaped the machine up to the boundary.

The boundary is the communicator's first connection to the installed system. Whatever
happened before it (the ISO, the disks, the floppy/CD/HTTP answers, the boot command, the
machine QEMU emulated) is an input; provisioners, shutdown, compaction and post-processors
come after it and are not. Values that change from run to run without changing the
machine are masked: host ports, the HTTP server's address and port, the temporary SSH key
(`{{ .SSHPublicKey }}`; the checkpoint keeps the key itself), template functions of the
clock (`timestamp`, `isotime`, `strftime`, `uuid`), host-side paths and switches (output
directory, VNC, display, QMP socket, `-name`). Timing knobs (`boot_wait`,
`boot_key_interval`, `PACKER_KEY_INTERVAL`, the keyboard) are not inputs either: they
change when keys arrive, not which.

Inputs are a flat `{name: value}` map. Names are template keys (`memory`,
`http_directory/preseed.cfg`); a value is the option's text, or `sha256:<hex>` of a file's
bytes or of a value too long or too secret to keep in a manifest (the boot command,
`qemuargs`). The key is a hash of the whole map; `differences()` says, in those names,
why two maps have different keys.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.builders.qemu.cmdline import RuntimeFacts, build_argv, qemuargs_template_data
from kiln.builders.qemu.config import SLIRP_HOST_IP, QemuConfig
from kiln.communicator.config import CommConfig
from kiln.media.sources import Entry

# Bump when what a checkpoint holds, or how kiln restores one, changes: every older
# checkpoint then misses (and is named in the miss message by this input).
FORMAT = 1
FORMAT_INPUT = "kiln checkpoint format"
QEMU_VERSION_INPUT = "QEMU version"
ARGV_INPUT = "QEMU command line"
KEY_LENGTH = 32  # hex digits of the key kept (128 bits): folder names and manifests

# Options whose value shapes the disks before the install writes to them.
DISK_OPTIONS = (
    "disk_image", "use_backing_file", "disk_size", "disk_additional_size", "format",
    "skip_resize_disk",
)  # fmt: skip
# Options that shape the emulated machine (the QEMU command line holds them too; they are
# listed by name so that a miss can say "memory changed (512 → 1024)").
MACHINE_OPTIONS = (
    "accelerator", "machine_type", "memory", "cpus", "sockets", "cores", "threads",
    "cpu_model", "disk_interface", "disk_cache", "disk_discard", "disk_detect_zeroes",
    "cdrom_interface", "net_device", "vga", "firmware", "use_pflash", "efi_boot", "vtpm",
)  # fmt: skip

# What the masked values read as (the same in every build, so they hash the same).
MASKED_DATA = {"HTTPIP": "<http-ip>", "HTTPPort": "<http-port>", "SSHPublicKey": "<ssh-key>"}
MASKED_FUNCTIONS = ("timestamp", "isotime", "strftime", "uuid")

# Switches of the QEMU command line the guest does not see (host-side): left out of the key.
HOST_SIDE_SWITCHES = frozenset({"-name", "-vnc", "-display", "-qmp", "-mon", "-serial"})
# Placeholders for the host paths in the command line (the files' content is keyed apart).
PLACEHOLDER_FACTS = {
    "iso_path": "<iso>",
    "cd_path": "<cd>",
    "floppy_path": "<floppy>",
    "efivars_path": "<efivars>",
    "tpm_socket": "<tpm>",
    "serial_log": "<serial>",
}

Inputs = dict[str, str]


def digest_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_text(text: str) -> str:
    return digest_bytes(text.encode("utf-8"))


def digest_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def key_of(inputs: Mapping[str, str]) -> str:
    """The checkpoint key: a hash of every input (names and values)."""
    blob = json.dumps(sorted(inputs.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def short_key(key: str) -> str:
    return key[:12]


def shown(value: object) -> str:
    """An option's value as the manifest keeps it (lists and maps as compact JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def option_inputs(config: QemuConfig, accelerator: str) -> Inputs:
    """The disk and machine options, by name (pure)."""
    inputs: Inputs = {}
    for name in DISK_OPTIONS:
        inputs[name] = shown(getattr(config, name))
    inputs["qemu_img_args.create"] = shown(list(config.qemu_img_args.create))
    inputs["qemu_img_args.resize"] = shown(list(config.qemu_img_args.resize))
    for name in MACHINE_OPTIONS:
        inputs[name] = shown(getattr(config, name))
    inputs["accelerator"] = accelerator  # as resolved (`auto` → kvm or tcg)
    if config.vtpm:
        inputs["use_tpm1"] = shown(config.use_tpm1)
        inputs["tpm_device_type"] = config.tpm_device_type
    return inputs


def masked_functions(functions: Mapping[str, Any]) -> dict[str, Any]:
    """Template functions with the clock's and randomness's masked."""
    masked = dict(functions)
    for name in MASKED_FUNCTIONS:
        masked[name] = _constant(f"<{name}>")
    return masked


def _constant(text: str) -> Callable[..., str]:
    def value(*_args: object) -> str:
        return text

    return value


def placeholder_facts(config: QemuConfig, comm: CommConfig, accelerator: str) -> RuntimeFacts:
    """Runtime facts with every host-side value replaced by a constant placeholder."""
    c = config
    disks = tuple(f"<disk{i}>" for i in range(1 + len(c.disk_additional_size)))
    has_floppy = bool(c.floppy_files or c.floppy_dirs or c.floppy_content)
    return RuntimeFacts(
        accelerator=accelerator,
        disk_paths=disks,
        iso_path=None if c.disk_image else PLACEHOLDER_FACTS["iso_path"],
        cd_path=PLACEHOLDER_FACTS["cd_path"] if (c.cd_files or c.cd_content) else None,
        floppy_path=PLACEHOLDER_FACTS["floppy_path"] if has_floppy else None,
        vnc_port=None if c.disable_vnc else 5900,
        comm_host_port=None if comm.communicator == "none" else 0,
        http_ip=SLIRP_HOST_IP,
        http_port=0,
        headless=True,
        efivars_path=PLACEHOLDER_FACTS["efivars_path"] if c.efi_boot else None,
        tpm_socket=PLACEHOLDER_FACTS["tpm_socket"] if c.vtpm else None,
        control_fd=None,
        serial_log=PLACEHOLDER_FACTS["serial_log"],
        checkpoint=True,
    )


def guest_argv(argv: Sequence[str]) -> list[str]:
    """The guest-visible part of a QEMU command line: no binary, no host-side switches,
    no host port in `hostfwd=` (pure)."""
    out: list[str] = []
    i = 1
    while i < len(argv):
        switch = argv[i]
        has_value = i + 1 < len(argv) and not argv[i + 1].startswith("-")
        value = argv[i + 1] if has_value else None
        i += 2 if has_value else 1
        if switch in HOST_SIDE_SWITCHES:
            continue
        if switch == "-chardev" and value is not None and value.startswith("socket,id=kiln-qmp"):
            continue
        if value is not None and "hostfwd=" in value:
            value = ",".join(
                "hostfwd=<host-port>" if part.startswith("hostfwd=") else part
                for part in value.split(",")
            )
        out.append(switch)
        if value is not None:
            out.append(value)
    return out


def command_line_input(
    config: QemuConfig, comm: CommConfig, accelerator: str, qemuargs: list[list[str]]
) -> str:
    """The digest of the guest-visible command line (`qemuargs` rendered with masks)."""
    facts = placeholder_facts(config, comm, accelerator)
    argv = build_argv(config, comm, facts, qemuargs).argv
    return digest_text("\0".join(guest_argv(argv)))


def masked_qemuargs_data(config: QemuConfig, comm: CommConfig, accelerator: str) -> dict[str, Any]:
    """What `{{ .Field }}` in `qemuargs` reads as when the key is computed."""
    data = qemuargs_template_data(config, comm, placeholder_facts(config, comm, accelerator))
    data.update(HTTPIP=MASKED_DATA["HTTPIP"], HTTPPort=MASKED_DATA["HTTPPort"],
                SSHHostPort="<ssh-host-port>", OutputDir="<output-dir>")  # fmt: skip
    return data


# --- files -----------------------------------------------------------------------------


def tree_inputs(prefix: str, root: Path) -> Iterator[tuple[str, str]]:
    """`(prefix/relative/path, digest)` for every file under `root` (symlinks followed,
    each directory once), sorted."""
    found: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    for rel, path in sorted(found):
        yield f"{prefix}/{rel}", digest_file(path)


def media_inputs(prefix: str, entries: Sequence[Entry]) -> Iterator[tuple[str, str]]:
    """`(prefix/path in the image, digest)` for a floppy or CD's entries."""
    for image_path, source in sorted(entries, key=lambda e: e[0]):
        if isinstance(source, bytes):
            yield f"{prefix}/{image_path}", digest_bytes(source)
        elif source.is_dir():
            yield f"{prefix}/{image_path}", "directory"
        else:
            yield f"{prefix}/{image_path}", digest_file(source)


# --- why two keys differ ---------------------------------------------------------------


def differences(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """What changed from `old` to `new`, in the template's words, most specific first.

    The QEMU command line is named only when no option explains its change (a kiln
    upgrade that emits another command line, a changed `qemuargs` default).
    """
    found: list[str] = []
    for name, value in new.items():
        if name == ARGV_INPUT:
            continue
        before = old.get(name)
        if before is None:
            found.append(f"{name} added" if "/" in name else f"{name} is new ({value})")
        elif before != value:
            found.append(_changed(name, before, value))
    for name in old:
        if name not in new and name != ARGV_INPUT:
            found.append(f"{name} removed" if "/" in name else f"{name} is no longer set")
    if not found and old.get(ARGV_INPUT) != new.get(ARGV_INPUT):
        found.append("the guest-visible QEMU command line changed (a kiln or qemuargs change)")
    return found


def _changed(name: str, before: str, after: str) -> str:
    if before.startswith("sha256:") or after.startswith("sha256:") or len(before + after) > 80:
        return f"{name} changed"
    empty = '""'
    return f"{name} changed ({before or empty} → {after or empty})"

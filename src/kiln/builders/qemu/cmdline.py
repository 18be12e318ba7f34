"""QEMU's command line: a pure function from the prepared config and runtime facts to argv.

Packer builds a map of default switches, lets each `qemuargs` row replace the default of the
same switch, re-adds the network device if a user `-device` list lost it, and flattens the
map in Go's random map order (`getCommandArgs` in builder/qemu/step_run.go, Packer v1.6.6). kiln
applies the same rules but emits switches
in a fixed order (the defaults in the order of §3.2, then switches only the user gave, in
their order), so the same template always gives the same argv.

Where Packer's argv is a known bug, kiln emits what the documentation promises (listed in
docs/compatibility.md): the VNC display is `port - 5900` for any `vnc_port_min`; a CD-ROM on
the same `if=` as the disks gets an index after theirs (packer-plugin-qemu#136); `sata`,
`scsi` and `sd` disks and CD-ROMs go through explicit controllers (QEMU 7.2 has no
`if=sata` and rejects `if=scsi`/`if=sd` on x86 machines); the virtio-scsi CD-ROM sits on
`scsi0` instead of Packer's `virtio-scsi-device` (which needs a virtio bus x86 lacks);
`-smp` gets `maxcpus=` when `cpus` is below the topology's product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kiln.builders.qemu.config import SLIRP_HOST_IP, QemuConfig
from kiln.builders.qemu.firmware import Firmware
from kiln.builders.qemu.qemu_names import drive_file, opt, plain_file
from kiln.communicator.config import CommConfig
from kiln.errors import KilnError

# The order kiln emits default switches in (the order of step_run.go's `defaultArgs` as Packer
# 1.6.6 documents and logs them).
SWITCH_ORDER = (
    "-name", "-machine", "-netdev", "-vnc", "-m", "-smp", "-cpu", "-boot", "-qmp",
    "-fda", "-display", "-bios", "-vga", "-chardev", "-tpmdev", "-device", "-drive",
    "-global",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RuntimeFacts:
    """What the steps before QEMU decided: paths, ports, the accelerator, and so on."""

    accelerator: str  # resolved: kvm, tcg, ... (never "")
    disk_paths: tuple[str, ...]  # main disk first, then <vm_name>-1, -2, ...
    iso_path: str | None = None  # the installer (ISO mode only)
    cd_path: str | None = None  # the cd_files image
    floppy_path: str | None = None
    vnc_port: int | None = None  # None when VNC is disabled
    comm_host_port: int | None = None  # None: no port forward (communicator none/bridge)
    http_ip: str = SLIRP_HOST_IP
    http_port: int = 0
    headless: bool = True  # effective: config.headless or no display to open a window on
    efivars_path: str | None = None
    # The UEFI firmware prepare chose (formats, SMM); None: raw images, nothing more.
    firmware: Firmware | None = None
    tpm_socket: str | None = None
    # kiln's own plumbing, appended after everything else
    control_fd: int | None = None  # QMP over an inherited socketpair end
    serial_log: str | None = None
    # Install checkpoints (-checkpoint): a VM generation ID device, so that each restore
    # tells the guest it is a new copy (its kernel reseeds its RNG); and, when resuming,
    # a QEMU that waits for the saved state instead of booting.
    checkpoint: bool = False
    incoming: bool = False


@dataclass(slots=True)
class QemuCommand:
    argv: list[str]
    # Messages the run step prints (Packer's "Overriding default Qemu arguments…" etc.).
    notes: list[str] = field(default_factory=list)


def build_argv(
    config: QemuConfig,
    comm: CommConfig,
    facts: RuntimeFacts,
    rendered_qemuargs: list[list[str]] | None = None,
) -> QemuCommand:
    """The full argv (binary first). `rendered_qemuargs` are `qemuargs` after templating."""
    defaults = default_switches(config, comm, facts)
    notes: list[str] = []
    user_rows = rendered_qemuargs if rendered_qemuargs is not None else config.qemuargs
    user: dict[str, list[str]] = {}
    for row in user_rows:
        if not row:
            continue
        key, value = row[0], "".join(row[1:])
        values = user.setdefault(key, [])
        if value:
            values.append(value)
    if user_rows:
        notes.append("Overriding default Qemu arguments with qemuargs template option...")
        dropped = [k for k in ("-drive", "-device") if k in user and k in defaults]
        if dropped:
            notes.append(
                "Note: qemuargs sets " + " and ".join(dropped) + ", which replaces ALL of "
                "kiln's default " + " and ".join(dropped) + " switches (disks, CD-ROMs, "
                "controllers); add the ones you still need to qemuargs."
            )

    merged: dict[str, list[str]] = {}
    for key in SWITCH_ORDER:
        if key in user:
            merged[key] = user[key]
        elif key in defaults:
            merged[key] = defaults[key]
    for key, values in user.items():
        if key not in merged:
            merged[key] = values
    # The network device rescue (#6804).
    if "-device" in user and config.net_device not in "".join(merged["-device"]):
        merged["-device"] = [*merged["-device"], f"{config.net_device},netdev=user.0"]

    argv = [config.qemu_binary]
    for key, values in merged.items():
        if values:
            for value in values:
                argv += [key, value]
        else:
            argv.append(key)
    argv += _kiln_plumbing(facts, user)
    return QemuCommand(argv, notes)


def default_switches(
    config: QemuConfig, comm: CommConfig, facts: RuntimeFacts
) -> dict[str, list[str]]:
    """Packer's default switch map (step_run.go `getCommandArgs`, Packer v1.6.6); values are
    lists."""
    c = config
    args: dict[str, list[str]] = {"-name": [opt(c.vm_name)]}
    machine = f"type={c.machine_type}"
    if facts.accelerator != "none":
        machine += f",accel={facts.accelerator}"
    efi = facts.firmware if c.efi_boot and facts.efivars_path else None
    if efi is not None and efi.needs_smm:
        machine += ",smm=on"  # firmware.json: requires-smm
    args["-machine"] = [machine]
    if c.net_bridge:
        args["-netdev"] = [f"bridge,id=user.0,br={c.net_bridge}"]
    elif facts.comm_host_port is not None and comm.communicator != "none":
        args["-netdev"] = [f"user,id=user.0,hostfwd=tcp::{facts.comm_host_port}-:{comm.ssh_port}"]
    else:
        args["-netdev"] = ["user,id=user.0"]
    if facts.vnc_port is not None:
        vnc = f"{c.vnc_bind_address}:{facts.vnc_port - 5900}"
        args["-vnc"] = [vnc + (",password=on" if c.vnc_use_password else "")]
    args["-m"] = [f"{c.memory}M"]
    args["-smp"] = [smp_value(c.cpus, c.sockets, c.cores, c.threads)]
    if c.cpu_model:
        args["-cpu"] = [c.cpu_model]
    if not c.efi_boot:
        args["-boot"] = ["c" if c.disk_image else "once=d"]
    if c.qmp_enable and c.qmp_socket_path:
        args["-qmp"] = [f"unix:{opt(c.qmp_socket_path)},server=on,wait=off"]
    if facts.floppy_path:
        args["-fda"] = [plain_file(facts.floppy_path)]
    if not facts.headless:
        if c.display:
            args["-display"] = [c.display]
        elif not c.use_default_display:
            args["-display"] = ["gtk"]
    elif facts.vnc_port is None:
        args["-display"] = ["none"]  # no window and no VNC: QEMU must not try to open one
    if c.firmware and not c.use_pflash:
        args["-bios"] = [c.firmware]
    if c.vga:
        args["-vga"] = [c.vga]
    if c.vtpm and facts.tpm_socket:
        args["-chardev"] = [f"socket,id=vtpm,path={opt(facts.tpm_socket)}"]
        args["-tpmdev"] = ["emulator,id=tpm0,chardev=vtpm"]
    devices, drives = device_and_drive_args(c, facts)
    args["-device"] = devices
    args["-drive"] = drives
    if efi is not None and efi.secure_pflash:
        # Only SMM code may write the variables (firmware.json: secure-boot + requires-smm).
        args["-global"] = ["driver=cfi.pflash01,property=secure,value=on"]
    return args


def smp_value(cpus: int, sockets: int, cores: int, threads: int) -> str:
    """The modern plugin's `-smp` (packer-plugin-qemu builder/qemu/config.go, `QemuSMPConfig`),
    made acceptable to QEMU >= 6.2.

    Packer's value for fewer CPUs than the topology holds (`2,sockets=2,cores=2`) is
    rejected by QEMU 7.2 ("product of the hierarchy must match maxcpus"); kiln adds
    `maxcpus=<product>`, so the guest starts with `cpus` CPUs of that topology.
    """
    topology = [n for n in (sockets, cores, threads) if n > 0]
    top_max = 0
    if topology:
        top_max = 1
        for n in topology:
            top_max *= n
    if top_max == 0 and cpus == 0:
        return "1"
    if cpus == 0 or (top_max and cpus > top_max):
        cpus = top_max
    value = str(cpus)
    for name, n in (("sockets", sockets), ("cores", cores), ("threads", threads)):
        if n > 0:
            value += f",{name}={n}"
    if cpus < top_max:
        value += f",maxcpus={top_max}"
    return value


# Ports and targets of the controllers kiln adds (QEMU rejects a drive beyond them).
AHCI_PORTS = 6
LSI_TARGETS = 7


@dataclass(slots=True)
class _Controllers:
    """Disk/CD controllers added on demand, and what sits on each so far.

    QEMU 7.2 on x86 machines has no `if=sata`, `if=scsi` or `if=sd` (it says "machine
    type does not support if=scsi,bus=0,unit=0"), so for those kiln attaches `if=none`
    drives to explicit controllers: AHCI (`ahci0`), the LSI 53C895A that `if=scsi`
    used to create (`lsi0`) and one SDHCI controller per SD card. virtio-scsi keeps
    Packer's `virtio-scsi-pci,id=scsi0`.
    """

    devices: list[str]
    virtio_scsi: int = 0
    lsi: int = 0
    ahci: int = 0

    def virtio_scsi_bus(self) -> str:
        if self.virtio_scsi == 0:
            self.devices.append("virtio-scsi-pci,id=scsi0")
        self.virtio_scsi += 1
        return "scsi0.0"

    def lsi_bus(self, what: str) -> str:
        if self.lsi == LSI_TARGETS:
            raise KilnError(
                f"{what}: the SCSI controller (LSI 53C895A) holds at most {LSI_TARGETS} disks "
                "and CD-ROMs: use virtio-scsi (disk_interface / cdrom_interface) for more"
            )
        if self.lsi == 0:
            self.devices.append("lsi53c895a,id=lsi0")
        self.lsi += 1
        return "lsi0.0"

    def ahci_port(self, what: str) -> str:
        if self.ahci == AHCI_PORTS:
            raise KilnError(
                f"{what}: the SATA controller (AHCI) has {AHCI_PORTS} ports, all taken by "
                "disks and CD-ROMs: use fewer disk_additional_size entries, or virtio-scsi"
            )
        if self.ahci == 0:
            self.devices.append("ahci,id=ahci0")
        self.ahci += 1
        return f"ahci0.{self.ahci - 1}"


def device_and_drive_args(c: QemuConfig, facts: RuntimeFacts) -> tuple[list[str], list[str]]:
    """Packer's `-device` and `-drive` lists (step_run.go, Packer v1.6.6), with kiln's fixes."""
    devices: list[str] = []
    drives: list[str] = []
    ctl = _Controllers(devices)
    tail = f"cache={c.disk_cache},discard={c.disk_discard},format={c.format}"
    zeroes = f",detect-zeroes={c.disk_detect_zeroes}" if c.disk_detect_zeroes != "off" else ""
    for i, path in enumerate(facts.disk_paths):
        what = f"disk {i + 1} ({path})"
        iface = c.disk_interface
        if iface in ("virtio-scsi", "scsi", "sata", "sd"):
            drives.append(f"if=none,file={drive_file(path)},id=drive{i},{tail}{zeroes}")
            if iface == "virtio-scsi":
                devices.append(f"scsi-hd,bus={ctl.virtio_scsi_bus()},drive=drive{i}")
            elif iface == "scsi":
                devices.append(f"scsi-hd,bus={ctl.lsi_bus(what)},drive=drive{i}")
            elif iface == "sata":
                devices.append(f"ide-hd,bus={ctl.ahci_port(what)},drive=drive{i}")
            else:  # one SD card per SDHCI controller; QEMU plugs it into the free one
                devices += [f"sdhci-pci,id=sdhci{i}", f"sd-card,drive=drive{i}"]
        else:
            drives.append(f"file={drive_file(path)},if={iface},{tail}{zeroes}")
    devices.append(f"{c.net_device},netdev=user.0")

    cds = [p for p in (None if c.disk_image else facts.iso_path, facts.cd_path) if p]
    # A CD on the same `if=` as the disks must not take their index 0..n-1 (plugin #136).
    first_index = len(facts.disk_paths) if c.cdrom_interface == c.disk_interface else 0
    for i, path in enumerate(cds):
        iface = c.cdrom_interface
        what = f"CD-ROM {i + 1} ({path})"
        if not iface:
            drives.append(f"file={drive_file(path)},media=cdrom")
        elif iface == "virtio-scsi":
            index = ctl.virtio_scsi
            bus = ctl.virtio_scsi_bus()
            drives.append(f"file={drive_file(path)},if=none,index={index},id=cdrom{i},media=cdrom")
            devices.append(f"scsi-cd,bus={bus},drive=cdrom{i}")
        elif iface in ("scsi", "sata"):
            drives.append(f"file={drive_file(path)},if=none,id=cdrom{i},media=cdrom")
            if iface == "scsi":
                devices.append(f"scsi-cd,bus={ctl.lsi_bus(what)},drive=cdrom{i}")
            else:
                devices.append(f"ide-cd,bus={ctl.ahci_port(what)},drive=cdrom{i}")
        elif iface == "sd":
            raise KilnError(
                "cdrom_interface 'sd' cannot hold a CD-ROM (an SD card is not a CD drive): "
                "use ide, sata, scsi, virtio or virtio-scsi, or leave cdrom_interface unset"
            )
        else:
            index = first_index + i
            drives.append(
                f"file={drive_file(path)},if={iface},index={index},id=cdrom{i},media=cdrom"
            )
    if c.firmware and c.use_pflash:
        drives.append(f"file={drive_file(c.firmware)},if=pflash,format=raw,readonly=on")
    if c.efi_boot and facts.efivars_path:
        code_format = facts.firmware.code.format if facts.firmware else "raw"
        vars_format = facts.firmware.vars.format if facts.firmware else "raw"
        drives.append(
            f"file={drive_file(c.efi_firmware_code)},if=pflash,unit=0,format={code_format},readonly=on"
        )
        drives.append(
            f"file={drive_file(facts.efivars_path)},if=pflash,unit=1,format={vars_format}"
        )
    if c.vtpm and facts.tpm_socket:
        devices.append(f"{c.tpm_device_type},tpmdev=tpm0")
    return devices, drives


def _kiln_plumbing(facts: RuntimeFacts, user: Mapping[str, list[str]]) -> list[str]:
    """kiln's private control channel and serial log, and the checkpoint switches (never
    subject to qemuargs)."""
    extra: list[str] = []
    if facts.checkpoint:
        extra += ["-device", "vmgenid,guid=auto"]
    if facts.incoming:
        extra += ["-incoming", "defer"]
    if facts.control_fd is not None:
        extra += ["-chardev", f"socket,id=kiln-qmp,fd={facts.control_fd}",
                  "-mon", "chardev=kiln-qmp,mode=control"]  # fmt: skip
    if facts.serial_log and "-serial" not in user and "-nographic" not in user:
        extra += ["-serial", f"file:{facts.serial_log}"]
    return extra


def qemuargs_template_data(
    config: QemuConfig, comm: CommConfig, facts: RuntimeFacts
) -> dict[str, object]:
    """The fields `qemuargs` can use (step_run.go's `qemuArgsTemplateData`, Packer v1.6.6)."""
    return {
        "HTTPIP": facts.http_ip,
        "HTTPPort": facts.http_port,
        "HTTPDir": config.http_directory,
        "HTTPContent": dict(config.http_content),
        "OutputDir": config.output_directory,
        "Name": config.vm_name,
        "SSHHostPort": facts.comm_host_port
        if comm.communicator != "none" and facts.comm_host_port
        else 0,
    }


def disk_paths(config: QemuConfig) -> tuple[str, ...]:
    """`<output>/<vm_name>` then `<output>/<vm_name>-N` for each additional disk."""
    main = str(Path(config.output_directory) / config.vm_name)
    extra = [f"{main}-{i}" for i in range(1, len(config.disk_additional_size) + 1)]
    return (main, *extra)

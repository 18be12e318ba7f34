"""Defaults and validation of a decoded qemu builder, in Packer's `Prepare` order.

Packer's `Config.Prepare` fills computed defaults, forces some values and collects errors
(builder/qemu/config.go `Prepare`, Packer v1.6.6). kiln does the same, keeps Packer's messages
where they exist, and says
more where Packer says little (every message names the key and what is allowed). Where
kiln deliberately differs, `docs/compatibility.md` lists it.
"""

from __future__ import annotations

import os
import re
import shutil
import string
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from kiln.boot.grammar import mistyped_keys, validate_boot_command
from kiln.builders.qemu.config import NET_DEVICES, SLIRP_HOST_IP, QemuConfig
from kiln.communicator.config import COMMUNICATORS, SUPPORTED_COMMUNICATORS, CommConfig
from kiln.errors import KilnError, TemplateError
from kiln.media.checksum import (
    ChecksumError,
    checksum_syntax_errors,
    normalize_legacy,
    parse_checksum,
    resolve_checksum,
)
from kiln.media.sources import MediaError, content_path
from kiln.media.urls import parse_source
from kiln.options.choices import choice_problem
from kiln.options.spec import option_specs
from kiln.suggest import did_you_mean
from kiln.template.engine import parse
from kiln.ui.log import LOG

if TYPE_CHECKING:
    from kiln.builders.qemu import firmware as fw

T = TypeVar("T")
_DISK_SIZE = re.compile(r"[0-9]+[bkmgt]?")  # Go's ^[\d]+(b|k|m|g|t){0,1}$, ASCII digits
# Packer's EFI defaults: used when no firmware descriptor fits and these exist.
DEFAULT_EFI_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
DEFAULT_EFI_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
# UEFI firmware packages per guest architecture (from `qemu-system-<arch>`): Debian, Fedora.
_EFI_PACKAGES = {
    "x86_64": "install OVMF (apt-get install ovmf)",
    "i386": "install OVMF for 32-bit x86 (apt-get install ovmf-ia32)",
    "aarch64": "install the UEFI firmware for aarch64 (apt-get install qemu-efi-aarch64; "
    "Fedora: edk2-aarch64)",
    "arm": "install the UEFI firmware for arm (apt-get install qemu-efi-arm; Fedora: edk2-arm)",
}
# Packer's VNC password alphabet (it lacks "7"; kiln does not copy that quirk).
_VNC_ALPHABET = string.ascii_letters + string.digits


class PrepareContext(NamedTuple):
    """What the checks need beyond the options. (A NamedTuple: a frozen dataclass cost
    each `kiln validate` ~1 ms to define.)"""

    build_name: str
    cwd: Path  # where relative paths resolve
    force: bool = False
    # What the template set explicitly (after alias resolution).
    explicit: frozenset[str] = frozenset()
    # Where a relative checksum file is also looked for (kiln; Packer: cwd only).
    template_dir: Path | None = None
    # The build's template functions: late templates are tried with them at validate time.
    functions: Mapping[str, Callable[..., object]] | None = None
    # Where firmware descriptors are looked for ($XDG_CONFIG_HOME, $HOME); None: os.environ.
    env: Mapping[str, str] | None = None


class Prepared:
    """The prepared options, and the errors and warnings of the checks. (A plain class: as a
    dataclass it cost each `kiln validate` ~0.5 ms to define.)"""

    __slots__ = ("comm", "config", "errors", "warnings")

    def __init__(self, config: QemuConfig, comm: CommConfig) -> None:
        self.config = config
        self.comm = comm
        self.errors: list[str] = []
        self.warnings: list[str] = []


def prepare(config: QemuConfig, comm: CommConfig, ctx: PrepareContext) -> Prepared:
    """Apply Packer's defaults and checks; `config`/`comm` are modified in place.

    They come from `decode_sections`, which has already turned explicit zero values into
    the defaults (Packer's "0 means the default" rule, e.g. `boot_wait: "0s"` → 10s)."""
    out = Prepared(config, comm)
    checks = _Checks(config, comm, ctx, out)
    checks.run()
    return out


class _Checks:
    def __init__(self, c: QemuConfig, comm: CommConfig, ctx: PrepareContext, out: Prepared) -> None:
        self.c = c
        self.comm = comm
        self.ctx = ctx
        self.errors = out.errors
        self.err = out.errors.append
        self.warn = out.warnings.append
        self.checked: set[str] = set()

    def run(self) -> None:
        # Packer's order (§1.12); kiln's additions come right after the step they belong to.
        self.shutdown()
        self.disk_size()
        self.defaults()
        self.media()
        self.boot()
        self.iso()
        self.http()
        self.communicator()
        self.disk_options()
        self.machine()
        self.output_directory()
        self.vnc()
        self.boot_steps_conflict()
        self.choices_and_unsupported()
        self.nul_characters()

    def _path(self, p: str) -> Path:
        path = _expand_user(p)
        return path if path.is_absolute() else self.ctx.cwd / path

    # --- steps -----------------------------------------------------------------------
    def shutdown(self) -> None:
        if self.c.shutdown_timeout.seconds < 0:
            self.err(f"shutdown_timeout must be positive, got {self.c.shutdown_timeout}")

    def disk_size(self) -> None:
        c = self.c
        c.disk_size = _normalize_size(c.disk_size) or "40960M"
        if not _DISK_SIZE.fullmatch(c.disk_size.lower()):
            self.err(
                f"Invalid disk size. disk_size {c.disk_size!r}: use a number of megabytes "
                "(e.g. 20000) or a number with one of the units b, k, m, g, t (e.g. 10G)"
            )
        sizes = []
        for i, size in enumerate(c.disk_additional_size):
            norm = _normalize_size(size)
            if not norm or not _DISK_SIZE.fullmatch(norm.lower()):
                self.err(
                    f"disk_additional_size[{i}]: invalid disk size {size!r}: use megabytes "
                    "or a number with one of the units b, k, m, g, t (e.g. 10G)"
                )
            sizes.append(norm)
        c.disk_additional_size = sizes

    def defaults(self) -> None:
        c, name = self.c, self.ctx.build_name
        c.output_directory = c.output_directory or f"output-{name}"
        c.vm_name = c.vm_name or f"packer-{name}"
        if c.memory < 10:
            c.memory = 512
        c.iso_target_extension = (c.iso_target_extension or "iso").lower()
        if c.display == "none":  # documented as "do not pass -display" (Packer ignores it)
            c.display = ""
            c.use_default_display = True

    def media(self) -> None:
        c = self.c
        # The floppy and CD modules are imported only for a build that has such media:
        # most templates have none, and `kiln validate` then skips ~2 ms of imports.
        floppy_files = self._file_names("floppy_files", c.floppy_files)
        floppy_dirs = self._file_names("floppy_dirs", c.floppy_dirs)
        if floppy_files or floppy_dirs:
            from kiln.media.floppy import file_errors_floppy

            for message in file_errors_floppy(floppy_files, floppy_dirs, base=self.ctx.cwd):
                self.err(message)
        cd_files = self._file_names("cd_files", c.cd_files)
        if cd_files:
            from kiln.media.cdrom import file_errors_cd

            for message in file_errors_cd(cd_files, base=self.ctx.cwd):
                self.err(message)
        for option, content in (("floppy_content", c.floppy_content), ("cd_content", c.cd_content)):
            for key in content:
                try:
                    content_path(key, option)
                except MediaError as err:
                    self.err(str(err))
        if c.floppy_files or c.floppy_dirs or c.floppy_content:
            from kiln.media.floppy import floppy_label_problem

            problem = floppy_label_problem(c.floppy_label)
            if problem:
                self.err(problem)
        if c.cd_files or c.cd_content:
            from kiln.media.cdrom import cd_label_problem

            problem = cd_label_problem(c.cd_label)
            if problem:
                self.err(problem)

    def _file_names(self, key: str, names: list[str]) -> list[str]:
        """`names` without those no file can have (a NUL character), each reported."""
        for i, name in enumerate(names):
            if "\0" in name:
                self.err(f"{key}[{i}] {name!r} contains a NUL character: no file is named so")
        return [name for name in names if "\0" not in name]

    def boot(self) -> None:
        c = self.c
        if c.disable_vnc and (c.boot_command or c.boot_steps):
            self.err("A boot command cannot be used when vnc is disabled.")
        commands = [("boot_command", "".join(c.boot_command))]
        for i, step in enumerate(c.boot_steps):
            if not step or len(step) > 2:
                self.err(
                    f"boot_steps[{i}] must be [command] or [command, description], "
                    f"got {len(step)} items"
                )
                continue
            commands.append((f"boot_steps[{i}]", step[0]))
        for where, text in commands:
            self._check_late_template(where, text, self._boot_sample())
            for message in validate_boot_command(text):
                self.err(message if where == "boot_command" else f"{where}: {message}")
            for message in mistyped_keys(text):
                self.warn(message.replace("boot_command", where, 1))
        for i, row in enumerate(c.qemuargs):
            if not row:
                self.err(f"qemuargs[{i}] is empty: each row is a switch and its values")
            for j, arg in enumerate(row):
                self._check_late_template(f"qemuargs[{i}][{j}]", arg, self._qemuargs_sample())

    def boot_steps_conflict(self) -> None:
        if self.c.boot_command and self.c.boot_steps:
            self.err("boot_command and boot_steps cannot be used together")

    def _boot_sample(self) -> dict[str, object]:
        return {"HTTPIP": SLIRP_HOST_IP, "HTTPPort": 8000, "Name": self.c.vm_name,
                "SSHPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKiln kiln"}  # fmt: skip

    def _qemuargs_sample(self) -> dict[str, object]:
        c = self.c
        return {"HTTPIP": SLIRP_HOST_IP, "HTTPPort": 8000, "HTTPDir": c.http_directory,
                "HTTPContent": dict(c.http_content), "OutputDir": c.output_directory,
                "Name": c.vm_name, "SSHHostPort": 2222}  # fmt: skip

    def _check_late_template(self, where: str, text: str, sample: dict[str, object]) -> None:
        """A template rendered at build time: parse it, check its fields, and try it with
        sample data so that unknown variables or bad calls fail now, not mid-build."""
        if "{{" not in text:
            return
        allowed = tuple(sample)
        try:
            tpl = parse(text, where=where)
        except TemplateError as err:
            self.err(str(err))  # names `where`, line and column
            return
        unknown = sorted(tpl.fields() - set(allowed))
        for name in unknown:
            self.err(
                f"invalid '{where}': {{{{ .{name} }}}} is not available here"
                f"{did_you_mean(name, allowed)}; available: "
                + ", ".join(f"{{{{ .{a} }}}}" for a in allowed)
            )
        if self.ctx.functions is None or unknown:
            return
        try:
            tpl.render(sample, self.ctx.functions)
        except TemplateError as err:
            self.err(str(err))

    def iso(self) -> None:
        c = self.c
        if c.iso_url and c.iso_urls:
            self.err("Only one of iso_url or iso_urls must be specified")
        elif not c.iso_url and not c.iso_urls:
            self.err("One of iso_url or iso_urls must be specified")
        else:
            self._iso_sources([c.iso_url] if c.iso_url else list(c.iso_urls))
        if c.iso_skip_cache:
            c.iso_checksum, c.iso_checksum_type, c.iso_checksum_url = "none", "", ""
        problems = checksum_syntax_errors(
            c.iso_checksum,
            legacy_type=c.iso_checksum_type or None,
            legacy_url=c.iso_checksum_url or None,
        )
        for message in problems:
            self.err(message)
        if not problems:
            given = c.iso_checksum
            c.iso_checksum = normalize_legacy(
                c.iso_checksum, c.iso_checksum_type or None, c.iso_checksum_url or None
            )
            self._legacy_checksum_warnings(given)
            if c.iso_checksum == "none" and not c.iso_skip_cache:
                self.warn(
                    "A checksum of 'none' was specified. Since ISO files are so big,\n"
                    "a checksum is highly recommended."
                )
            first_url = c.iso_url or (c.iso_urls[0] if c.iso_urls else "")
            if c.iso_checksum.startswith("file:"):
                if first_url:
                    self._resolve_local_checksum_file(first_url)
            else:  # Packer stores the checksum normalised: "md5:<lower-case hex>"
                c.iso_checksum = parse_checksum(c.iso_checksum).normalized()

    def _iso_sources(self, urls: list[str]) -> None:
        """A local ISO that is not there, or a scheme kiln cannot fetch, fails now (Packer:
        when the download step runs, after the output directory and ports are set up).
        With several `iso_urls` one usable entry is enough; the others are warnings."""
        key = "iso_url" if len(urls) == 1 else "iso_urls"
        problems: list[str] = []
        for url in urls:
            source = parse_source(url)
            if source.kind == "unsupported":
                problems.append(
                    f"{key}: {url!r} uses the URL scheme {source.scheme!r}, which kiln cannot "
                    "fetch: use an http(s) URL, a local path or a file:// URL"
                )
            elif source.kind == "local" and source.path is not None:
                path = self._path(str(source.path))
                if not path.is_file():
                    what = "is a directory" if path.is_dir() else "does not exist"
                    problems.append(
                        f"{key}: the local file {url!r} {what} ({path}); build it or fix the "
                        "path (relative paths are relative to the directory kiln runs in)"
                    )
        if len(problems) == len(urls):
            for problem in problems:
                self.err(problem)
        else:
            for problem in problems:
                self.warn(problem + "; kiln will try the other URLs")

    def _legacy_checksum_warnings(self, given: str) -> None:
        c = self.c
        for key in ("iso_checksum_type", "iso_checksum_url"):
            if getattr(c, key):
                self.warn(
                    f"{key} is deprecated (Packer 1.6 removed it; kiln still reads it, as the "
                    f'QEMU page documented it). Write "iso_checksum": "{c.iso_checksum}" instead.'
                )
        if given and c.iso_checksum_url and c.iso_checksum_type.lower() != "none":
            self.warn("iso_checksum_url is ignored because iso_checksum is set")

    def _resolve_local_checksum_file(self, first_url: str) -> None:
        """Packer reads the checksum file at validate time; kiln does so for local files
        (a remote one is fetched when the build starts, so validate needs no network)."""
        c = self.c
        location = c.iso_checksum.removeprefix("file:")
        if location.startswith("//"):
            location = "file:" + location
        try:
            if parse_source(location).kind != "local":
                return
            resolved = _run_sync(
                resolve_checksum(
                    c.iso_checksum, first_url, template_dir=self.ctx.template_dir or self.ctx.cwd
                )
            )
        except ChecksumError as err:
            for problem in err.problems:
                self.err(problem)
            return
        except (KilnError, ValueError) as err:
            self.err(f"iso_checksum {c.iso_checksum!r}: {err}")
            return
        c.iso_checksum = resolved.normalized()

    def http(self) -> None:
        c = self.c
        if c.http_directory and c.http_content:
            self.err(
                "http_content cannot be used in conjunction with http_directory: serve files "
                "either from the directory or from the template"
            )
        if c.http_directory and not _probe(self._path(c.http_directory), Path.is_dir):
            self.err(
                f"http_directory {c.http_directory!r} is not a directory (resolved against "
                f"{self.ctx.cwd})"
            )
        self._port_range("http_port", c.http_port_min, c.http_port_max)
        explicit = self.ctx.explicit
        if "http_interface" in explicit and "http_bind_address" in explicit:
            self.err("either http_interface or http_bind_address can be specified")
        if not c.http_bind_address:  # slirp's 10.0.2.2 is the host's loopback (kiln's default)
            c.http_bind_address = "0.0.0.0" if c.net_bridge else "127.0.0.1"
        self.choice(c, "http_network_protocol")
        if c.http_network_protocol in ("unix", "unixpacket"):
            self.err(
                f"http_network_protocol '{c.http_network_protocol}' is not supported by kiln: "
                "the guest reaches the HTTP server over TCP (use tcp, tcp4 or tcp6)"
            )

    def _port_range(self, prefix: str, lo: int, hi: int) -> None:
        if lo > hi:
            self.err(
                f"{prefix}_min must be less than {prefix}_max (got {lo} and {hi}; set them "
                "equal to force one port)"
            )
        for name, value in ((f"{prefix}_min", lo), (f"{prefix}_max", hi)):
            if not 0 < value <= 65535:
                self.err(f"{name} must be a TCP port between 1 and 65535, got {value}")

    def communicator(self) -> None:
        comm = self.comm
        if comm.communicator not in COMMUNICATORS:
            self.err(
                f"Communicator type {comm.communicator} is invalid: use 'ssh' or 'none'"
                f"{did_you_mean(comm.communicator, SUPPORTED_COMMUNICATORS)}"
            )
        elif comm.communicator not in SUPPORTED_COMMUNICATORS:
            self.err(
                f"communicator '{comm.communicator}' is not supported by kiln: use 'ssh' "
                "(or 'none' to let the guest power itself off)"
            )
        if comm.communicator == "ssh":
            self.ssh()
        else:
            self.checked.add("ssh_file_transfer_method")  # Packer checks ssh_* only for ssh
        # Packer checks the host port range after the communicator, whatever its type.
        if comm.skip_nat_mapping and not comm.ssh_host:
            comm.ssh_host = "127.0.0.1"
        if comm.host_port_min > comm.host_port_max:
            self.err(
                "host_port_min must be less than host_port_max (got "
                f"{comm.host_port_min} and {comm.host_port_max}; set them equal to force one "
                "port)"
            )
        if comm.host_port_min < 0:
            self.err("host_port_min must be positive")
        for name in ("host_port_min", "host_port_max"):
            value = getattr(comm, name)
            if value > 65535:
                self.err(f"{name} must be a TCP port between 1 and 65535, got {value}")

    def ssh(self) -> None:
        comm = self.comm
        if not comm.ssh_username:
            self.err(
                "An ssh_username must be specified\n"
                '  Note: some builders used to default ssh_username to "root".'
            )
        if not 0 < comm.ssh_port <= 65535:
            self.err(f"ssh_port must be a TCP port between 1 and 65535, got {comm.ssh_port}")
        if comm.ssh_private_key_file:
            self._check_private_key(comm.ssh_private_key_file)
        self.choice(comm, "ssh_file_transfer_method")
        if comm.ssh_certificate_file and not comm.ssh_private_key_file:
            self.err("ssh_private_key_file must be specified if ssh_certificate_file is specified")
        if comm.ssh_read_write_timeout.seconds < 0:
            self.err(
                f"ssh_read_write_timeout must not be negative, got {comm.ssh_read_write_timeout}"
                ": use 0 (no timeout) or a positive duration"
            )
        if not comm.ssh_password and not comm.ssh_private_key_file:
            self.warn(
                "No ssh_password or ssh_private_key_file is set: kiln logs in with its temporary "
                "key, which works only if the guest installed {{ .SSHPublicKey }} (or accepts "
                "the user without a password)."
            )

    def _check_private_key(self, name: str) -> None:
        path = self._path(name)
        try:
            data = path.read_bytes()
        except ValueError:
            self.err(f"ssh_private_key_file is invalid: {name!r} is not a file name")
            return
        except OSError as err:
            reason = err.strerror.lower() if err.strerror else str(err)
            self.err(f"ssh_private_key_file is invalid: stat {name}: {reason}")
            return
        import asyncssh

        try:
            asyncssh.import_private_key(data)
        except (asyncssh.KeyImportError, ValueError) as err:
            self.err(f"ssh_private_key_file is invalid: {name}: {err}")

    def disk_options(self) -> None:
        c = self.c
        self.choice(c, "format")
        if c.use_backing_file and not (c.disk_image and c.format == "qcow2"):
            self.err(
                "use_backing_file can only be enabled for QCOW2 images and when disk_image is true"
            )
        if c.skip_resize_disk and not c.disk_image:
            self.err("skip_resize_disk can only be used when disk_image is true")
        if c.format != "qcow2" or c.use_backing_file:
            c.skip_compaction = True
        if c.format != "qcow2" and c.disk_compression:
            self.warn(f"disk_compression has no effect on {c.format} images; ignoring it")
            c.disk_compression = False

    def machine(self) -> None:
        c = self.c
        for name in ("accelerator", "disk_interface", "disk_cache", "disk_discard"):
            self.choice(c, name)
        self.choice(c, "disk_detect_zeroes")
        for name in ("cpus", "sockets", "cores", "threads"):
            if getattr(c, name) < 0:
                self.err(f"{name} must be a positive number")
        if c.net_device not in NET_DEVICES:
            self.warn(
                f"net_device {c.net_device!r} is not one of the documented models"
                f"{did_you_mean(c.net_device, NET_DEVICES)}; kiln passes it to QEMU as is"
            )
        self.choice(c, "cdrom_interface")
        if c.efi_firmware_code or c.efi_firmware_vars or c.efi_secure_boot:
            c.efi_boot = True
        if c.efi_boot:
            self.efi_firmware()
        if c.firmware and not _probe(self._path(c.firmware), Path.is_file):
            self.err(f"firmware {c.firmware!r} does not exist")
        if c.vtpm and shutil.which("swtpm") is None:
            self.err("vtpm needs swtpm on PATH: apt-get install swtpm")
        if c.net_bridge or c.vnc_use_password:
            c.qmp_enable = True
        if c.qmp_enable and not c.qmp_socket_path:
            c.qmp_socket_path = str(Path(c.output_directory) / f"{c.vm_name}.monitor")

    def efi_firmware(self) -> None:
        """The UEFI code and vars images: explicit paths win; else QEMU's descriptors."""
        from kiln.builders.qemu import firmware as fw  # EFI builds only: keeps validate quick

        c = self.c
        env = self.ctx.env if self.ctx.env is not None else os.environ
        dirs = fw.descriptor_dirs(env)
        files, passed = fw.descriptor_files(dirs)
        want = fw.Search(_architecture(c.qemu_binary), c.machine_type, c.efi_secure_boot)

        def exists(p: str) -> bool:
            return _probe(self._path(p), Path.is_file)

        chosen: fw.Firmware | None = None
        if c.efi_firmware_code:
            named = fw.describe_explicit(
                c.efi_firmware_code, c.efi_firmware_vars or "", fw.parse_files(files),
                lambda p: fw.sniff_format(str(self._path(p))),
            )  # fmt: skip
            if not c.efi_firmware_vars:
                # The descriptor's own vars template fits the code image; Packer's
                # OVMF_VARS.fd may not (a 2 MB template for a 4 MB code image).
                vars_ = named.descriptor.vars if named.descriptor else None
                c.efi_firmware_vars = vars_.path if vars_ else DEFAULT_EFI_VARS
                vars_image = vars_ or fw.FlashImage(DEFAULT_EFI_VARS)
                named = fw.Firmware(named.code, vars_image, named.descriptor, named.features)
            chosen = named
        else:
            selection = fw.select(files, want, exists=exists)
            passed += selection.skipped
            for path, why in passed:
                LOG.debug("firmware descriptor %s skipped: %s", path, why)
            chosen = selection.firmware
            if chosen is None and exists(DEFAULT_EFI_CODE) and not c.efi_secure_boot:
                chosen = fw.Firmware(
                    fw.FlashImage(DEFAULT_EFI_CODE), fw.FlashImage(DEFAULT_EFI_VARS)
                )
            if chosen is None:
                self.err(_no_firmware_message(want, dirs, passed, efi_install_hint(c.qemu_binary)))
                return
            if chosen.descriptor is not None:
                LOG.debug("firmware descriptor %s chosen", chosen.descriptor.path)
            c.efi_firmware_code = chosen.code.path
            if c.efi_firmware_vars:
                fmt = fw.sniff_format(str(self._path(c.efi_firmware_vars)))
                vars_image = fw.FlashImage(c.efi_firmware_vars, fmt)
                chosen = fw.Firmware(chosen.code, vars_image, chosen.descriptor, chosen.features)
            else:
                c.efi_firmware_vars = chosen.vars.path
        for key in ("efi_firmware_code", "efi_firmware_vars"):
            value = getattr(c, key)
            if not exists(value):
                self.err(
                    f"{key} {value!r} does not exist: {efi_install_hint(c.qemu_binary)} "
                    f"or point {key} at your firmware"
                )
        problem = fw.machine_problem(chosen, c.machine_type)
        if problem:
            self.err(problem)

    def output_directory(self) -> None:
        path = self._path(self.c.output_directory)
        if self.ctx.force:
            self._force_hazard(path)
            return
        if not _probe(path, Path.exists):
            return
        if _probe(path, lambda p: p.is_dir() and not any(p.iterdir())):
            return  # Packer's QEMU page: "must not exist or be empty"
        self.err(
            f"Output directory '{self.c.output_directory}' already exists. It must not exist "
            "(or be empty): remove it, choose another output_directory, or run with -force."
        )

    def _force_hazard(self, path: Path) -> None:
        """-force deletes the output directory: never a place the user keeps other things."""
        from kiln.engine.output_dir import force_hazard

        c = self.c
        protected: dict[str, str | Path] = {
            "the root directory": "/",
            "your home directory": _expand_user("~"),
            "the working directory": self.ctx.cwd,
        }
        if self.ctx.template_dir is not None:
            protected["the template's directory"] = self.ctx.template_dir
        inputs: list[tuple[str, str | Path]] = []
        named = {"iso_url": [c.iso_url, *c.iso_urls], "http_directory": [c.http_directory],
                 "floppy_files": c.floppy_files, "floppy_dirs": c.floppy_dirs,
                 "cd_files": c.cd_files, "firmware": [c.firmware],
                 "efi_firmware_code": [c.efi_firmware_code],
                 "efi_firmware_vars": [c.efi_firmware_vars],
                 "ssh_private_key_file": [self.comm.ssh_private_key_file]}  # fmt: skip
        try:
            for key, names in named.items():
                for name in (n for n in names if n and "\0" not in n):
                    local = parse_source(name).path if key == "iso_url" else Path(name)
                    if local is not None:
                        inputs.append((f"{key} '{name}'", self._path(str(local))))
            problem = force_hazard(
                path, shown=c.output_directory, protected=protected, inputs=inputs
            )
        except (OSError, ValueError):  # a path that cannot even be looked at (a NUL in it)
            problem = None
        if problem:
            self.err(problem)

    def vnc(self) -> None:
        c = self.c
        if c.vnc_port_min < 5900:
            self.err(
                f"vnc_port_min cannot be below 5900 (got {c.vnc_port_min}): VNC display N "
                "listens on port 5900+N"
            )
        if c.vnc_port_min > 65535 or c.vnc_port_max > 65535:
            self.err("vnc_port_min and vnc_port_max must both be below 65535 to be valid TCP ports")
        if c.vnc_port_min > c.vnc_port_max:
            self.err("vnc_port_min must be less than vnc_port_max")
        if c.vnc_use_password:
            if len(c.vnc_password) > 8:
                self.err(
                    f"vnc_password is {len(c.vnc_password)} characters long; VNC passwords "
                    "have at most 8"
                )
            if not c.vnc_password:
                import secrets

                c.vnc_password = "".join(secrets.choice(_VNC_ALPHABET) for _ in range(8))
                c.vnc_password_generated = True

    def choice(self, section: object, name: str) -> None:
        """One option with a fixed set of values, checked where Packer checks it."""
        self.checked.add(name)
        row = next(r for r in option_specs(type(section)) if r.name == name)
        value = getattr(section, name)
        problem = choice_problem(row, value) if value != "" else None
        if problem is not None:
            self.err(problem)

    def choices_and_unsupported(self) -> None:
        for section in (self.c, self.comm):
            for row in option_specs(type(section)):
                if row.spec.choices and row.name not in self.checked:
                    self.choice(section, row.name)
                value = getattr(section, row.name)
                changed = row.name in self.ctx.explicit and value != row.default
                if row.spec.unsupported and changed:
                    self.err(f"{row.name} is not supported by kiln yet: remove it")
                winrm_error = row.spec.section == "winrm" and self.comm.communicator == "winrm"
                if row.spec.inert and changed and not winrm_error:
                    self.warn(
                        f"{row.name} is accepted for compatibility but has no effect in kiln "
                        "(docs/options/qemu.md says why)"
                    )

    def nul_characters(self) -> None:
        """A NUL character fits no file name, argument or QEMU option (kiln's check: Packer
        fails when it uses the value, kiln would fail with "embedded null byte")."""
        for section in (self.c, self.comm):
            for row in option_specs(type(section)):
                value = getattr(section, row.name)
                items = value if isinstance(value, list) else [value]
                flat = [x for item in items for x in (item if isinstance(item, list) else [item])]
                reported = any(e.startswith(row.name) for e in self.errors)  # by a check above
                if not reported and any(isinstance(x, str) and "\0" in x for x in flat):
                    self.err(
                        f"{row.name} contains a NUL character (\\0), which no file name, "
                        "command-line argument or QEMU option can hold: remove it"
                    )


def _expand_user(name: str) -> Path:
    """`~` and `~/x` expanded; `~user/x` too when that user exists, else left as written."""
    try:
        return Path(name).expanduser()
    except RuntimeError:
        return Path(name)


def efi_install_hint(qemu_binary: str) -> str:
    """What to install for the UEFI firmware of the architecture `qemu_binary` emulates."""
    name = Path(qemu_binary).name
    arch = name.removeprefix("qemu-system-") if name.startswith("qemu-system-") else ""
    if arch in _EFI_PACKAGES:
        return _EFI_PACKAGES[arch]
    return "install UEFI firmware for " + (arch or "your QEMU's architecture")


def _architecture(qemu_binary: str) -> str:
    """The emulator's target from its name (`qemu-system-x86_64` → x86_64)."""
    name = Path(qemu_binary).name
    return name.removeprefix("qemu-system-") if name.startswith("qemu-system-") else "x86_64"


def _no_firmware_message(
    want: fw.Search, dirs: list[Path], passed: list[tuple[Path, str]], install: str
) -> str:
    what = "Secure Boot UEFI firmware" if want.secure_boot else "UEFI firmware"
    lines = [
        f"efi_boot: no {what} for {want.architecture} and machine_type {want.machine!r}: no "
        "firmware descriptor fits (looked in "
        + ", ".join(str(d) for d in dirs)
        + ")"
        + (f" and {DEFAULT_EFI_CODE} does not exist" if not want.secure_boot else "")
    ]
    lines += [f"  {path.name}: {why}" for path, why in passed]
    from kiln.builders.qemu.firmware import can_smm

    if want.secure_boot and not can_smm(want.machine):
        lines.append('  Secure Boot firmware needs SMM: set "machine_type": "q35"')
    lines.append(f"  {install}, or set efi_firmware_code and efi_firmware_vars")
    return "\n".join(lines)


def _probe(path: Path, test: Callable[[Path], bool]) -> bool:
    """`test(path)`, false when the path cannot even be looked at (too long, NUL, EACCES)."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def _run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (reading a local file) without an event loop.

    Importing asyncio costs `kiln validate` ~40 ms; a local checksum file needs none of it.
    A coroutine that does suspend is an error in kiln (it would need the network).
    """
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError("reading a local checksum file tried to wait for I/O")


def _normalize_size(size: str) -> str:
    """Packer: "" or "0" → default; plain digits are megabytes."""
    if size in ("", "0"):
        return ""
    if re.fullmatch("[0-9]+", size):
        return size + "M"
    return size

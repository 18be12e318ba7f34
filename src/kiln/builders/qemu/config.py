"""The `qemu` builder's option table: every key, declared once.

Defaults that Packer computes in `Prepare` (output directory from the build name, checksum
normalisation, forced values) are applied in `prepare.py`; here a field's default is the
value it has when the template does not set it. `help` is what the generated reference
(docs/options/qemu.md) says; `since` tells where the option comes from: `1.6.6` (Packer
1.6.6 has it), `before 1.6` (Packer's QEMU page documented it; 1.6 removed it),
`plugin vX` (the modern packer-plugin-qemu) or `kiln` (kiln's own, listed in
docs/compatibility.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.options.spec import Duration, QemuImgArgs, option

ACCELERATORS = ("none", "kvm", "tcg", "xen", "hax", "hvf", "whpx")
DISK_INTERFACES = ("ide", "scsi", "virtio", "virtio-scsi", "sata", "sd")
DISK_CACHES = ("writethrough", "writeback", "none", "unsafe", "directsync")
DISK_DISCARDS = ("unmap", "ignore")
DISK_DETECT_ZEROES = ("unmap", "on", "off")
FORMATS = ("qcow2", "raw")
NET_DEVICES = (
    "ne2k_pci", "i82551", "i82557b", "i82559er", "rtl8139", "e1000", "pcnet", "virtio",
    "virtio-net", "virtio-net-pci", "usb-net", "i82559a", "i82559b", "i82559c", "i82550",
    "i82562", "i82557a", "i82557c", "i82801", "vmxnet3", "i82558a", "i82558b",
)  # fmt: skip
HTTP_PROTOCOLS = ("tcp", "tcp4", "tcp6", "unix", "unixpacket")
# QEMU user networking (slirp)'s address of the host, as the guest sees it: `{{ .HTTPIP }}`
# unless `net_bridge` is set.
SLIRP_HOST_IP = "10.0.2.2"


@dataclass
class QemuConfig:
    """Options of a `"type": "qemu"` builder (the communicator's are in `CommConfig`)."""

    # --- ISO -------------------------------------------------------------------------
    iso_url: str = option(
        "",
        section="iso",
        required=True,
        help="URL of the installer ISO (or, with `disk_image`, of a bootable disk image): "
        "`http(s)://`, `file://` or a path. Downloaded and cached; local files are used in "
        "place. Exactly one of `iso_url` and `iso_urls` is required.",
    )
    iso_urls: list[str] = option(
        section="iso",
        factory=list,
        help="Several URLs for the same file, tried in order until one downloads and matches "
        "the checksum.",
    )
    iso_checksum: str = option(
        "",
        section="iso",
        required=True,
        help="Checksum of the ISO: `none`, bare hex (type from its length), `type:hex` "
        "(md5, sha1, sha256, sha512) or `file:URL` of a GNU/BSD checksum file. With the "
        "older `iso_checksum_type` a bare hex value is typed by that key.",
    )
    iso_checksum_type: str = option(
        "",
        section="iso",
        since="before 1.6",
        help="(Removed in Packer 1.6; kiln accepts it.) The type of "
        "`iso_checksum`: none, md5, sha1, sha256 or sha512. Normalised to `type:hex`.",
    )
    iso_checksum_url: str = option(
        "",
        section="iso",
        since="before 1.6",
        help="(Removed in Packer 1.6; kiln accepts it.) URL of a GNU or BSD checksum file "
        "listing the ISO; ignored when "
        "`iso_checksum` is set. Normalised to `file:URL`.",
    )
    iso_target_path: str = option(
        "",
        section="iso",
        help="Where the downloaded ISO is stored. A path without an extension is a directory "
        "(the cache file name goes inside it); with one, the exact file. Default: the cache "
        "(`PACKER_CACHE_DIR`, else `$XDG_CACHE_HOME/packer`, else `~/.cache/packer`).",
    )
    iso_target_extension: str = option(
        "iso",
        section="iso",
        help="Extension of the cached file (lower-cased).",
    )
    iso_skip_cache: bool = option(
        False,
        section="iso",
        help="Do not download: hand the URL to QEMU (needs QEMU's curl block driver and a "
        "server that supports byte ranges). Forces the checksum to `none`.",
    )

    # --- Output ----------------------------------------------------------------------
    output_directory: str = option(
        "",
        section="output",
        default_doc="`output-<build name>`",
        help="Directory for the image. Must not exist (kiln also accepts an empty one, as the "
        "QEMU page documents) unless `-force` is given.",
    )
    vm_name: str = option(
        "",
        section="output",
        default_doc="`packer-<build name>`",
        help="File name of the image inside `output_directory` (no extension is added).",
    )
    format: str = option(
        "qcow2",
        section="output",
        choices=FORMATS,
        choice_error="invalid format, only 'qcow2' or 'raw' are allowed",
        help="Image format: `qcow2` or `raw`.",
    )
    skip_compaction: bool = option(
        False,
        section="output",
        help="Do not compact the qcow2 image with `qemu-img convert` at the end. Forced on for "
        "raw images and with `use_backing_file`.",
    )
    disk_compression: bool = option(
        False,
        section="output",
        help="Compress the qcow2 image (`qemu-img convert -c`). Ignored for raw images.",
    )

    # --- Disk ------------------------------------------------------------------------
    disk_size: str = option(
        "40960M",
        section="disk",
        help="Disk size: a number of megabytes, or a number with a unit suffix b, k, m, g, t "
        "(`10G`). The default is Packer 1.6.6's, `40960M` (40 GiB; its older documentation "
        "says 40000).",
    )
    disk_additional_size: list[str] = option(
        section="disk",
        factory=list,
        since="1.6.6",
        help="Sizes of extra disks, created as `<vm_name>-1`, `<vm_name>-2` and so on; each "
        "is checked like `disk_size`.",
    )
    disk_interface: str = option(
        "virtio",
        section="disk",
        choices=DISK_INTERFACES,
        choice_error="unrecognized disk interface type",
        help="How the disk is attached: ide, scsi, virtio, virtio-scsi (also sata, sd, as the "
        "modern plugin; QEMU's x86 `pc` machine rejects those two).",
    )
    disk_cache: str = option(
        "writeback",
        section="disk",
        choices=DISK_CACHES,
        choice_error="unrecognized disk cache type",
        help="Cache mode of the disk: writethrough, writeback, none, unsafe, directsync.",
    )
    disk_discard: str = option(
        "ignore",
        section="disk",
        choices=DISK_DISCARDS,
        choice_error="unrecognized disk discard type",
        help="Discard mode of the disk: unmap or ignore.",
    )
    disk_detect_zeroes: str = option(
        "off",
        section="disk",
        choices=DISK_DETECT_ZEROES,
        choice_error="unrecognized disk detect zeroes setting",
        since="1.6.6",
        help="QEMU's detect-zeroes for the disk: unmap, on or off.",
    )
    disk_image: bool = option(
        False,
        section="disk",
        help="`iso_url` is a bootable disk image: copy (or convert) it to the output, resize "
        "it to `disk_size` and boot it (`-boot c`) instead of installing from an ISO.",
    )
    use_backing_file: bool = option(
        False,
        section="disk",
        since="1.6.6",
        help="With `disk_image` and qcow2: create the output as an overlay whose backing file "
        "is the source image (`qemu-img create -b SRC -F qcow2`) instead of copying it.",
    )
    skip_resize_disk: bool = option(
        False,
        section="disk",
        since="1.6.6",
        help="With `disk_image`: keep the source image's size.",
    )
    qemu_img_args: QemuImgArgs = option(
        section="disk",
        factory=QemuImgArgs,
        since="1.6.6",
        help="Extra arguments for `qemu-img`: an object with `convert`, `create` and `resize` "
        "lists, inserted before the positional arguments.",
    )

    # --- Machine ---------------------------------------------------------------------
    accelerator: str = option(
        "",
        section="machine",
        choices=ACCELERATORS,
        choice_error="invalid accelerator, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', "
        "or 'none' are allowed",
        default_doc="auto: `kvm` if a guest really runs under it, else `tcg`",
        help="Accelerator: none, kvm, tcg, xen, hax, hvf, whpx. Unset: kiln probes KVM with a "
        "tiny guest and falls back to tcg with a warning when KVM cannot run one.",
    )
    machine_type: str = option(
        "pc",
        section="machine",
        help="QEMU machine type (`qemu-system-x86_64 -machine help` lists them).",
    )
    memory: int = option(
        512,
        section="machine",
        since="1.6.6",
        help="Guest memory in MiB (values under 10 mean the default, 512).",
    )
    cpus: int = option(
        0,
        section="machine",
        since="1.6.6",
        default_doc="1, or sockets × cores × threads when those are set",
        help="Number of virtual CPUs (`-smp`); never more than the topology allows.",
    )
    sockets: int = option(0, section="machine", since="plugin v1.0.7", help="CPU sockets.")
    cores: int = option(0, section="machine", since="plugin v1.0.7", help="Cores per socket.")
    threads: int = option(0, section="machine", since="plugin v1.0.7", help="Threads per core.")
    cpu_model: str = option(
        "",
        section="machine",
        since="plugin v1.0.9",
        help="CPU model for `-cpu` (e.g. `host`); unset: QEMU's default.",
    )
    qemu_binary: str = option(
        "qemu-system-x86_64",
        section="machine",
        help="QEMU binary to run (looked up on PATH).",
    )
    qemuargs: list[list[str]] = option(
        section="machine",
        factory=list,
        late=True,
        help="Full control over QEMU's command line: each row is a switch and its value "
        "(concatenated without separator). A switch replaces the default switch of the same "
        "name. Template fields: `{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .HTTPDir }}`, "
        "`{{ .OutputDir }}`, `{{ .Name }}`, `{{ .SSHHostPort }}`.",
    )
    net_device: str = option(
        "virtio-net",
        section="machine",
        help="Network device model, e.g. virtio-net, e1000, rtl8139 (any QEMU NIC model is "
        "passed through; Packer's documented list is: " + ", ".join(NET_DEVICES) + ").",
    )
    net_bridge: str = option(
        "",
        section="machine",
        since="1.6.6",
        help="Attach the NIC to this host bridge (QEMU's bridge helper) instead of user-mode "
        "networking; enables QMP.",
    )
    cdrom_interface: str = option(
        "",
        section="machine",
        since="1.6.6",
        choices=DISK_INTERFACES,
        choice_message="cdrom_interface {value!r} is not supported: use one of {allowed}",
        help="Interface for CD-ROM drives (e.g. ide, virtio-scsi); unset: QEMU's default.",
    )
    firmware: str = option(
        "",
        section="machine",
        since="plugin v0.0.1",
        help="Firmware file passed with `-bios` (or as a pflash drive with `use_pflash`).",
    )
    use_pflash: bool = option(
        False,
        section="machine",
        since="plugin v1.0.3",
        help="Attach `firmware` as a read-only pflash drive instead of `-bios`.",
    )
    efi_boot: bool = option(
        False,
        section="machine",
        since="plugin v1.0.7",
        help="Boot with UEFI firmware (pflash code + a per-build copy of the vars); no `-boot`.",
    )
    efi_firmware_code: str = option(
        "",
        section="machine",
        since="plugin v1.0.7",
        default_doc="from QEMU's firmware descriptors when EFI is on",
        help="UEFI code image; setting it turns `efi_boot` on. Unset, kiln takes the first "
        "matching firmware descriptor (`/usr/share/qemu/firmware`, `/etc/qemu/firmware`, "
        "`~/.config/qemu/firmware`) for the architecture and `machine_type`, as libvirt does "
        "(Packer: `/usr/share/OVMF/OVMF_CODE.fd`).",
    )
    efi_firmware_vars: str = option(
        "",
        section="machine",
        since="plugin v1.0.7",
        default_doc="from the same descriptor as the code",
        help="UEFI variables template, copied to `<output_directory>/efivars.fd`; setting it "
        "turns `efi_boot` on.",
    )
    efi_secure_boot: bool = option(
        False,
        section="machine",
        since="kiln",
        help="Choose a firmware descriptor with Secure Boot on (`secure-boot` and "
        "`enrolled-keys`: Microsoft's keys on Debian); false skips Secure Boot firmware. A "
        "firmware that `requires-smm` gets `smm=on` and a secure flash, which needs "
        "`machine_type` q35. Turns `efi_boot` on; no effect with `efi_firmware_code` set.",
    )
    efi_drop_efivars: bool = option(
        False,
        section="machine",
        since="plugin v1.0.10",
        help="Leave `efivars.fd` out of the artifact.",
    )
    vtpm: bool = option(
        False,
        section="machine",
        since="plugin v1.0.7",
        help="Attach a software TPM (needs `swtpm` on PATH).",
    )
    use_tpm1: bool = option(
        False, section="machine", since="plugin v1.0.7", help="Emulate TPM 1.2 instead of 2.0."
    )
    tpm_device_type: str = option(
        "tpm-tis",
        section="machine",
        since="plugin v1.0.7",
        help="QEMU device model of the TPM.",
    )
    run_once: bool = option(
        False,
        section="machine",
        since="1.6.6",
        inert=True,
        help="Run the VM once only (Packer ignores it too).",
    )

    # --- Display and VNC -------------------------------------------------------------
    headless: bool = option(
        False,
        section="display",
        help="Do not open a window for the console. kiln also runs headless (with a warning) "
        "when there is no display to open one on; the console is then on VNC.",
    )
    display: str = option(
        "",
        section="display",
        since="1.6.6",
        help="QEMU display backend for `-display` when not headless (default gtk); `none` "
        "means QEMU's default, as documented.",
    )
    use_default_display: bool = option(
        False,
        section="display",
        help="Do not pass `-display`; let QEMU choose.",
    )
    vga: str = option(
        "", section="display", since="plugin v1.0.7", help="VGA card model for `-vga`."
    )
    vnc_bind_address: str = option(
        "127.0.0.1",
        section="display",
        help="Address QEMU's VNC server binds to (0.0.0.0 for all interfaces).",
    )
    vnc_port_min: int = option(
        5900,
        section="display",
        help="Lowest VNC port to use (inclusive; at least 5900: VNC displays start there).",
    )
    vnc_port_max: int = option(6000, section="display", help="Highest VNC port to use (inclusive).")
    vnc_use_password: bool = option(
        False,
        section="display",
        since="1.6.6",
        help="Protect the VNC console with a password (set over QMP).",
    )
    vnc_password: str = option(
        "",
        section="display",
        since="plugin v1.1.2",
        default_doc="random 8 characters",
        secret=True,
        help="The VNC password with `vnc_use_password` (at most 8 characters). When it is "
        "not set, kiln generates one and prints it with the VNC address so you can watch the "
        "console, as Packer does; one you set is not printed.",
    )
    # Not an option: Prepare generated vnc_password (so it is shown, not kept secret).
    vnc_password_generated: bool = False
    disable_vnc: bool = option(
        False,
        section="display",
        since="1.6.6",
        help="Do not start VNC (no boot command can be typed then).",
    )
    qmp_enable: bool = option(
        False,
        section="display",
        since="1.6.6",
        help="Expose a QMP socket at `qmp_socket_path` (kiln always drives QEMU over its own "
        "private QMP channel as well).",
    )
    qmp_socket_path: str = option(
        "",
        section="display",
        since="1.6.6",
        default_doc="`<output_directory>/<vm_name>.monitor`",
        help="Path of the user-visible QMP socket when `qmp_enable` is on.",
    )

    # --- Boot ------------------------------------------------------------------------
    boot_wait: Duration = option(
        Duration(10.0, "10s"),
        section="boot",
        help="Time to wait after starting the VM before typing `boot_command` (negative: no wait).",
    )
    boot_command: list[str] = option(
        section="boot",
        factory=list,
        late=True,
        help="Keys to type after `boot_wait` (strings are joined). Special keys like "
        "`<enter>`, `<esc>`, `<f1>`, `<leftCtrlOn>`, waits like `<wait5>` and `<wait1m30s>`, "
        "and `{{ .HTTPIP }}`, `{{ .HTTPPort }}`, `{{ .Name }}` are understood.",
    )
    boot_steps: list[list[str]] = option(
        section="boot",
        factory=list,
        late=True,
        since="plugin v1.0.7",
        help="Like `boot_command`, as `[command, description]` rows typed one after another.",
    )
    boot_key_interval: Duration = option(
        Duration(0.0, "0s"),
        section="boot",
        since="1.6.6",
        default_doc="`PACKER_KEY_INTERVAL`, else `100ms`",
        help="Delay after each key event while typing.",
    )
    boot_keygroup_interval: Duration = option(
        Duration(0.0, "0s"),
        section="boot",
        since="1.6.6",
        inert=True,
        help="Pause between groups of keys; Packer's VNC driver ignores it too.",
    )

    # --- HTTP server -----------------------------------------------------------------
    http_directory: str = option(
        "",
        section="http",
        help="Directory served over HTTP to the guest (answer files); its address is "
        "`{{ .HTTPIP }}:{{ .HTTPPort }}` in the boot command.",
    )
    http_content: dict[str, str] = option(
        section="http",
        factory=dict,
        since="plugin v0.0.1",
        help="Files served from memory: URL path → content. Not with `http_directory`.",
    )
    http_port_min: int = option(8000, section="http", help="Lowest HTTP port (inclusive).")
    http_port_max: int = option(9000, section="http", help="Highest HTTP port (inclusive).")
    http_bind_address: str = option(
        "",
        section="http",
        since="1.6.6",
        default_doc="`127.0.0.1` (`0.0.0.0` with `net_bridge`)",
        help="Address the HTTP server binds to. With user networking the guest reaches "
        "the host's loopback as 10.0.2.2, so kiln listens on 127.0.0.1 unless told "
        "otherwise (Packer: 0.0.0.0, every interface of the host); with `net_bridge` the "
        "guest comes through the bridge, and kiln listens on 0.0.0.0.",
    )
    http_interface: str = option(
        "",
        section="http",
        since="1.6.6",
        help="Bind the HTTP server to this host interface's address instead.",
    )
    http_network_protocol: str = option(
        "tcp",
        section="http",
        since="plugin v1.1.1",
        choices=HTTP_PROTOCOLS,
        choice_error="http_network_protocol is invalid. Must be one of: "
        "[tcp tcp4 tcp6 unix unixpacket]",
        help="Network of the HTTP listener. kiln listens on TCP at `http_bind_address`, "
        "whose address family decides between IPv4 and IPv6; `unix` and `unixpacket` are "
        "errors (the guest could not reach them).",
    )

    # --- Floppy and CD ---------------------------------------------------------------
    floppy_files: list[str] = option(
        section="floppy",
        factory=list,
        help="Files (globs and directories allowed; flattened) put in the root of a 1.44 MB "
        "floppy attached as the first floppy drive. A glob that matches nothing is an error.",
    )
    floppy_dirs: list[str] = option(
        section="floppy",
        factory=list,
        help="Directories copied to the floppy recursively, keeping their structure.",
    )
    floppy_content: dict[str, str] = option(
        section="floppy",
        factory=dict,
        since="plugin v1.0.5",
        help="Files written to the floppy from the template: path → content.",
    )
    floppy_label: str = option(
        "packer", section="floppy", since="1.6.6", help="FAT volume label of the floppy."
    )
    cd_files: list[str] = option(
        section="cd",
        factory=list,
        since="1.6.6",
        help="Files (globs allowed; one that matches nothing is an error) put on an extra "
        "CD-ROM image attached to the VM.",
    )
    cd_content: dict[str, str] = option(
        section="cd",
        factory=dict,
        since="plugin v1.0.1",
        help="Files written to the CD from the template: path → content.",
    )
    cd_label: str = option(
        "packer", section="cd", since="1.6.6", help="Volume label of the CD (e.g. `cidata`)."
    )

    # --- Shutdown --------------------------------------------------------------------
    shutdown_command: str = option(
        "",
        section="shutdown",
        help="Command run over SSH to power the guest off. Unset: kiln asks the guest to "
        "power off with an ACPI power-button press, and stops QEMU if it does not.",
    )
    shutdown_timeout: Duration = option(
        Duration(300.0, "5m"),
        section="shutdown",
        help="How long to wait for QEMU to exit after `shutdown_command`.",
    )

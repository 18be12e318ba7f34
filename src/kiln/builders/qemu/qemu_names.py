"""Paths and names as QEMU and qemu-img read them, not as they look.

Two readings turn a file name into something else (Packer passes names through as they
are, so both hit it):

* in an option list (`-drive file=<path>,if=virtio`, `-name`, `-qmp unix:<path>,…`) QEMU
  splits at commas and reads `,,` as one comma: `vm_name: "disk.qcow2,snapshot=on"`
  would add `snapshot=on` to the drive (`opt`);
* a relative name whose first component holds a colon is a protocol to the block layer:
  `a:b/disk.qcow2` is "Unknown protocol 'a'", and `nbd:host:10809/disk` would connect to
  a network block device (`plain_file` prefixes `./`, which QEMU reads as a file).
"""

from __future__ import annotations


def opt(value: str) -> str:
    """`value` inside a QEMU option list: commas doubled."""
    return value.replace(",", ",,")


def plain_file(path: str) -> str:
    """`path` as a file name for QEMU's block layer and qemu-img, never a protocol."""
    first = path.split("/", 1)[0]
    return f"./{path}" if ":" in first else path


def drive_file(path: str) -> str:
    """The `file=` value of a `-drive`."""
    return opt(plain_file(path))

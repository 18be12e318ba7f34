"""Just enough ELF64 (little-endian) reading: DT_NEEDED, PT_INTERP and kernel `.modinfo`."""

from __future__ import annotations

import dataclasses
import struct


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    type: int
    offset: int
    size: int
    link: int


def elf_sections(data: bytes) -> list[Section] | None:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = []
    for i in range(shnum):
        name, typ, _flags, _addr, off, size, link = struct.unpack_from(
            "<IIQQQQI", data, shoff + i * shentsize
        )
        raw.append((name, typ, off, size, link))
    if not raw:
        return []
    stroff = raw[shstrndx][2]
    out = []
    for name, typ, off, size, link in raw:
        end = data.index(b"\0", stroff + name)
        out.append(Section(data[stroff + name : end].decode(), typ, off, size, link))
    return out


def elf_needed(data: bytes) -> list[str]:
    """DT_NEEDED entries of an ELF file (empty for static binaries and non-ELF files)."""
    sections = elf_sections(data)
    if not sections:
        return []
    out = []
    for sec in sections:
        if sec.type != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[sec.link]
        for off in range(sec.offset, sec.offset + sec.size, 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                start = strtab.offset + val
                out.append(data[start : data.index(b"\0", start)].decode())
    return out


def elf_interp(data: bytes) -> str | None:
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _flags, off, _va, _pa, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize
        )
        if ptype == 3:  # PT_INTERP
            return data[off : off + filesz].rstrip(b"\0").decode()
    return None


def modinfo(data: bytes) -> dict[str, list[str]]:
    """The `.modinfo` key=value pairs of a kernel module."""
    sections = elf_sections(data) or []
    info: dict[str, list[str]] = {}
    for sec in sections:
        if sec.name == ".modinfo":
            for item in data[sec.offset : sec.offset + sec.size].split(b"\0"):
                key, sep, val = item.decode(errors="replace").partition("=")
                if sep:
                    info.setdefault(key, []).append(val)
    return info

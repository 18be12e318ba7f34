"""UEFI boot order over QMP (kiln.builders.qemu.boot_order), on `query-block` answers that
QEMU 7.2 gave for kiln's own command lines (tests/data/qmp)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiln.builders.qemu.boot_order import boot_indexes, set_disk_then_iso

DATA = Path(__file__).resolve().parent.parent / "data" / "qmp"
ISO = "/tmp/efi-out/tiny-installer.iso"


def blocks(name: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = json.loads((DATA / f"query-block-{name}.json").read_text())
    return answer


def test_virtio_disk_and_ide_cd() -> None:
    assert boot_indexes(blocks("virtio-disk-ide-cd"), "out-vm", ISO) == [
        ("/machine/peripheral-anon/device[0]/virtio-backend", 0),
        ("/machine/unattached/device[23]", 1),
    ]


def test_sata_disk_and_virtio_scsi_cd() -> None:
    assert boot_indexes(blocks("sata-disk-virtio-scsi-cd"), "out-vm", ISO) == [
        ("/machine/peripheral-anon/device[0]", 0),
        ("/machine/peripheral-anon/device[1]", 1),
    ]


def test_the_same_file_by_another_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out-vm").write_bytes(b"")
    got = boot_indexes(blocks("virtio-disk-ide-cd"), str(tmp_path / "out-vm"), ISO)
    assert [index for _, index in got] == [0, 1]


@pytest.mark.parametrize(("disk", "iso"), [("other-disk", ISO), ("out-vm", "/other.iso")])
def test_nothing_when_a_drive_is_missing(disk: str, iso: str) -> None:
    assert boot_indexes(blocks("virtio-disk-ide-cd"), disk, iso) == []


class FakeQmp:
    def __init__(self, answer: list[dict[str, Any]]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def command(self, name: str, **arguments: Any) -> Any:
        self.calls.append((name, arguments))
        return self.answer if name == "query-block" else {}


async def test_set_disk_then_iso_sets_the_disk_first() -> None:
    qmp = FakeQmp(blocks("virtio-disk-ide-cd"))
    await set_disk_then_iso(qmp, "out-vm", ISO)
    assert qmp.calls[1:] == [
        ("qom-set", {"path": "/machine/peripheral-anon/device[0]/virtio-backend",
                     "property": "bootindex", "value": 0}),
        ("qom-set", {"path": "/machine/unattached/device[23]", "property": "bootindex",
                     "value": 1}),
    ]  # fmt: skip

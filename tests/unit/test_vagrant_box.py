"""The Vagrant box format and its streaming writer (kiln.postprocessors.vagrant_box)."""

from __future__ import annotations

import gzip
import io
import tarfile
import threading
from pathlib import Path

import pytest

from kiln.postprocessors.vagrant_box import (
    LIBVIRT_VAGRANTFILE,
    BoxEntry,
    BoxError,
    Cancelled,
    box_entries,
    box_vagrantfile,
    check_level,
    libvirt_driver,
    libvirt_virtual_size,
    metadata_json,
    partial_path,
    size_in_megabytes,
    write_box,
)

# The Vagrantfile Packer 1.6.6 wrote for a TCG build with a vagrantfile_template (taken
# from a real `packer build` of the test guest with a vagrant post-processor).
PACKER_VAGRANTFILE = """
# The contents below were provided by the Packer Vagrant post-processor

Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "qemu"
  end
end


# The contents below (if any) are custom contents provided by the
# Packer template during image build.
Vagrant.configure("2") do |c|
  # build=qemu provider=libvirt id=VM user=me
end

"""


# Packer's libvirt_test.go, case for case.
@pytest.mark.parametrize(
    ("size", "megabytes"),
    [
        ("1234", 1234),
        (f"{1234 * 1024 * 1024}b", 1234),
        (f"{1234 * 1024 * 1024}B", 1234),
        ("1B", 0),
        (f"{1234 * 1024}k", 1234),
        (f"{1234 * 1024}K", 1234),
        ("1K", 0),
        ("1234m", 1234),
        ("1234M", 1234),
        ("1M", 1),
        ("1234g", 1234 * 1024),
        ("1G", 1024),
        ("1234t", 1234 * 1024**2),
        ("1T", 1024**2),
        ("1234p", 1234 * 1024**3),
        ("1P", 1024**3),
        ("1234e", 1234 * 1024**4),
        ("1E", 1024**4),
    ],
)
def test_size_in_megabytes(size: str, megabytes: int) -> None:
    assert size_in_megabytes(size) == megabytes


@pytest.mark.parametrize("size", ["1234x", "M", "", "1.5G"])
def test_size_in_megabytes_rejects_other_units(size: str) -> None:
    with pytest.raises(BoxError, match="is not a number with one of the units"):
        size_in_megabytes(size)


@pytest.mark.parametrize(
    ("size", "gigabytes"),
    [("256M", 1), ("1024M", 1), ("1025M", 2), ("40960M", 40), ("20G", 20), ("1T", 1024)],
)
def test_virtual_size_is_whole_gigabytes_rounded_up(size: str, gigabytes: int) -> None:
    assert libvirt_virtual_size(size) == gigabytes


@pytest.mark.parametrize(
    ("accelerator", "driver"), [("none", "qemu"), ("tcg", "qemu"), ("hvf", "qemu"), ("kvm", "kvm")]
)
def test_libvirt_driver(accelerator: str, driver: str) -> None:
    assert libvirt_driver(accelerator) == driver


def test_libvirt_driver_unknown_accelerator() -> None:
    with pytest.raises(BoxError, match=r"^Unknown libvirt domain type: whpx$"):
        libvirt_driver("whpx")


def test_metadata_is_go_json() -> None:
    meta = {"provider": "libvirt", "format": "qcow2", "virtual_size": 40}
    assert metadata_json(meta) == b'{"format":"qcow2","provider":"libvirt","virtual_size":40}\n'
    assert metadata_json({"a": "<&>"}) == b'{"a":"\\u003c\\u0026\\u003e"}\n'


def test_vagrantfile_is_packers_byte_for_byte() -> None:
    custom = 'Vagrant.configure("2") do |c|\n  # build=qemu provider=libvirt id=VM user=me\nend\n'
    made = box_vagrantfile(LIBVIRT_VAGRANTFILE.format(driver="qemu"), custom)
    assert made == PACKER_VAGRANTFILE.encode()


@pytest.mark.parametrize("level", [-1, 0, 1, 9])
def test_check_level_accepts_packers_range(level: int) -> None:
    check_level(level)


@pytest.mark.parametrize("level", [-2, 10, 99])
def test_check_level_rejects_the_rest(level: int) -> None:
    with pytest.raises(BoxError, match=r"Expected an integer from -1 to 9 \(compression_level"):
        check_level(level)


def test_entries_are_unique_and_in_walk_order() -> None:
    entries = [
        BoxEntry("metadata.json", data=b"included"),
        BoxEntry("box.img", data=b"disk"),
        BoxEntry("extra.txt", data=b"x"),
        BoxEntry("Vagrantfile", data=b"v1"),
        BoxEntry("Vagrantfile", data=b"v2"),
    ]
    ordered = box_entries(entries)
    assert [e.name for e in ordered] == ["Vagrantfile", "box.img", "extra.txt", "metadata.json"]
    assert ordered[0].data == b"v2"


def _disk(tmp_path: Path, size: int = 3 * (1 << 20) + 123) -> Path:
    disk = tmp_path / "disk.qcow2"
    pattern = bytes(range(256)) * 4096 + b"\0" * (1 << 20)
    with disk.open("wb") as f:
        left = size
        while left:
            piece = pattern[: min(left, len(pattern))]
            f.write(piece)
            left -= len(piece)
    return disk


def _entries(disk: Path) -> list[BoxEntry]:
    return [
        BoxEntry("box.img", source=disk),
        BoxEntry("metadata.json", data=b'{"provider":"libvirt"}\n'),
        BoxEntry("Vagrantfile", data=b"# vf\n"),
    ]


@pytest.mark.parametrize("level", [-1, 1, 6, 9])
def test_gzipped_box_round_trips(tmp_path: Path, level: int) -> None:
    disk = _disk(tmp_path)
    target = tmp_path / "t.box"
    total = write_box(target, _entries(disk), level, threads=2)
    assert total == disk.stat().st_size + len(b'{"provider":"libvirt"}\n') + len(b"# vf\n")
    raw = target.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    tar_bytes = gzip.decompress(raw)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["Vagrantfile", "box.img", "metadata.json"]
        assert all(m.mode == 0o644 and m.isreg() for m in members)
        extracted = tar.extractfile("box.img")
        assert extracted is not None and extracted.read() == disk.read_bytes()
    # GNU headers (Packer sets tar.FormatGNU), and Go's end: exactly two zero blocks.
    assert tar_bytes[257:265] == b"ustar  \0"
    padded = sum(512 + -(-n // 512) * 512 for n in (5, disk.stat().st_size, 23))
    assert len(tar_bytes) == padded + 1024
    assert not partial_path(target).exists()


def test_levels_trade_size_for_speed(tmp_path: Path) -> None:
    disk = _disk(tmp_path)
    sizes = {}
    for level in (1, 9):
        target = tmp_path / f"l{level}.box"
        write_box(target, _entries(disk), level)
        sizes[level] = target.stat().st_size
    assert sizes[9] < sizes[1] < disk.stat().st_size


def test_level_zero_writes_a_plain_tar(tmp_path: Path) -> None:
    disk = _disk(tmp_path)
    target = tmp_path / "plain.box"
    write_box(target, _entries(disk), 0)
    with tarfile.open(target, "r:") as tar:
        assert tar.getnames() == ["Vagrantfile", "box.img", "metadata.json"]


def test_progress_counts_every_input_byte_in_pieces(tmp_path: Path) -> None:
    disk = _disk(tmp_path)
    seen: list[int] = []
    total = write_box(tmp_path / "p.box", _entries(disk), 1, progress=seen.append)
    assert sum(seen) == total
    assert len(seen) >= 4  # the 3 MiB disk came in 1 MiB pieces, never whole
    assert max(seen) <= 1 << 20


def test_a_stopped_write_leaves_nothing_and_keeps_the_old_box(tmp_path: Path) -> None:
    disk = _disk(tmp_path)
    target = tmp_path / "t.box"
    target.write_bytes(b"the previous box")
    stop = threading.Event()
    calls = 0

    def stop_after_first_piece(_n: int) -> None:
        nonlocal calls
        calls += 1
        stop.set()

    with pytest.raises(Cancelled):
        write_box(target, _entries(disk), 6, progress=stop_after_first_piece, stop=stop)
    assert calls >= 1
    assert target.read_bytes() == b"the previous box"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk.qcow2", "t.box"]


def test_a_missing_source_fails_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "t.box"
    with pytest.raises(FileNotFoundError):
        write_box(target, [BoxEntry("box.img", source=tmp_path / "gone.qcow2")], 6)
    assert list(tmp_path.iterdir()) == []


def test_a_file_shrinking_while_packed_is_an_error(tmp_path: Path) -> None:
    disk = _disk(tmp_path)

    def shrink(_n: int) -> None:
        with disk.open("r+b") as f:
            f.truncate(1 << 20)

    with pytest.raises(BoxError, match="shrank while it was being packed"):
        write_box(tmp_path / "t.box", [BoxEntry("box.img", source=disk)], 1, progress=shrink)
    assert not (tmp_path / "t.box").exists()

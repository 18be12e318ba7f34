"""The checkpoint store: atomic publishing, shared reading, corruption, pruning, drafts."""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import json
import os
from pathlib import Path

import pytest

from kiln.builders.qemu.checkpoint_store import (
    STATE_FILE,
    CheckpointStore,
    CorruptCheckpoint,
    Draft,
    Manifest,
    StoreBusy,
    human_age,
    human_bytes,
    store_root,
)

KEY = "0123456789abcdef0123456789abcdef"


def manifest(key: str = KEY, **changes: object) -> Manifest:
    base = Manifest(key=key, template="/t.json", build="qemu", created=1000.0,
                    qemu_version="QEMU 7.2", inputs={"memory": "512"}, files=(),
                    disks=("disk-0.qcow2",), disk_format="qcow2")  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def save(store: CheckpointStore, key: str = KEY, *, replace: bool = False, data: bytes = b"s",
         created: float = 1000.0) -> tuple[bool, Draft]:  # fmt: skip
    draft = store.draft(key)
    (draft.path / STATE_FILE).write_bytes(data)
    (draft.path / "disk-0.qcow2").write_bytes(b"disk")
    store.add_file(draft, STATE_FILE)
    store.add_file(draft, "disk-0.qcow2")
    m = manifest(key, files=tuple(draft.files), created=created)
    return asyncio.run(store.publish(draft, m, replace=replace)), draft


def opened(store: CheckpointStore, key: str = KEY):  # type: ignore[no-untyped-def]
    return asyncio.run(store.open(key))


def test_the_store_is_under_packer_cache_dir(tmp_path: Path) -> None:
    assert store_root({"PACKER_CACHE_DIR": str(tmp_path)}) == tmp_path / "checkpoints"


def test_publish_then_open_and_verify(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    ok, draft = save(store)
    assert ok and not draft.path.exists()
    assert sorted(p.name for p in (tmp_path / KEY).iterdir()) == [
        "disk-0.qcow2", "manifest.json", "state.bin"
    ]  # fmt: skip
    assert ((tmp_path / KEY / STATE_FILE).stat().st_mode & 0o777) == 0o444
    found = opened(store)
    assert found is not None and found.key == KEY
    found.verify()
    assert found.manifest.size == 5
    found.release()
    assert opened(store, "f" * 32) is None


def test_manifest_round_trips(tmp_path: Path) -> None:
    m = manifest(efivars="efivars.fd", ssh_key="ssh_key")
    assert Manifest.from_json(m.to_json()) == m


def test_a_second_publish_keeps_the_first_unless_replacing(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    assert save(store, data=b"first")[0]
    ok, draft = save(store, data=b"second")
    assert not ok and not draft.path.exists()
    assert (tmp_path / KEY / STATE_FILE).read_bytes() == b"first"
    assert save(store, data=b"third", replace=True)[0]
    assert (tmp_path / KEY / STATE_FILE).read_bytes() == b"third"
    assert list((tmp_path / ".tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: (d / "manifest.json").unlink(), "it has no manifest.json"),
        (lambda d: (d / "manifest.json").write_text("{"), "its manifest is not valid"),
        (lambda d: (d / "manifest.json").write_text(json.dumps({"version": 9})),
         "manifest version 9 is not known"),
    ],
)  # fmt: skip
def test_an_unreadable_manifest_is_corrupt(tmp_path: Path, damage: object, reason: str) -> None:
    store = CheckpointStore(tmp_path)
    save(store)
    folder = tmp_path / KEY
    folder.joinpath("manifest.json").chmod(0o644)
    damage(folder)  # type: ignore[operator]
    with pytest.raises(CorruptCheckpoint, match=reason):
        opened(store)
    entries = store.entries()
    assert len(entries) == 1 and not hasattr(entries[0], "manifest")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda p: p.unlink(), "state.bin: No such file"),
        (lambda p: p.write_bytes(b"longer"), "state.bin has 6 bytes, the manifest says 1"),
        (lambda p: p.write_bytes(b"X"), "state.bin does not match its checksum"),
    ],
)
def test_damaged_files_fail_verification(tmp_path: Path, damage: object, reason: str) -> None:
    store = CheckpointStore(tmp_path)
    save(store)
    state = tmp_path / KEY / STATE_FILE
    state.chmod(0o644)
    damage(state)  # type: ignore[operator]
    found = opened(store)
    assert found is not None
    with pytest.raises(CorruptCheckpoint, match=reason):
        found.verify()
    found.release()


def test_a_dry_run_checks_sizes_only(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    save(store)
    state = tmp_path / KEY / STATE_FILE
    state.chmod(0o644)
    state.write_bytes(b"X")
    found = opened(store)
    assert found is not None
    found.verify(checksums=False)
    found.release()


def test_a_checkpoint_being_read_is_neither_pruned_nor_replaced(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    save(store)
    found = opened(store)
    assert found is not None
    assert store.remove(KEY) is False
    with pytest.raises(StoreBusy, match="stayed locked by another kiln"):  # what publish waits for
        asyncio.run(store._lock(KEY, fcntl.LOCK_EX, timeout=0.2))
    found.release()
    assert store.remove(KEY) is True
    assert not (tmp_path / KEY).exists()


def test_abandoned_drafts_are_those_no_process_holds(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    live = store.draft(KEY)
    dead = store.draft(KEY)
    assert dead.lock_fd is not None
    os.close(dead.lock_fd)  # as if its kiln was killed
    dead.lock_fd = None
    assert list(store.abandoned_drafts()) == [dead.path]
    live.discard()


def test_entries_are_oldest_first(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    save(store, "b" * 32, created=2000.0)
    save(store, "a" * 32, created=3000.0)
    save(store, "c" * 32, created=1000.0)
    keys = [e.manifest.key[0] for e in store.entries()]  # type: ignore[union-attr]
    assert keys == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "0.4 s"), (42, "42 s"), (61, "1 min"), (7300, "2 h"), (86400, "1 day"),
     (9 * 86400, "9 days"), (-3, "0.0 s")],
)  # fmt: skip
def test_human_age(seconds: float, text: str) -> None:
    assert human_age(seconds) == text


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(216 * 2**20) == "216.0 MiB"
    assert human_bytes(3 * 2**30) == "3.0 GiB"

"""`kiln checkpoints [list]` and `kiln checkpoints prune [-older-than=DURATION]`."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Mapping

from kiln.builders.qemu.checkpoint_key import short_key
from kiln.builders.qemu.checkpoint_store import (
    Broken,
    Checkpoint,
    CheckpointStore,
    human_age,
    human_bytes,
    store_root,
)
from kiln.cli.args import parse_age

# The inputs a listing shows by value (every input is in the manifest).
SHOWN_INPUTS = ("iso_checksum", "disk_size", "format", "memory", "cpus", "accelerator")
COUNTED_INPUTS = ("http_directory", "http_content", "floppy", "cd")


def run_checkpoints(opts: argparse.Namespace, env: Mapping[str, str]) -> int:
    store = CheckpointStore(store_root(env))
    if opts.action == "prune":
        older = parse_age("older-than", opts.older_than) if opts.older_than else None
        return prune(store, older)
    return list_checkpoints(store)


def list_checkpoints(store: CheckpointStore) -> int:
    entries = store.entries()
    out = sys.stdout
    if not entries:
        out.write(f"No checkpoints in {store.root}.\n")
        return 0
    out.write(f"Checkpoints in {store.root}:\n\n")
    rows = [("KEY", "BUILD", "AGE", "SIZE", "TEMPLATE")]
    details: list[str] = []
    for entry in entries:
        if isinstance(entry, Broken):
            continue
        m = entry.manifest
        rows.append((short_key(m.key), m.build, human_age(entry.age()), human_bytes(m.size),
                     m.template or "-"))  # fmt: skip
        details.append(summary(entry))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, row in enumerate(rows):
        cells = [cell.ljust(widths[j]) for j, cell in enumerate(row[:4])]
        out.write("  ".join([*cells, row[4]]).rstrip() + "\n")
        if i > 0:
            out.write(" " * (widths[0] + 2) + details[i - 1] + "\n")
    broken = [e for e in entries if isinstance(e, Broken)]
    for entry in broken:
        out.write(f"\nUnreadable: {entry.path} ({entry.reason})")
    if broken:
        out.write("\n`kiln checkpoints prune` deletes unreadable checkpoints.\n")
    return 0


def summary(entry: Checkpoint) -> str:
    """The key inputs a listing shows: a few options, how many answer files."""
    inputs = entry.manifest.inputs
    parts = []
    for name in SHOWN_INPUTS:
        if name in inputs:
            value = inputs[name]
            parts.append(f"{name} {value[:19] + '…' if len(value) > 20 else value}")
    for prefix in COUNTED_INPUTS:
        count = sum(1 for name in inputs if name.startswith(prefix + "/"))
        if count:
            parts.append(f"{prefix}: {count} file{'s' if count != 1 else ''}")
    version = inputs.get("QEMU version", "")
    if version:
        parts.append(version.split("(")[0].strip())
    return ", ".join(parts)


def prune(store: CheckpointStore, older_than: float | None) -> int:
    out = sys.stdout
    deleted = kept = busy = 0
    freed = 0
    for entry in store.entries():
        if isinstance(entry, Broken):
            store.remove_broken(entry.path)
            out.write(f"Deleted unreadable checkpoint {entry.path.name} ({entry.reason})\n")
            deleted += 1
            continue
        m = entry.manifest
        if older_than is not None and entry.age() <= older_than:
            kept += 1
            continue
        what = (
            f"{short_key(m.key)} ({m.build}, {human_age(entry.age())} old, {human_bytes(m.size)})"
        )
        if store.remove(m.key):
            out.write(f"Deleted checkpoint {what}\n")
            deleted += 1
            freed += m.size
        else:
            out.write(f"Kept checkpoint {what}: a build is reading it\n")
            busy += 1
    for draft in store.abandoned_drafts():
        shutil.rmtree(draft, ignore_errors=True)
        out.write(f"Deleted an unfinished checkpoint ({draft.name})\n")
    tail = f"; kept {kept} younger" if older_than is not None else ""
    tail += f"; {busy} in use" if busy else ""
    out.write(f"Deleted {deleted} checkpoint{'s' if deleted != 1 else ''} "
              f"({human_bytes(freed)}){tail}.\n")  # fmt: skip
    return 0

"""Where install checkpoints live: one folder per key under the cache directory.

```
$PACKER_CACHE_DIR/checkpoints/
  <key>/            a published checkpoint: manifest.json, state.bin (RAM and devices),
                    disk-0.<format>…, efivars.fd, ssh_key — files read-only, never opened
                    for writing again (a restore copies the disks)
  .tmp/<key>-<random>/   a checkpoint being saved (with its own lock); renamed to <key>
                    in one step when complete, deleted when the save fails or is cancelled
  .locks/<key>.lock      flock: shared while a build reads the checkpoint, exclusive while
                    one is published over it or pruned
```

Every build and every kiln process on the host share the store: publishing is a rename
under the key's exclusive lock (a second build that saved the same key meanwhile keeps
the first one's); reading holds the shared lock, so a checkpoint is never replaced or
pruned under a build that restores from it. Nothing is fsynced: a checkpoint damaged by a
crash fails its checksums at the next restore. A checkpoint that cannot be read (no or a bad
manifest, a missing file, wrong size or checksum) raises `CorruptCheckpoint`: the caller
reports it and builds from scratch.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import xxhash

from kiln.errors import KilnError
from kiln.media.cache import cache_dir

MANIFEST = "manifest.json"
STATE_FILE = "state.bin"
SSH_KEY_FILE = "ssh_key"
EFIVARS_FILE = "efivars.fd"
MANIFEST_VERSION = 1
LOCK_POLL = 0.05  # seconds between attempts at a busy lock
LOCK_TIMEOUT = 600.0  # a restore holds the shared lock for seconds; a stuck holder is a bug


def store_root(env: Mapping[str, str]) -> Path:
    """`<cache directory>/checkpoints` (the cache directory is `PACKER_CACHE_DIR`'s)."""
    return cache_dir(env) / "checkpoints"


def human_age(seconds: float) -> str:
    """`40 s`, `5 min`, `2 h`, `3 days` (rounded down)."""
    seconds = max(seconds, 0.0)
    for size, unit in ((86400, " days"), (3600, " h"), (60, " min")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count}{' day' if unit == ' days' and count == 1 else unit}"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


class CorruptCheckpoint(KilnError):
    """A checkpoint that cannot be used; the message says why."""


class StoreBusy(KilnError):
    """A lock was not granted in time."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    size: int
    digest: str  # XXH3-128, hex: checks a checkpoint's bytes before every resume


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a checkpoint is: its key and inputs, where it came from, its files."""

    key: str
    template: str  # absolute path of the template that saved it
    build: str
    created: float  # Unix time of the save
    qemu_version: str
    inputs: dict[str, str]
    files: tuple[StoredFile, ...]
    disks: tuple[str, ...]  # file names, in the build's disk order (main disk first)
    disk_format: str
    efivars: str | None = None
    ssh_key: str | None = None
    version: int = MANIFEST_VERSION

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        data = {
            "version": self.version,
            "key": self.key,
            "template": self.template,
            "build": self.build,
            "created": self.created,
            "qemu_version": self.qemu_version,
            "disk_format": self.disk_format,
            "disks": list(self.disks),
            "efivars": self.efivars,
            "ssh_key": self.ssh_key,
            "files": [{"name": f.name, "size": f.size, "xxh3_128": f.digest} for f in self.files],
            "inputs": self.inputs,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("version") != MANIFEST_VERSION:
                raise CorruptCheckpoint(f"manifest version {data.get('version')!r} is not known")
            files = tuple(
                StoredFile(str(f["name"]), int(f["size"]), str(f["xxh3_128"]))
                for f in data["files"]
            )
            inputs = {str(k): str(v) for k, v in dict(data["inputs"]).items()}
            return cls(
                key=str(data["key"]),
                template=str(data["template"]),
                build=str(data["build"]),
                created=float(data["created"]),
                qemu_version=str(data["qemu_version"]),
                inputs=inputs,
                files=files,
                disks=tuple(str(d) for d in data["disks"]),
                disk_format=str(data["disk_format"]),
                efivars=None if data.get("efivars") is None else str(data["efivars"]),
                ssh_key=None if data.get("ssh_key") is None else str(data["ssh_key"]),
            )
        except CorruptCheckpoint:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise CorruptCheckpoint(
                f"its manifest is not valid ({type(err).__name__}: {err})"
            ) from None


@dataclass(slots=True)
class Checkpoint:
    """A published checkpoint, read under its shared lock until `release()`."""

    path: Path
    manifest: Manifest
    lock_fd: int | None = None

    @property
    def key(self) -> str:
        return self.manifest.key

    def file(self, name: str) -> Path:
        return self.path / name

    def age(self, now: float | None = None) -> float:
        return max((time.time() if now is None else now) - self.manifest.created, 0.0)

    def verify(self, *, checksums: bool = True) -> None:
        """Every file present, with the manifest's size and checksum (which reads them
        all; a dry run checks sizes only)."""
        names = {f.name for f in self.manifest.files}
        needed = {STATE_FILE, *self.manifest.disks}
        needed |= {n for n in (self.manifest.efivars, self.manifest.ssh_key) if n}
        if missing := sorted(needed - names):
            raise CorruptCheckpoint(f"its manifest does not list {', '.join(missing)}")
        for stored in self.manifest.files:
            path = self.file(stored.name)
            try:
                size = path.stat().st_size
            except OSError as err:
                raise CorruptCheckpoint(f"{stored.name}: {err.strerror}") from None
            if size != stored.size:
                raise CorruptCheckpoint(
                    f"{stored.name} has {size} bytes, the manifest says {stored.size}"
                )
        for stored in self.manifest.files if checksums else ():
            try:
                digest = file_digest(self.file(stored.name))
            except OSError as err:
                raise CorruptCheckpoint(f"{stored.name}: {err.strerror}") from None
            if digest != stored.digest:
                raise CorruptCheckpoint(f"{stored.name} does not match its checksum")

    def release(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # closing the descriptor drops the flock
            self.lock_fd = None


@dataclass(frozen=True, slots=True)
class Broken:
    """A folder in the store that is not a readable checkpoint (for listings)."""

    path: Path
    reason: str


@dataclass(slots=True)
class Draft:
    """A checkpoint being saved: a private folder, removed unless published."""

    path: Path
    key: str
    lock_fd: int | None = None
    files: list[StoredFile] = field(default_factory=list)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def file_digest(path: Path) -> str:
    """XXH3-128 of a file: integrity against damage, not tampering, at memory speed
    (193 MB of state: 0.14 s, SHA-256 0.48 s here), so every resume can afford it."""
    h = xxhash.xxh3_128()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


class CheckpointStore:
    """The checkpoints under one cache directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- paths and locks ---------------------------------------------------------------
    def path_of(self, key: str) -> Path:
        return self.root / key

    def _ensure(self) -> None:
        for sub in (self.root, self.root / ".tmp", self.root / ".locks"):
            sub.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _lock_file(self, key: str) -> int:
        self._ensure()
        return os.open(self.root / ".locks" / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)

    @staticmethod
    def _try_lock(fd: int, mode: int) -> bool:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise

    async def _lock(self, key: str, mode: int, *, timeout: float = LOCK_TIMEOUT) -> int:
        """The key's lock in `mode` (waits without blocking the event loop)."""
        fd = self._lock_file(key)
        deadline = time.monotonic() + timeout
        try:
            while not self._try_lock(fd, mode):
                if time.monotonic() > deadline:
                    raise StoreBusy(
                        f"checkpoint {key[:12]} stayed locked by another kiln for {timeout:.0f}s"
                    )
                await asyncio.sleep(LOCK_POLL)
        except BaseException:
            os.close(fd)
            raise
        return fd

    # --- reading -----------------------------------------------------------------------
    async def open(self, key: str) -> Checkpoint | None:
        """The published checkpoint of `key` under its shared lock, or None.

        Raises `CorruptCheckpoint` when the folder exists but its manifest is unusable
        (the files are checked by `Checkpoint.verify`)."""
        if not self.path_of(key).is_dir():
            return None
        fd = await self._lock(key, fcntl.LOCK_SH)
        try:
            checkpoint = self._read(self.path_of(key))
        except BaseException:
            os.close(fd)
            raise
        if checkpoint is None:
            os.close(fd)
            return None
        if checkpoint.key != key:
            os.close(fd)
            raise CorruptCheckpoint(f"its manifest names another key ({checkpoint.key[:12]})")
        checkpoint.lock_fd = fd
        return checkpoint

    def _read(self, path: Path) -> Checkpoint | None:
        try:
            text = (path / MANIFEST).read_text(encoding="utf-8")
        except FileNotFoundError:
            if not path.exists():
                return None  # pruned meanwhile
            raise CorruptCheckpoint(f"it has no {MANIFEST}") from None
        except (OSError, UnicodeDecodeError) as err:
            raise CorruptCheckpoint(f"{MANIFEST} cannot be read: {err}") from None
        return Checkpoint(path, Manifest.from_json(text))

    def entries(self) -> list[Checkpoint | Broken]:
        """Every published checkpoint (unlocked: for listings), oldest first."""
        found: list[Checkpoint | Broken] = []
        if not self.root.is_dir():
            return found
        for path in sorted(self.root.iterdir()):
            if path.name.startswith(".") or not path.is_dir():
                continue
            try:
                checkpoint = self._read(path)
            except CorruptCheckpoint as err:
                found.append(Broken(path, str(err)))
                continue
            if checkpoint is not None:
                found.append(checkpoint)
        return sorted(found, key=lambda e: e.manifest.created if isinstance(e, Checkpoint) else 0)

    # --- saving ------------------------------------------------------------------------
    def draft(self, key: str) -> Draft:
        """A new private folder to save `key` into."""
        self._ensure()
        path = self.root / ".tmp" / f"{key}-{secrets.token_hex(4)}"
        path.mkdir(mode=0o700)
        fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return Draft(path, key, fd)

    def add_file(self, draft: Draft, name: str, *, mode: int = 0o444) -> StoredFile:
        """Record a file written into the draft (size and checksum) and make it read-only."""
        path = draft.path / name
        stored = StoredFile(name, path.stat().st_size, file_digest(path))
        path.chmod(mode)
        draft.files.append(stored)
        return stored

    async def publish(self, draft: Draft, manifest: Manifest, *, replace: bool) -> bool:
        """Make the draft the checkpoint of its key, atomically; False when another build
        published the key first (and `replace` is off): the draft is then discarded."""
        manifest_path = draft.path / MANIFEST
        manifest_path.write_text(manifest.to_json(), encoding="utf-8")
        manifest_path.chmod(0o444)
        fd = await self._lock(draft.key, fcntl.LOCK_EX)
        try:
            target = self.path_of(draft.key)
            old: Path | None = None
            if target.exists():
                if not replace:
                    draft.discard()
                    return False
                old = self.root / ".tmp" / f"old-{draft.key}-{secrets.token_hex(4)}"
                os.rename(target, old)
            os.rename(draft.path, target)
            (target / ".lock").unlink()  # the draft's lock: kept up to here for prune
        finally:
            os.close(fd)
        if draft.lock_fd is not None:
            os.close(draft.lock_fd)
            draft.lock_fd = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return True

    # --- removing ----------------------------------------------------------------------
    def remove(self, key: str) -> bool:
        """Delete a checkpoint unless a build is reading it; whether it was deleted."""
        fd = self._lock_file(key)
        try:
            if not self._try_lock(fd, fcntl.LOCK_EX):
                return False
            target = self.path_of(key)
            if target.exists():
                trash = self.root / ".tmp" / f"old-{key}-{secrets.token_hex(4)}"
                os.rename(target, trash)
                shutil.rmtree(trash, ignore_errors=True)
            return True
        finally:
            os.close(fd)

    def remove_broken(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def abandoned_drafts(self) -> Iterator[Path]:
        """Drafts (and leftovers of replaced checkpoints) no running kiln holds."""
        tmp = self.root / ".tmp"
        if not tmp.is_dir():
            return
        for path in sorted(tmp.iterdir()):
            lock = path / ".lock"
            if not lock.exists():
                yield path  # a replaced checkpoint whose deletion was interrupted
                continue
            with contextlib.suppress(OSError):
                fd = os.open(lock, os.O_RDWR)
                try:
                    if self._try_lock(fd, fcntl.LOCK_EX):
                        yield path
                finally:
                    os.close(fd)

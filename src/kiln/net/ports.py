"""Pick a free TCP port in a range and hold it for one build.

Packer (packer-plugin-sdk ``net/configure_port.go``) picks ``min + rand(max - min)``, takes a
file lock ``<cache>/port/<port>`` and probes with ``listen()``; it retries forever. kiln does the
same with three differences, all deliberate:

* the range is inclusive ``[lo, hi]``, as Packer's docs promise (Packer never picks ``max``);
* after a random start the whole range is scanned once, so a full range fails at once with a
  `PortError` instead of spinning until the build is cancelled;
* a lock file is deleted while still locked and a fresh lock is checked against the file on
  disk (same inode), so a lock file removed by one build and re-created by another can never
  be held by two builds at once.

The lock is ``flock(2)`` on the same path Packer uses, so kiln and Packer sharing one cache
directory also keep out of each other's ports. A process-wide registry adds a second guard for
builds in one process (it also covers callers that pass different lock directories).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import random
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from kiln.errors import KilnError

__all__ = ["PortError", "ReservedPort", "reserve_port"]

logger = logging.getLogger(__name__)

_LISTEN_BACKLOG = 128
# bind() errors that say the address itself is unusable, whatever the port: stop scanning.
_ADDRESS_ERRNOS = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})
# How often to retry one port whose lock file was replaced under us (a race, not a busy port).
_STALE_LOCK_RETRIES = 3


class PortError(KilnError):
    """No port could be reserved (range exhausted, bad range, unusable address or lock dir)."""


class _Registry:
    """Ports held by this process, whatever lock directory they were locked in."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.ports: set[int] = set()

    def claim(self, port: int) -> bool:
        with self.mutex:
            if port in self.ports:
                return False
            self.ports.add(port)
            return True

    def drop(self, port: int) -> None:
        with self.mutex:
            self.ports.discard(port)

    def reset(self) -> None:
        """After fork: the child holds none of the parent's ports (the locks stay the parent's)."""
        self.mutex = threading.Lock()
        self.ports = set()


_REGISTRY = _Registry()
os.register_at_fork(after_in_child=_REGISTRY.reset)


@dataclass(slots=True)
class _PortLock:
    """An exclusive flock on ``<lock_dir>/port/<port>``, owned by the process that took it."""

    path: Path
    fd: int
    owner_pid: int

    @classmethod
    def try_acquire(cls, path: Path, note: str) -> _PortLock | None:
        """Lock `path` without blocking; None when another holder has it."""
        for _ in range(_STALE_LOCK_RETRIES):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as err:
                raise PortError(
                    f"cannot create the port lock file {path}: {err.strerror}; make "
                    f"{path.parent} writable or point PACKER_CACHE_DIR at a writable directory"
                ) from err
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            if _same_file(fd, path):
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    os.write(fd, note.encode())
                return cls(path=path, fd=fd, owner_pid=os.getpid())
            # The holder deleted the file between our open() and flock(): the lock we got is on
            # an orphaned inode. Try again on whatever is at the path now.
            os.close(fd)
        return None

    def release(self) -> None:
        """Delete the file while still holding the lock, then unlock (see module docstring)."""
        if self.owner_pid == os.getpid() and _same_file(self.fd, self.path):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self.fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


@dataclass(slots=True)
class ReservedPort:
    """A port held for this build until `release()`.

    `listener` is the bound, listening socket when the port was reserved with
    ``keep_listening=True`` (the HTTP server serves on it); otherwise None: the probe socket was
    closed so that another program (QEMU) can bind the port, but the lock keeps other kiln and
    Packer builds away until `release()`.
    """

    port: int
    host: str
    listener: socket.socket | None = None
    _lock: _PortLock | None = field(default=None, repr=False, compare=False)

    def release(self) -> None:
        """Close the listener, delete and unlock the lock file. Safe to call more than once."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        lock, self._lock = self._lock, None
        if lock is not None:
            try:
                lock.release()
            finally:
                if lock.owner_pid == os.getpid():
                    _REGISTRY.drop(self.port)

    def __enter__(self) -> ReservedPort:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def reserve_port(
    lo: int,
    hi: int,
    *,
    host: str,
    lock_dir: Path,
    keep_listening: bool = False,
    purpose: str = "",
) -> ReservedPort:
    """Reserve a free TCP port in the inclusive range [`lo`, `hi`] on `host`.

    A port is free when its lock file ``<lock_dir>/port/<port>`` can be locked and a bind() on
    `host`:port succeeds (SO_REUSEADDR off). The scan starts at a random port and visits every
    port of the range once; `PortError` when none is free. `purpose` (e.g. ``"the HTTP
    server"``) only shapes messages.
    """
    what = f" for {purpose}" if purpose else ""
    _check_range(lo, hi, what)
    family, sockaddr = _resolve(host, what)
    port_dir = Path(lock_dir) / "port"
    try:
        port_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PortError(
            f"cannot create the port lock directory {port_dir}: {err.strerror}; point "
            "PACKER_CACHE_DIR at a writable directory"
        ) from err

    size = hi - lo + 1
    start = random.randrange(size)
    locked = 0
    unusable = 0
    last_error = ""
    for i in range(size):
        port = lo + (start + i) % size
        if not _REGISTRY.claim(port):
            locked += 1
            continue
        try:
            outcome = _attempt(
                port,
                family=family,
                sockaddr=sockaddr,
                host=host,
                port_dir=port_dir,
                keep_listening=keep_listening,
                purpose=purpose,
            )
        except BaseException:
            _REGISTRY.drop(port)
            raise
        if isinstance(outcome, ReservedPort):
            logger.debug("Found available port: %d on IP: %s", port, host)
            return outcome
        _REGISTRY.drop(port)
        if outcome is None:
            locked += 1
        else:
            unusable += 1
            last_error = outcome.strerror or str(outcome)

    details = []
    if locked:
        details.append(f"{locked} held by other kiln or Packer builds")
    if unusable:
        details.append(f"{unusable} in use by other programs (last error: {last_error})")
    raise PortError(
        f"no free port{what} between {lo} and {hi} on {host or '0.0.0.0'}: "
        f"{'; '.join(details)}; stop what holds them or widen the range"
    )


def _attempt(
    port: int,
    *,
    family: socket.AddressFamily,
    sockaddr: tuple[object, ...],
    host: str,
    port_dir: Path,
    keep_listening: bool,
    purpose: str,
) -> ReservedPort | OSError | None:
    """Lock then bind one port: the reservation, the bind error, or None when locked."""
    lock = _PortLock.try_acquire(port_dir / str(port), f"{os.getpid()} {purpose}\n")
    if lock is None:
        return None
    try:
        sock = _try_bind(family, sockaddr, port, host, purpose, listen=keep_listening)
    except BaseException:
        lock.release()
        raise
    if isinstance(sock, OSError):
        lock.release()
        return sock
    if not keep_listening:
        sock.close()
        return ReservedPort(port=port, host=host, listener=None, _lock=lock)
    return ReservedPort(port=port, host=host, listener=sock, _lock=lock)


def _check_range(lo: int, hi: int, what: str) -> None:
    for value in (lo, hi):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise PortError(f"port {value!r}{what} is invalid: ports are integers from 1 to 65535")
    if lo > hi:
        raise PortError(
            f"port range {lo}-{hi}{what} is empty: the minimum must not be greater than the "
            "maximum; swap them or set both to the same port"
        )


def _resolve(host: str, what: str) -> tuple[socket.AddressFamily, tuple[object, ...]]:
    """The address family and bind address (port 0 as placeholder) for `host`."""
    try:
        infos = socket.getaddrinfo(
            host or "0.0.0.0", 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as err:
        raise PortError(
            f"cannot use bind address {host!r}{what}: {err}; give an IP address of this machine "
            "(or 0.0.0.0 for all interfaces)"
        ) from err
    family, _type, _proto, _name, sockaddr = infos[0]
    return family, tuple(sockaddr)


def _try_bind(
    family: socket.AddressFamily,
    sockaddr: tuple[object, ...],
    port: int,
    host: str,
    purpose: str,
    *,
    listen: bool,
) -> socket.socket | OSError:
    """A socket bound to `port` (listening if asked), or the OSError saying the port is taken."""
    what = f" for {purpose}" if purpose else ""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((sockaddr[0], port, *sockaddr[2:]))
        if listen:
            sock.listen(_LISTEN_BACKLOG)
    except OSError as err:
        sock.close()
        if err.errno in _ADDRESS_ERRNOS:
            raise PortError(
                f"cannot bind to {host}:{port}{what}: {err.strerror}; give an IP address of "
                "this machine (or 0.0.0.0 for all interfaces)"
            ) from err
        return err
    except BaseException:
        sock.close()
        raise
    return sock

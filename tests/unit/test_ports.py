"""Port reservation against real sockets, real lock files and real concurrent processes."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kiln.errors import KilnError
from kiln.net.ports import PortError, ReservedPort, reserve_port


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_block(size: int) -> int:
    """The first port of `size` consecutive ports that nothing on this machine has bound."""
    for _ in range(200):
        base = random.randrange(10000, 30000 - size)  # below Linux's ephemeral range
        if all(_bindable(p) for p in range(base, base + size)):
            return base
    raise RuntimeError("no block of free ports found")


@pytest.fixture
def lock_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def held() -> Iterator[list[ReservedPort]]:
    """Reservations released at teardown, whatever the test did."""
    reservations: list[ReservedPort] = []
    yield reservations
    for r in reservations:
        r.release()


def _occupy(port: int) -> socket.socket:
    """Another program's socket on `port` (bound, not by kiln)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def test_reserves_a_port_in_range_and_locks_it(lock_dir: Path) -> None:
    base = _free_block(5)
    reserved = reserve_port(base, base + 4, host="127.0.0.1", lock_dir=lock_dir, purpose="VNC")
    try:
        assert base <= reserved.port <= base + 4
        assert reserved.host == "127.0.0.1"
        assert reserved.listener is None
        lock_file = lock_dir / "port" / str(reserved.port)
        assert lock_file.is_file()
        fd = os.open(lock_file, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        assert f"{os.getpid()} VNC" in lock_file.read_text()
    finally:
        reserved.release()


def test_probe_socket_is_closed_so_another_program_can_bind(lock_dir: Path) -> None:
    base = _free_block(1)
    with reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir) as reserved:
        assert reserved.listener is None
        sock = _occupy(reserved.port)  # what QEMU does with the VNC / hostfwd port
        sock.close()


def test_keep_listening_returns_an_accepting_socket(lock_dir: Path) -> None:
    base = _free_block(1)
    with reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir, keep_listening=True) as r:
        assert r.listener is not None
        assert r.listener.getsockname() == ("127.0.0.1", base)
        assert not r.listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        with socket.create_connection(("127.0.0.1", base)):
            conn, _ = r.listener.accept()
            conn.close()
        listener = r.listener
    assert listener.fileno() == -1
    assert r.listener is None


def test_release_deletes_the_lock_file_and_is_idempotent(lock_dir: Path) -> None:
    base = _free_block(1)
    reserved = reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir, keep_listening=True)
    reserved.release()
    reserved.release()
    assert list((lock_dir / "port").iterdir()) == []
    again = reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir)
    again.release()


def test_min_equal_max_reserves_that_port(lock_dir: Path) -> None:
    base = _free_block(1)
    with reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir) as reserved:
        assert reserved.port == base


def test_inclusive_upper_bound_is_chosen(lock_dir: Path) -> None:
    base = _free_block(2)
    other = _occupy(base)
    try:
        for _ in range(10):
            with reserve_port(base, base + 1, host="127.0.0.1", lock_dir=lock_dir) as reserved:
                assert reserved.port == base + 1
    finally:
        other.close()


def test_every_port_of_the_range_gets_picked(lock_dir: Path) -> None:
    """The random start covers the range, ends included (Packer never picks max)."""
    base = _free_block(3)
    seen = set()
    for _ in range(300):
        with reserve_port(base, base + 2, host="127.0.0.1", lock_dir=lock_dir) as reserved:
            seen.add(reserved.port)
    assert seen == {base, base + 1, base + 2}


def test_port_bound_by_another_program_is_skipped(lock_dir: Path) -> None:
    base = _free_block(3)
    others = [_occupy(base), _occupy(base + 2)]
    try:
        for _ in range(20):
            with reserve_port(base, base + 2, host="127.0.0.1", lock_dir=lock_dir) as reserved:
                assert reserved.port == base + 1
        # a failed bind leaves no lock file behind
        assert list((lock_dir / "port").iterdir()) == []
    finally:
        for sock in others:
            sock.close()


def test_wildcard_bind_sees_a_port_taken_on_loopback(lock_dir: Path) -> None:
    base = _free_block(2)
    other = _occupy(base)
    try:
        with reserve_port(base, base + 1, host="0.0.0.0", lock_dir=lock_dir) as reserved:
            assert reserved.port == base + 1
    finally:
        other.close()


def test_full_range_of_busy_ports_fails_at_once(lock_dir: Path) -> None:
    base = _free_block(5)
    others = [_occupy(p) for p in range(base, base + 5)]
    try:
        with pytest.raises(PortError) as caught:
            reserve_port(
                base, base + 4, host="127.0.0.1", lock_dir=lock_dir, purpose="the HTTP server"
            )
    finally:
        for sock in others:
            sock.close()
    message = str(caught.value)
    assert f"no free port for the HTTP server between {base} and {base + 4} on 127.0.0.1" in (
        message
    )
    assert "5 in use by other programs" in message
    assert "widen the range" in message
    assert isinstance(caught.value, KilnError)


def test_full_range_of_reserved_ports_fails(lock_dir: Path, held: list[ReservedPort]) -> None:
    base = _free_block(3)
    for _ in range(3):
        held.append(reserve_port(base, base + 2, host="127.0.0.1", lock_dir=lock_dir))
    assert sorted(r.port for r in held) == [base, base + 1, base + 2]
    with pytest.raises(PortError, match="3 held by other kiln or Packer builds"):
        reserve_port(base, base + 2, host="127.0.0.1", lock_dir=lock_dir)


def test_reserved_port_is_not_handed_out_twice_even_with_another_lock_dir(
    tmp_path: Path, held: list[ReservedPort]
) -> None:
    """The in-process registry guards ports whose probe socket is already closed."""
    base = _free_block(1)
    held.append(reserve_port(base, base, host="127.0.0.1", lock_dir=tmp_path / "a"))
    with pytest.raises(PortError):
        reserve_port(base, base, host="127.0.0.1", lock_dir=tmp_path / "b")
    held.pop().release()
    with reserve_port(base, base, host="127.0.0.1", lock_dir=tmp_path / "b") as again:
        assert again.port == base


def test_stale_lock_file_from_a_dead_build_is_reused(lock_dir: Path) -> None:
    base = _free_block(1)
    (lock_dir / "port").mkdir(parents=True)
    (lock_dir / "port" / str(base)).write_text("12345 crashed\n")
    with reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir) as reserved:
        assert reserved.port == base
    assert not (lock_dir / "port" / str(base)).exists()


def test_lock_held_by_another_process_is_respected(lock_dir: Path) -> None:
    """A foreign flock on the lock file (kiln in another process, or Packer) keeps us off."""
    base = _free_block(2)
    (lock_dir / "port").mkdir(parents=True)
    script = textwrap.dedent(
        f"""
        import fcntl, os, sys
        fd = os.open({str(lock_dir / "port" / str(base))!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        for _ in range(10):
            with reserve_port(base, base + 1, host="127.0.0.1", lock_dir=lock_dir) as reserved:
                assert reserved.port == base + 1
    finally:
        holder.communicate("")
    assert holder.returncode == 0


def test_threads_never_share_a_port(lock_dir: Path) -> None:
    size = 8
    base = _free_block(size)
    barrier = threading.Barrier(size + 1)

    def grab(_: int) -> ReservedPort | PortError:
        barrier.wait()
        try:
            return reserve_port(base, base + size - 1, host="127.0.0.1", lock_dir=lock_dir)
        except PortError as err:
            return err

    with ThreadPoolExecutor(size + 1) as pool:
        results = list(pool.map(grab, range(size + 1)))
    reserved = [r for r in results if isinstance(r, ReservedPort)]
    try:
        assert len(reserved) == size
        assert sorted(r.port for r in reserved) == list(range(base, base + size))
        assert sum(isinstance(r, PortError) for r in results) == 1
    finally:
        for r in reserved:
            r.release()
    assert list((lock_dir / "port").iterdir()) == []


_HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kiln.net.ports import PortError, reserve_port

    lo, hi, lock_dir = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.readline()  # "go": every process starts reserving at the same moment
    try:
        reserved = reserve_port(lo, hi, host="127.0.0.1", lock_dir=lock_dir, purpose="test")
    except PortError as err:
        print("error", err, flush=True)
        sys.exit(3)
    print("port", reserved.port, flush=True)
    sys.stdin.read()  # hold the port until the parent closes our stdin
    reserved.release()
    """
)


def test_processes_never_share_a_port(lock_dir: Path, tmp_path: Path) -> None:
    size = 6
    base = _free_block(size)
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER)
    argv = [sys.executable, str(script), str(base), str(base + size - 1), str(lock_dir)]
    procs = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(size + 1)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        answers = []
        for proc in procs:
            assert proc.stdout is not None
            answers.append(proc.stdout.readline().split(" ", 1))
    finally:
        for proc in procs:
            proc.communicate("")
    ports = sorted(int(value) for kind, value in answers if kind == "port")
    errors = [value for kind, value in answers if kind == "error"]
    assert ports == list(range(base, base + size))
    assert len(errors) == 1
    assert "no free port for test" in errors[0]
    assert sorted(p.returncode for p in procs) == [0] * size + [3]
    assert list((lock_dir / "port").iterdir()) == []


def _release_in_child(reserved: ReservedPort) -> None:
    reserved.release()


def test_forked_child_release_leaves_the_parents_lock(lock_dir: Path) -> None:
    base = _free_block(1)
    with reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir) as reserved:
        child = multiprocessing.get_context("fork").Process(
            target=_release_in_child, args=(reserved,)
        )
        child.start()
        child.join()
        assert child.exitcode == 0
        assert (lock_dir / "port" / str(base)).exists()
        with pytest.raises(PortError):
            reserve_port(base, base, host="127.0.0.1", lock_dir=lock_dir / "other")
    assert not (lock_dir / "port" / str(base)).exists()


def test_ipv6_loopback(lock_dir: Path) -> None:
    if not socket.has_ipv6 or not _ipv6_loopback_works():
        pytest.fail("this machine has no IPv6 loopback; kiln's IPv6 support cannot be checked")
    base = _free_block(3)
    with reserve_port(base, base + 2, host="::1", lock_dir=lock_dir, keep_listening=True) as r:
        assert r.listener is not None
        assert r.listener.family == socket.AF_INET6
        with socket.create_connection(("::1", r.port)):
            pass


def _ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("lo", "hi", "fragment"),
    [
        (9000, 8000, "port range 9000-8000 for VNC is empty"),
        (0, 10, "port 0 for VNC is invalid"),
        (10, 70000, "port 70000 for VNC is invalid"),
        (True, 10, "port True for VNC is invalid"),
    ],
)
def test_bad_ranges_are_refused(lo: int, hi: int, fragment: str, lock_dir: Path) -> None:
    with pytest.raises(PortError, match=fragment):
        reserve_port(lo, hi, host="127.0.0.1", lock_dir=lock_dir, purpose="VNC")


def test_unresolvable_host_is_refused(lock_dir: Path) -> None:
    with pytest.raises(PortError, match=r"cannot use bind address 'no\.such\.host\.invalid'"):
        reserve_port(8000, 8010, host="no.such.host.invalid", lock_dir=lock_dir)


def test_address_not_on_this_machine_fails_without_scanning(lock_dir: Path) -> None:
    with pytest.raises(PortError, match=r"cannot bind to 192\.0\.2\.1:\d+: .*address of this"):
        reserve_port(20000, 29999, host="192.0.2.1", lock_dir=lock_dir)
    assert list((lock_dir / "port").iterdir()) == []


def test_unusable_lock_dir_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PortError, match="cannot create the port lock directory"):
        reserve_port(8000, 8010, host="127.0.0.1", lock_dir=blocker)

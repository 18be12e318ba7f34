"""The guest-facing HTTP server, driven by real clients: httpx, curl and raw sockets."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from kiln.errors import KilnError
from kiln.net.http_server import HttpRequestLog, HttpServer
from kiln.net.http_sites import RangeNotSatisfiableError, byte_range
from kiln.net.ports import ReservedPort, reserve_port
from kiln.suggest import name_suggestion as suggestion

SECRET = "TOP-SECRET-OUTSIDE-THE-HTTP-DIRECTORY"
KS = "install\nurl --url http://example/\nrootpw kiln\n"
BIG = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("big") / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(BIG // (1024 * 1024)):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


@pytest.fixture
def site(tmp_path: Path, big_file: tuple[Path, str]) -> Path:
    """``tmp/http`` (served) beside ``tmp/secret.txt`` (must never be served)."""
    (tmp_path / "secret.txt").write_text(SECRET)
    root = tmp_path / "http"
    root.mkdir()
    (root / "ks.cfg").write_text(KS)
    (root / "a b.txt").write_text("spaced\n")
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "deeper" / "file.txt").write_text("deep\n")
    (root / "sub" / "blob").write_bytes(b"\x00\x01binary")
    (root / "withindex").mkdir()
    (root / "withindex" / "index.html").write_text("<h1>index</h1>\n")
    (root / "inside-link").symlink_to("ks.cfg")
    (root / "secret-link").symlink_to(tmp_path / "secret.txt")
    (root / "outside-dir").symlink_to(tmp_path)
    (root / "etc-link").symlink_to("/etc")
    os.mkfifo(root / "fifo")
    os.link(big_file[0], root / "big.bin")
    return root


@pytest.fixture
def http_port(tmp_path: Path) -> Iterator[ReservedPort]:
    reserved = reserve_port(
        20000, 29999, host="127.0.0.1", lock_dir=tmp_path / "cache", keep_listening=True
    )
    yield reserved
    reserved.release()


@pytest.fixture
def seen() -> list[HttpRequestLog]:
    return []


@pytest.fixture
async def dir_server(
    site: Path, http_port: ReservedPort, seen: list[HttpRequestLog]
) -> AsyncIterator[HttpServer]:
    async with HttpServer(directory=site, content=None, port=http_port, log=seen.append) as srv:
        yield srv


@pytest.fixture
async def content_server(
    http_port: ReservedPort, seen: list[HttpRequestLog]
) -> AsyncIterator[HttpServer]:
    content = {"/ks.cfg": KS, "/preseed/debian.cfg": "d-i foo\n", "/index.json": "{}"}
    async with HttpServer(directory=None, content=content, port=http_port, log=seen.append) as s:
        yield s


@pytest.fixture
async def client(http_port: ReservedPort) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port.port}") as c:
        yield c


async def curl(port: int, path: str, *extra: str, output: str = "-") -> tuple[int, bytes]:
    """(status, body) of ``curl --path-as-is``: the path goes out exactly as written."""
    proc = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "--path-as-is",
        "-o",
        output,
        "-w",
        "\n%{http_code}",
        *extra,
        f"http://127.0.0.1:{port}{path}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    body, _, code = out.rpartition(b"\n")
    return int(code), body


async def raw_exchange(port: int, request: bytes) -> bytes:
    """Send `request` bytes as they are; everything the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


# --- files --------------------------------------------------------------------------------


async def test_serves_a_file_byte_exact_and_logs_it(
    dir_server: HttpServer, client: httpx.AsyncClient, seen: list[HttpRequestLog]
) -> None:
    response = await client.get("/ks.cfg")
    assert response.status_code == 200
    assert response.content == KS.encode()
    assert response.headers["content-length"] == str(len(KS))
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["accept-ranges"] == "bytes"
    assert "last-modified" in response.headers
    assert len(seen) == 1
    entry = seen[0]
    assert (entry.method, entry.path, entry.status, entry.size) == ("GET", "/ks.cfg", 200, len(KS))
    assert entry.client.startswith("127.0.0.1:")
    assert dir_server.access_log == seen


async def test_streams_a_20_mb_file_byte_exact(
    dir_server: HttpServer,
    client: httpx.AsyncClient,
    big_file: tuple[Path, str],
    seen: list[HttpRequestLog],
) -> None:
    digest = hashlib.sha256()
    async with client.stream("GET", "/big.bin") as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(BIG)
        assert response.headers["content-type"] == "application/octet-stream"
        async for chunk in response.aiter_raw():
            digest.update(chunk)
    assert digest.hexdigest() == big_file[1]
    assert seen[-1].size == BIG


async def test_curl_downloads_the_big_file_too(
    dir_server: HttpServer, big_file: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "download.bin"
    code, _ = await curl(dir_server.port, "/big.bin", output=str(out))
    assert code == 200
    assert hashlib.sha256(out.read_bytes()).hexdigest() == big_file[1]


async def test_head_sends_headers_only(
    dir_server: HttpServer, client: httpx.AsyncClient, seen: list[HttpRequestLog]
) -> None:
    response = await client.head("/big.bin")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(BIG)
    assert response.content == b""
    assert (seen[-1].method, seen[-1].status, seen[-1].size) == ("HEAD", 200, 0)
    # the connection is still usable after a HEAD
    assert (await client.get("/ks.cfg")).content == KS.encode()


async def test_range_requests(
    dir_server: HttpServer, client: httpx.AsyncClient, big_file: tuple[Path, str]
) -> None:
    data = big_file[0].read_bytes()
    response = await client.get("/big.bin", headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 1000-1999/{BIG}"
    assert response.content == data[1000:2000]
    response = await client.get("/big.bin", headers={"Range": "bytes=-10"})
    assert response.content == data[-10:]
    response = await client.get("/big.bin", headers={"Range": f"bytes={BIG - 5}-"})
    assert response.content == data[-5:]
    response = await client.get("/big.bin", headers={"Range": f"bytes={BIG}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{BIG}"
    response = await client.get("/ks.cfg", headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 200
    assert response.content == KS.encode()


async def test_curl_resumes_a_partial_download(
    dir_server: HttpServer, big_file: tuple[Path, str], tmp_path: Path
) -> None:
    data = big_file[0].read_bytes()
    out = tmp_path / "partial.bin"
    out.write_bytes(data[:12345])
    code, _ = await curl(dir_server.port, "/big.bin", "-C", "-", output=str(out))
    assert code == 206
    assert hashlib.sha256(out.read_bytes()).hexdigest() == big_file[1]


async def test_subdirectories_and_encoded_names(
    dir_server: HttpServer, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/sub/deeper/file.txt")).content == b"deep\n"
    assert (await client.get("/a%20b.txt")).content == b"spaced\n"
    assert (await client.get("/sub/%64eeper/file.txt")).content == b"deep\n"
    blob = await client.get("/sub/blob")  # no extension: sniffed, NUL bytes mean binary
    assert blob.headers["content-type"] == "application/octet-stream"
    assert blob.content == b"\x00\x01binary"
    assert (await client.get("/inside-link")).content == KS.encode()


async def test_missing_file_is_404_like_go(
    dir_server: HttpServer, client: httpx.AsyncClient
) -> None:
    response = await client.get("/nope.cfg")
    assert response.status_code == 404
    assert response.text == "404 page not found\n"
    assert (await client.get("/ks.cfg/")).status_code == 404
    assert (await client.get("/ks.cfg/x")).status_code == 404


async def test_directory_redirect_index_and_listing(
    dir_server: HttpServer, client: httpx.AsyncClient
) -> None:
    response = await client.get("/sub?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "sub/?x=1"  # relative, as Go's FileServer
    listing = await client.get("/sub/")
    assert listing.status_code == 200
    assert listing.headers["content-type"] == "text/html; charset=utf-8"
    assert listing.text == (
        '<pre>\n<a href="blob">blob</a>\n<a href="deeper/">deeper/</a>\n</pre>\n'
    )
    root = await client.get("/")
    assert '<a href="a%20b.txt">a b.txt</a>' in root.text
    assert '<a href="ks.cfg">ks.cfg</a>' in root.text
    index = await client.get("/withindex/")
    assert index.text == "<h1>index</h1>\n"


# --- what must never be served ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/../secret.txt", 403),
        ("/sub/../../secret.txt", 403),
        ("/sub/../ks.cfg", 403),  # stays inside, but `..` is refused outright
        ("/%2e%2e/secret.txt", 403),
        ("/%2E%2E/secret.txt", 403),
        ("/.%2e/secret.txt", 403),
        ("/..%2fsecret.txt", 403),
        ("/%2e%2e%2fsecret.txt", 403),
        ("/sub%2f..%2f..%2fsecret.txt", 403),
        ("/..%5csecret.txt", 403),
        ("/..\\secret.txt", 403),
        ("/ks.cfg%00", 403),
        ("/%00/../secret.txt", 403),
        ("//etc/passwd", 404),  # absolute-looking paths stay inside the directory
        ("/%2Fetc/passwd", 403),
        ("/secret-link", 403),  # symlinks resolving outside
        ("/etc-link/passwd", 403),
        ("/outside-dir/secret.txt", 403),
        ("/outside-dir/", 403),
        ("/fifo", 403),  # not a regular file: would block a reader forever
    ],
)
async def test_traversal_is_refused(dir_server: HttpServer, path: str, status: int) -> None:
    code, body = await curl(dir_server.port, path)
    assert code == status
    assert SECRET.encode() not in body
    assert b"root:" not in body


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /..%2f..%2fsecret.txt HTTP/1.1\r\nConnection: close\r\n\r\n", 403),
        (b"GET /ks.cfg\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # raw NUL: malformed
        (b"GET /..\x00/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /sub\r/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /../secret.txt HTTP/1.0\r\n\r\n", 403),
        (b"GET http://x/../secret.txt HTTP/1.1\r\nConnection: close\r\n\r\n", 403),
        (b"GET http://x/%2e%2e/secret.txt HTTP/1.1\r\nConnection: close\r\n\r\n", 403),
        (b"GET ../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET file:///etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET C:\\secret.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ],
)
async def test_raw_traversal_is_refused(
    dir_server: HttpServer, request_bytes: bytes, status: int
) -> None:
    answer = await raw_exchange(dir_server.port, request_bytes)
    assert status_of(answer) == status
    assert SECRET.encode() not in answer
    assert b"root:" not in answer


async def test_absolute_form_target_is_served(dir_server: HttpServer) -> None:
    answer = await raw_exchange(
        dir_server.port, b"GET http://10.0.2.2:8080/ks.cfg HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    assert status_of(answer) == 200
    assert answer.endswith(KS.encode())


# --- protocol -----------------------------------------------------------------------------


async def test_other_methods_get_405(
    dir_server: HttpServer, client: httpx.AsyncClient, seen: list[HttpRequestLog]
) -> None:
    response = await client.post("/ks.cfg", content=b"data")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert (seen[-1].method, seen[-1].status) == ("POST", 405)
    assert (await client.get("/ks.cfg")).status_code == 200


async def test_malformed_requests(dir_server: HttpServer, seen: list[HttpRequestLog]) -> None:
    assert status_of(await raw_exchange(dir_server.port, b"NONSENSE\r\n\r\n")) == 400
    assert status_of(await raw_exchange(dir_server.port, b"GET / HTTP/2.0\r\n\r\n")) == 505
    bad_header = b"GET / HTTP/1.1\r\nno-colon-here\r\n\r\n"
    assert status_of(await raw_exchange(dir_server.port, bad_header)) == 400
    huge = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"
    assert status_of(await raw_exchange(dir_server.port, huge)) == 414
    many = b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n"
    assert status_of(await raw_exchange(dir_server.port, many)) == 431
    assert [e.status for e in seen] == [400, 505, 400, 414, 431]


async def test_keep_alive_and_pipelining(
    dir_server: HttpServer, seen: list[HttpRequestLog]
) -> None:
    two = (
        b"GET /ks.cfg HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /sub/deeper/file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    answer = await raw_exchange(dir_server.port, two)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert answer.endswith(b"deep\n")
    assert b"Connection: close\r\n" in answer
    assert seen[0].client == seen[1].client


async def test_http_1_0_closes_after_the_response(dir_server: HttpServer) -> None:
    answer = await raw_exchange(dir_server.port, b"GET /ks.cfg HTTP/1.0\r\n\r\n")
    assert status_of(answer) == 200
    assert b"Connection: close\r\n" in answer
    assert answer.endswith(KS.encode())


async def test_many_concurrent_clients(
    dir_server: HttpServer, big_file: tuple[Path, str], seen: list[HttpRequestLog]
) -> None:
    slice_ = big_file[0].read_bytes()[:65536]

    async def fetch(i: int) -> bool:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{dir_server.port}") as c:
            ks = await c.get("/ks.cfg")
            part = await c.get("/big.bin", headers={"Range": "bytes=0-65535"})
            return ks.content == KS.encode() and part.content == slice_

    results = await asyncio.gather(*(fetch(i) for i in range(60)))
    assert all(results)
    assert len(seen) == 120
    assert len({e.client for e in seen}) == 60


async def test_failing_log_callback_does_not_break_serving(
    site: Path, http_port: ReservedPort
) -> None:
    def explode(entry: HttpRequestLog) -> None:
        raise RuntimeError("callback bug")

    async with HttpServer(directory=site, content=None, port=http_port, log=explode) as srv:
        async with httpx.AsyncClient() as c:
            for _ in range(2):
                response = await c.get(f"http://127.0.0.1:{srv.port}/ks.cfg")
                assert response.content == KS.encode()
        assert len(srv.access_log) == 2


# --- http_content -------------------------------------------------------------------------


async def test_content_map_serves_values(
    content_server: HttpServer, client: httpx.AsyncClient, seen: list[HttpRequestLog]
) -> None:
    response = await client.get("/ks.cfg")
    assert response.status_code == 200
    assert response.content == KS.encode()
    assert response.headers["content-length"] == str(len(KS))
    assert (await client.get("/preseed/debian.cfg?x=1")).text == "d-i foo\n"
    assert (await client.get("/index.json")).headers["content-type"] == "application/json"
    head = await client.head("/ks.cfg")
    assert head.headers["content-length"] == str(len(KS))
    assert head.content == b""
    assert [(e.method, e.status) for e in seen] == [
        ("GET", 200),
        ("GET", 200),
        ("GET", 200),
        ("HEAD", 200),
    ]


async def test_content_map_cleans_paths_like_packer(content_server: HttpServer) -> None:
    code, body = await curl(content_server.port, "/preseed/../ks.cfg")
    assert (code, body) == (200, KS.encode())
    code, body = await curl(content_server.port, "//preseed/./debian.cfg")
    assert (code, body) == (200, b"d-i foo\n")


async def test_content_map_404_suggests_a_close_key(
    content_server: HttpServer, client: httpx.AsyncClient
) -> None:
    response = await client.get("/ks.cgf")
    assert response.status_code == 404
    assert response.text == '/ks.cgf not found. Did you mean "/ks.cfg"?\n'
    response = await client.get("/totally/elsewhere")
    assert response.text == "/totally/elsewhere not found.\n"
    code, body = await curl(content_server.port, "/../ks.cf")
    assert (code, body) == (404, b'/ks.cf not found. Did you mean "/ks.cfg"?\n')


# --- lifecycle ----------------------------------------------------------------------------


@pytest.mark.timeout(60)
async def test_close_with_clients_still_connected(
    site: Path, http_port: ReservedPort, seen: list[HttpRequestLog]
) -> None:
    async with HttpServer(directory=site, content=None, port=http_port, log=seen.append) as srv:
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", srv.port)
        half_reader, half_writer = await asyncio.open_connection("127.0.0.1", srv.port)
        half_writer.write(b"GET /ks.cfg HTTP/1.1\r\nHost: x\r\n")  # never finished
        slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", srv.port)
        slow_writer.write(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        await slow_writer.drain()
        await slow_reader.readexactly(1024)  # the transfer has started; we stop reading
        await asyncio.sleep(0)
    for reader, writer in [
        (idle_reader, idle_writer),
        (half_reader, half_writer),
        (slow_reader, slow_writer),
    ]:
        try:
            while await reader.read(1 << 20):
                pass
        except ConnectionResetError:
            pass
        writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", http_port.port)
    # the interrupted transfer was logged with the bytes that went out, not the full size
    assert [(e.path, e.status) for e in seen] == [("/big.bin", 200)]
    assert seen[0].size < BIG


async def test_constructor_errors(site: Path, http_port: ReservedPort, tmp_path: Path) -> None:
    with pytest.raises(KilnError, match="http_content cannot be used in conjunction"):
        HttpServer(directory=site, content={"/a": "b"}, port=http_port, log=print)
    with pytest.raises(KilnError, match="nothing to serve"):
        HttpServer(directory=None, content=None, port=http_port, log=print)
    with (
        reserve_port(30000, 30999, host="127.0.0.1", lock_dir=tmp_path / "l") as plain,
        pytest.raises(KilnError, match="keep_listening=True"),
    ):
        HttpServer(directory=site, content=None, port=plain, log=print)
    missing = HttpServer(directory=tmp_path / "missing", content=None, port=http_port, log=print)
    with pytest.raises(KilnError, match=r'Error finding ".*missing": No such file'):
        async with missing:
            pass
    a_file = HttpServer(directory=site / "ks.cfg", content=None, port=http_port, log=print)
    with pytest.raises(KilnError, match="not a directory"):
        async with a_file:
            pass


async def test_empty_content_map_with_directory_serves_the_directory(
    site: Path, http_port: ReservedPort
) -> None:
    async with HttpServer(directory=site, content={}, port=http_port, log=print) as srv:
        code, body = await curl(srv.port, "/ks.cfg")
        assert (code, body) == (200, KS.encode())


# --- pure helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-200", 100, (90, 99)),
        ("bytes=50-", 100, (50, 99)),
        ("bytes=-30", 100, (70, 99)),
        ("bytes=-300", 100, (0, 99)),
        ("bytes = 1-2", 100, (1, 2)),
        ("BYTES=1-2", 100, (1, 2)),
        ("bytes=5-1", 100, None),
        ("bytes=0-1,4-5", 100, None),
        ("items=0-1", 100, None),
        ("bytes=x-1", 100, None),
        ("bytes=1", 100, None),
        ("bytes=-", 100, None),
        ("bytes=١-٢", 100, None),  # non-ASCII digits
    ],
)
def test_byte_range(header: str, size: int, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0), ("bytes=-5", 0)]
)
def test_byte_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        byte_range(header, size)


def test_suggestion_takes_the_first_close_key_in_order() -> None:
    keys = sorted(["/ks.cfg", "/ks.cgf", "/preseed.cfg"])
    assert suggestion("/ks.cf", keys) == "/ks.cfg"
    assert suggestion("/ks.cgg", keys) == "/ks.cfg"
    assert suggestion("/preseed", keys) == ""
    assert suggestion("/preseed.cf", keys) == "/preseed.cfg"
    assert suggestion("/x", []) == ""

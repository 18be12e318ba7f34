"""A local Vagrant Cloud: the API calls Packer 1.6.6's vagrant-cloud post-processor makes.

A real HTTP server (threads, on 127.0.0.1) with the service's state — boxes, versions,
providers, uploaded bytes — so tests check what a publish leaves behind, not only which
requests were made. Endpoints (under `/api/v1`, token in `Authorization: Bearer`):

    GET    authenticate
    GET    box/<user>/<name>
    POST   box/<user>/<name>/versions                      {"version": {...}}
    POST   box/<tag>/version/<v>/providers                 {"provider": {...}}
    GET    box/<tag>/version/<v>/provider/<p>/upload[/direct]
    PUT    box/<tag>/version/<v>/provider/<p>/upload/direct/confirm   (the callback)
    PUT    box/<tag>/version/<v>/release
    DELETE box/<tag>/version/<v>[/provider/<p>]

plus the storage the upload URLs point at: `PUT /storage/<id>` (direct, pre-signed: no
token expected) and `PUT /api/v1/upload/<id>` (through the API: token required).

Failure injection: `cut_uploads` (how many next uploads are cut off after `cut_after`
bytes: the server closes the connection without answering), `upload_status` (answer the
next uploads with this status), `fail` (method + path suffix → (status, errors)).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

API = "/api/v1"


@dataclass
class Provider:
    name: str
    url: str = ""
    data: bytes | None = None  # the uploaded box


@dataclass
class Version:
    version: str
    description: str = ""
    status: str = "unreleased"
    providers: dict[str, Provider] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    authorization: str
    content_type: str
    body: Any  # decoded JSON, or the byte count of an upload
    chunked: bool = False


@dataclass
class CloudState:
    token: str
    boxes: dict[str, dict[str, Version]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    pending: dict[str, tuple[str, str, str, bool]] = field(default_factory=dict)  # id → upload
    staged: dict[str, bytes] = field(default_factory=dict)  # direct uploads not confirmed yet
    cut_uploads: int = 0
    cut_after: int = 256 * 1024
    upload_status: list[int] = field(default_factory=list)
    fail: dict[tuple[str, str], tuple[int, list[Any]]] = field(default_factory=dict)
    # While set, uploads wait (after reading their headers) until it is cleared or 30 s pass.
    stall_uploads: threading.Event = field(default_factory=threading.Event)
    upload_started: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_box(self, tag: str, *versions: Version) -> None:
        self.boxes[tag] = {v.version: v for v in versions}

    def calls(self) -> list[str]:
        """`METHOD path` of every request, API prefix and host stripped."""
        return [f"{r.method} {r.path.removeprefix(API + '/')}" for r in self.requests]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    # -- plumbing --------------------------------------------------------------------------

    def _reply(self, status: int, body: object = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _errors(self, status: int, *errors: Any) -> None:
        self._reply(status, {"errors": list(errors), "success": False})

    def _record(self, body: Any) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(
                Request(
                    self.command,
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Content-Type", ""),
                    body,
                    chunked="chunked" in self.headers.get("Transfer-Encoding", ""),
                )
            )

    def _json_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.server.state.token}"

    def _base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # -- verbs ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._api()

    def do_POST(self) -> None:
        self._api()

    def do_DELETE(self) -> None:
        self._api()

    def do_PUT(self) -> None:
        match = re.fullmatch(r"/storage/([0-9a-f]+)|/api/v1/upload/([0-9a-f]+)", self.path)
        if match:
            self._upload(match.group(1) or match.group(2), direct=bool(match.group(1)))
            return
        self._api()

    # -- storage --------------------------------------------------------------------------

    def _upload(self, upload_id: str, *, direct: bool) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        state.upload_started.set()
        waited = 0.0
        while state.stall_uploads.is_set() and waited < 30:
            time.sleep(0.05)
            waited += 0.05
        with state.lock:
            cut = state.cut_uploads > 0
            if cut:
                state.cut_uploads -= 1
            status = state.upload_status.pop(0) if state.upload_status else 200
        if cut:
            self.rfile.read(min(state.cut_after, length))
            self._record(f"cut after {min(state.cut_after, length)} of {length} bytes")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        data = self.rfile.read(length)
        self._record(len(data))
        pending = state.pending.get(upload_id)
        if pending is None or (not direct and not self._authorized()):
            self._errors(403, "upload not allowed")
            return
        if status != 200:
            self._errors(status, "storage failed")
            return
        tag, version, provider, _ = pending
        with state.lock:
            if direct:
                state.staged[upload_id] = data
            else:
                state.boxes[tag][version].providers[provider].data = data
        self._reply(200)

    # -- the API --------------------------------------------------------------------------

    def _api(self) -> None:
        state = self.server.state
        body = self._json_body() if self.command in ("POST", "PUT") else None
        self._record(body)
        if not self.path.startswith(API + "/"):
            self._errors(404, "not found")
            return
        path = self.path[len(API) + 1 :]
        for (method, suffix), (status, errors) in state.fail.items():
            if method == self.command and path.endswith(suffix):
                self._errors(status, *errors)
                return
        if not self._authorized():
            self._errors(401, "Invalid token")
            return
        if path == "authenticate" and self.command == "GET":
            self._reply(200, {"token": "ok"})
            return
        routes = [
            ("GET", r"box/([^/]+/[^/]+)", self._get_box),
            ("POST", r"box/([^/]+/[^/]+)/versions", self._create_version),
            ("POST", r"box/([^/]+/[^/]+)/version/([^/]+)/providers", self._create_provider),
            ("GET", r"box/([^/]+/[^/]+)/version/([^/]+)/provider/([^/]+)/upload(/direct)?",
             self._prepare_upload),
            ("PUT", r"box/([^/]+/[^/]+)/version/([^/]+)/provider/([^/]+)/upload/direct/confirm"
             r"/([0-9a-f]+)", self._confirm),
            ("PUT", r"box/([^/]+/[^/]+)/version/([^/]+)/release", self._release),
            ("DELETE", r"box/([^/]+/[^/]+)/version/([^/]+)/provider/([^/]+)",
             self._delete_provider),
            ("DELETE", r"box/([^/]+/[^/]+)/version/([^/]+)", self._delete_version),
        ]  # fmt: skip
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if method == self.command and match:
                with state.lock:
                    handler(body, *match.groups())
                return
        self._errors(404, "Resource not found!")

    def _version_of(self, tag: str, version: str) -> Version | None:
        return self.server.state.boxes.get(tag, {}).get(version)

    def _get_box(self, _body: Any, tag: str) -> None:
        box = self.server.state.boxes.get(tag)
        if box is None:
            self._errors(404, "Resource not found!")
            return
        versions = [{"version": v.version, "status": v.status} for v in box.values()]
        self._reply(200, {"tag": tag, "versions": versions})

    def _create_version(self, body: Any, tag: str) -> None:
        box = self.server.state.boxes.get(tag)
        wanted = (body or {}).get("version") or {}
        if box is None:
            self._errors(404, "Resource not found!")
        elif not wanted.get("version"):
            self._errors(422, {"version": "can't be blank"})
        elif wanted["version"] in box:
            self._errors(422, {"version": "has already been taken"})
        else:
            made = Version(wanted["version"], wanted.get("description", ""))
            box[made.version] = made
            self._reply(200, {"version": made.version, "description": made.description,
                              "status": made.status})  # fmt: skip

    def _create_provider(self, body: Any, tag: str, version: str) -> None:
        v = self._version_of(tag, version)
        wanted = (body or {}).get("provider") or {}
        if v is None:
            self._errors(404, "Resource not found!")
        elif wanted.get("name") in v.providers:
            self._errors(422, {"name": "has already been taken"})
        else:
            v.providers[wanted["name"]] = Provider(wanted["name"], wanted.get("url", ""))
            self._reply(200, {"name": wanted["name"], "url": wanted.get("url", "")})

    def _prepare_upload(
        self, _body: Any, tag: str, version: str, provider: str, direct: str | None
    ) -> None:
        v = self._version_of(tag, version)
        if v is None or provider not in v.providers:
            self._errors(404, "Resource not found!")
            return
        upload_id = uuid.uuid4().hex
        self.server.state.pending[upload_id] = (tag, version, provider, bool(direct))
        if direct:
            self._reply(200, {
                "upload_path": f"{self._base()}/storage/{upload_id}",
                "callback": f"{self._base()}{API}/box/{tag}/version/{version}/provider/"
                            f"{provider}/upload/direct/confirm/{upload_id}",
            })  # fmt: skip
        else:
            self._reply(200, {"upload_path": f"{self._base()}{API}/upload/{upload_id}",
                              "token": upload_id})  # fmt: skip

    def _confirm(self, _body: Any, tag: str, version: str, provider: str, upload_id: str) -> None:
        state = self.server.state
        data = state.staged.pop(upload_id, None)
        if data is None:
            self._errors(422, "no upload to confirm")
            return
        state.boxes[tag][version].providers[provider].data = data
        self._reply(200)

    def _release(self, _body: Any, tag: str, version: str) -> None:
        v = self._version_of(tag, version)
        if v is None:
            self._errors(404, "Resource not found!")
        elif v.status == "active":
            self._errors(422, "This version has already been released")
        else:
            v.status = "active"
            self._reply(200, {"version": v.version, "status": v.status})

    def _delete_provider(self, _body: Any, tag: str, version: str, provider: str) -> None:
        v = self._version_of(tag, version)
        if v is None or v.providers.pop(provider, None) is None:
            self._errors(404, "Resource not found!")
            return
        self._reply(200, {})

    def _delete_version(self, _body: Any, tag: str, version: str) -> None:
        if self.server.state.boxes.get(tag, {}).pop(version, None) is None:
            self._errors(404, "Resource not found!")
            return
        self._reply(200, {})


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    state: CloudState

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that hangs up mid-upload is what some tests want


@dataclass
class LocalCloud:
    state: CloudState
    url: str  # the value for vagrant_cloud_url


@contextlib.contextmanager
def local_vagrant_cloud(token: str) -> Iterator[LocalCloud]:
    """A local Vagrant Cloud on a free port of 127.0.0.1 while the block runs."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = CloudState(token=token)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="vagrant-cloud", daemon=True
    )
    thread.start()
    try:
        yield LocalCloud(server.state, f"http://127.0.0.1:{server.server_address[1]}{API}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

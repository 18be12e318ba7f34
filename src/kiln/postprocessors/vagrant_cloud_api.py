"""Vagrant Cloud's API as Packer 1.6.6 speaks it, and the publishing steps.

From post-processor/vagrant-cloud (client.go, step_*.go at v1.6.6). Every API request
carries `Content-Type: application/json` and, with a token, `Authorization: Bearer`;
bodies are JSON. The steps, in order:

1. `GET  box/<tag>` — the box must exist and answer with its tag ("Verifying box").
2. `POST box/<tag>/versions` `{"version": {"version", "description"}}`, unless the box
   already lists the version ("Version exists, skipping creation").
3. `POST box/<tag>/version/<v>/providers` `{"provider": {"name", "url"}}`.
4. Unless `box_download_url` is set: `GET box/<tag>/version/<v>/provider/<p>/upload/direct`
   (`…/upload` with `no_direct_upload`) → `{"upload_path", "callback"}`; `PUT` the box to
   `upload_path` (a direct upload carries no token: the URL is pre-signed storage), three
   tries 10 s apart; then, for a direct upload, `PUT callback`.
5. `PUT box/<tag>/version/<v>/release`, unless `no_release` (a version that "has already
   been released" is fine).

When a step fails (or the build is cancelled) after the provider was created, Packer
deletes the provider (`DELETE box/<tag>/version/<v>/provider/<p>`) and leaves the version
it created: an empty, unreleased version that blocks the next run's "create" of the same
number only in name. kiln deletes that version too (`DELETE box/<tag>/version/<v>`), but
never one that existed before the run. So a failure never leaves a released version
without its box, nor junk of kiln's own making.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiln.errors import KilnError
from kiln.ui.log import LOG

if TYPE_CHECKING:
    import httpx

UPLOAD_TRIES = 3
UPLOAD_RETRY_DELAY = 10.0  # seconds; Packer's linear backoff capped at 10 s
UPLOAD_CHUNK = 1 << 20


class CloudError(KilnError):
    """A Vagrant Cloud request failed; the message is Packer's, with the server's errors."""


class Reporter(Protocol):
    """Where the steps report (a post-processor's ui) and upload progress."""

    def say(self, message: str) -> None: ...
    def message(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...
    def progress_start(self, name: str, total: int) -> None: ...
    def progress_advance(self, nbytes: int) -> None: ...
    def progress_finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Publish:
    """One box to publish."""

    tag: str
    version: str
    description: str
    provider: str
    box_path: Path
    download_url: str = ""
    no_release: bool = False
    no_direct_upload: bool = False


def format_errors(body: object) -> str:
    """Packer's VagrantCloudErrors.FormatErrors of `{"errors": [...]}`."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return ""
    parts: list[str] = []
    for err in body["errors"]:
        if isinstance(err, str):
            parts.append(err)
        elif isinstance(err, dict):
            parts.extend(f"{k} {v}" for k, v in err.items())
        else:
            parts.append(str(err))
    return ". ".join(parts)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _cloud_errors(response: httpx.Response) -> str:
    """The server's errors, or its HTTP status when it gave none."""
    text = format_errors(_json(response))
    return text or f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


class VagrantCloudClient:
    """Packer's VagrantCloudClient: the API under `base_url`, with a token."""

    def __init__(self, base_url: str, token: str, *, verify: bool = True) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            trust_env=True,
            verify=verify,
            timeout=httpx.Timeout(60.0, read=300.0),
            follow_redirects=False,
        )

    async def __aenter__(self) -> VagrantCloudClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    async def request(self, method: str, path_or_url: str, body: object = None) -> httpx.Response:
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        content = None if body is None else json.dumps(body, separators=(",", ":")) + "\n"
        LOG.debug("Vagrant Cloud API %s: %s", method, url)
        response = await self.http.request(method, url, headers=self._headers(), content=content)
        LOG.debug("Vagrant Cloud API response: %s %s", response.status_code, url)
        return response

    async def validate_authentication(self) -> None:
        """`GET authenticate` must answer 200 (Packer checks this when it configures)."""
        import httpx

        try:
            response = await self.request("GET", "authenticate")
        except httpx.HTTPError as err:
            raise CloudError(f"Failed to verify authentication token: {_describe(err)}") from None
        if response.status_code != 200:
            status = f"{response.status_code} {response.reason_phrase}".rstrip()
            raise CloudError(f"Failed to verify authentication token: {status}")

    async def upload(
        self, path: Path, url: str, *, direct: bool, advance: Callable[[int], None]
    ) -> httpx.Response:
        """PUT the file's bytes to `url` (Content-Length set, streamed from disk)."""
        size = path.stat().st_size
        headers = {"Content-Length": str(size)}
        if not direct:
            headers.update(self._headers())
        LOG.debug("Vagrant Cloud upload (%s): %s → %s", "direct" if direct else "API", path, url)

        async def body() -> AsyncIterator[bytes]:
            import asyncio  # for a build only: `kiln validate` loads this module

            with path.open("rb") as f:
                while chunk := await asyncio.to_thread(f.read, UPLOAD_CHUNK):
                    yield chunk
                    advance(len(chunk))

        return await self.http.put(url, headers=headers, content=body())


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class Publisher:
    """Packer's steps for one box, with their cleanups (see the module docstring)."""

    def __init__(self, client: VagrantCloudClient, job: Publish, ui: Reporter) -> None:
        self.client = client
        self.job = job
        self.ui = ui
        self.box_tag = job.tag
        self.version = job.version
        self.existing: list[str] = []  # versions the box had before this run
        self.created_version = False
        self.provider_name = ""  # set once the provider exists (Packer's s.name)

    async def run(self, retry_delay: float | None = None) -> None:
        import asyncio  # for a build only: `kiln validate` loads this module

        import httpx

        delay = UPLOAD_RETRY_DELAY if retry_delay is None else retry_delay
        try:
            await self.verify_box()
            await self.create_version()
            await self.create_provider()
            if not self.job.download_url:
                upload_path, callback = await self.prepare_upload()
                await self.upload(upload_path, delay)
                if not self.job.no_direct_upload:
                    await self.confirm_upload(callback)
            await self.release()
        except httpx.HTTPError as err:
            await asyncio.shield(self.cleanup())
            raise CloudError(f"Vagrant Cloud request failed: {_describe(err)}") from None
        except BaseException:
            await asyncio.shield(self.cleanup())
            raise

    def _path(self, suffix: str = "") -> str:
        return f"box/{self.box_tag}/version/{self.version}{suffix}"

    async def verify_box(self) -> None:
        self.ui.say(f"Verifying box is accessible: {self.job.tag}")
        response = await self.client.request("GET", f"box/{self.job.tag}")
        if response.status_code != 200:
            raise CloudError(f"Error retrieving box: {_cloud_errors(response)}")
        box = _json(response)
        if not isinstance(box, dict):
            raise CloudError("Error parsing box response: not a JSON object")
        if box.get("tag") != self.job.tag:
            raise CloudError(f"Could not verify box: {self.job.tag}")
        self.ui.message("Box accessible and matches tag")
        self.box_tag = str(box["tag"])
        self.existing = [
            str(v.get("version")) for v in box.get("versions") or [] if isinstance(v, dict)
        ]

    async def create_version(self) -> None:
        self.ui.say(f"Creating version: {self.job.version}")
        if self.job.version in self.existing:
            self.ui.message("Version exists, skipping creation")
            return
        version: dict[str, str] = {"version": self.job.version}
        if self.job.description:
            version["description"] = self.job.description
        response = await self.client.request(
            "POST", f"box/{self.box_tag}/versions", {"version": version}
        )
        if response.status_code != 200:
            raise CloudError(f"Error creating version: {_cloud_errors(response)}")
        self.created_version = True
        made = _json(response)
        if isinstance(made, dict) and made.get("version"):
            self.version = str(made["version"])

    async def create_provider(self) -> None:
        provider: dict[str, str] = {"name": self.job.provider}
        if self.job.download_url:
            provider["url"] = self.job.download_url
        self.ui.say(f"Creating provider: {self.job.provider}")
        response = await self.client.request(
            "POST", self._path("/providers"), {"provider": provider}
        )
        if response.status_code != 200:
            raise CloudError(f"Error creating provider: {_cloud_errors(response)}")
        made = _json(response)
        name = made.get("name") if isinstance(made, dict) else None
        self.provider_name = str(name or self.job.provider)

    async def prepare_upload(self) -> tuple[str, str]:
        path = self._path(f"/provider/{self.provider_name}/upload")
        if not self.job.no_direct_upload:
            path += "/direct"
        self.ui.say(f"Preparing upload of box: {self.job.box_path}")
        response = await self.client.request("GET", path)
        if response.status_code != 200:
            raise CloudError(f"Error preparing upload: {_cloud_errors(response)}")
        upload = _json(response)
        if not isinstance(upload, dict) or not upload.get("upload_path"):
            raise CloudError("Error parsing upload response: no upload_path in it")
        return str(upload["upload_path"]), str(upload.get("callback") or "")

    async def upload(self, url: str, retry_delay: float) -> None:
        import asyncio  # for a build only: `kiln validate` loads this module

        import httpx

        self.ui.say(f"Uploading box: {self.job.box_path}")
        self.ui.message(
            "Depending on your internet connection and the size of the box,\n"
            "this may take some time"
        )
        direct = not self.job.no_direct_upload
        size = self.job.box_path.stat().st_size
        last = ""
        for attempt in range(1, UPLOAD_TRIES + 1):
            self.ui.message("Uploading box")
            self.ui.progress_start(f"Uploading {self.job.box_path.name}", size)
            try:
                response = await self.client.upload(
                    self.job.box_path, url, direct=direct, advance=self.ui.progress_advance
                )
                problem = "" if response.status_code == 200 else f"Status: {response.status_code}"
                last = f"bad HTTP status: {response.status_code}"
            except httpx.HTTPError as err:
                problem = last = f"Error: {_describe(err)}"
            except OSError as err:
                raise CloudError(f"Error opening file for upload: {err}") from None
            finally:
                self.ui.progress_finish()
            if not problem:
                self.ui.message("Box successfully uploaded")
                return
            if attempt < UPLOAD_TRIES:
                self.ui.message(
                    f"Error uploading box! Will retry in {retry_delay:g} seconds. {problem}"
                )
                await asyncio.sleep(retry_delay)
            else:
                self.ui.message(f"Error uploading box! Giving up after {attempt} tries. {problem}")
        raise CloudError(f"retry count exhausted. Last err: {last}")

    async def confirm_upload(self, callback: str) -> None:
        self.ui.say("Confirming direct box upload completion")
        if not callback:
            raise CloudError("Error preparing upload: the server gave no callback URL")
        response = await self.client.request("PUT", callback)
        if response.status_code != 200:
            raise CloudError(f"Error preparing upload: {_cloud_errors(response)}")

    async def release(self) -> None:
        self.ui.say(f"Releasing version: {self.version}")
        if self.job.no_release:
            self.ui.message("Not releasing version due to configuration")
            return
        response = await self.client.request("PUT", self._path("/release"))
        if response.status_code != 200:
            errors = _cloud_errors(response)
            if "already been released" in errors:
                self.ui.message("Not releasing version, already released")
                return
            raise CloudError(f"Error releasing version: {errors}")
        self.ui.message("Version successfully released and available")

    async def cleanup(self) -> None:
        """Delete what this run made (provider, then a version it created); report, never
        raise: the step's own error is the one the user needs."""
        if self.provider_name:
            self.ui.say("Cleaning up provider")
            self.ui.message(f"Deleting provider: {self.provider_name}")
            await self._delete(self._path(f"/provider/{self.provider_name}"), "provider")
        if self.created_version:
            self.ui.say("Cleaning up version")
            self.ui.message(f"Deleting version: {self.version}")
            await self._delete(self._path(), "version")

    async def _delete(self, path: str, what: str) -> None:
        import httpx

        try:
            response = await self.client.request("DELETE", path)
        except httpx.HTTPError as err:
            self.ui.error(f"Error destroying {what}: {_describe(err)}")
            return
        if response.status_code not in (200, 204, 404):
            self.ui.error(f"Error destroying {what}: {_cloud_errors(response)}")

"""Where downloaded ISOs live: the cache directory and Packer's cache file names (§6)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kiln.errors import KilnError
from kiln.media.checksum import Checksum
from kiln.media.urls import go_url_string, parse_source


def cache_dir(env: Mapping[str, str]) -> Path:
    """The cache directory, as the latest Packer SDK picks it on Unix (made absolute).

    ``$PACKER_CACHE_DIR`` if set and non-empty (relative to the working directory), else
    ``$XDG_CACHE_HOME/packer``, else ``$HOME/.cache/packer``. (Packer 1.6.6 used
    ``./packer_cache``; set ``PACKER_CACHE_DIR=packer_cache`` for that.)
    """
    chosen = env.get("PACKER_CACHE_DIR", "")
    if chosen:
        return Path(os.path.abspath(chosen))
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg:
        return Path(os.path.abspath(os.path.join(xdg, "packer")))
    home = env.get("HOME", "") or str(Path.home())
    return Path(os.path.abspath(os.path.join(home, ".cache", "packer")))


def go_ext(path: str) -> str:
    """Go's ``filepath.Ext``: the suffix from the last dot of the last element, or ""."""
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "/":
            return ""
        if path[i] == ".":
            return path[i:]
    return ""


def cache_key(checksum: Checksum, first_url: str) -> str:
    """SHA-1 hex of what names the cache file.

    A ``?checksum=`` query parameter on the URL wins; otherwise the normalised checksum
    (``sha256:…``); with no checksum (``none``), the URL as Go writes it. Because the key
    ignores the URL whenever there is a checksum, every mirror shares one cache file.
    """
    source = parse_source(first_url)
    named = source.query_checksum or (checksum.normalized() if checksum.kind != "none" else "")
    key_text = named if named and named != "none" else go_url_string(first_url)
    return hashlib.sha1(key_text.encode("utf-8")).hexdigest()


def cache_target(
    checksum: Checksum,
    urls: Sequence[str],
    *,
    target_path: str | None,
    target_extension: str,
    cache_root: Path,
) -> Path:
    """The file an ISO is downloaded to (Packer's `UseSourceToFindCacheTarget`).

    * no `iso_target_path`: ``<cache_root>/<key>.<ext>`` (no dot when `ext` is "");
    * `iso_target_path` without an extension (a directory): ``<path>/<key>.<ext or iso>``;
    * `iso_target_path` with an extension: exactly that path.

    Key from the first URL (`cache_key`). A relative `iso_target_path` stays relative
    to the working directory, as in Packer.
    """
    if not urls:
        raise KilnError(
            "No ISO URL to name the download after: set iso_url or iso_urls "
            "(one of them must be specified)"
        )
    key = cache_key(checksum, urls[0])
    ext = target_extension.lower()
    if not target_path:
        return cache_root / (f"{key}.{ext}" if ext else key)
    if go_ext(target_path) == "":
        directory = target_path if target_path.endswith("/") else target_path + "/"
        return Path(f"{directory}{key}.{ext or 'iso'}")
    return Path(target_path)

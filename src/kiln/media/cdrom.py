"""The CD: an ISO 9660 image (+ Joliet + Rock Ridge) from `cd_files` and `cd_content`.

Packer's rules (packer-plugin-sdk's multistep/commonsteps/step_create_cdrom.go): a file goes to
the root
under its base name; a directory is copied with its hierarchy under its own name, or,
when written with a trailing slash (``dir/``) or as ``.``, its contents go to the root;
`cd_content` (path → text) wins over a file at the same path. The label is the volume
id (``cidata`` for cloud-init). Packer runs xorriso/mkisofs; kiln writes the image with
pycdlib, so no external tool is needed.

Rock Ridge carries the real names (any case, any length, and file modes) that Linux
shows; Joliet carries names of up to 64 characters for Windows; the plain ISO 9660
names (level 3: ``A-Z 0-9 _``, up to 30 characters) are derived and made unique.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pycdlib

from kiln.media.sources import (
    Entry,
    MediaError,
    content_path,
    expand_glob,
    glob_problem_or_no_match,
    has_glob,
    stat_problem,
    walk_files,
)

__all__ = ["MediaError", "collect_cd_files", "file_errors_cd", "make_cd"]

ISO_NAME_MAX = 30  # level 3: name + extension
ISO_DIR_MAX = 31
JOLIET_MAX = 64
CONTENT_MODE = stat.S_IFREG | 0o644


# --- collecting ---------------------------------------------------------------------


def _contents_to_root(entry: str) -> bool:
    """Packer strips the path up to the last slash: ``dir/`` and ``.`` put the
    directory's contents in the CD root. (``..`` does too, where Packer's copy escaped
    its staging directory.)"""
    return entry.endswith("/") or entry.rsplit("/", 1)[-1] in ("", ".", "..")


def collect_cd_files(
    files: Sequence[str], content: Mapping[str, str], *, base: Path
) -> list[Entry]:
    """What goes onto the CD, as ``[(path inside the image, source)]``.

    Globs (``* ? [``) are expanded (sorted; no match is an error). Directory sources in
    the result mean "create this directory" (so empty directories survive). Two files
    landing on one path is an error; `cd_content` replaces a file at its path. Missing
    paths: ``Bad CD disk file '<p>': <err>``.
    """
    entries: list[Entry] = []
    index: dict[str, int] = {}

    def add(image_path: str, source: Path) -> None:
        if image_path in index:
            earlier = entries[index[image_path]][1]
            if isinstance(earlier, Path) and (
                (earlier.is_dir() and source.is_dir()) or earlier.resolve() == source.resolve()
            ):
                return  # the same file listed twice, or directories merging
            raise MediaError(
                f"Two files would have the same path {image_path!r} on the CD: "
                f"{earlier!s} and {source}. Rename one, or copy a directory without "
                "the trailing slash to keep it in its own folder."
            )
        index[image_path] = len(entries)
        entries.append((image_path, source))

    for entry in files:
        if has_glob(entry):
            problem = glob_problem_or_no_match(entry, base)
            if problem:
                raise MediaError(f"Bad CD disk file '{entry}': {problem}")
            matches = expand_glob(entry, base)
        else:
            problem = stat_problem(entry, base)
            if problem:
                raise MediaError(f"Bad CD disk file '{entry}': {problem}")
            matches = [entry]
        for match in matches:
            host = base / match
            if not host.is_dir():
                add(host.name, host)
                continue
            prefix = ""
            if not _contents_to_root(match):
                prefix = Path(os.path.abspath(host)).name
                add(prefix, host)
                prefix += "/"
            for rel, path in walk_files(host):
                add(prefix + rel, path)
    for key, text in content.items():
        image_path = content_path(key, "cd_content")
        data = text.encode("utf-8")
        if image_path in index:
            entries[index[image_path]] = (image_path, data)
        else:
            index[image_path] = len(entries)
            entries.append((image_path, data))
    return entries


def file_errors_cd(files: Sequence[str], *, base: Path) -> list[str]:
    """Validate-time checks of `cd_files` (Packer's `CDConfig.Prepare`): one error per
    entry that cannot be stat'ed, is a malformed glob or a glob matching nothing."""
    errors: list[str] = []
    for entry in files:
        problem = (
            glob_problem_or_no_match(entry, base) if has_glob(entry) else stat_problem(entry, base)
        )
        if problem:
            errors.append(f"Bad CD disk file '{entry}': {problem}")
    return errors


# --- names --------------------------------------------------------------------------


def _d_chars(text: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", text.upper())


def _unique(candidate: str, used: set[str], fit: int, suffix_at: int) -> str:
    """`candidate`, or a variant with ``_N`` spliced in at `suffix_at`, not in `used`."""
    name = candidate
    counter = 1
    while name.casefold() in used:
        tag = f"_{counter}"
        head = candidate[:suffix_at]
        head = head[: max(1, fit - len(tag) - (len(candidate) - suffix_at))]
        name = head + tag + candidate[suffix_at:]
        counter += 1
    used.add(name.casefold())
    return name


def _iso_name(name: str, is_dir: bool, used: set[str]) -> str:
    """An ISO 9660 level-3 identifier for `name` (without the ``;1`` version)."""
    if is_dir:
        ident = _d_chars(name)[:ISO_DIR_MAX] or "_"
        return _unique(ident, used, ISO_DIR_MAX, len(ident))
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    ext = _d_chars(ext)[:8]
    stem = _d_chars(stem)[: ISO_NAME_MAX - len(ext)] or "_"
    return _unique(f"{stem}.{ext}", used, ISO_NAME_MAX + 1, len(stem))


def _joliet_name(name: str, is_dir: bool, used: set[str]) -> str:
    clean = re.sub(r"[*/:;?\\\x00-\x1f]", "_", name)
    stem, dot, ext = clean.rpartition(".")
    if is_dir or not dot or not stem or len(ext) > 16:
        stem, dot, ext = clean, "", ""
    room = JOLIET_MAX - len(dot + ext)
    candidate = stem[:room] + dot + ext
    return _unique(candidate, used, JOLIET_MAX, len(stem[:room]))


class _Layout:
    """Tracks, per directory, the ISO 9660 and Joliet paths given out so far."""

    def __init__(self, iso: pycdlib.PyCdlib) -> None:
        self.iso = iso
        self.dirs: dict[str, tuple[str, str]] = {"": ("", "")}
        self.used_iso: dict[str, set[str]] = {"": set()}
        self.used_joliet: dict[str, set[str]] = {"": set()}

    def names(self, image_path: str, is_dir: bool) -> tuple[str, str, str]:
        parent, _, name = image_path.rpartition("/")
        if len(name.encode("utf-8")) > 255:
            raise MediaError(
                f"{image_path!r}: a name on the CD may have at most 255 bytes; rename it"
            )
        iso_parent, joliet_parent = self.ensure_dir(parent)
        iso_name = _iso_name(name, is_dir, self.used_iso[parent])
        joliet_name = _joliet_name(name, is_dir, self.used_joliet[parent])
        iso_path = f"{iso_parent}/{iso_name}" + ("" if is_dir else ";1")
        return iso_path, name, f"{joliet_parent}/{joliet_name}"

    def ensure_dir(self, image_dir: str, mode: int | None = None) -> tuple[str, str]:
        if image_dir in self.dirs:
            return self.dirs[image_dir]
        iso_path, rr_name, joliet_path = self.names(image_dir, True)
        self.iso.add_directory(iso_path, rr_name=rr_name, joliet_path=joliet_path, file_mode=mode)
        self.dirs[image_dir] = (iso_path, joliet_path)
        self.used_iso[image_dir] = set()
        self.used_joliet[image_dir] = set()
        return iso_path, joliet_path


def cd_label_problem(label: str) -> str | None:
    """Why `cd_label` cannot be an ISO 9660 volume id, or None (checked at validate time)."""
    if not label or len(label) > 32 or not all(" " <= c <= "~" for c in label):
        return (
            f"cd_label {label!r} cannot be an ISO 9660 volume id: use 1 to 32 printable "
            "ASCII characters (for cloud-init, 'cidata')"
        )
    return None


def _check_label(label: str) -> None:
    problem = cd_label_problem(label)
    if problem:
        raise MediaError(problem)


def make_cd(entries: Sequence[Entry], dest: Path, *, label: str = "packer") -> None:
    """Write an ISO 9660 image (level 3, Joliet level 3, Rock Ridge 1.09) to `dest`.

    The volume id is `label` as given (``blkid`` shows it); Joliet's own volume id holds
    at most 16 characters, so a longer label is cut there only. Files keep their
    permission bits in Rock Ridge; `cd_content` files are 0644. Raises `MediaError`
    (and leaves no `dest`) on a bad label or name, or an unreadable file.
    """
    label = label or "packer"
    _check_label(label)
    seen: set[str] = set()
    for image_path, _ in entries:
        if image_path in seen:
            raise MediaError(f"{image_path!r} is listed twice for the CD")
        seen.add(image_path)
    import pycdlib  # slow to import; only needed when building

    iso = pycdlib.PyCdlib()
    try:
        iso.new(
            interchange_level=3,
            joliet=3,
            rock_ridge="1.09",
            vol_ident=label[:16],
            app_ident_str="kiln",
        )
        # pycdlib gives both descriptors one id, but Joliet's holds only 16 characters.
        iso.pvd.volume_identifier = label.encode("ascii").ljust(32)
        layout = _Layout(iso)
        for image_path, source in entries:
            if isinstance(source, bytes):
                iso_path, rr_name, joliet_path = layout.names(image_path, False)
                iso.add_fp(
                    io.BytesIO(source),
                    len(source),
                    iso_path,
                    rr_name=rr_name,
                    joliet_path=joliet_path,
                    file_mode=CONTENT_MODE,
                )
            elif source.is_dir():
                layout.ensure_dir(image_path, stat.S_IFDIR | (source.stat().st_mode & 0o7777))
            else:
                iso_path, rr_name, joliet_path = layout.names(image_path, False)
                mode = stat.S_IFREG | (source.stat().st_mode & 0o7777)
                iso.add_file(
                    str(source),
                    iso_path,
                    rr_name=rr_name,
                    joliet_path=joliet_path,
                    file_mode=mode,
                )
        iso.write(str(dest))
    except MediaError:
        dest.unlink(missing_ok=True)
        raise
    except (pycdlib.pycdlibexception.PyCdlibException, OSError) as err:
        dest.unlink(missing_ok=True)
        raise MediaError(f"Error creating CD: {err}") from err
    finally:
        with contextlib.suppress(pycdlib.pycdlibexception.PyCdlibException):
            iso.close()

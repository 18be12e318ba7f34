"""Filesystem functions (go-cty-funcs filesystem, Packer's templatefile), relative to the
template's folder."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from kiln.template.hcl2.function import ArgError, Function, FunctionError, Param, fn
from kiln.template.hcl2.types import DYNAMIC, STRING
from kiln.template.hcl2.values import Value, bool_val, set_val, string_val

P = Param("path", STRING)


def _resolve(base: Path, path: str) -> Path:
    p = Path(os.path.expanduser(path)) if path.startswith("~") else Path(path)
    return p if p.is_absolute() else base / p


def _read(base: Path, a: Sequence[Value]) -> bytes:
    path = _resolve(base, a[0].as_str())
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ArgError(
            0,
            f'no file exists at "{path}"; this function works only with files '
            "that are distributed as part of the configuration source code",
        ) from None
    except IsADirectoryError:
        raise ArgError(0, f'"{path}" is a directory, not a file') from None
    except OSError as err:
        raise ArgError(0, f'failed to read "{path}": {err.strerror}') from None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """doublestar's glob: `*` and `?` stay inside one path segment, `**` spans any,
    `[...]` and `{a,b}` as in shells."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                raise ValueError("syntax error in pattern")
            body = pattern[i + 1 : j]
            if body.startswith("!") or body.startswith("^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j + 1
            continue
        elif c == "{":
            j = pattern.find("}", i + 1)
            if j < 0:
                raise ValueError("syntax error in pattern")
            alts = pattern[i + 1 : j].split(",")
            out.append("(?:" + "|".join(_glob_regex(x).pattern[4:-3] for x in alts) + ")")
            i = j + 1
            continue
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("(?s:" + "".join(out) + r")\Z")


def functions(base: Path, table: Callable[[], Mapping[str, Function]]) -> dict[str, Function]:
    @fn(P)
    def _file(a: Sequence[Value]) -> Value:
        data = _read(base, a)
        try:
            return string_val(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise ArgError(0, f'contents of "{a[0].as_str()}" are not valid UTF-8; use the '
                           "filebase64 function to obtain the Base64 encoded contents or the "
                           "other file functions (e.g. filemd5, filesha256) to obtain file "
                           "hashing results instead") from None  # fmt: skip

    @fn(P)
    def _filebase64(a: Sequence[Value]) -> Value:
        return string_val(base64.b64encode(_read(base, a)).decode())

    @fn(P)
    def _fileexists(a: Sequence[Value]) -> Value:
        path = _resolve(base, a[0].as_str())
        try:
            st = path.stat()
        except FileNotFoundError:
            return bool_val(False)
        except OSError as err:
            raise FunctionError(f'failed to stat "{path}": {err.strerror}') from None
        if not path.is_file():
            raise FunctionError(f'"{path}" is not a regular file, but "{_mode(st.st_mode)}"')
        return bool_val(True)

    @fn(P, Param("pattern", STRING))
    def _fileset(a: Sequence[Value]) -> Value:
        root = _resolve(base, a[0].as_str())
        try:
            rx = _glob_regex(a[1].as_str())
        except ValueError as err:
            raise ArgError(1, f'failed to glob pattern "{a[1].as_str()}": {err}') from None
        found = []
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if rx.match(rel) and full.is_file():
                    found.append(string_val(rel))
        return set_val(found, STRING)

    @fn(P, Param("vars", DYNAMIC))
    def _templatefile(a: Sequence[Value]) -> Value:
        from kiln.template.hcl2.templatefile import render_template_file

        path = _resolve(base, a[0].as_str())
        data = _read(base, a)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ArgError(0, f'contents of "{path}" are not valid UTF-8') from None
        funcs = {k: v for k, v in table().items() if k != "templatefile"}
        return render_template_file(text, str(path), a[1], funcs)

    @fn(P)
    def _abspath(a: Sequence[Value]) -> Value:
        return string_val(os.path.abspath(a[0].as_str()))

    @fn(P)
    def _basename(a: Sequence[Value]) -> Value:
        p = a[0].as_str()
        if p == "":
            return string_val(".")
        stripped = p.rstrip("/")
        return string_val(os.path.basename(stripped) if stripped else "/")

    @fn(P)
    def _dirname(a: Sequence[Value]) -> Value:
        p = a[0].as_str()
        d = os.path.dirname(p)
        return string_val(os.path.normpath(d) if d else ".")

    @fn(P)
    def _pathexpand(a: Sequence[Value]) -> Value:
        return string_val(os.path.expanduser(a[0].as_str()))

    return {
        "abspath": _abspath,
        "basename": _basename,
        "dirname": _dirname,
        "file": _file,
        "filebase64": _filebase64,
        "fileexists": _fileexists,
        "fileset": _fileset,
        "pathexpand": _pathexpand,
        "templatefile": _templatefile,
    }


def _mode(mode: int) -> str:
    import stat

    return stat.filemode(mode)

"""Floppy and CD images built by kiln, read back with independent tools.

Floppy: mtools (`minfo`, `mdir`, `mcopy`, `mtype`), `fsck.fat` (dosfstools) and `blkid`.
CD: xorriso (Rock Ridge, Joliet and plain ISO 9660 trees, extraction) and `blkid`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from kiln.media.cdrom import collect_cd_files, file_errors_cd, make_cd
from kiln.media.floppy import (
    FLOPPY_BYTES,
    MediaError,
    collect_floppy_files,
    file_errors_floppy,
    make_floppy,
)

pytestmark = pytest.mark.timeout(300)


def run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout


def blkid(image: Path) -> dict[str, str]:
    out = run("blkid", "-p", "-o", "export", str(image))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under `root`: file → bytes, directory → None."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        found[rel] = None if path.is_dir() else path.read_bytes()
    return found


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    base = tmp_path / "src"
    (base / "answers" / "nested").mkdir(parents=True)
    (base / "answers" / "Autounattend.xml").write_text("<unattend/>\n")
    (base / "answers" / "nested" / "setup.cmd").write_text("echo setup\r\n")
    (base / "scripts" / "empty").mkdir(parents=True)
    (base / "scripts" / "sub").mkdir()
    (base / "scripts" / "install.sh").write_text("#!/bin/sh\necho hi\n")
    (base / "scripts" / "install.sh").chmod(0o755)
    (base / "scripts" / "sub" / "A Long Name, with spaces.txt").write_text("long\n")
    (base / "scripts" / "sub" / "ünïcode.cfg").write_text("u\n")
    (base / "a.ks").write_text("ks a\n")
    (base / "b.ks").write_text("ks b\n")
    (base / "seed").mkdir()
    (base / "seed" / "meta-data").write_text("instance-id: kiln\n")
    (base / "seed" / "user-data").write_text("#cloud-config\n")
    return base


# --- floppy -------------------------------------------------------------------------


def test_floppy_round_trip(sources: Path, tmp_path: Path) -> None:
    entries = collect_floppy_files(
        ["answers", "*.ks"],
        ["scripts"],
        {"a.ks": "replaced by content\n", "extra/deep/new.txt": "new\n"},
        base=sources,
    )
    image = tmp_path / "floppy.img"
    make_floppy(entries, image, label="cidata")
    assert image.stat().st_size == FLOPPY_BYTES == 1_474_560

    out = tmp_path / "out"
    out.mkdir()
    run("mcopy", "-s", "-n", "-m", "-i", str(image), "::*", str(out))
    assert tree(out) == {
        "Autounattend.xml": b"<unattend/>\n",  # floppy_files: flattened
        "setup.cmd": b"echo setup\r\n",
        "a.ks": b"replaced by content\n",  # floppy_content wins
        "b.ks": b"ks b\n",
        "extra": None,
        "extra/deep": None,
        "extra/deep/new.txt": b"new\n",
        "scripts": None,  # floppy_dirs: hierarchy under the directory's name
        "scripts/empty": None,
        "scripts/install.sh": b"#!/bin/sh\necho hi\n",
        "scripts/sub": None,
        "scripts/sub/A Long Name, with spaces.txt": b"long\n",
        "scripts/sub/ünïcode.cfg": b"u\n",
    }
    typed = subprocess.run(
        ["mtype", "-i", str(image), "::/setup.cmd"], capture_output=True, check=True
    )
    assert typed.stdout == b"echo setup\r\n"


def test_floppy_label_geometry_and_fsck(sources: Path, tmp_path: Path) -> None:
    image = tmp_path / "floppy.img"
    make_floppy(collect_floppy_files(["answers"], [], {}, base=sources), image, label="cidata")
    info = run("minfo", "-i", str(image), "::")
    assert 'disk label="CIDATA     "' in info
    assert re.search(r"sectors per track: 18\b", info)
    assert re.search(r"heads: 2\b", info)
    assert "media descriptor byte: 0xf0" in info
    assert re.search(r"small size: 2880 sectors", info)
    assert 'disk type="FAT12   "' in info
    ids = blkid(image)
    assert ids["TYPE"] == "vfat"
    assert ids["LABEL"] == "CIDATA"
    assert ids["VERSION"] == "FAT12"
    check = subprocess.run(
        ["fsck.fat", "-n", "-v", str(image)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Auto-copying" not in check.stdout


def test_floppy_default_label(tmp_path: Path) -> None:
    image = tmp_path / "floppy.img"
    make_floppy([("x.txt", b"x")], image)
    assert blkid(image)["LABEL"] == "PACKER"


def test_floppy_nearly_full_round_trips(tmp_path: Path) -> None:
    data = os.urandom(1_450_000)
    image = tmp_path / "floppy.img"
    make_floppy([("big.bin", data)], image)
    out = tmp_path / "big.bin"
    run("mcopy", "-n", "-i", str(image), "::/big.bin", str(out))
    assert out.read_bytes() == data


def test_floppy_too_big(tmp_path: Path) -> None:
    big = tmp_path / "big.wim"
    big.write_bytes(b"\1" * 1_500_000)
    image = tmp_path / "floppy.img"
    with pytest.raises(MediaError) as caught:
        make_floppy([("big.wim", big), ("unattend.xml", b"<x/>")], image)
    message = str(caught.value)
    assert "1,500,004 bytes" in message
    assert "1.44 MB" in message
    assert "1,457,664" in message
    assert "http_directory" in message
    assert "cd_files" in message
    assert not image.exists()


def test_floppy_root_directory_full(tmp_path: Path) -> None:
    entries = [(f"answer file number {i}.txt", b"x") for i in range(100)]
    with pytest.raises(MediaError, match="root directory"):
        make_floppy(entries, tmp_path / "floppy.img")
    assert not (tmp_path / "floppy.img").exists()


def test_floppy_bad_label_and_names(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="floppy_label 'much too long label'"):
        make_floppy([("x", b"")], tmp_path / "f.img", label="much too long label")
    with pytest.raises(MediaError, match=re.escape("floppy_label 'a.b'")):
        make_floppy([("x", b"")], tmp_path / "f.img", label="a.b")
    with pytest.raises(MediaError, match="cannot be a file name on a FAT floppy"):
        make_floppy([("what?.txt", b"")], tmp_path / "f.img")
    assert not (tmp_path / "f.img").exists()


def test_floppy_long_and_unicode_names(tmp_path: Path) -> None:
    longest = "n" * 123 + ".txt"  # 127 characters: the most pyfatfs writes
    names = ["中文 名字.txt", "lower.TXT", ".hidden", longest]
    image = tmp_path / "floppy.img"
    make_floppy([(name, name.encode()) for name in names], image)
    out = tmp_path / "out"
    out.mkdir()
    run("mcopy", "-s", "-n", "-i", str(image), "::*", str(out))
    assert tree(out) == {name: name.encode() for name in names}
    with pytest.raises(MediaError, match="longer than 127 characters"):
        make_floppy([("n" + longest, b"")], tmp_path / "f.img")


def test_floppy_collect_errors(sources: Path) -> None:
    with pytest.raises(MediaError) as caught:
        collect_floppy_files(["missing.xml"], [], {}, base=sources)
    assert str(caught.value) == (
        "Bad Floppy disk file 'missing.xml': stat missing.xml: no such file or directory"
    )
    with pytest.raises(
        MediaError, match="^" + re.escape("Bad Floppy disk directory 'nodir': stat nodir")
    ):
        collect_floppy_files([], ["nodir"], {}, base=sources)
    (sources / "other").mkdir()
    (sources / "other" / "AUTOUNATTEND.XML").write_text("clash")
    with pytest.raises(MediaError, match=re.escape("same name 'AUTOUNATTEND.XML'")):
        collect_floppy_files(["answers", "other"], [], {}, base=sources)
    with pytest.raises(MediaError, match=re.escape("floppy_content key '../escape'")):
        collect_floppy_files([], [], {"../escape": "x"}, base=sources)


def test_floppy_same_file_twice(sources: Path) -> None:
    entries = collect_floppy_files(["a.ks", "*.ks"], [], {}, base=sources)
    assert [path for path, _ in entries] == ["a.ks", "b.ks"]


def test_a_glob_that_matches_nothing_is_an_error(sources: Path) -> None:
    """Packer silently leaves such a floppy without its files (drivers/*.inf written
    as one comma-joined string, say); kiln refuses it (issue 10 §2.4)."""
    with pytest.raises(MediaError) as err:
        collect_floppy_files(["a.ks", "*.nomatch"], [], {}, base=sources)
    assert str(err.value) == "Bad Floppy disk file '*.nomatch': the pattern matches no file"
    with pytest.raises(MediaError) as err:
        collect_floppy_files([], ["nodir*"], {}, base=sources)
    assert str(err.value) == "Bad Floppy disk directory 'nodir*': the pattern matches no file"
    with pytest.raises(MediaError) as err:
        collect_cd_files(["a.ks", "*.nomatch"], {}, base=sources)
    assert str(err.value) == "Bad CD disk file '*.nomatch': the pattern matches no file"
    assert file_errors_floppy(["*.nomatch"], ["x*"], base=sources) == [
        "Bad Floppy disk file '*.nomatch': the pattern matches no file",
        "Bad Floppy disk directory 'x*': the pattern matches no file",
    ]
    assert file_errors_cd(["*.ks", "*.nomatch"], base=sources) == [
        "Bad CD disk file '*.nomatch': the pattern matches no file"
    ]


def test_floppy_validate_errors(sources: Path) -> None:
    assert file_errors_floppy(["a.ks", "*.ks"], ["scripts"], base=sources) == []
    assert file_errors_floppy(["nope", "x["], ["gone", "y["], base=sources) == [
        "Bad Floppy disk file 'nope': stat nope: no such file or directory",
        "Bad Floppy disk file 'x[': syntax error in pattern",
        "Bad Floppy disk directory 'gone': stat gone: no such file or directory",
        "Bad Floppy disk directory 'y[': syntax error in pattern",
    ]


# --- CD -----------------------------------------------------------------------------


def xorriso_find(image: Path, *read_fs: str) -> list[str]:
    argv = ["xorriso"]
    if read_fs:
        argv += ["-read_fs", *read_fs]
    out = run(*argv, "-indev", str(image), "-find", "/")
    return [line.strip("'") for line in out.splitlines() if line.startswith("'")]


def test_cd_round_trip(sources: Path, tmp_path: Path) -> None:
    entries = collect_cd_files(
        ["seed/", "scripts", "*.ks"],
        {"user-data": "#cloud-config\nhostname: kiln\n", "deep/er/file.txt": "d\n"},
        base=sources,
    )
    image = tmp_path / "cd.iso"
    make_cd(entries, image, label="cidata")

    ids = blkid(image)
    assert ids["TYPE"] == "iso9660"
    assert ids["LABEL"] == "cidata"

    out = tmp_path / "out"
    run("xorriso", "-osirrox", "on", "-indev", str(image), "-extract", "/", str(out))
    for path in out.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert tree(out) == {
        "meta-data": b"instance-id: kiln\n",  # "seed/": contents at the root
        "user-data": b"#cloud-config\nhostname: kiln\n",  # cd_content wins
        "a.ks": b"ks a\n",
        "b.ks": b"ks b\n",
        "deep": None,
        "deep/er": None,
        "deep/er/file.txt": b"d\n",
        "scripts": None,  # "scripts": the directory itself
        "scripts/empty": None,
        "scripts/install.sh": b"#!/bin/sh\necho hi\n",
        "scripts/sub": None,
        "scripts/sub/A Long Name, with spaces.txt": b"long\n",
        "scripts/sub/ünïcode.cfg": b"u\n",
    }


def test_cd_joliet_iso9660_names_and_modes(sources: Path, tmp_path: Path) -> None:
    long_name = "An installer answer file with a name longer than sixty-four characters.cfg"
    (sources / "scripts" / long_name).write_text("x\n")
    (sources / "scripts" / "Install.SH").write_text("clash in ISO 9660 only\n")
    image = tmp_path / "cd.iso"
    make_cd(collect_cd_files(["scripts"], {}, base=sources), image)

    rock_ridge = xorriso_find(image)
    assert f"/scripts/{long_name}" in rock_ridge
    assert "/scripts/Install.SH" in rock_ridge
    assert "/scripts/install.sh" in rock_ridge

    joliet = xorriso_find(image, "norock")
    joliet_long = [p for p in joliet if p.startswith("/scripts/An installer")]
    assert len(joliet_long) == 1
    assert len(joliet_long[0].rsplit("/", 1)[1]) == 64
    assert joliet_long[0].endswith(".cfg")
    assert "/scripts/sub/ünïcode.cfg" in joliet

    plain = xorriso_find(image, "ecma119")
    names = [p.rsplit("/", 1)[1] for p in plain if p != "/"]
    assert all(re.fullmatch(r"[A-Z0-9_]+(\.[A-Z0-9_]*)?", n) for n in names), names
    scripts = [p for p in plain if p.startswith("/SCRIPTS/INSTALL")]
    assert len(scripts) == 2  # the two names made unique

    listing = run("xorriso", "-indev", str(image), "-find", "/scripts", "-exec", "lsdl")
    assert re.search(r"^-r[w-]xr-xr-x .*'/scripts/install.sh'$", listing, re.M)


def test_cd_long_label_and_deep_tree(tmp_path: Path) -> None:
    label = "KILN_INSTALL_MEDIA_2024"  # > 16: Joliet's own id is cut, the PVD's is not
    deep = "/".join(f"level{i}" for i in range(12)) + "/leaf.txt"
    image = tmp_path / "cd.iso"
    make_cd([(deep, b"leaf\n")], image, label=label)
    assert blkid(image)["LABEL"] == label
    assert f"/{deep}" in xorriso_find(image)


def test_cd_errors(sources: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=re.escape(f"cd_label '{'x' * 33}'")):
        make_cd([("a", b"")], tmp_path / "cd.iso", label="x" * 33)
    with pytest.raises(MediaError, match="at most 255 bytes"):
        make_cd([("n" * 300, b"")], tmp_path / "cd.iso")
    assert not (tmp_path / "cd.iso").exists()
    with pytest.raises(MediaError) as caught:
        collect_cd_files(["gone.txt"], {}, base=sources)
    assert (
        str(caught.value) == "Bad CD disk file 'gone.txt': stat gone.txt: no such file or directory"
    )
    with pytest.raises(MediaError, match=re.escape("cd_content key '/../x'")):
        collect_cd_files([], {"/../x": "y"}, base=sources)
    with pytest.raises(MediaError, match="same path 'meta-data'"):
        (sources / "meta-data").write_text("other\n")
        collect_cd_files(["seed/", "meta-data"], {}, base=sources)


def test_cd_validate_errors(sources: Path) -> None:
    assert file_errors_cd(["seed", "*.ks"], base=sources) == []
    assert file_errors_cd(["nope", "[z"], base=sources) == [
        "Bad CD disk file 'nope': stat nope: no such file or directory",
        "Bad CD disk file '[z': syntax error in pattern",
    ]


def test_cd_dot_puts_contents_at_root(sources: Path, tmp_path: Path) -> None:
    entries = collect_cd_files(["seed/."], {}, base=sources)
    assert [path for path, _ in entries] == ["meta-data", "user-data"]
    assert collect_cd_files(["."], {}, base=sources / "seed") == entries
    image = tmp_path / "cd.iso"
    make_cd(entries, image)
    assert xorriso_find(image) == ["/", "/meta-data", "/user-data"]

"""apt: candidate versions (memoised by apt's state), downloads, `dpkg -x` unpacking."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from .host import BuildError, log, run, sha256_file


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str
    arch: str
    filename: str  # pool path, e.g. pool/main/b/busybox/busybox-static_1.35.0-4_amd64.deb
    sha256: str
    depends: tuple[str, ...]  # first alternative of Depends and Pre-Depends

    @property
    def deb_name(self) -> str:
        return Path(self.filename).name

    @property
    def ident(self) -> str:
        return f"{self.name}={self.version}"


def parse_depends(value: str) -> list[str]:
    names = []
    for clause in value.split(","):
        first = clause.split("|")[0].strip()
        if not first:
            continue
        name = first.split()[0].split(":")[0]
        names.append(name)
    return names


def parse_apt_records(text: str) -> dict[str, Package]:
    out: dict[str, Package] = {}
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        if "Package" not in fields or "Version" not in fields:
            continue
        deps = parse_depends(fields.get("Pre-Depends", "")) + parse_depends(
            fields.get("Depends", "")
        )
        pkg = Package(
            name=fields["Package"],
            version=fields["Version"],
            arch=fields.get("Architecture", ""),
            filename=fields.get("Filename", ""),
            sha256=fields.get("SHA256", ""),
            depends=tuple(deps),
        )
        out.setdefault(pkg.name, pkg)
    return out


def apt_show(names: Iterable[str]) -> dict[str, Package]:
    """Candidate records of `names` (`apt-cache show --no-all-versions`); unknown names skipped."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    proc = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *wanted],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit 100 with "No packages found" for purely virtual names; the records we got still count.
    return parse_apt_records(proc.stdout)


def is_library_package(name: str) -> bool:
    return name.startswith(("lib", "zlib")) and not name.startswith(("libc-bin", "libc-dev"))


def resolve_candidates(
    packages: Iterable[str], kernel_meta: str
) -> tuple[dict[str, Package], Package]:
    """Candidate records of `packages`, of the kernel that `kernel_meta` (e.g.
    linux-image-amd64) depends on, and of every library package reachable from them."""
    roots = {*packages, kernel_meta}
    records = apt_show(roots)
    if kernel_meta not in records:
        log("apt has no record of the packages; running apt-get update")
        apt_update()
        records = apt_show(roots)
    missing = sorted(roots - set(records))
    if missing:
        raise BuildError(
            f"apt-cache knows no candidate for {', '.join(missing)}; check /etc/apt/sources.list "
            "(Debian 12 'bookworm' main is expected) and run apt-get update"
        )
    meta = records.pop(kernel_meta)
    kernels = [d for d in meta.depends if d.startswith("linux-image-") and d != kernel_meta]
    if not kernels:
        raise BuildError(f"{kernel_meta} {meta.version} depends on no linux-image-* package")
    records.update(apt_show([kernels[0]]))
    if kernels[0] not in records:
        raise BuildError(f"apt-cache has no candidate for the kernel package {kernels[0]}")
    kernel = records[kernels[0]]
    # Library closure: every lib* package reachable through Depends/Pre-Depends of what we use.
    frontier = [d for p in records.values() if p is not kernel for d in p.depends]
    while frontier:
        new = {d for d in frontier if is_library_package(d) and d not in records}
        if not new:
            break
        found = apt_show(new)
        records.update(found)
        frontier = [d for p in found.values() for d in p.depends]
    return records, kernel


def apt_fingerprint(salt: str) -> str:
    """A hash of what apt's candidate choice depends on: indexes, sources, pins, dpkg status.

    With pkgcache disabled (common in containers) every `apt-cache` call re-reads all the
    indexes (~0.6 s); while this fingerprint is unchanged the previous resolution is reused.
    """
    h = hashlib.sha256(salt.encode())
    paths = [Path("/var/lib/dpkg/status"), Path("/etc/apt/sources.list")]
    for d in (Path("/var/lib/apt/lists"), Path("/etc/apt/sources.list.d"),
              Path("/etc/apt/preferences.d")):  # fmt: skip
        if d.is_dir():
            paths += sorted(d.iterdir())
    paths.append(Path("/etc/apt/preferences"))
    for p in paths:
        with contextlib.suppress(OSError):
            st = p.stat()
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def resolve_packages(
    cache: Path, packages: Sequence[str], kernel_meta: str, memo_name: str = "resolved.json"
) -> tuple[dict[str, Package], Package]:
    """`resolve_candidates`, memoised in `cache/memo_name` while apt's state is unchanged."""
    memo = cache / memo_name
    salt = json.dumps([sorted(packages), kernel_meta])
    fingerprint = apt_fingerprint(salt)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        saved = json.loads(memo.read_text())
        if saved["fingerprint"] == fingerprint:
            records = {
                r["name"]: Package(**{**r, "depends": tuple(r["depends"])})
                for r in saved["records"]
            }
            return records, records[saved["kernel"]]
    records, kernel = resolve_candidates(packages, kernel_meta)
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "fingerprint": apt_fingerprint(salt),
                "kernel": kernel.name,
                "records": [dataclasses.asdict(r) for r in records.values()],
            },
            indent=1,
        )
    )
    os.replace(tmp, memo)
    return records, kernel


def apt_update() -> None:
    if os.geteuid() != 0:
        raise BuildError(
            "the apt package index is missing or stale; run 'sudo apt-get update' and retry"
        )
    run(["apt-get", "update", "-q"])


def apt_download(pkgs: Sequence[Package], debdir: Path) -> None:
    """Download `pkgs` into `debdir` (apt verifies them; we check the SHA256 again)."""
    todo = [p for p in pkgs if not (debdir / p.deb_name).is_file()]
    if not todo:
        return
    debdir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {len(todo)} package(s): {' '.join(p.ident for p in todo)}")
    with tempfile.TemporaryDirectory(dir=debdir, prefix=".dl-") as tmp:
        argv = ["apt-get", "download", "-q"]
        if os.geteuid() == 0:
            # _apt cannot write into root's cache directory
            argv += ["-o", "APT::Sandbox::User=root"]
        argv += [p.ident for p in todo]
        try:
            run(argv, cwd=Path(tmp))
        except BuildError:
            log("apt-get download failed; running apt-get update and retrying once")
            apt_update()
            run(argv, cwd=Path(tmp))
        got = {f.name: f for f in Path(tmp).glob("*.deb")}
        for p in todo:
            # apt names the file <name>_<version with ':' as %3a>_<arch>.deb
            cands = [f for n, f in got.items() if n.startswith(p.name + "_")]
            if not cands:
                raise BuildError(f"apt-get download did not produce a .deb for {p.ident}")
            digest = sha256_file(cands[0])
            if p.sha256 and digest != p.sha256:
                raise BuildError(
                    f"{cands[0].name}: SHA256 {digest} does not match the index ({p.sha256})"
                )
            for old in debdir.glob(f"{p.name}_*.deb"):
                old.unlink()  # an older version of the same package
            os.replace(cands[0], debdir / p.deb_name)


def unpack(pkg: Package, debdir: Path, unpackdir: Path) -> Path:
    """`dpkg -x` the package once into `unpackdir/<name>_<version>`; prune older versions."""
    dest = unpackdir / f"{pkg.name}_{safe_version(pkg.version)}"
    stamp = dest / ".kiln-unpacked"
    if stamp.is_file():
        return dest
    for old in unpackdir.glob(f"{pkg.name}_*"):
        if old != dest and old.name.count("_") == 1:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(dest, ignore_errors=True)
    tmp = unpackdir / f".{dest.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    run(["dpkg", "-x", str(debdir / pkg.deb_name), str(tmp)])
    (tmp / ".kiln-unpacked").write_text(pkg.ident + "\n")
    os.replace(tmp, dest)
    return dest


def safe_version(version: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+~-]", "-", version)

#!/usr/bin/env python3
"""Public Packer JSON templates through `packer validate`, `kiln validate`, `kiln build -dry-run`.

The templates are not part of the project (most are under licenses we cannot vendor): collect
them first, one directory per repository, as ``<root>/<owner>__<repo>/tree/`` (the repository's
files at one commit) with its commit in ``<root>/<owner>__<repo>/COMMIT``. ``REPOS`` below says,
for each repository, where its README says to run Packer from and which -var/-var-file a user
needs. Every template is validated with ``-only=<its qemu builds>`` on both sides, as a Packer
user switching to kiln would run it (kiln builds with QEMU only).

Usage: bench/realworld.py [--root DIR] [--per-repo N] [--out FILE.md] [--json FILE.json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_KILN = HERE.parent / ".venv" / "bin" / "kiln"


@dataclass(frozen=True)
class RepoRule:
    """How a repository's README runs its templates."""

    cwd: str = "root"  # "root": the repository's top; "template": the template's directory
    args: tuple[str, ...] = ()
    per_template: dict[str, tuple[str, ...]] = field(default_factory=dict)  # basename -> extra args
    skip: tuple[str, ...] = ()  # regexes of paths that are not templates
    env: dict[str, str] = field(default_factory=dict)  # environment the README exports
    build_scripts: bool = False  # templates are run by <dir>/build.sh (its `-only=qemu` line)


PLACEHOLDERS = "{root}/_placeholders"  # {root} is replaced by --root
K8S_VAR_FILES = tuple(
    f"-var-file=packer/config/{name}.json"
    for name in (
        "kubernetes",
        "cni",
        "containerd",
        "wasm-shims",
        "ansible-args",
        "goss-args",
        "common",
        "additional_components",
        "ecr_credential_provider",
    )
)

REPOS: dict[str, RepoRule] = {
    "chef__bento": RepoRule(cwd="template"),
    "lavabit__robox": RepoRule(),
    "kaorimatz__packer-templates": RepoRule(),
    "upperstream__packer-templates": RepoRule(cwd="template"),
    "tylert__packer-build": RepoRule(),
    "mrlesmithjr__packer-templates": RepoRule(build_scripts=True),
    "osuosl__packer-templates": RepoRule(skip=(r"^chef/",)),
    "ruzickap__packer-templates": RepoRule(
        env={
            "NAME": "ubuntu-20.04-server-amd64",
            "UBUNTU_IMAGES_URL": "http://archive.ubuntu.com/ubuntu/dists/focal/main/"
            "installer-amd64/current/legacy-images",
            "UBUNTU_TYPE": "server",
            "CENTOS_VERSION": "7",
            "CENTOS_TAG": "2009",
            "CENTOS_TYPE": "NetInstall",
            "WINDOWS_VERSION": "2016",
            "WINDOWS_TYPE": "server",
            "WINDOWS_RELEASE": "eval",
            "WINDOWS_EDITION": "datacenter",
            "VIRTIO_WIN_ISO_DIR": "/tmp/virtio-win",
            "PACKER_IMAGES_OUTPUT_DIR": "/tmp/",
            "LOGDIR": "/tmp/",
        }
    ),
    "jakobadam__packer-qemu-templates": RepoRule(
        cwd="template",
        per_template={
            "ubuntu.json": ("-var-file=ubuntu1604.json",),
            "ubuntu-vagrant.json": ("-var-file=ubuntu1604.json",),
        },
    ),
    "canonical__packer-maas": RepoRule(
        cwd="template",
        per_template={
            # the README's "-var rhelN_iso_path=/PATH/TO/...": empty placeholder files
            "rhel7.json": ("-var", f"rhel7_iso_path={PLACEHOLDERS}/rhel-server-7.9-x86_64-dvd.iso"),
            "rhel8.json": ("-var", f"rhel8_iso_path={PLACEHOLDERS}/rhel-8.3-x86_64-dvd.iso"),
        },
    ),
    "rgl__windows-vagrant": RepoRule(),
    "rgl__ubuntu-vagrant": RepoRule(),
    "rgl__debian-vagrant": RepoRule(),
    "nix-community__nixbox": RepoRule(),
    "mcandre__packer-templates": RepoRule(cwd="template"),
    "StefanScherer__packer-windows": RepoRule(),
    "kubernetes-sigs__image-builder": RepoRule(
        skip=(r"^(?!images/capi/packer/qemu/packer\.json$)",),
        per_template={
            "packer.json": (*K8S_VAR_FILES, "-var-file=packer/qemu/qemu-ubuntu-2204.json"),
        },
    ),
}
# image-builder runs Packer from images/capi (its Makefile)
CWD_OVERRIDE = {"kubernetes-sigs__image-builder": "images/capi"}


@dataclass
class Outcome:
    ok: bool
    first_line: str
    output: str


@dataclass
class Row:
    repo: str
    template: str
    cwd: str
    args: list[str]
    only: list[str]
    packer: Outcome | None = None
    kiln: Outcome | None = None
    dry_run: Outcome | None = None
    dry_run_problems: list[str] = field(default_factory=list)


def _load(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def qemu_builds(path: Path) -> list[str] | None:
    """The names of the template's qemu builds, or None if it is not a template with one."""
    data = _load(path)
    if data is None:
        text = path.read_text(encoding="utf-8", errors="replace")
        # Not strict JSON (duplicate keys still parse): keep it if it plainly is a qemu template.
        if '"builders"' in text and re.search(r'"type"\s*:\s*"qemu"', text):
            return ["qemu"]
        return None
    builders = data.get("builders")
    if not isinstance(builders, list):
        return None
    names = [
        str(b.get("name", b.get("type")))
        for b in builders
        if isinstance(b, dict) and b.get("type") == "qemu"
    ]
    return names or None


def discover(root: Path, per_repo: int) -> list[Row]:
    rows: list[Row] = []
    for repo_dir in sorted(p for p in root.iterdir() if (p / "tree").is_dir()):
        rule = REPOS.get(repo_dir.name, RepoRule())
        tree = repo_dir / "tree"
        found: list[tuple[str, list[str]]] = []
        if rule.build_scripts:
            rows.extend(_from_build_scripts(repo_dir.name, tree, per_repo))
            continue
        for path in sorted(tree.rglob("*.json")):
            rel = path.relative_to(tree).as_posix()
            if any(re.search(rx, rel) for rx in rule.skip):
                continue
            names = qemu_builds(path)
            if names:
                found.append((rel, names))
        if per_repo and len(found) > per_repo:  # evenly spaced, deterministic
            step = len(found) / per_repo
            found = [found[int(i * step)] for i in range(per_repo)]
        for rel, names in found:
            if repo_dir.name in CWD_OVERRIDE:
                cwd = CWD_OVERRIDE[repo_dir.name]
            elif rule.cwd == "template":
                cwd = os.path.dirname(rel) or "."
            else:
                cwd = "."
            args = list(rule.args) + list(rule.per_template.get(os.path.basename(rel), ()))
            rows.append(Row(repo_dir.name, rel, cwd, args, names))
    return rows


def _from_build_scripts(repo: str, tree: Path, per_repo: int) -> list[Row]:
    """mrlesmithjr/packer-templates: each <os>/<version>/<kind>/build.sh runs the shared template
    with that directory's var-files; take its `packer build -only=qemu ...` command."""
    rows: list[Row] = []
    for script in sorted(tree.rglob("build.sh")):
        text = script.read_text(errors="replace").replace("\\\n", " ")
        m = re.search(r"packer build -only=qemu (.*?\.json)\s*$", text, re.M)
        if not m:
            continue
        words = m.group(1).split("#")[0].replace("$QEMU_ACCEL", "kvm").split()
        if not words or not words[-1].endswith(".json"):
            continue  # the command's end is commented out
        template, args = words[-1], words[:-1]
        cwd = script.parent.relative_to(tree).as_posix()
        rel = os.path.normpath(os.path.join(cwd, template))
        names = qemu_builds(tree / rel) if (tree / rel).is_file() else None
        if names:
            rows.append(Row(repo, rel, cwd, args, names))
    if per_repo and len(rows) > per_repo:
        step = len(rows) / per_repo
        rows = [rows[int(i * step)] for i in range(per_repo)]
    return rows


_USER = re.compile(r"\{\{\s*user\s+`([^`]*)`\s*\}\}")


def rendered_names(tree: Path, row: Row) -> list[str]:
    """The qemu build names with `{{user `x`}}` replaced as Packer would (defaults, var-files,
    -var), so that -only selects them on both sides."""
    data = _load(tree / row.template) or {}
    values = {k: str(v) for k, v in (data.get("variables") or {}).items() if isinstance(v, str)}
    args = list(row.args)
    for i, a in enumerate(args):
        if a.startswith("-var-file="):
            vf = _load(tree / row.cwd / a.split("=", 1)[1]) or {}
            values.update({k: "" if v is None else str(v) for k, v in vf.items()})
        elif a == "-var" and i + 1 < len(args) and "=" in args[i + 1]:
            k, v = args[i + 1].split("=", 1)
            values[k] = v
    return [_USER.sub(lambda m: values.get(m.group(1), ""), n) for n in row.only]


def _first_error_line(text: str) -> str:
    """The first error of a failed run: the first item after an `Error`/`Failed` header
    (warnings before it are skipped), else the first non-empty line."""
    lines = [line.strip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith(("Error", "Failed to parse")) or re.match(r"\d+ errors? occurred", line):
            if line.startswith("Failed to parse") and not line.endswith(":"):
                return line[:200]
            for following in lines[i + 1 :]:
                item = following.lstrip("* ").strip()
                if item and not re.match(r"(\d+ errors?(\(s\))? occurred:?|Error:?)$", item):
                    return item[:200]
    return next((line[:200] for line in lines if line), "")


def _run(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: int = 120,
    first_error: Callable[[str], str] = _first_error_line,
) -> Outcome:
    try:
        proc = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Outcome(False, f"timeout after {timeout} s", "")
    out = proc.stdout + proc.stderr
    ok = proc.returncode == 0
    return Outcome(ok, "" if ok else first_error(out), out)


SECRET_MARK = "<sensitive>"


def dry_run_problems(out: str) -> list[str]:
    problems = []
    if "Traceback" in out:
        problems.append("traceback")
    if SECRET_MARK in out:
        # Glued to a word it is a name or path cut up; alone, suspicious unless the line is
        # about a password or token.
        mark = re.escape(SECRET_MARK)
        glued = re.compile(rf"[\w.-]{mark}|{mark}[\w.-]")
        for line in out.splitlines():
            if SECRET_MARK in line and (
                glued.search(line) or not re.search(r"passw|token|secret|key", line, re.I)
            ):
                problems.append(f"redaction in: {line.strip()[:160]}")
                break
    if re.search(r"Warning: .*Deprecat.*DSA|CryptographyDeprecationWarning", out):
        problems.append("library warning on the terminal")
    if "{{" in out:
        for line in out.splitlines():
            if "{{" in line:
                problems.append(f"unrendered template: {line.strip()[:160]}")
                break
    return problems


def run_row(row: Row, root: Path, kiln: str, packer: str) -> Row:
    repo_tree = root / row.repo / "tree"
    cwd = repo_tree / row.cwd
    row.args = [a.replace("{root}", str(root)) for a in row.args]
    template = os.path.relpath(repo_tree / row.template, cwd)
    with tempfile.TemporaryDirectory(prefix="kiln-realworld-") as tmp:
        env = dict(os.environ)
        env.update(
            CHECKPOINT_DISABLE="1",
            PACKER_CACHE_DIR=str(Path(tmp) / "packer_cache"),
            KILN_CACHE_DIR=str(Path(tmp) / "kiln_cache"),
            TMPDIR=tmp,
        )
        env.pop("PACKER_LOG", None)
        env.update(REPOS.get(row.repo, RepoRule()).env)
        only = ["-only=" + ",".join(rendered_names(repo_tree, row))]
        row.packer = _run([packer, "validate", *only, *row.args, template], cwd, env)
        row.kiln = _run([kiln, "validate", *only, *row.args, template], cwd, env)
        # -dry-run against a scratch copy of the cwd would miss relative paths; the dry run
        # writes nothing, so run it in place.
        row.dry_run = _run([kiln, "build", "-dry-run", *only, *row.args, template], cwd, env)
        row.dry_run_problems = dry_run_problems(row.dry_run.output)
    return row


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def verdict(o: Outcome | None) -> str:
    return "?" if o is None else ("valid" if o.ok else "error")


def to_markdown(rows: list[Row]) -> str:
    n = len(rows)
    p = [r for r in rows if r.packer and r.packer.ok]
    k_of_p = [r for r in p if r.kiln and r.kiln.ok]
    kiln_only = [r for r in rows if r.kiln and r.kiln.ok and not (r.packer and r.packer.ok)]
    dry_ok = [r for r in rows if r.dry_run and r.dry_run.ok]
    repos = sorted({r.repo for r in rows})
    lines = [
        "# Public qemu templates: packer validate vs kiln validate vs kiln build -dry-run",
        "",
        f"{n} templates from {len(repos)} repositories; Packer 1.6.6 validates {len(p)}; "
        f"kiln validates {len(k_of_p)} of those {len(p)}; kiln-only accepts: {len(kiln_only)}; "
        f"`-dry-run` succeeds on {len(dry_ok)}; dry runs with output problems: "
        f"{sum(1 for r in rows if r.dry_run_problems)}.",
        "",
        "| repo | template | args | packer | kiln | dry-run | packer's first error "
        "| kiln's first error | dry-run problem |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    r.repo,
                    r.template,
                    " ".join(r.args),
                    verdict(r.packer),
                    verdict(r.kiln),
                    verdict(r.dry_run),
                    r.packer.first_line if r.packer else "",
                    r.kiln.first_line if r.kiln else "",
                    (r.dry_run.first_line if r.dry_run and not r.dry_run.ok else "")
                    + ("; ".join(r.dry_run_problems)),
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path("/work/scratch/realworld"))
    ap.add_argument("--per-repo", type=int, default=8, help="templates per repository (0: all)")
    ap.add_argument("--kiln", default=str(DEFAULT_KILN))
    ap.add_argument("--packer", default=shutil.which("packer") or "packer")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only-repo", default="", help="regex on the repository directory name")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    ap.add_argument("--json", type=Path, default=None, help="write full results (outputs) here")
    ns = ap.parse_args()
    rows = [r for r in discover(ns.root, ns.per_repo) if re.search(ns.only_repo, r.repo)]
    with concurrent.futures.ThreadPoolExecutor(ns.jobs) as pool:
        done = list(pool.map(lambda r: run_row(r, ns.root, ns.kiln, ns.packer), rows))
    table = to_markdown(done)
    if ns.out:
        ns.out.write_text(table)
    if ns.json:
        ns.json.write_text(json.dumps([asdict(r) for r in done], indent=1))
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Public HCL2 Packer templates with `source "qemu"` through `packer validate`, `kiln validate`,
`kiln build -dry-run`, plus a check that kiln's fast HCL parser reads every file of the corpus.

The templates are not part of the project: collect them first, one directory per repository,
as ``<root>/<owner>__<repo>/tree/`` (the repository's files at one commit, ``COMMIT`` next to
it), like ``bench/realworld.py``'s JSON corpus. ``RULES`` below says, per repository, what a
"template" is there (a file, or a folder Packer loads as a whole), which directory its README or
Makefile runs Packer from, which -var/-var-file it passes and which ``-only`` names it selects
(Packer's HCL build names: ``qemu.NAME``, or ``BUILD.qemu.NAME`` when the build block has a
name). When the README selects nothing and the target has other builders too, the script
selects the qemu builds itself, as a Packer user switching to kiln would.

Packer 1.6.6 cannot read many modern templates (``packer { required_plugins }`` is 1.7,
``data`` sources, newer functions): its first error is recorded per template.

Usage: bench/realworld_hcl.py [--root DIR] [--per-repo N] [--out FILE.md] [--json FILE.json]
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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from realworld import Outcome, _cell, _first_error_line, dry_run_problems, verdict  # noqa: E402
from realworld import _run as run_command  # noqa: E402

DEFAULT_KILN = HERE.parent / ".venv" / "bin" / "kiln"
DEFAULT_PYTHON = HERE.parent / ".venv" / "bin" / "python"


@dataclass
class Row:
    repo: str
    target: str  # a file or a folder, relative to the repository's top
    cwd: str  # relative to the repository's top
    args: list[str]
    only: list[str]
    env: dict[str, str] = field(default_factory=dict)
    packer: Outcome | None = None
    kiln: Outcome | None = None
    dry_run: Outcome | None = None
    dry_run_problems: list[str] = field(default_factory=list)
    outcome: str = ""
    # the same on a copy without `required_plugins` and `required_version` (Packer 1.7+)
    adapted_packer: Outcome | None = None
    adapted_kiln: Outcome | None = None
    adapted_dry_run: Outcome | None = None
    adapted_problems: list[str] = field(default_factory=list)
    adapted_outcome: str = ""
    # and on a copy that also lacks other builders' sources and only/except lists
    qemu_only_packer: Outcome | None = None
    qemu_only_kiln: Outcome | None = None
    qemu_only_dry_run: Outcome | None = None
    qemu_only_problems: list[str] = field(default_factory=list)
    qemu_only_outcome: str = ""


# --- finding qemu sources and their build names ----------------------------------------------

_QEMU_SOURCE = re.compile(r'^\s*source\s+"?qemu"?\s+"([^"]+)"', re.M)
_ANY_SOURCE = re.compile(r'^\s*source\s+"?([\w-]+)"?\s+"([^"]+)"\s*\{', re.M)


def _strip_comments(text: str) -> str:
    return re.sub(r"(?m)^\s*(#|//).*$", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))


def _blocks(text: str, keyword: str) -> Iterator[str]:
    """The bodies of the top-level `keyword {` blocks (brace matching outside strings)."""
    for m in re.finditer(rf"(?m)^{keyword}\s*\{{", text):
        depth, i, in_str = 1, m.end(), False
        while i < len(text) and depth:
            c = text[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            i += 1
        yield text[m.end() : i - 1]


def hcl_files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    return sorted(p for p in target.iterdir() if p.name.endswith(".pkr.hcl"))


def qemu_build_names(target: Path) -> tuple[list[str], bool]:
    """Packer's build names for the target's qemu sources, and whether it has other builders."""
    text = "\n".join(_strip_comments(p.read_text(errors="replace")) for p in hcl_files(target))
    qemu = set(_QEMU_SOURCE.findall(text))
    others = any(t != "qemu" for t, _ in _ANY_SOURCE.findall(text) if "." not in t)
    names: list[str] = []
    for body in _blocks(text, "build"):
        top = re.sub(r"\{[^{}]*\}", "", body)  # crude: drop nested blocks' bodies
        m = re.search(r'(?m)^\s*name\s*=\s*"([^"$]+)"', top)
        prefix = f"{m.group(1)}." if m else ""
        for src in re.findall(r'"?source\.qemu\.([\w-]+)"?|source\s+"qemu\.([\w-]+)"', body):
            name = src[0] or src[1]
            if name in qemu and f"{prefix}qemu.{name}" not in names:
                names.append(f"{prefix}qemu.{name}")
    return names, others


# --- what a template is, per repository -------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    target: str
    cwd: str
    args: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None  # None: computed (only if the target has other builders)
    env: tuple[tuple[str, str], ...] = ()  # what the Makefile exports (PKR_VAR_...)


Discover = Callable[[Path], list[Unit]]


def _each_file(
    pattern: str, cwd: str = "template", only: tuple[str, ...] | None = None
) -> Discover:
    """Every file matching `pattern` that has a qemu source, run from its directory (or root)."""

    def find(tree: Path) -> list[Unit]:
        units = []
        for p in sorted(tree.glob(pattern)):
            if not _QEMU_SOURCE.search(_strip_comments(p.read_text(errors="replace"))):
                continue
            rel = p.relative_to(tree).as_posix()
            d = os.path.dirname(rel) or "."
            if cwd == "template":
                units.append(Unit(os.path.basename(rel), d, (), only))
            else:
                units.append(Unit(rel, ".", (), only))
        return units

    return find


def _each_folder(pattern: str) -> Discover:
    """Every folder matching `pattern` with a qemu source: `packer build .` inside it."""

    def find(tree: Path) -> list[Unit]:
        units = []
        for d in sorted(p for p in tree.glob(pattern) if p.is_dir()):
            if any(
                _QEMU_SOURCE.search(_strip_comments(f.read_text(errors="replace")))
                for f in hcl_files(d)
            ):
                units.append(Unit(".", d.relative_to(tree).as_posix()))
        return units

    return find


def _bento(tree: Path) -> list[Unit]:
    # README: `packer build -only=qemu.vm -var-file=os_pkrvars/<os>/<t>.pkrvars.hcl`
    # `./packer_templates` from the top
    return [
        Unit(
            "packer_templates", ".", (f"-var-file={p.relative_to(tree).as_posix()}",), ("qemu.vm",)
        )
        for p in sorted(tree.glob("os_pkrvars/*/*x86_64.pkrvars.hcl"))
    ]


def _almalinux(tree: Path) -> list[Unit]:
    # README: `packer build -only=qemu.almalinux-9-gencloud-x86_64 .` from the top.
    names: list[str] = []
    for p in sorted(tree.glob("*.pkr.hcl")):
        names += [n for n in _QEMU_SOURCE.findall(_strip_comments(p.read_text())) if "x86_64" in n]
    return [Unit(".", ".", (), (f"qemu.{n}",)) for n in names]


def _upperstream(tree: Path) -> list[Unit]:
    # README: `packer build -only=qemu.default -var-file=vars-...-x86_64.pkrvars.hcl T.pkr.hcl`
    units = []
    for p in sorted(tree.glob("*/*/*.pkr.hcl")):
        if not _QEMU_SOURCE.search(p.read_text(errors="replace")):
            continue
        var_files = sorted(p.parent.glob("*.pkrvars.hcl"))
        amd64 = [v for v in var_files if re.search(r"x86_64|amd64", v.name)]
        var_files = amd64 or var_files
        args = (f"-var-file={var_files[0].name}",) if var_files else ()
        units.append(Unit(p.name, p.parent.relative_to(tree).as_posix(), args, ("qemu.default",)))
    return units


def _rgl(file: str, names: tuple[str, ...], version: str = "") -> Discover:
    # Makefile: `PKR_VAR_version=$(VERSION) PKR_VAR_vagrant_box=$@ packer build
    # -only=qemu.NAME -on-error=abort -timestamp-ui FILE`
    def env(name: str) -> tuple[tuple[str, str], ...]:
        box = (("PKR_VAR_vagrant_box", f"{name}-libvirt.box"),)
        return ((("PKR_VAR_version", version),) if version else ()) + box

    return lambda tree: [Unit(file, ".", (), (f"qemu.{n}",), env(n)) for n in names]


def _rgl_windows(tree: Path) -> list[Unit]:
    units = []
    for p in sorted(tree.glob("windows-*-uefi.pkr.hcl")):
        name = p.name.removesuffix(".pkr.hcl") + "-amd64"
        units.append(
            Unit(p.name, ".", (), (f"qemu.{name}",), (("PKR_VAR_vagrant_box", f"{name}.box"),))
        )
    return units


RULES: dict[str, Discover] = {
    "chef__bento": _bento,
    "canonical__packer-maas": _each_folder("*"),
    "hashicorp__packer-plugin-qemu": lambda tree: [
        Unit("build.pkr.hcl", "example"),  # source.pkr.hcl repeats its source block
        Unit(".", "example/efi_build"),
    ],
    # its README: `packer build .` in examples/hcl/linux (every builder): select the qemu ones
    "hashicorp__packer": lambda tree: [Unit(".", "examples/hcl/linux")],
    "nix-community__nixbox": lambda tree: [
        # Makefile: -var arch= -var builder= -var version= -var iso_checksum=$(curl ...)
        Unit(
            "nixos.pkr.hcl",
            ".",
            (
                *("-var", "arch=x86_64", "-var", "builder=qemu.qemu", "-var", "version=23.11"),
                *("-var", "iso_checksum=" + "0" * 64, "-except=vagrant-cloud"),
            ),
            ("qemu.qemu",),
        )
    ],
    # bin/build: `packer build -force T.pkr.hcl` from the top
    "osuosl__packer-templates": _each_file("*.pkr.hcl", cwd="root"),
    "rgl__debian-vagrant": _rgl("debian.pkr.hcl", ("debian-amd64", "debian-uefi-amd64"), "13"),
    "rgl__ubuntu-vagrant": _rgl("ubuntu.pkr.hcl", ("ubuntu-amd64", "ubuntu-uefi-amd64"), "26.04"),
    "rgl__proxmox-ve": _rgl("proxmox-ve.pkr.hcl", ("proxmox-ve-amd64", "proxmox-ve-uefi-amd64")),
    "rgl__windows-vagrant": _rgl_windows,
    "tylert__packer-build": _each_file("source/*/*/*.pkr.hcl", only=("qemu.qemu",)),
    "upperstream__packer-templates": _upperstream,
    "AlmaLinux__cloud-images": _almalinux,
    # README: `packer build -var-file X.pkrvars.hcl -only 'qemu.base*' -except '*cs*' .`
    "cosandr__packer": lambda tree: [
        Unit(".", ".", ("-var-file", v, "-except", "*cs*"), ("qemu.base*",))
        for v in ("arch.pkrvars.hcl", "el9.pkrvars.hcl", "mac.pkrvars.hcl")
    ],
    # README: `packer build --only qemu.linux --var-file=debian.pkrvars.hcl .`
    "ckstevenson__packer-templates-qemu": lambda tree: [
        Unit(".", ".", ("--var-file=debian.pkrvars.hcl",), ("qemu.linux",)),
        Unit(".", ".", ("--var-file=centos.pkrvars.hcl",), ("qemu.linux",)),
        Unit(".", ".", ("--var-file=arch.pkrvars.hcl",), ("qemu.arch",)),
    ],
    # the folder (plugins, build-qemu and build-proxmox files, debian.auto.pkrvars.hcl)
    "maartenbeeckmans__packer-debian": lambda tree: [Unit(".", ".")],
    "jomrr__packer-ubuntu": lambda tree: [Unit(".", ".")],
}


def discover(root: Path, per_repo: int) -> list[Row]:
    rows: list[Row] = []
    for repo_dir in sorted(p for p in root.iterdir() if (p / "tree").is_dir()):
        find = RULES.get(repo_dir.name)
        if find is None:
            continue
        tree = repo_dir / "tree"
        units = find(tree)
        if per_repo and len(units) > per_repo:  # evenly spaced, deterministic
            step = len(units) / per_repo
            units = [units[int(i * step)] for i in range(per_repo)]
        for u in units:
            target = os.path.normpath(os.path.join(u.cwd, u.target))
            if u.only is not None:
                rows.append(
                    Row(repo_dir.name, target, u.cwd, list(u.args), list(u.only), dict(u.env))
                )
                continue
            names, others = qemu_build_names(tree / target)
            if not others or not names:  # every build is a qemu one: run it as the README does
                rows.append(Row(repo_dir.name, target, u.cwd, list(u.args), [], dict(u.env)))
            else:  # one qemu build at a time, as a README's `-only=...` per image does
                rows.extend(
                    Row(repo_dir.name, target, u.cwd, list(u.args), [n], dict(u.env)) for n in names
                )
    return rows


# --- running and classifying ------------------------------------------------------------------

_SUMMARY = re.compile(r"^(?:Error|error): (.+)$")
_WHERE = re.compile(r"^\s*on (\S+?)(?: line (\d+)|:(\d+):\d+)")


def first_error(text: str) -> str:
    """An HCL diagnostic's summary and where it points (`Error: X` then `on FILE line N`), else
    the first error line as bench/realworld.py finds it."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _SUMMARY.match(line.strip())
        if not m:
            continue
        where = ""
        for following in lines[i + 1 : i + 4]:
            w = _WHERE.match(following)
            if w:
                where = f" ({w.group(1).rstrip(':,')}:{w.group(2) or w.group(3)})"
                break
        return (m.group(1).strip() + where)[:200]
    return _first_error_line(text)


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    return run_command(argv, cwd, env, timeout=180, first_error=first_error)


_UNRENDERED = re.compile(r"\$\{[^}]*\}")


def unrendered_hcl(out: str) -> list[str]:
    """Lines of a dry run that still show an HCL `${...}` interpolation."""
    for line in out.splitlines():
        if _UNRENDERED.search(line) and "$${" not in line:
            return [f"unrendered HCL: {line.strip()[:160]}"]
    return []


def classify(packer: Outcome | None, kiln: Outcome | None, dry: Outcome | None) -> str:
    p = packer is not None and packer.ok
    k = kiln is not None and kiln.ok
    d = dry is not None and dry.ok
    if any(o is not None and "Traceback" in o.output for o in (kiln, dry)):
        return "kiln traceback"
    if p and k:
        return "both valid" + ("" if d else ", dry-run fails")
    if p and not k:
        return "kiln rejects, Packer accepts"
    if k and not p:
        return "kiln accepts, Packer rejects" + ("" if d else ", dry-run fails")
    return "both reject"


_REQUIRED_PLUGINS = re.compile(r"(?m)^[ \t]*required_plugins\s*\{")
_REQUIRED_VERSION = re.compile(r"(?m)^[ \t]*required_version\s*=.*$")


def adapt_for_packer_166(text: str) -> str:
    """The text without `required_plugins { ... }` blocks (Packer 1.7+) and `required_version`
    lines (nearly all say >= 1.7), lines kept so that line numbers still match."""
    while m := _REQUIRED_PLUGINS.search(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        text = text[: m.start()] + "\n" * text[m.start() : i].count("\n") + text[i:]
    return _REQUIRED_VERSION.sub("", text)


_OTHER_SOURCE = re.compile(r'(?m)^source\s+"?(?!qemu")([\w-]+)"?\s+"[^"]*"\s*\{')
_OTHER_USE = re.compile(r'(?m)^[ \t]*source\s+"source\.(?!qemu\.)[\w-]+\.[\w-]+"\s*\{')
_OTHER_REF = re.compile(r'"source\.(?!qemu\.)[\w-]+\.[\w-]+"\s*,?(?!\s*\{)')
_BUILD = re.compile(r"(?m)^build\s*\{")
_QEMU_USE = re.compile(r'source\.qemu\.|"qemu\.[\w-]+"')
_ONLY_EXCEPT = re.compile(r"(?m)^[ \t]*(only|except)\s*=\s*\[")


def _blank(text: str, start: int, open_at: int, pair: str) -> str:
    """Blank text[start:end] where end closes the bracket at open_at (newlines kept)."""
    depth, i = 1, open_at + 1
    while i < len(text) and depth:
        depth += {pair[0]: 1, pair[1]: -1}.get(text[i], 0)
        i += 1
    return text[:start] + "\n" * text[start:i].count("\n") + text[i:]


def adapt_qemu_only(text: str) -> str:
    """adapt_for_packer_166, and also without other builders' `source` blocks, their
    references in `sources`, and the `only`/`except` lists of provisioners and
    post-processors (which name them): what is left is what kiln is meant to build."""
    text = adapt_for_packer_166(text)
    for pattern in (_OTHER_SOURCE, _OTHER_USE):
        while m := pattern.search(text):
            text = _blank(text, m.start(), m.end() - 1, "{}")
    text = _OTHER_REF.sub("", text)
    pos = 0
    while m := _BUILD.search(text, pos):  # a build left without a qemu source goes too
        body_end = m.end() + len(next(_blocks(text[m.start() :], "build"), ""))
        if _QEMU_USE.search(text, m.end(), body_end):
            pos = body_end
        else:
            text = _blank(text, m.start(), m.end() - 1, "{}")
            pos = m.start()
    while m := _ONLY_EXCEPT.search(text):
        text = _blank(text, m.start(), m.end() - 1, "[]")
    return text


def _adapted_copy(
    tree: Path, dest: Path, adapt: Callable[[str], str] = adapt_for_packer_166
) -> bool:
    """Copy the repository to `dest` with every .pkr.hcl adapted; False when nothing changed."""
    shutil.copytree(tree, dest, symlinks=True)
    changed = False
    for p in dest.rglob("*.pkr.hcl"):
        if p.is_symlink() or not p.is_file():
            continue
        text = p.read_text(errors="replace")
        adapted = adapt(text)
        if adapted != text:
            p.write_text(adapted)
            changed = True
    return changed


_OWN_ADVICE = "No ssh_password or ssh_private_key_file is set"


def _three_runs(
    row: Row, cwd: Path, target: str, env: dict[str, str], kiln: str, packer: str
) -> tuple[Outcome, Outcome, Outcome, list[str]]:
    only = ["-only=" + ",".join(row.only)] if row.only else []
    p = _run([packer, "validate", *only, *row.args, target], cwd, env)
    k = _run([kiln, "validate", *only, *row.args, target], cwd, env)
    # the dry run writes nothing: run it in place (a scratch copy would miss relative paths)
    d = _run([kiln, "build", "-dry-run", *only, *row.args, target], cwd, env)
    problems = [
        p
        for p in dry_run_problems(d.output) + (unrendered_hcl(d.output) if d.ok else [])
        if _OWN_ADVICE not in p  # kiln's warning quotes `{{ .SSHPublicKey }}` on purpose
    ]
    return p, k, d, problems


def run_row(row: Row, root: Path, kiln: str, packer: str) -> Row:
    tree = root / row.repo / "tree"
    target = os.path.relpath(tree / row.target, tree / row.cwd)
    with tempfile.TemporaryDirectory(prefix="kiln-realworld-hcl-") as tmp:
        env = dict(os.environ)
        env.update(
            CHECKPOINT_DISABLE="1",
            PACKER_CACHE_DIR=str(Path(tmp) / "packer_cache"),
            KILN_CACHE_DIR=str(Path(tmp) / "kiln_cache"),
            TMPDIR=tmp,
        )
        env.pop("PACKER_LOG", None)
        env.update(row.env)
        row.packer, row.kiln, row.dry_run, row.dry_run_problems = _three_runs(
            row, tree / row.cwd, target, env, kiln, packer
        )
        row.outcome = classify(row.packer, row.kiln, row.dry_run)
        copy = Path(tmp) / "adapted"
        if _adapted_copy(tree, copy):
            a = _three_runs(row, copy / row.cwd, target, env, kiln, packer)
            row.adapted_packer, row.adapted_kiln, row.adapted_dry_run = a[:3]
            row.adapted_problems = [p.replace(str(copy), "<adapted>") for p in a[3]]
            row.adapted_outcome = classify(*a[:3])
        copy = Path(tmp) / "qemu-only"
        if _adapted_copy(tree, copy, adapt_qemu_only):
            q = _three_runs(row, copy / row.cwd, target, env, kiln, packer)
            row.qemu_only_packer, row.qemu_only_kiln, row.qemu_only_dry_run = q[:3]
            row.qemu_only_problems = [p.replace(str(copy), "<qemu-only>") for p in q[3]]
            row.qemu_only_outcome = classify(*q[:3])
    return row


FASTPARSE_PROBE = """
import json, sys
from kiln.template.hcl2 import fastparse
out = {}
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8", errors="replace").read()
    if not text.endswith("\\n"):
        text += "\\n"
    try:
        fastparse.parse(text, "config")
        out[path] = ""
    except fastparse.GiveUp as e:
        out[path] = "GiveUp: " + str(e)[:200]
    except Exception as e:  # a crash is a finding too
        out[path] = type(e).__name__ + ": " + str(e)[:200]
print(json.dumps(out))
"""


def fastparse_check(root: Path, python: str) -> dict[str, str]:
    """Every .pkr.hcl/.pkrvars.hcl of the corpus through kiln's fast parser: path -> "" or why
    it gave up."""
    files = sorted(
        str(p)
        for repo in RULES
        for p in (root / repo / "tree").rglob("*.hcl")
        if p.name.endswith((".pkr.hcl", ".pkrvars.hcl")) and p.is_file()
    )
    proc = subprocess.run(
        [python, "-c", FASTPARSE_PROBE, *files], capture_output=True, text=True, check=True
    )
    result: dict[str, str] = json.loads(proc.stdout)
    return {os.path.relpath(k, root): v for k, v in result.items()}


def _errors(o: Outcome | None) -> str:
    return "" if o is None or o.ok else o.first_line


def _count(outcomes: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o] = counts.get(o, 0) + 1
    return [f"| {k} | {v} |" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]


PASSES = (
    ("published", "as published (what a user runs)"),
    (
        "adapted",
        "adapted: on a copy without `required_plugins` blocks and `required_version` "
        "(Packer 1.7+), so that Packer 1.6.6 reads further",
    ),
    (
        "qemu_only",
        "qemu-only: adapted, and also without other builders' `source` blocks, their "
        "references in `sources` and the `only`/`except` lists that name them",
    ),
)


def _pass(
    r: Row, name: str
) -> tuple[Outcome | None, Outcome | None, Outcome | None, list[str], str]:
    if name == "published":
        return r.packer, r.kiln, r.dry_run, r.dry_run_problems, r.outcome
    if name == "adapted":
        return (
            r.adapted_packer, r.adapted_kiln, r.adapted_dry_run, r.adapted_problems,
            r.adapted_outcome,
        )  # fmt: skip
    return (
        r.qemu_only_packer, r.qemu_only_kiln, r.qemu_only_dry_run, r.qemu_only_problems,
        r.qemu_only_outcome,
    )  # fmt: skip


def to_markdown(rows: list[Row], fast: dict[str, str]) -> str:
    repos = sorted({r.repo for r in rows})
    gave_up = {k: v for k, v in fast.items() if v}
    lines = [
        "# Public HCL2 qemu templates: packer validate vs kiln validate vs kiln build -dry-run",
        "",
        f"{len(rows)} templates (a file or a folder, with the README's var files and `-only`) "
        f"from {len(repos)} repositories. Packer is 1.6.6. Fast parser: gave up on "
        f"{len(gave_up)} of {len(fast)} .pkr.hcl/.pkrvars.hcl files of the corpus.",
        "",
    ]
    for name, title in PASSES:
        run = [r for r in rows if _pass(r, name)[4]]
        lines += [
            f"**{title}**: {len(run)} templates"
            + ("" if name == "published" else " (those the change applies to)"),
            "",
            "| outcome | templates |",
            "|---|---|",
            *_count([_pass(r, name)[4] for r in run]),
            "",
        ]
    lines += [
        "Dry runs with output problems (tracebacks, unrendered `{{ }}`/`${}`, library "
        "warnings): "
        + ", ".join(f"{sum(1 for r in rows if _pass(r, n)[3])} {n}" for n, _ in PASSES),
        "",
        "## Per template",
        "",
        "Each cell: published / adapted / qemu-only (`-`: the pass did not change the files).",
        "",
        "| repo | template | args | only | packer | kiln | dry-run | outcome "
        "| packer's first error | kiln's first error | dry-run problem |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(
        r: Row,
        pick: Callable[
            [tuple[Outcome | None, Outcome | None, Outcome | None, list[str], str]], str
        ],
    ) -> str:
        parts = []
        for name, _ in PASSES:
            p = _pass(r, name)
            parts.append(pick(p) if p[4] else "-")
        return " / ".join(parts)

    for r in rows:
        cells = (
            r.repo,
            r.target,
            " ".join(r.args) + "".join(f" {k}={v}" for k, v in r.env.items()),
            ",".join(r.only),
            cell(r, lambda p: verdict(p[0])),
            cell(r, lambda p: verdict(p[1])),
            cell(r, lambda p: verdict(p[2])),
            cell(r, lambda p: p[4]),
            cell(r, lambda p: _errors(p[0])),
            cell(r, lambda p: _errors(p[1])),
            cell(r, lambda p: _errors(p[2]) + "; ".join(p[3])),
        )
        lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    if gave_up:
        lines += ["", "## Files the fast parser gave up on", "", "| file | reason |", "|---|---|"]
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in sorted(gave_up.items())]
    return "\n".join(lines) + "\n"


def _trimmed(data: object, limit: int) -> object:
    """`data` with every tool output cut to its first `limit` characters, or left out when
    `limit` is 0 (AlmaLinux's folder alone prints ~900 lines per run)."""
    if isinstance(data, dict):
        return {
            k: (v[:limit] + ("\n[...]" if len(v) > limit else ""))
            if k == "output" and isinstance(v, str)
            else _trimmed(v, limit)
            for k, v in data.items()
            if not (k == "output" and limit == 0)
        }
    if isinstance(data, list):
        return [_trimmed(v, limit) for v in data]
    return data


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path("/work/scratch/realworld-hcl"))
    ap.add_argument("--per-repo", type=int, default=0, help="templates per repository (0: all)")
    ap.add_argument("--kiln", default=str(DEFAULT_KILN))
    ap.add_argument("--python", default=str(DEFAULT_PYTHON), help="the venv kiln is installed in")
    ap.add_argument("--packer", default=shutil.which("packer") or "packer")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only-repo", default="", help="regex on the repository directory name")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    ap.add_argument("--json", type=Path, default=None, help="write full results (outputs) here")
    ap.add_argument(
        "--output-chars", type=int, default=0, help="keep this much of each output (0: none)"
    )
    ns = ap.parse_args()
    rows = [r for r in discover(ns.root, ns.per_repo) if re.search(ns.only_repo, r.repo)]
    with concurrent.futures.ThreadPoolExecutor(ns.jobs) as pool:
        done = list(pool.map(lambda r: run_row(r, ns.root, ns.kiln, ns.packer), rows))
    fast = fastparse_check(ns.root, ns.python)
    table = to_markdown(done, fast)
    if ns.out:
        ns.out.write_text(table)
    if ns.json:
        payload = {"rows": [_trimmed(asdict(r), ns.output_chars) for r in done], "fastparse": fast}
        ns.json.write_text(json.dumps(payload, indent=1))
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

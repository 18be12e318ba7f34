"""Load an HCL2 template (a `.pkr.hcl` file, a `.pkr.json` file or a folder of them) into
the template model the JSON loader produces (`kiln.template.model.TemplateFile`), so that
an HCL `source "qemu"` block goes through the same option tables, defaults and checks as a
JSON builder.

Variables and locals are evaluated here; Packer's build-time values (`{{ .HTTPIP }}` in
`boot_command`, `{{ .Vars }}` in `execute_command`) stay in the strings for the step that
renders them, as in JSON. `build.Host`, `build.Password`, … in provisioners become
`{{ build `Host` }}`, rendered with the real values when the provisioner runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from kiln import PACKER_COMPAT_VERSION
from kiln.errors import KilnError
from kiln.template.hcl2 import ast
from kiln.template.hcl2.config import BuildBlock, PackerConfig, SourceRef, decode, parse_ref
from kiln.template.hcl2.diagnostics import (
    Diagnostic,
    HCLError,
    Sources,
    def_range,
    format_diagnostic,
)
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.locals import evaluate_locals
from kiln.template.hcl2.model import Hcl2Info, Scope
from kiln.template.hcl2.parsecache import parse_config_cached
from kiln.template.hcl2.refs import references
from kiln.template.hcl2.values import Value, object_val, string_val, to_python
from kiln.template.hcl2.variables import ValueInputs, Variable, assign, declare, secret_strings
from kiln.template.hcl2.variables import validate as validate_variables
from kiln.template.model import BuilderDef, PostProcessorDef, ProvisionerDef, TemplateFile
from kiln.template.selection import is_selected

SUPPORTED_SOURCES = ("qemu",)
BUILD_VALUES = ("ID", "Host", "Port", "User", "Password", "SSHPublicKey", "SSHPrivateKey",
                "PackerRunUUID", "PackerHTTPAddr", "PackerHTTPIP", "PackerHTTPPort",
                "ConnType", "WinRMPassword")  # fmt: skip
PROVISIONER_COMMON = (
    "only",
    "except",
    "override",
    "pause_before",
    "max_retries",
    "timeout",
    "name",
)  # name: Packer 1.6.6 decodes it (PName; inspect shows it)
POST_PROCESSOR_COMMON = ("only", "except", "keep_input_artifact", "name")


def template_files(path: Path) -> tuple[list[Path], list[Path]]:
    """The template files and the auto-loaded variable files of `path` (file or folder)."""
    if path.is_dir():
        names = sorted(os.listdir(path))
        files = [path / n for n in names if n.endswith((".pkr.hcl", ".pkr.json"))]
        auto = [path / n for n in names if n.endswith((".auto.pkrvars.hcl", ".auto.pkrvars.json"))]
        return files, auto
    return [path], []


class OpenedTemplate(NamedTuple):
    """A template read as far as Packer's `Parse` and `Initialize` take it: the blocks
    decoded and the variables set, before any build is evaluated."""

    cfg: PackerConfig
    variables: dict[str, Variable]
    loader: Loader
    sources: Sources
    diags: list[Diagnostic]  # every problem so far, in order (the loader adds its own)
    config_errors: list[Diagnostic]  # those of decoding the blocks (Packer's Parse)


def open_template(
    path: str | Path,
    *,
    var_files: Sequence[Path] = (),
    cli_vars: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
) -> OpenedTemplate:
    """Parse the files, decode the blocks, declare and set the variables. Raises
    `HCLError` for files that do not parse (or `KilnError` for a path that holds none);
    every later problem is in `diags`. Shared by `load_hcl2` and `kiln inspect`."""
    root = Path(path)
    env = dict(os.environ if env is None else env)
    cwd = cwd or Path.cwd()
    if not root.exists():
        raise KilnError(f"Failed to parse template: open {root}: no such file or directory")
    files, auto = template_files(root)
    if not files:
        raise KilnError(f"Failed to parse template: {root} holds no *.pkr.hcl or *.pkr.json file")
    # path.root is the folder as the user named it (Packer's Basedir: the argument, or
    # filepath.Dir of a file, so "." for "t.pkr.hcl"); file functions resolve against it.
    root_dir = root if root.is_dir() else root.parent
    base_dir = root_dir.resolve()
    sources = Sources()
    diags: list[Diagnostic] = []
    bodies = [b for f in files if (b := _parse_file(f, sources, diags)) is not None]
    if diags:
        raise HCLError(diags, sources)
    cfg = decode(bodies, diags)
    config_errors = [d for d in diags if not d.warning]
    loader = Loader(cfg, base_dir, cwd, env, sources, diags, path_root=root_dir.as_posix(),
                    only=only, except_=except_)  # fmt: skip
    variables = declare(cfg.variables, cfg.variable_attrs, base_dir, env, diags)
    assign(variables, ValueInputs(auto, var_files, dict(cli_vars or {})), env, sources, diags)
    validate_variables(variables, base_dir, diags)
    return OpenedTemplate(cfg, variables, loader, sources, diags, config_errors)


def load_hcl2(
    path: str | Path,
    *,
    var_files: Sequence[Path] = (),
    cli_vars: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    only: Sequence[str] = (),
    except_: Sequence[str] = (),
) -> TemplateFile:
    """Read, evaluate and check an HCL2 template; raise `HCLError` with every problem.

    `only`/`except_` are the command's build-name globs: as in Packer, a source block whose
    builds are all left out is not evaluated (its errors do not stop the others)."""
    opened = open_template(path, var_files=var_files, cli_vars=cli_vars, env=env, cwd=cwd,
                           only=only, except_=except_)  # fmt: skip
    variables, diags, sources = opened.variables, opened.diags, opened.sources
    tpl = opened.loader.build(variables)
    unset = {n for n, v in variables.items() if v.value is None}
    diags[:] = [d for d in diags if not _refers_to_unset(d, unset)]
    if [d for d in diags if not d.warning]:
        raise HCLError(diags, sources)
    if tpl.hcl2 is not None:
        tpl.hcl2.warnings = [
            format_diagnostic(d, sources).removeprefix("Warning: ") for d in diags if d.warning
        ]
    return tpl


def _refers_to_unset(diag: Diagnostic, unset: set[str]) -> bool:
    """A reference to a variable that is already reported unset (or whose declaration
    failed): Packer gives such a variable an unknown value, which every expression using
    it accepts silently; kiln has no unknown values, so it drops the echo instead."""
    m = re.match(r'There is no input variable named "([^"]*)"\.', diag.detail)
    return diag.summary == "Unsupported attribute" and m is not None and m.group(1) in unset


def _parse_file(f: Path, sources: Sources, diags: list[Diagnostic]) -> ast.Body | None:
    try:
        text = f.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        diags.append(Diagnostic("Failed to read file", f"{f}: {err}", None))
        return None
    name = str(f)
    try:
        if name.endswith(".json"):
            from kiln.template.hcl2.jsonsyntax import parse_json_config

            return parse_json_config(text, name, sources)
        return parse_config_cached(text, name, sources)
    except HCLError as err:
        diags.extend(err.diagnostics)
        return None


class Loader:
    def __init__(
        self,
        cfg: PackerConfig,
        base_dir: Path,
        cwd: Path,
        env: Mapping[str, str],
        sources: Sources,
        diags: list[Diagnostic],
        *,
        path_root: str,
        only: Sequence[str] = (),
        except_: Sequence[str] = (),
    ) -> None:
        self.cfg = cfg
        self.base_dir = base_dir
        self.path_root = path_root
        self.cwd = cwd
        self.env = env
        self.sources = sources
        self.diags = diags
        self.functions = standard_functions(base_dir)
        self.roots: dict[str, Value] = {}
        self.source_values: dict[str, Value] = {}  # build name → its `source` object
        self.only = list(only)  # -only / -except globs over build names
        self.except_ = list(except_)

    def ctx(self, extra: Mapping[str, Value] | None = None) -> EvalContext:
        return EvalContext({**self.roots, **(extra or {})}, self.functions)

    def eval(self, expr: ast.Expr, ctx: EvalContext) -> Value | None:
        try:
            return evaluate(expr, ctx)
        except EvalError as err:
            self.diags.extend(err.diagnostics)
            return None

    def evaluate_locals(
        self, variables: Mapping[str, Variable]
    ) -> tuple[dict[str, Value], set[str], set[str]]:
        """Set the scope (`var`, `path`, `packer`) and evaluate the locals: their values,
        the sensitive ones, and those not evaluated because they use a variable that has no
        value (what `kiln inspect` shows as `<unknown>`, as Packer does)."""
        var_values = {n: v.value for n, v in variables.items() if v.value is not None}
        self.roots = {
            "var": object_val(var_values),
            "path": object_val(
                {"root": string_val(self.path_root), "cwd": string_val(self.cwd.as_posix())}
            ),
            "packer": object_val({"version": string_val(PACKER_COMPAT_VERSION)}),
        }
        local_defs = dict(self.cfg.locals)
        sensitive_locals: set[str] = set()
        for name, block in self.cfg.local_blocks.items():
            attrs = {a.name: a for a in block.body.attributes}
            if "expression" not in attrs:
                self.diags.append(Diagnostic(
                    "Missing expression", f'local "{name}" needs expression = ....',
                    def_range(block),
                ))  # fmt: skip
                continue
            local_defs[name] = attrs["expression"]._replace(name=name)
            sens = attrs.get("sensitive")
            if sens is not None:
                value = self.eval(sens.expr, self.ctx())
                if value is not None and value.v is True:
                    sensitive_locals.add(name)
        unset = {n for n, v in variables.items() if v.value is None}
        unknown = {
            name for name, attr in local_defs.items()
            if any(ref in unset for ref, _ in references(attr.expr, "var"))
        }  # fmt: skip
        grew = True
        while grew:  # and the locals that use those
            more = {
                name for name, attr in local_defs.items()
                if name not in unknown
                and any(r in unknown for r, _ in references(attr.expr, "local"))
            }  # fmt: skip
            unknown |= more
            grew = bool(more)
        known_defs = {n: a for n, a in local_defs.items() if n not in unknown}
        values, diags = evaluate_locals(
            known_defs, lambda done: self.ctx({"local": object_val(done)})
        )
        self.diags.extend(diags)
        return values, sensitive_locals, unknown

    def build(self, variables: dict[str, Variable]) -> TemplateFile:
        info = Hcl2Info(self.sources, files=[])
        for v in variables.values():
            if v.sensitive:
                info.secrets.extend(secret_strings(v.value))
            info.variables[v.name] = "<sensitive>" if v.sensitive else _show(v.value)
        self.check_packer_blocks()
        values, sensitive_locals, _unknown = self.evaluate_locals(variables)
        for name in sensitive_locals:
            info.secrets.extend(secret_strings(values.get(name)))
        for name, value in values.items():
            info.locals[name] = "<sensitive>" if name in sensitive_locals else _show(value)
        self.roots["local"] = object_val(values)
        tpl = TemplateFile(path=self.base_dir / "template.pkr.hcl")
        tpl.hcl2 = info
        for build in self.cfg.builds:
            self.add_build(build, tpl, info)
        if not tpl.builders and not [d for d in self.diags if not d.warning]:
            self.diags.append(
                Diagnostic(
                    "No build",
                    "The template has no build block with a source: add build { sources = "
                    '["source.qemu.NAME"] } and a source "qemu" "NAME" { ... } block.',
                    None,
                )
            )
        return tpl

    def check_packer_blocks(self) -> None:
        from kiln.template.hcl2.versions import check

        for block in self.cfg.packer_blocks:
            for attr in block.body.attributes:
                if attr.name != "required_version":
                    self.diags.append(Diagnostic(
                        "Unsupported argument",
                        f'An argument named "{attr.name}" is not expected here.'
                        + _did_you_mean(attr.name, ["required_version"]),
                        attr.name_range,
                    ))  # fmt: skip
                    continue
                value = self.eval(attr.expr, EvalContext({}, {}))
                if value is None:
                    continue
                try:
                    ok = check(str(value.v), PACKER_COMPAT_VERSION)
                except ValueError as err:
                    self.diags.append(Diagnostic(
                        "Invalid version constraint",
                        f"This string does not use correct version constraint syntax ({err}); "
                        'write constraints such as ">= 1.6.0" or "~> 1.6, != 1.6.3".',
                        attr.expr.range,
                    ))  # fmt: skip
                    continue
                if not ok:  # a warning: most templates today ask for ">= 1.7.0"
                    self.diags.append(
                        Diagnostic(
                            "Unsupported Packer Core version",
                            f"This template requires Packer version {value.v}; kiln implements "
                            f"Packer {PACKER_COMPAT_VERSION}'s templates, with the qemu plugin's "
                            "newer options and required_plugins, and goes on: anything the "
                            "template uses that kiln lacks is an error of its own.",
                            attr.expr.range,
                            warning=True,
                        )
                    )
            for inner in block.body.blocks:
                if inner.type != "required_plugins":
                    self.diags.append(Diagnostic(
                        "Unsupported block type",
                        f'Blocks of type "{inner.type}" are not expected here.'
                        + _did_you_mean(inner.type, ["required_plugins"]),
                        inner.type_range,
                    ))  # fmt: skip
                    continue
                for plugin in inner.body.attributes:
                    if plugin.name == "qemu":
                        continue  # kiln is the qemu plugin
                    self.diags.append(
                        Diagnostic(
                            "Plugin not provided by kiln",
                            f"kiln provides the qemu builder (and Packer's built-in "
                            f'provisioners and post-processors), not the "{plugin.name}" '
                            "plugin; blocks that need it will not work.",
                            plugin.name_range,
                            warning=True,
                        )
                    )

    # --- builds ----------------------------------------------------------------------------

    def add_build(self, build: BuildBlock, tpl: TemplateFile, info: Hcl2Info) -> None:
        names: dict[str, str] = {}  # "qemu.x" (as only/except write it) → build name
        for ref in [*build.sources, *self.dynamic_sources(build)]:
            block = self.cfg.sources.get(ref.ref)
            if block is None:
                self.diags.append(
                    Diagnostic(
                        f"Unknown source {ref.ref}",
                        f'Unknown source "source.{ref.ref}": no source "{ref.type}" '
                        f'"{ref.name}" block is declared.'
                        + _did_you_mean(ref.ref, list(self.cfg.sources)),
                        ref.range,
                    )
                )
                continue
            instance = ref.rename or ref.name
            full = ".".join(p for p in (build.name, ref.type, instance) if p)
            if any(b.name == full for b in tpl.builders):
                self.diags.append(Diagnostic(
                    "Duplicate build", f'The build "{full}" is defined twice.', ref.range
                ))  # fmt: skip
                continue
            names[f"{ref.type}.{instance}"] = full
            names.setdefault(ref.ref, full)
            source_val = object_val({"type": string_val(ref.type), "name": string_val(instance)})
            self.source_values[full] = source_val
            scope = _scope(block)
            info.builders[full] = scope
            if not is_selected(full, self.only, self.except_):  # named, for -only; not evaluated
                tpl.builders.append(BuilderDef(len(tpl.builders) + 1, ref.type, full, {},
                                               build_name=instance))  # fmt: skip
                continue
            if ref.type not in SUPPORTED_SOURCES:  # (Packer: GetBuilds filters, then starts)
                self.diags.append(
                    Diagnostic(
                        "Unsupported builder",
                        f'kiln builds with QEMU only: source "{ref.type}" "{ref.name}" needs '
                        f'Packer\'s "{ref.type}" builder. Build it with Packer, change it '
                        f'to a source "qemu" block, or leave its build out (-except={full}).',
                        def_range(block),
                    )
                )
                continue
            config = self.body_dict(block.body, {"source": source_val}, scope, skip=())
            if ref.override is not None:
                extra = {"source": source_val, **ref.scope}  # a dynamic block's iterator wins
                config.update(self.body_dict(ref.override.body, extra, scope, skip=("name",)))
            tpl.builders.append(
                BuilderDef(
                    index=len(tpl.builders) + 1,
                    type=ref.type,
                    name=full,
                    config=config,
                    build_name=instance,
                )
            )
        build_refs = {r: n for r, n in names.items()}
        if build_refs:
            info.build_blocks.append(
                (build.name or "<unnamed>", list(dict.fromkeys(build_refs.values())))
            )
        for block, extra in self.expand(build.provisioners, "provisioner"):
            self.add_provisioner(block, extra, build, build_refs, tpl, info)
        if build.error_cleanup is not None:
            self.add_provisioner(build.error_cleanup, {}, build, build_refs, tpl, info,
                                 cleanup=True)  # fmt: skip
        chains: list[list[tuple[ast.Block, dict[str, Value]]]] = []
        for chain in build.post_processors:
            chains.append([(b, {}) for b in chain])
        for block, extra in self.expand(build.provisioners, "post-processor", only_dynamic=True):
            chains.append([(block, extra)])
        for steps in chains:
            self.add_chain(steps, build, build_refs, tpl, info)

    def dynamic_sources(self, build: BuildBlock) -> list[SourceRef]:
        """`dynamic "source"` blocks of a build, expanded into nested source blocks (as
        Packer's dynblock.Expand does before it decodes the build)."""
        refs = []
        for block, scope in self.expand(build.provisioners, "source", only_dynamic=True):
            parsed = parse_ref(block.labels[0]) if len(block.labels) == 1 else None
            if parsed is None:
                self.diags.append(Diagnostic(
                    "Invalid source reference",
                    'A dynamic "source" block needs labels = ["source.TYPE.NAME"], as in '
                    'labels = ["source.qemu.debian"].',
                    def_range(block),
                ))  # fmt: skip
                continue
            ref = SourceRef(parsed[0], parsed[1], block.range, override=block, scope=scope)
            for attr in block.body.attributes:
                if attr.name == "name":
                    value = self.eval(attr.expr, self.ctx(scope))
                    if value is not None:
                        ref.rename = str(to_python(value))
            refs.append(ref)
        return refs

    def expand(
        self, blocks: list[ast.Block], kind: str, only_dynamic: bool = False
    ) -> list[tuple[ast.Block, dict[str, Value]]]:
        """Blocks of `kind`, with `dynamic "kind"` blocks expanded (each with its iterator)."""
        out: list[tuple[ast.Block, dict[str, Value]]] = []
        for block in blocks:
            if block.type == "dynamic":
                if block.labels and block.labels[0] == kind:
                    out.extend(self.expand_dynamic(block, {}))
            elif not only_dynamic and block.type == kind:
                out.append((block, {}))
        return out

    def expand_dynamic(
        self, block: ast.Block, extra: Mapping[str, Value]
    ) -> list[tuple[ast.Block, dict[str, Value]]]:
        attrs = {a.name: a for a in block.body.attributes}
        label = block.labels[0] if block.labels else ""
        content = next((b for b in block.body.blocks if b.type == "content"), None)
        if "for_each" not in attrs or content is None:
            self.diags.append(
                Diagnostic(
                    "Incomplete dynamic block",
                    f'dynamic "{label}" needs for_each = ... and a content {{ ... }} block.',
                    def_range(block),
                )
            )
            return []
        iterator = label
        if "iterator" in attrs:
            it = attrs["iterator"].expr
            if isinstance(it, ast.ScopeTraversal) and not it.steps:
                iterator = it.root
        coll = self.eval(attrs["for_each"].expr, self.ctx(extra))
        if coll is None:
            return []
        if coll.is_null or coll.type.kind not in ("list", "set", "tuple", "map", "object"):
            self.diags.append(
                Diagnostic(
                    "Invalid dynamic for_each value",
                    "Cannot use a value of this type in for_each: a collection is required.",
                    attrs["for_each"].expr.range,
                )
            )
            return []
        if isinstance(coll.v, dict):
            pairs = [(string_val(k), v) for k, v in coll.v.items()]
        else:
            from kiln.template.hcl2.values import int_val

            pairs = [
                (v if coll.type.kind == "set" else int_val(i), v) for i, v in enumerate(coll.v)
            ]
        out = []
        for key, value in pairs:
            scope = {**extra, iterator: object_val({"key": key, "value": value})}
            labels: tuple[str, ...] = ()
            if "labels" in attrs:
                lv = self.eval(attrs["labels"].expr, self.ctx(scope))
                if lv is not None and isinstance(lv.v, tuple):
                    labels = tuple(str(to_python(x)) for x in lv.v)
            generated = ast.Block(
                label, labels, content.body, block.range, block.type_range,
                tuple(block.label_ranges[:1]) * len(labels),
            )  # fmt: skip
            out.append((generated, scope))
        return out

    def body_dict(
        self,
        body: ast.Body,
        extra: Mapping[str, Value],
        scope: Scope,
        skip: Sequence[str],
    ) -> dict[str, object]:
        """A block body as the JSON loader would see it: attributes evaluated to plain
        values, nested blocks as lists of objects."""
        ctx = self.ctx(extra)
        out: dict[str, object] = {}
        for attr in body.attributes:
            if attr.name in skip:
                continue
            scope.names[attr.name] = attr.name_range
            scope.values[attr.name] = attr.expr.range
            value = self.eval(attr.expr, ctx)
            if value is not None:
                out[attr.name] = to_python(value)
        for inner in body.blocks:
            generated = (
                self.expand_dynamic(inner, extra) if inner.type == "dynamic" else [(inner, {})]
            )
            for gblock, gextra in generated:
                scope.names.setdefault(gblock.type, gblock.type_range)
                scope.blocks.add(gblock.type)
                inner_scope = Scope(def_range(gblock), "")
                item = self.body_dict(gblock.body, {**extra, **gextra}, inner_scope, skip=())
                existing = out.setdefault(gblock.type, [])
                if isinstance(existing, list):
                    existing.append(item)
        return out

    def step_context(self, build: BuildBlock) -> dict[str, Value]:
        values = {k: string_val(f"{{{{ build `{k}` }}}}") for k in BUILD_VALUES}
        values["name"] = string_val(build.name)
        return {"build": object_val(values)}

    def refs_to_builds(
        self, value: object, rng: ast.Range, key: str, build_refs: Mapping[str, str]
    ) -> list[str] | None:
        if value is None or value == []:
            return None  # (Packer's OnlyExcept.Skip: an empty list filters nothing)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.diags.append(Diagnostic(
                "Invalid value", f"{key} must be a list of source names, as in [\"qemu.x\"].", rng
            ))  # fmt: skip
            return []
        out = []
        for name in value:
            ref = name.removeprefix("source.")
            if ref in build_refs:
                out.append(build_refs[ref])
            elif name in build_refs.values():
                out.append(name)
            else:  # Packer matches exactly and says nothing: the entry matches no build
                self.diags.append(
                    Diagnostic(
                        f"Unknown source in {key}",
                        f'"{name}" names no source of this build (its sources: '
                        + ", ".join(sorted({r for r in build_refs if "." in r}))
                        + "), so it matches nothing."
                        + _did_you_mean(ref, list(build_refs)),
                        rng,
                        warning=True,
                    )
                )
        return out

    def applies_to(
        self,
        config: dict[str, object],
        scope: Scope,
        build_refs: Mapping[str, str],
    ) -> list[str]:
        """The build names a provisioner/post-processor runs for: its build block's
        sources, narrowed by `only`/`except`."""
        mine = list(dict.fromkeys(build_refs.values()))
        only = self.refs_to_builds(config.pop("only", None), scope.values.get("only", scope.header),
                                   "only", build_refs)  # fmt: skip
        except_ = self.refs_to_builds(config.pop("except", None),
                                      scope.values.get("except", scope.header), "except",
                                      build_refs)  # fmt: skip
        if only is not None:
            mine = [n for n in mine if n in only]
        elif except_ is not None:
            mine = [n for n in mine if n not in except_]
        return mine

    def per_build(
        self,
        block: ast.Block,
        extra: Mapping[str, Value],
        build: BuildBlock,
        build_refs: Mapping[str, str],
        scope: Scope,
    ) -> tuple[list[str], dict[str, dict[str, object]]]:
        """A step's options for each build it applies to: evaluated with that build's
        `source` (Packer decodes a build's provisioners once per source)."""
        applies: list[str] | None = None
        configs: dict[str, dict[str, object]] = {}
        for name in dict.fromkeys(build_refs.values()):
            n_diags = len(self.diags)
            context = {**self.step_context(build), "source": self.source_values[name], **extra}
            config = self.body_dict(block.body, context, scope, skip=())
            if applies is None:
                applies = self.applies_to(config, scope, build_refs)
            else:
                config.pop("only", None)
                config.pop("except", None)
                if configs:
                    del self.diags[n_diags:]  # the same errors again, for another source
            configs[name] = config
        return applies or [], {n: c for n, c in configs.items() if n in (applies or [])}

    def add_provisioner(
        self,
        block: ast.Block,
        extra: Mapping[str, Value],
        build: BuildBlock,
        build_refs: Mapping[str, str],
        tpl: TemplateFile,
        info: Hcl2Info,
        cleanup: bool = False,
    ) -> None:
        scope = _scope(block)
        applies, configs = self.per_build(block, extra, build, build_refs, scope)
        index = 0 if cleanup else len(tpl.provisioners) + 1
        where = f"provisioner {index}" if index else "error-cleanup-provisioner"
        info.steps[where] = scope
        if not applies:
            return
        config = configs[applies[0]]
        override: dict[str, dict[str, object]] = {}
        for name in applies[1:]:
            differs = {k: v for k, v in configs[name].items() if config.get(k) != v}
            if differs:
                override[name] = {k: v for k, v in differs.items() if k not in PROVISIONER_COMMON}
        override_raw = config.get("override")
        if isinstance(override_raw, dict):
            for ref, opts in override_raw.items():
                target = build_refs.get(str(ref).removeprefix("source."), str(ref))
                if isinstance(opts, dict):
                    override.setdefault(target, {}).update(opts)
        pdef = ProvisionerDef(
            index=index,
            type=block.labels[0] if block.labels else "",
            config={k: v for k, v in config.items() if k not in PROVISIONER_COMMON},
            only=applies,
            override=override,
            pause_before=config.get("pause_before"),
            max_retries=config.get("max_retries"),
            timeout=config.get("timeout"),
        )
        if cleanup:
            tpl.error_cleanup_provisioner = pdef
        else:
            tpl.provisioners.append(pdef)

    def add_chain(
        self,
        chain: list[tuple[ast.Block, dict[str, Value]]],
        build: BuildBlock,
        build_refs: Mapping[str, str],
        tpl: TemplateFile,
        info: Hcl2Info,
    ) -> None:
        """A post-processor chain; when its options differ between the build's sources
        (through `source.name`), one chain per distinct set of options."""
        index = len(tpl.post_processors) + 1
        evaluated = []
        for j, (block, extra) in enumerate(chain, 1):
            where = f"post-processor {index}" + (f".{j}" if len(chain) > 1 else "")
            scope = _scope(block)
            info.steps[where] = scope
            evaluated.append((block, where, self.per_build(block, extra, build, build_refs,
                                                           scope)))  # fmt: skip
        groups: dict[str, list[str]] = {}  # options of the whole chain → builds
        for name in dict.fromkeys(build_refs.values()):
            key = repr([cfgs.get(name) for _b, _w, (_a, cfgs) in evaluated])
            groups.setdefault(key, []).append(name)
        for builds in groups.values():
            members = []
            for block, where, (applies, cfgs) in evaluated:
                mine = [b for b in builds if b in applies]
                if not mine:
                    continue
                config = cfgs[mine[0]]
                pp_name = config.get("name")
                members.append(
                    PostProcessorDef(
                        index=len(tpl.post_processors) + 1,
                        type=block.labels[0] if block.labels else "",
                        config={k: v for k, v in config.items()
                                if k not in POST_PROCESSOR_COMMON},
                        only=mine,
                        keep_input_artifact=config.get("keep_input_artifact"),
                        name=pp_name if isinstance(pp_name, str) else "",
                        where=where,
                    )
                )  # fmt: skip
            if members:
                tpl.post_processors.append(members)


def _scope(block: ast.Block) -> Scope:
    label = block.label_ranges[0] if block.label_ranges else None
    return Scope(def_range(block), _context(block), type_label=label)


def _context(block: ast.Block) -> str:
    return " ".join([block.type, *(f'"{label}"' for label in block.labels)])


def _did_you_mean(name: str, names: Sequence[str]) -> str:
    from kiln.template.hcl2.diagnostics import did_you_mean

    return did_you_mean(name, names)


def _show(v: Value | None) -> str:
    if v is None:
        return "<unknown>"
    from kiln.template.hcl2.functions.encoding import json_encode

    try:
        return json_encode(v)
    except Exception:  # infinity
        return repr(v)


def parse_only(path: str | Path) -> TemplateFile:
    """`kiln validate -syntax-only`: every file parses and its blocks are the known ones."""
    root = Path(path)
    if not root.exists():
        raise KilnError(f"Failed to parse template: open {root}: no such file or directory")
    files, _auto = template_files(root)
    sources = Sources()
    diags: list[Diagnostic] = []
    bodies = [b for f in files if (b := _parse_file(f, sources, diags)) is not None]
    if not diags:
        decode(bodies, diags)
    if [d for d in diags if not d.warning]:
        raise HCLError(diags, sources)
    return TemplateFile(path=root)

"""From a template file and the command line to checked, ready-to-run builds.

`make_plan` does everything `kiln validate` reports on: variables, config-time template
rendering, option decoding (weak typing, unknown keys), Packer's Prepare checks for each
builder, and the provisioners' and post-processors' own options. It collects every error
of every build before failing, grouped by build like Packer prints them.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiln import PACKER_COMPAT_VERSION
from kiln.builders.qemu.builder import QEMU
from kiln.builders.qemu.config import QemuConfig
from kiln.builders.qemu.prepare import PrepareContext, prepare
from kiln.communicator.config import CommConfig
from kiln.engine.plan import BuildPlan, Plan, StepPlan
from kiln.errors import KilnError, MultiError, TemplateError
from kiln.options.choices import choice_errors
from kiln.options.decode import apply_env_defaults, decode_sections
from kiln.options.hcltypes import hcl_typed
from kiln.options.spec import option_specs
from kiln.provisioners.config import CommonProvisionerConfig
from kiln.provisioners.table import PROVISIONERS
from kiln.suggest import did_you_mean
from kiln.template.engine import render
from kiln.template.functions import FuncContext, packer_functions
from kiln.template.model import BuilderDef, PostProcessorDef, ProvisionerDef, TemplateFile
from kiln.template.selection import is_selected, matches
from kiln.template.taint import SecretTracker, strings_in
from kiln.template.tree import render_tree
from kiln.template.variables import VariableInputs, merged_inputs, resolve_variables
from kiln.ui.redact import Redactor

SUPPORTED_BUILDERS = ("qemu",)
# Placeholders for `{{ build `X` }}` while checking provisioners before the build runs.
BUILD_VALUE_NAMES = ("ID", "Host", "Port", "User", "Password", "SSHPublicKey",
                     "SSHPrivateKey", "PackerRunUUID", "PackerHTTPAddr", "PackerHTTPIP",
                     "PackerHTTPPort", "ConnType")  # fmt: skip
BUILD_PLACEHOLDERS: dict[str, object] = {k: f"<build {k}>" for k in BUILD_VALUE_NAMES}


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The command line's say in what gets built."""

    var_files: Sequence[Path] = ()
    cli_vars: Mapping[str, str] = field(default_factory=dict)
    only: Sequence[str] = ()
    except_: Sequence[str] = ()
    force: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    env: Mapping[str, str] = field(default_factory=dict)
    init_time: datetime = field(default_factory=lambda: datetime.now(UTC))


class ValidationFailed(KilnError):
    """Errors grouped by where they come from: [(header, [message, …]), …].

    Secret values (sensitive variables, passwords) are already replaced by `<sensitive>` in
    the groups and warnings, so any caller may print them."""

    def __init__(
        self,
        groups: list[tuple[str, list[str]]],
        warnings: list[tuple[str, str]],
        redact: Redactor | None = None,
    ):
        redact = redact or Redactor()
        self.groups = [(redact(h), [redact(e) for e in errs]) for h, errs in groups]
        self.warnings = [(scope, redact(w)) for scope, w in warnings]
        super().__init__(self.format())

    def format(self) -> str:
        blocks = []
        for header, errors in self.groups:
            body = MultiError(errors).format()
            blocks.append(f"{header}\n\n{body}" if header else body)
        return "\n\n".join(blocks)

    @property
    def count(self) -> int:
        return sum(len(errors) for _, errors in self.groups)


HCL_DIAGNOSTIC = "\0hcl"  # the scope of a warning that is a whole HCL diagnostic


def make_plan(tpl: TemplateFile, options: PlanOptions) -> Plan:
    warnings: list[tuple[str, str]] = []
    groups: list[tuple[str, list[str]]] = []
    hcl = tpl.hcl2 is not None  # HCL2 blocks: option values typed as Packer's HCL2 specs do

    def warn_global(message: str) -> None:
        warnings.append(("", message))

    _check_min_version(tpl, warn_global)
    for message in tpl.hcl2.warnings if tpl.hcl2 is not None else ():
        # HCL2: warnings of loading (undeclared variable in a var file), each printed as
        # HCL prints a diagnostic ("Warning: SUMMARY", the place, the detail)
        warnings.append((HCL_DIAGNOSTIC, message))
    inputs = VariableInputs(var_files=options.var_files, cli_vars=options.cli_vars)
    dependencies: dict[str, set[str]] = {}
    variables: dict[str, str] = {}
    if tpl.hcl2 is None:  # HCL2: variables were evaluated into the options as it loaded
        try:
            variables = resolve_variables(
                tpl,
                inputs,
                env=options.env,
                init_time=options.init_time,
                warn=warn_global,
                dependencies=dependencies,
            )
        except MultiError as err:
            raw = merged_inputs(tpl, inputs)  # -var-file values too (issue 15 item 5)
            given = [raw.get(n) or "" for n in tpl.sensitive_variables]
            raise ValidationFailed([("", err.errors)], warnings, Redactor(given)) from None
    tracker = SecretTracker(variables, dependencies, tpl.sensitive_variables)

    names, name_errors = _build_names(tpl, variables, options, warn_global, tracker)
    selected = _select_builds(tpl, names, options, groups, warn_global)
    if name_errors:
        groups.append(("", name_errors))
    template_errors = _check_only_except(tpl, [b.name for b in tpl.builders])
    if template_errors:
        groups.append(("", template_errors))

    builds: list[BuildPlan[Any]] = []
    for bdef, name in selected:
        errors: list[str] = []
        scope = name

        def warn(message: str, scope: str = scope) -> None:
            if (scope, message) not in warnings:  # e.g. one undefined variable used twice
                warnings.append((scope, message))

        if bdef.type not in SUPPORTED_BUILDERS:
            errors.append(
                f"builder type '{bdef.type}' is not supported by kiln: kiln builds with QEMU "
                f'only ("type": "qemu"){did_you_mean(bdef.type, SUPPORTED_BUILDERS)}'
                + _only_hint(selected)
            )
            groups.append((f'Error: Failed to prepare build: "{name}"', errors))
            continue
        func_ctx = FuncContext(
            template_dir=str(tpl.template_dir),
            user_variables=variables,
            env_allowed=False,
            build_name=bdef.build_name or name,
            build_type=bdef.type,
            packer_version=PACKER_COMPAT_VERSION,
            init_time=options.init_time,
            undefined_user=warn,
        )
        funcs = packer_functions(tracker.context(func_ctx))
        late = {row.name for cls in (QemuConfig, CommConfig) for row in option_specs(cls)
                if row.spec.late}  # fmt: skip
        rendered = render_tree(
            bdef.config,
            {},
            funcs,
            late=late,
            errors=errors,
            observe=tracker.observer(_secret_keys(QemuConfig, CommConfig)),
        )
        decoded = decode_sections(rendered, [QemuConfig, CommConfig], hcl=hcl)
        errors.extend(decoded.errors)
        for w in decoded.warnings:
            warn(w)
        prepared = prepare(
            decoded.get(QemuConfig),
            decoded.get(CommConfig),
            PrepareContext(
                build_name=bdef.build_name or name,
                force=options.force,
                cwd=options.cwd,
                explicit=frozenset(decoded.explicit),
                template_dir=tpl.template_dir,
                functions=funcs,
                env=options.env,
            ),
        )
        errors.extend(prepared.errors)
        for w in prepared.warnings:
            warn(w)
        build = BuildPlan(
            name=name,
            type=bdef.type,
            config=prepared.config,
            comm=prepared.comm,
            func_context=func_ctx,
            builder=QEMU,
            template_path=str(tpl.path.resolve()) if str(tpl.path) else "",
        )
        placeholders = {k: f"<build {k}>" for k in BUILD_VALUE_NAMES}
        step_funcs = packer_functions(tracker.context(replace(func_ctx, build_values=placeholders)))
        for pdef in tpl.provisioners:
            if _applies(pdef.only, pdef.except_, bdef.name):
                step = _provisioner_plan(pdef, bdef.name, step_funcs, options.cwd, errors,
                                         tracker, hcl=hcl)  # fmt: skip
                if step is not None:
                    build.provisioners.append(step)
        if tpl.error_cleanup_provisioner is not None:
            build.error_cleanup = _provisioner_plan(
                tpl.error_cleanup_provisioner,
                bdef.name,
                step_funcs,
                options.cwd,
                errors,
                tracker,
                hcl=hcl,
            )
        for chain in tpl.post_processors:
            steps = []
            for ppdef in chain:
                if matches(ppdef.name or ppdef.type, options.except_):
                    break  # -except names a post-processor: it and the rest of its chain
                if _applies(ppdef.only, ppdef.except_, bdef.name):
                    step = _post_processor_plan(
                        ppdef, step_funcs, options.cwd, options.env, errors, tracker, hcl=hcl
                    )
                    if step is not None:
                        steps.append(step)
            if steps:
                build.post_processors.append(steps)
        if errors:
            groups.append((f'Error: Failed to prepare build: "{name}"', errors))
        builds.append(build)

    redactor = _redactor(tpl, builds, tracker, options)
    if groups:
        raise ValidationFailed(groups, warnings, redactor)
    return Plan(tpl, builds, variables, redactor.secrets, warnings, redactor)


def _redactor(
    tpl: TemplateFile, builds: list[BuildPlan[Any]], tracker: SecretTracker, options: PlanOptions
) -> Redactor:
    """What the output must hide (secrets) and leave alone (see kiln.template.taint)."""
    # HCL2: the values of sensitive variables and locals, found as the template loaded.
    secrets: list[str] = list(tpl.hcl2.secrets) if tpl.hcl2 is not None else []
    shown: list[str] = [str(options.cwd), str(tpl.template_dir), str(tpl.path), str(Path.home())]
    shown += [v for k, v in options.env.items() if k in _PATH_VARIABLES]
    names = [*tpl.variables]  # variable names: `vagrant_password` is not the password
    names += [b.type for b in tpl.builders]
    names += [p.type for p in tpl.provisioners]
    names += [pp.name or pp.type for chain in tpl.post_processors for pp in chain]
    names += [pp.type for chain in tpl.post_processors for pp in chain]
    for build in builds:
        names.append(build.name)
        shown.append(build.name)
        sections: list[object] = [build.config, build.comm]
        steps = [*build.provisioners, *(s for chain in build.post_processors for s in chain)]
        if build.error_cleanup is not None:
            steps.append(build.error_cleanup)
        sections += [step.config for step in steps if step.config is not None]
        for section in sections:
            secret, other = _values_by_kind(section)
            secrets += secret
            shown += other
            table: type = type(section)
            names += _option_names(table)
    # Types and option names are words (`vagrant-cloud` with the password `vagrant`); the
    # last part of a path or URL is shown on its own (`<cache>/debian-10-netinst.iso`, a
    # file name in a message): both are as clean as the value they come from.
    shown += names
    shown += [_last_part(v) for v in shown if "/" in v]
    return tracker.redactor(secrets=secrets, shown=shown, names=names)


def _last_part(value: str) -> str:
    """The file name at the end of a path or URL (query and fragment dropped)."""
    return value.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


# Directories from the environment that show up in paths kiln prints (not secrets).
_PATH_VARIABLES = ("HOME", "TMPDIR", "PACKER_CACHE_DIR", "KILN_CACHE_DIR", "XDG_CACHE_HOME",
                   "XDG_STATE_HOME", "KILN_FAILURE_DIR")  # fmt: skip


def _values_by_kind(section: object) -> tuple[list[str], list[str]]:
    """(values of the `secret` options — passwords —, the strings of the other options).

    Late options (boot_command, qemuargs, …) are neither: they are rendered at build time,
    where they are redacted as data."""
    table: type = type(section)
    secret_names, shown_names = _option_kinds(table)
    secret = [str(v) for n in secret_names
              if (v := getattr(section, n)) and not _generated(section, n)]  # fmt: skip
    other = [text for n in shown_names for text in strings_in(getattr(section, n))]
    return secret, other


@functools.cache
def _option_names(cls: type) -> tuple[str, ...]:
    """The keys of a table and the environment variables they read: kiln's messages name
    them (`vagrant_cloud_url`), and no secret is one."""
    return tuple(n for r in option_specs(cls) for n in (r.name, *r.spec.env))


@functools.cache
def _option_kinds(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names of the secret options, names of the options shown as they are) of a table."""
    rows = list(option_specs(cls))
    secret = tuple(r.name for r in rows if r.spec.secret)
    shown = tuple(r.name for r in rows if not r.spec.secret and not r.spec.late)
    return secret, shown


def _generated(section: object, name: str) -> bool:
    """A secret kiln made up and shows on purpose (the VNC password it generates)."""
    return name == "vnc_password" and bool(getattr(section, "vnc_password_generated", False))


def _secret_keys(*classes: type) -> set[str]:
    """The keys (and deprecated aliases) of the secret options of option tables."""
    keys = set()
    for cls in classes:
        for row in option_specs(cls):
            if row.spec.secret:
                keys.add(row.name)
                keys.update(alias for alias, _ in row.spec.aliases)
    return keys


def _check_min_version(tpl: TemplateFile, warn: Callable[[str], None]) -> None:
    wanted = tpl.min_packer_version.strip()
    if not wanted:
        return
    version = re.fullmatch(r"v?([0-9]+(?:\.[0-9]+)*)(?:[-+][0-9A-Za-z.-]*)?", wanted)
    if version is None:
        raise ValidationFailed(
            [("", [f"min_packer_version {wanted!r} is not a version like 1.6.0"])], []
        )
    want = tuple(int(p) for p in version[1].split("."))
    have = tuple(int(p) for p in PACKER_COMPAT_VERSION.split("."))
    if want > have:
        warn(
            f"This template requires Packer version {wanted} or higher; kiln follows Packer "
            f"{PACKER_COMPAT_VERSION} and the modern qemu plugin's options, so it continues"
        )


def _only_hint(selected: Sequence[tuple[BuilderDef, str]]) -> str:
    """For a template that mixes qemu with other builders: how to build just the qemu ones."""
    names = [name for bdef, name in selected if bdef.type in SUPPORTED_BUILDERS]
    if not names:
        return ""
    return f"\n  To build only this template's qemu builds, run kiln with -only={','.join(names)}"


def _build_names(
    tpl: TemplateFile,
    variables: Mapping[str, str],
    options: PlanOptions,
    warn: Callable[[str], None],
    tracker: SecretTracker,
) -> tuple[list[str], list[str]]:
    """Each builder's name rendered with the user variables (Packer's Core.Initialize), and
    the errors: a name that fails to render, two builders that render to one name.

    The rendered name is the build's name (`-only`, `{{ build_name }}`, the output); the
    raw one is what provisioners' and post-processors' `only`/`except`/`override` name."""
    ctx = FuncContext(
        template_dir=str(tpl.template_dir),
        user_variables=variables,
        env_allowed=False,
        init_time=options.init_time,
        undefined_user=warn,
    )
    funcs = packer_functions(tracker.context(ctx))
    names: list[str] = []
    errors: list[str] = []
    first: dict[str, BuilderDef] = {}
    for i, bdef in enumerate(tpl.builders):
        name = bdef.name
        if "{{" in name:
            tracker.start()
            try:
                name = render(name, {}, funcs, where=f"builders[{i}].name")
            except TemplateError as err:
                errors.append(f"Error interpolating builder '{bdef.name}': {err}")
            tracker.note(f"builders[{i}].name", name)
        if name in first:  # the loader refused equal raw names: these render alike
            other = first[name]
            renders = [f"builder {d.index}'s name {d.name!r}" for d in (other, bdef)
                       if d.name != name]  # fmt: skip
            errors.append(
                f"builder {bdef.index}: builder with name '{name}' already exists "
                f"({' and '.join(renders)} {'render' if len(renders) > 1 else 'renders'} to it)"
            )
        first.setdefault(name, bdef)
        names.append(name)
    return names, errors


def _select_builds(
    tpl: TemplateFile,
    names: list[str],
    options: PlanOptions,
    groups: list[tuple[str, list[str]]],
    warn: Callable[[str], None],
) -> list[tuple[BuilderDef, str]]:
    # -except also names post-processors: by `name`, else by type (Packer's template
    # parser names a post-processor after its type; hcl2template matches PName or PType).
    pp_names = [pp.name or pp.type for chain in tpl.post_processors for pp in chain]
    errors = []
    for flag, patterns in (("-only", options.only), ("-except", options.except_)):
        for pattern in patterns:
            if _bad_range(pattern):  # Packer (gobwas/glob) refuses it
                errors.append(f"Invalid {flag} pattern {pattern}: could not parse range")
                continue
            candidates = names + pp_names if flag == "-except" else names
            if any(fnmatch.fnmatchcase(n, pattern) for n in candidates):
                continue
            problem = (
                f"{flag}={pattern}: no build matches it; builds in the template: "
                + ", ".join(names)
                + did_you_mean(pattern, names)
            )
            if flag == "-only":
                errors.append(problem)  # it would build nothing: surely a typo
            else:
                warn(problem + " (it leaves nothing out)")  # READMEs pass shared -except lists
    if errors:
        groups.append(("", errors))
    return [
        (b, name)
        for b, name in zip(tpl.builders, names, strict=True)
        if is_selected(name, options.only, options.except_)
    ]


def _check_only_except(tpl: TemplateFile, names: list[str]) -> list[str]:
    errors = []
    defs: list[ProvisionerDef | PostProcessorDef] = [*tpl.provisioners]
    for chain in tpl.post_processors:
        defs.extend(chain)
    for d in defs:
        for key, listed in (("only", d.only), ("except", d.except_)):
            for name in listed:
                if name not in names:
                    errors.append(
                        f"{d.where}: '{key}' specified builder '{name}' not found"
                        + did_you_mean(name, names)
                    )
    return errors


def _bad_range(pattern: str) -> bool:
    """A `[` class that is empty or never closed (gobwas/glob: "could not parse range")."""
    i = pattern.find("[")
    while i >= 0:
        start = i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1
        end = pattern.find("]", start)
        if end <= start:
            return True
        i = pattern.find("[", end + 1)
    return False


def _applies(only: Sequence[str], except_: Sequence[str], name: str) -> bool:
    if only and name not in only:
        return False
    return name not in except_


def _late_keys(cls: type) -> set[str]:
    return {row.name for row in option_specs(cls) if row.spec.late}


def _provisioner_plan(
    pdef: ProvisionerDef,
    build_name: str,
    funcs: Mapping[str, Any],
    cwd: Path,
    errors: list[str],
    tracker: SecretTracker,
    *,
    hcl: bool = False,
) -> StepPlan | None:
    kind = PROVISIONERS.get(pdef.type)
    if kind is None:
        errors.append(
            f"{pdef.where}: provisioner type '{pdef.type}' is not supported by kiln: use one of "
            + ", ".join(PROVISIONERS)
            + did_you_mean(pdef.type, PROVISIONERS)
        )
        return None
    cls = kind.config
    raw = dict(pdef.config)
    raw.update(pdef.override.get(build_name, {}))
    if hcl:  # the values a run-time decoding reads again, typed as Packer's HCL2 spec does
        raw = hcl_typed(raw, [cls])
    local_errors: list[str] = []
    observe = tracker.observer(_secret_keys(cls))
    rendered = render_tree(
        raw, BUILD_PLACEHOLDERS, funcs, late=_late_keys(cls), errors=local_errors, observe=observe
    )
    common_raw = {
        k: v
        for k, v in (
            ("pause_before", pdef.pause_before),
            ("max_retries", pdef.max_retries),
            ("timeout", pdef.timeout),
        )
        if v is not None
    }
    common = decode_sections(common_raw, [CommonProvisionerConfig], hcl=hcl)
    decoded = decode_sections(rendered, [cls], hcl=hcl)
    local_errors += common.errors + decoded.errors
    config: Any = decoded.get(cls)
    if not decoded.errors:
        local_errors += kind.check(config, cwd)
    local_errors += choice_errors(config)
    errors.extend(f"{pdef.where} ({pdef.type}): {e}" for e in local_errors)
    c = common.get(CommonProvisionerConfig)
    return StepPlan(
        type=pdef.type,
        where=pdef.where,
        raw=raw,
        config=config,
        pause_before=c.pause_before,
        max_retries=c.max_retries,
        timeout=c.timeout,
    )


def _post_processor_plan(
    ppdef: PostProcessorDef,
    funcs: Mapping[str, Any],
    cwd: Path,
    env: Mapping[str, str],
    errors: list[str],
    tracker: SecretTracker,
    *,
    hcl: bool = False,
) -> StepPlan | None:
    # Imported here: a template without post-processors (most) does not pay for their
    # option tables and checks (~10 ms of `kiln validate`).
    from kiln.postprocessors.config import CommonPostProcessorConfig
    from kiln.postprocessors.table import POST_PROCESSORS

    kind = POST_PROCESSORS.get(ppdef.type)
    if kind is None:
        errors.append(
            f"{ppdef.where}: post-processor type '{ppdef.type}' is not supported by kiln: use "
            "one of " + ", ".join(POST_PROCESSORS) + did_you_mean(ppdef.type, POST_PROCESSORS)
        )
        return None
    cls = kind.config
    local_errors: list[str] = []
    observe = tracker.observer(_secret_keys(cls))
    rendered = render_tree(ppdef.config, BUILD_PLACEHOLDERS, funcs, late=_late_keys(cls),
                           errors=local_errors, observe=observe)  # fmt: skip
    decoded = decode_sections(rendered, [cls], hcl=hcl)
    local_errors += decoded.errors
    config: Any = apply_env_defaults(decoded.get(cls), env)
    if not decoded.errors:
        local_errors += kind.check(config, cwd)
    local_errors += choice_errors(config)
    keep: bool | None = None
    if ppdef.keep_input_artifact is not None:
        keep_decoded = decode_sections(
            {"keep_input_artifact": ppdef.keep_input_artifact},
            [CommonPostProcessorConfig],
            hcl=hcl,
        )
        local_errors += keep_decoded.errors
        keep = keep_decoded.get(CommonPostProcessorConfig).keep_input_artifact
    errors.extend(f"{ppdef.where} ({ppdef.type}): {e}" for e in local_errors)
    return StepPlan(
        type=ppdef.type,
        where=ppdef.where,
        raw=hcl_typed(ppdef.config, [cls]) if hcl else dict(ppdef.config),
        config=config,
        keep_input_artifact=keep,
        name=ppdef.name,
    )

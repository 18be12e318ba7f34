"""User variables: template defaults, `-var-file`, `-var`, then interpolation.

Packer renders every variable value with `env` allowed and `user` referring to other
variables (in any order; it loops up to 100 times). kiln resolves references on demand with
cycle detection, which gives the same values and a clearer error for cycles. Actions that
reference build data (`{{ .HTTPIP }}`) are left as they are, to be rendered where the
variable is used, as Packer's render filter does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiln.errors import KilnError, MultiError, TemplateError
from kiln.suggest import did_you_mean
from kiln.template.engine import render
from kiln.template.functions import FuncContext, packer_functions
from kiln.template.jsonfile import loads, read_bounded
from kiln.template.model import TemplateFile

# `{{ .Field }}` actions stay raw in variable values (Packer's renderFilter).
_FIELD_ACTION = re.compile(r"{{-?\s*\.[^}]*?-?}}")


@dataclass(frozen=True, slots=True)
class VariableInputs:
    """What the command line says about variables."""

    var_files: Sequence[Path] = ()
    cli_vars: Mapping[str, str] | None = None


def parse_var_file(path: Path) -> dict[str, str]:
    """A `-var-file`: a JSON object of name → string (numbers and booleans are accepted)."""
    try:
        data = loads(read_bounded(path))
    except FileNotFoundError:
        raise KilnError(f"-var-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise KilnError(f"-var-file {path}: cannot read it: {err}") from None
    except json.JSONDecodeError as err:
        raise KilnError(
            f"-var-file {path}: invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    except ValueError as err:  # JsonLimitError: too large, too deep, too long a number
        raise KilnError(f"-var-file {path}: {err}") from None
    if not isinstance(data, dict):
        raise KilnError(f"-var-file {path}: must contain a JSON object of variable → value")
    out: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            # Packer decodes the file into a map[string]string: JSON null stores "".
            out[key] = ""
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        else:
            raise KilnError(f"-var-file {path}: variable '{key}' must be a string, not {value!r}")
    return out


def resolve_variables(
    tpl: TemplateFile,
    inputs: VariableInputs,
    *,
    env: Mapping[str, str],
    init_time: datetime,
    warn: Callable[[str], None],
    dependencies: dict[str, set[str]] | None = None,
) -> dict[str, str]:
    """The final value of every user variable; raises `MultiError` listing every problem.

    `dependencies`, when given, receives for each variable the variables its value read
    (kiln.template.taint follows secrets through them). A sensitive variable's value is
    never quoted in an error."""
    raw = merged_inputs(tpl, inputs)
    for key in inputs.cli_vars or {}:
        if key not in tpl.variables:
            warn(
                f"variable '{key}' is set with -var but not declared in the template's "
                f'"variables"{did_you_mean(key, tpl.variables)}'
            )
    reads: dict[str, set[str]] = {} if dependencies is None else dependencies

    errors = [
        f"required variable not set: {name} (set it with -var '{name}=…' or in a -var-file)"
        for name, v in raw.items()
        if v is None
    ]
    values: dict[str, str] = {}
    resolving: list[str] = []
    missed: list[str] = []  # variables a failed render looked for and did not find

    def lookup(name: str) -> str:
        if resolving:
            reads.setdefault(resolving[-1], set()).add(name)
        if name in values:
            return values[name]
        if name not in raw or raw[name] is None:
            missed.append(name)
            raise TemplateError(
                f"variable not set: {name}: Please make sure that the variable you're "
                "referencing has been defined; Packer treats all variables used to "
                "interpolate other user variables as required"
                + ("" if name in raw else did_you_mean(name, raw))
            )
        if name in resolving:
            cycle = " → ".join([*resolving[resolving.index(name) :], name])
            raise TemplateError(f"variables refer to each other in a cycle: {cycle}")
        resolving.append(name)
        try:
            values[name] = _render_value(str(raw[name]), name)
        finally:
            resolving.pop()
        return values[name]

    funcs = dict(
        packer_functions(
            FuncContext(
                template_dir=str(tpl.template_dir),
                user_variables=_LazyVariables(lookup, raw, missed),
                env_allowed=True,
                init_time=init_time,
            )
        )
    )

    def _render_value(value: str, name: str) -> str:
        where = f"variables.{name}"
        parts: list[str] = []
        last = 0
        for m in _FIELD_ACTION.finditer(value):
            parts.append(render(value[last : m.start()], {}, funcs, where=where))
            parts.append(m.group(0))
            last = m.end()
        parts.append(render(value[last:], {}, funcs, where=where))
        return "".join(parts)

    unset: dict[str, tuple[str, TemplateError]] = {}  # failed only for a missing variable
    failed: list[tuple[str, str, TemplateError]] = []
    for name, raw_value in raw.items():
        if raw_value is None:
            continue
        missed.clear()
        try:
            lookup(name)
        except TemplateError as err:
            if missed and "cycle" not in err.problem:
                unset[name] = (missed[0], err)
            failed.append((name, raw_value, err))
    if unset and _packer_drops_unset(raw, values):
        forgiven = _forgive(unset, raw, values, lookup, _supplied(inputs), warn)
        failed = [f for f in failed if f[0] not in forgiven]
    for name, raw_value, problem in failed:
        if name in tpl.sensitive_variables:  # the value, or its pieces in the error: no
            errors.append(
                f'Failed to interpolate "{name}": <sensitive>; error: {problem.location()}: '
                "(not shown: it may quote the value of this sensitive variable)"
            )
        else:
            errors.append(f'Failed to interpolate "{name}": {raw_value!r}; error: {problem}')
    if errors:
        raise MultiError(errors)
    return values


def merged_inputs(tpl: TemplateFile, inputs: VariableInputs) -> dict[str, str | None]:
    """Every variable's raw value: the template's default, then -var-file, then -var."""
    raw: dict[str, str | None] = dict(tpl.variables)
    for path in inputs.var_files:
        raw.update(parse_var_file(path))
    raw.update(inputs.cli_vars or {})
    return raw


# Packer's isDoneInterpolating (packer/core.go): a value that reads a user variable.
_READS_USER = re.compile(r"{{\s*user\s*`.*`\s*}}")


def _packer_drops_unset(raw: Mapping[str, str | None], values: Mapping[str, str]) -> bool:
    """Whether Packer 1.6.6 would drop the "variable not set" failures silently.

    Its renderVarsRecursively (packer/core.go) reports a failure only when its last pass
    changed nothing; a variable whose value reads `user` and renders is rendered, and counts
    as a change, on every one of its 100 passes."""
    return any(_READS_USER.search(str(raw[name])) for name in values if raw.get(name))


def _supplied(inputs: VariableInputs) -> set[str]:
    """The variables a -var-file or -var gave."""
    names = set(inputs.cli_vars or {})
    for path in inputs.var_files:
        names.update(parse_var_file(path))
    return names


def _forgive(
    unset: Mapping[str, tuple[str, TemplateError]],
    raw: Mapping[str, str | None],
    values: dict[str, str],
    lookup: Callable[[str], str],
    supplied: set[str],
    warn: Callable[[str], None],
) -> set[str]:
    """Give the variables that failed for a missing variable Packer's value, with a warning:
    a value from a -var-file or -var stays as written (Packer keeps it in its variables map),
    a default is left unset, so empty. Returns the names forgiven."""
    forgiven: set[str] = set()
    for name in sorted(unset, key=lambda n: n not in supplied):  # written values first
        if name in supplied:
            values[name] = str(raw[name])
            how = "leaves it unrendered (as the -var-file or -var wrote it)"
        else:
            try:
                lookup(name)  # it may read a value just given
                forgiven.add(name)
                continue
            except TemplateError:
                values[name] = ""
                how = "leaves it empty"
        missing, err = unset[name]
        problem = err.problem.split("; declare it")[0].split(": Please make sure")[0]
        warn(
            f'variable "{name}" could not be rendered: {problem}; Packer 1.6.6 {how} here '
            "without a word (another variable reads a user variable): "
            f"declare \"{missing}\" or pass -var '{missing}=...'"
        )
        forgiven.add(name)
    return forgiven


class _LazyVariables(Mapping[str, str]):
    """A mapping that resolves variables the first time `user` asks for them."""

    def __init__(
        self, lookup: Callable[[str], str], names: Mapping[str, object], missed: list[str]
    ) -> None:
        self._lookup = lookup
        self._names = names
        self._missed = missed

    def __getitem__(self, key: str) -> str:
        if key not in self._names:
            self._missed.append(key)
            raise KeyError(key)
        return self._lookup(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, key: object) -> bool:
        return key in self._names

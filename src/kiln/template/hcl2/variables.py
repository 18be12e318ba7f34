"""Input variables: declarations, then values from defaults, `PKR_VAR_*`, `*.auto.pkrvars.*`,
`-var-file` and `-var`, in Packer's order of precedence (later wins), converted to each
variable's type and checked by its `validation` blocks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiln.template.hcl2 import ast
from kiln.template.hcl2.convert import ConversionError, convert
from kiln.template.hcl2.diagnostics import Diagnostic, Sources, def_range, did_you_mean
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.typeexpr import TypeExprError, type_from_expr
from kiln.template.hcl2.types import DYNAMIC, NUMBER, STRING, Type, type_string
from kiln.template.hcl2.values import Value, from_python, object_val, string_val

VARIABLE_ATTRS = ("type", "default", "description", "sensitive")


@dataclass
class Variable:
    name: str
    range: ast.Range
    type: Type = DYNAMIC
    default: Value | None = None  # None: required
    description: str = ""
    sensitive: bool = False
    validations: list[ast.Block] = field(default_factory=list)
    value: Value | None = None
    source: str = "default"  # where its value came from: default, env, varfile, cmd (Packer's)
    broken: bool = False  # its declaration or a value given has an error (not also "unset")


def declare(
    blocks: Mapping[str, ast.Block],
    attrs: Mapping[str, ast.Attribute],
    base_dir: Path,
    env: Mapping[str, str],
    diags: list[Diagnostic],
) -> dict[str, Variable]:
    funcs = dict(standard_functions(base_dir))

    from kiln.template.hcl2.function import Param, fn

    @fn(Param("key", STRING))
    def _env(a: Sequence[Value]) -> Value:
        return string_val(env.get(a[0].as_str(), ""))

    funcs["env"] = _env
    ctx = EvalContext({}, funcs)
    out: dict[str, Variable] = {}
    for name, attr in attrs.items():
        var = Variable(name, attr.name_range)
        try:
            var.default = evaluate(attr.expr, ctx)
        except EvalError as err:
            diags.extend(_no_variables_here(err))
        else:
            if not var.default.is_null:
                var.type = var.default.type  # Packer 1.6.6's decodeVariable: the default's
        out[name] = var
    for name, block in blocks.items():
        before = _error_count(diags)
        out[name] = _declare_block(name, block, ctx, diags)
        out[name].broken = _error_count(diags) > before
    return out


def _error_count(diags: Sequence[Diagnostic]) -> int:
    return sum(1 for d in diags if not d.warning)


def _no_variables_here(err: EvalError) -> list[Diagnostic]:
    result = []
    for diag in err.diagnostics:
        d = diag
        if d.summary == "Unknown variable":
            d = Diagnostic(
                "Variables not allowed",
                "A variable's default cannot refer to other variables or locals; use a local "
                "value for a computed setting.",
                d.subject,
            )
        result.append(d)
    return result


def _declare_block(
    name: str, block: ast.Block, ctx: EvalContext, diags: list[Diagnostic]
) -> Variable:
    var = Variable(name, def_range(block))
    for attr in block.body.attributes:
        if attr.name not in VARIABLE_ATTRS:
            diags.append(
                Diagnostic(
                    "Unsupported argument",
                    f'An argument named "{attr.name}" is not expected here.'
                    + did_you_mean(attr.name, VARIABLE_ATTRS),
                    attr.name_range,
                )
            )
    by_name = {a.name: a for a in block.body.attributes}
    if "type" in by_name:
        try:
            var.type = type_from_expr(by_name["type"].expr)
        except TypeExprError as err:
            diags.append(err.diagnostic)
    for key in ("description", "sensitive"):
        if key in by_name:
            try:
                v = evaluate(by_name[key].expr, ctx)
            except EvalError as err:
                diags.extend(err.diagnostics)
                continue
            if key == "description":
                var.description = str(v.v) if v.v is not None else ""
            else:
                var.sensitive = v.v is True
    if "default" in by_name:
        attr = by_name["default"]
        try:
            default = evaluate(attr.expr, ctx)
        except EvalError as err:
            diags.extend(_no_variables_here(err))
        else:
            if "type" not in by_name and not default.is_null:
                var.type = default.type  # Packer 1.6.6: the type is the default's
            try:
                var.default = convert(default, var.type)
            except ConversionError as err:
                diags.append(
                    Diagnostic(
                        "Invalid default value for variable",
                        f"This default value is not compatible with the variable's type "
                        f"constraint ({type_string(var.type)}): {err.text}.",
                        attr.expr.range,
                    )
                )
    for inner in block.body.blocks:
        if inner.type == "validation":
            if _check_error_message(inner, diags):
                var.validations.append(inner)
        else:
            diags.append(
                Diagnostic(
                    "Unsupported block type",
                    f'Blocks of type "{inner.type}" are not expected here.'
                    + did_you_mean(inner.type, ["validation"]),
                    inner.type_range,
                )
            )
    return var


def _check_error_message(block: ast.Block, diags: list[Diagnostic]) -> bool:
    """Packer's rule for a literal `error_message` (hcl2template/types.variables.go,
    decodeVariableValidation): one or more sentences, as it is printed inside a message.
    False (and the error) for a message that breaks it: the rule is then not run."""
    attr = next((a for a in block.body.attributes if a.name == "error_message"), None)
    if attr is None:
        return True
    try:
        value = evaluate(attr.expr, EvalContext({}, {}))
    except EvalError:
        return True  # not a literal: shown as it evaluates when the rule fails
    if value.is_null or not isinstance(value.v, str):
        return True
    text = value.v.strip()
    if not value.v:
        detail = "An empty string is not a valid nor useful error message."
    elif text and (not text[0].isalpha() or text[0].isupper()) and text[-1] in ".?!":
        return True
    else:
        detail = ("Validation error message must be at least one full sentence starting with "
                  "an uppercase letter ( if the alphabet permits it ) and ending with a period "
                  "or question mark.")  # fmt: skip
    diags.append(Diagnostic("Invalid validation error message", detail, attr.expr.range))
    return False


@dataclass
class ValueInputs:
    auto_files: Sequence[Path] = ()
    var_files: Sequence[Path] = ()
    cli_vars: Mapping[str, str] = field(default_factory=dict)


def assign(
    variables: dict[str, Variable],
    inputs: ValueInputs,
    env: Mapping[str, str],
    sources: Sources,
    diags: list[Diagnostic],
) -> None:
    """Set each variable's value, lowest precedence first, as Packer does."""
    for var in variables.values():
        var.value = var.default
    for key, text in env.items():
        if key.startswith("PKR_VAR_") and key[8:] in variables:
            _set_from_string(variables[key[8:]], text, f"PKR_VAR_{key[8:]}", diags)
            variables[key[8:]].source = "env"
    for path in [*inputs.auto_files, *inputs.var_files]:
        _read_var_file(path, variables, sources, diags)
    for name, text in inputs.cli_vars.items():
        target = variables.get(name)
        if target is None:
            diags.append(_undeclared(name, None, variables))
            continue
        _set_from_string(target, text, f"-var {name}", diags)
        target.source = "cmd"
    for var in variables.values():
        if var.value is None and not var.broken:
            diags.append(
                Diagnostic(
                    f'Unset variable "{var.name}"',
                    f'The variable "{var.name}" is required: it has no default value and none '
                    f"was given. Set it with -var '{var.name}=VALUE', in a -var-file, in a "
                    f"*.auto.pkrvars.hcl file, or with the environment variable "
                    f"PKR_VAR_{var.name}; or give it a default.",
                    var.range,
                )
            )


def _undeclared(name: str, rng: ast.Range | None, variables: Mapping[str, Variable]) -> Diagnostic:
    """A value for a variable no block declares: an error on the command line, a warning in
    a variable file (which may be shared by templates that declare different variables),
    in Packer's words."""
    hint = did_you_mean(name, list(variables))
    if rng is None:
        return Diagnostic(
            "Undefined -var variable",
            f'A "{name}" variable was passed in the command line but was not found in known '
            f'variables. To declare variable "{name}", place this block in one of your .pkr '
            f'files, such as variables.pkr.hcl: variable "{name}" {{}}.{hint}',
            None,
        )
    return Diagnostic(
        "Undefined variable",
        f'A "{name}" variable was set but was not found in known variables. To declare '
        f'variable "{name}", place this block in one of your .pkr files, such as '
        f'variables.pkr.hcl: variable "{name}" {{}}.{hint}',
        rng,
        warning=True,
    )


def _set_from_string(var: Variable, text: str, where: str, diags: list[Diagnostic]) -> None:
    """-var and PKR_VAR_ values: taken as a string for string, number and untyped
    variables, read as an HCL expression for the others, as Packer does
    (expressionFromVariableDefinition)."""
    summary = _value_summary(where)
    if var.type in (STRING, NUMBER, DYNAMIC):
        var.value = _convert(var, string_val(text), where, None, diags, summary)
        return
    try:
        from kiln.template.hcl2.parser import parse_expression  # lark on first use

        expr = parse_expression(text, where)
        value = evaluate(expr, EvalContext({}, {}))
    except Exception as err:  # an HCLError or EvalError: report it as the value's problem
        diags.append(
            Diagnostic(
                summary,
                f'{where}: the value for "{var.name}" ({type_string(var.type)}) must be an HCL '
                f'expression such as ["a", "b"] or {{k = 1}}: {str(err).splitlines()[0]}',
                var.range,
            )
        )
        var.broken = True
        return
    var.value = _convert(var, value, where, None, diags, summary)


def _value_summary(where: str) -> str:
    """Packer's summary for a value that does not fit its variable: its own for -var."""
    return (
        "Invalid argument value for -var variable"
        if where.startswith("-var ")
        else ("Invalid value for variable")
    )


def _convert(
    var: Variable,
    value: Value,
    where: str,
    rng: ast.Range | None,
    diags: list[Diagnostic],
    summary: str = "Invalid value for variable",
) -> Value | None:
    try:
        return convert(value, var.type)
    except ConversionError as err:
        diags.append(
            Diagnostic(
                summary,
                f'The value for "{var.name}" given in {where} is not compatible with the '
                f"variable's type constraint ({type_string(var.type)}): {err.text}.",
                rng or var.range,
            )
        )
        var.broken = True  # reported: Packer gives it an unknown value, not also "unset"
        return var.value


def _read_var_file(
    path: Path, variables: dict[str, Variable], sources: Sources, diags: list[Diagnostic]
) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        diags.append(
            Diagnostic("Failed to read variable file", f"{path}: {err.strerror or err}", None)
        )
        return
    name = str(path)
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            rng = ast.Range(
                name, ast.Pos(err.lineno, err.colno), ast.Pos(err.lineno, err.colno + 1)
            )
            sources.add(name, text)
            diags.append(Diagnostic("Invalid JSON in variable file", err.msg, rng))
            return
        json_ranges = _json_key_ranges(text, name)
        sources.add(name, text)
        if not isinstance(data, dict):
            diags.append(
                Diagnostic("Invalid variable file", f"{path}: must hold a JSON object", None)
            )
            return
        for key, raw in data.items():
            var = variables.get(key)
            if var is None:
                diags.append(_undeclared(key, json_ranges.get(key, _file_range(name)), variables))
                continue
            var.value = _convert(var, from_python(raw), str(path), None, diags)
            var.source = "varfile"
        return
    from kiln.template.hcl2.diagnostics import HCLError

    try:
        from kiln.template.hcl2.parsecache import parse_config_cached

        body = parse_config_cached(text, name, sources)
    except HCLError as err:
        diags.extend(err.diagnostics)
        return
    for block in body.blocks:
        diags.append(
            Diagnostic(
                "Unexpected block in variable file",
                "A variable file holds only assignments (name = value).",
                block.type_range,
            )
        )
    for attr in body.attributes:
        var = variables.get(attr.name)
        if var is None:
            diags.append(_undeclared(attr.name, attr.name_range, variables))
            continue
        try:
            value = evaluate(attr.expr, EvalContext({}, standard_functions(path.parent)))
        except EvalError as err:
            diags.extend(_no_variables_here(err))
            continue
        var.value = _convert(var, value, str(path), attr.expr.range, diags)
        var.source = "varfile"


def _file_range(name: str) -> ast.Range:
    return ast.Range(name, ast.Pos(1, 1), ast.Pos(1, 1))


def _json_key_ranges(text: str, name: str) -> dict[str, ast.Range]:
    """Where each key of a JSON variable file is first written (`"key":`), for the
    warnings that point at one."""
    import re

    out: dict[str, ast.Range] = {}
    for i, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"\s*:', line):
            # the opening quote is at 1-based column start(1); the range ends after the closing one
            out.setdefault(m.group(1), ast.Range(name, ast.Pos(i, m.start(1)),
                                                 ast.Pos(i, m.end(1) + 2)))  # fmt: skip
    return out


def validate(variables: Mapping[str, Variable], base_dir: Path, diags: list[Diagnostic]) -> None:
    """Each `validation { condition, error_message }`, with only var.<name> in scope."""
    funcs = standard_functions(base_dir)
    for var in variables.values():
        if var.value is None:
            continue
        scope = EvalContext({"var": object_val({var.name: var.value})}, funcs)
        for block in var.validations:
            attrs = {a.name: a for a in block.body.attributes}
            cond = attrs.get("condition")
            msg = attrs.get("error_message")
            if cond is None or msg is None:
                diags.append(
                    Diagnostic(
                        "Incomplete validation block",
                        "A validation block needs both condition and error_message.",
                        block.range,
                    )
                )
                continue
            try:
                ok = evaluate(cond.expr, scope)
                text = evaluate(msg.expr, scope)
            except EvalError as err:
                diags.extend(err.diagnostics)
                continue
            if ok.v is not True:
                shown = "(sensitive)" if var.sensitive else _short(var.value)
                diags.append(
                    Diagnostic(
                        f"Invalid value for {var.source} variable",
                        f"{text.v}\n\nThis was checked by the validation rule at "
                        f"{cond.range} (var.{var.name} = {shown}).",
                        var.range,
                    )
                )


def _short(v: Value) -> str:
    from kiln.template.hcl2.functions.encoding import json_encode

    try:
        text = json_encode(v)
    except Exception:  # infinity
        text = repr(v)
    return text if len(text) < 80 else text[:77] + "..."


def secret_strings(v: Value | None) -> list[str]:
    """Every string inside a sensitive value (what must never be printed)."""
    if v is None or v.v is None:
        return []
    if isinstance(v.v, tuple):
        return [s for i in v.v for s in secret_strings(i)]
    if isinstance(v.v, dict):
        return [s for i in v.v.values() for s in secret_strings(i)]
    text = convert(v, STRING).as_str() if v.type != STRING else v.as_str()
    return [text] if text else []

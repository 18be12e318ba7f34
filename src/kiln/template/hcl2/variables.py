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
from kiln.template.hcl2.diagnostics import Diagnostic, Sources
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.functions import standard_functions
from kiln.template.hcl2.typeexpr import TypeExprError, type_from_expr
from kiln.template.hcl2.types import DYNAMIC, STRING, Type, type_string
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
    source: str = "default"


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
        out[name] = var
    for name, block in blocks.items():
        out[name] = _declare_block(name, block, ctx, diags)
    return out


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
    var = Variable(name, block.range)
    for attr in block.body.attributes:
        if attr.name not in VARIABLE_ATTRS:
            from kiln.suggest import closest

            best = closest(attr.name, VARIABLE_ATTRS)
            diags.append(
                Diagnostic(
                    "Unsupported argument",
                    f'An argument named "{attr.name}" is not expected in a variable.'
                    + (f' Did you mean "{best}"?' if best else ""),
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
            var.validations.append(inner)
        else:
            diags.append(
                Diagnostic(
                    "Unsupported block type",
                    f'Blocks of type "{inner.type}" are not expected in a variable; only '
                    "validation blocks are.",
                    inner.type_range,
                )
            )
    return var


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
    for path in [*inputs.auto_files, *inputs.var_files]:
        _read_var_file(path, variables, sources, diags)
    for name, text in inputs.cli_vars.items():
        target = variables.get(name)
        if target is None:
            diags.append(_undeclared(name, "-var", None, variables))
            continue
        _set_from_string(target, text, f"-var {name}", diags)
    for var in variables.values():
        if var.value is None:
            diags.append(
                Diagnostic(
                    "Unset variable",
                    f'The variable "{var.name}" is required: it has no default value and none '
                    f"was given. Set it with -var '{var.name}=VALUE', in a -var-file, in a "
                    f"*.auto.pkrvars.hcl file, or with the environment variable "
                    f"PKR_VAR_{var.name}; or give it a default.",
                    var.range,
                )
            )


def _undeclared(
    name: str, where: str, rng: ast.Range | None, variables: Mapping[str, Variable]
) -> Diagnostic:
    from kiln.suggest import closest

    best = closest(name, list(variables))
    return Diagnostic(
        "Undefined variable",
        f'A "{name}" variable was passed in ({where}) but was not found in known variables. '
        f'To declare variable "{name}", place a variable "{name}" {{}} block in one of your '
        ".pkr.hcl files." + (f' Did you mean "{best}"?' if best else ""),
        rng,
    )


def _set_from_string(var: Variable, text: str, where: str, diags: list[Diagnostic]) -> None:
    """-var and PKR_VAR_ values: taken as a string for string (and untyped) variables, read
    as an HCL expression for the others, as Packer does."""
    if var.type in (STRING, DYNAMIC):
        var.value = _convert(var, string_val(text), where, None, diags)
        return
    try:
        from kiln.template.hcl2.parser import parse_expression  # lark on first use

        expr = parse_expression(text, where)
        value = evaluate(expr, EvalContext({}, {}))
    except Exception as err:  # an HCLError or EvalError: report it as the value's problem
        diags.append(
            Diagnostic(
                "Invalid value for variable",
                f'{where}: the value for "{var.name}" ({type_string(var.type)}) must be an HCL '
                f'expression such as ["a", "b"] or {{k = 1}}: {str(err).splitlines()[0]}',
                var.range,
            )
        )
        return
    var.value = _convert(var, value, where, None, diags)


def _convert(
    var: Variable, value: Value, where: str, rng: ast.Range | None, diags: list[Diagnostic]
) -> Value | None:
    try:
        return convert(value, var.type)
    except ConversionError as err:
        diags.append(
            Diagnostic(
                "Invalid value for variable",
                f'The value for "{var.name}" given in {where} is not compatible with the '
                f"variable's type constraint ({type_string(var.type)}): {err.text}.",
                rng or var.range,
            )
        )
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
        if not isinstance(data, dict):
            diags.append(
                Diagnostic("Invalid variable file", f"{path}: must hold a JSON object", None)
            )
            return
        for key, raw in data.items():
            var = variables.get(key)
            if var is None:
                diags.append(_undeclared(key, str(path), None, variables))
                continue
            var.value = _convert(var, from_python(raw), str(path), None, diags)
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
            diags.append(_undeclared(attr.name, str(path), attr.name_range, variables))
            continue
        try:
            value = evaluate(attr.expr, EvalContext({}, standard_functions(path.parent)))
        except EvalError as err:
            diags.extend(_no_variables_here(err))
            continue
        var.value = _convert(var, value, str(path), attr.expr.range, diags)


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
                        "Invalid value for variable",
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

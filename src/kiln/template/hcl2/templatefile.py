"""`templatefile(path, vars)`: a file rendered as an HCL template with `vars` in scope."""

from __future__ import annotations

import re
from collections.abc import Mapping

from kiln.template.hcl2 import ast
from kiln.template.hcl2.convert import ConversionError, convert
from kiln.template.hcl2.diagnostics import HCLError
from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
from kiln.template.hcl2.function import ArgError, Function, FunctionError
from kiln.template.hcl2.types import STRING
from kiln.template.hcl2.values import Value

_IDENT = re.compile(r"[^\W\d][\w-]*\Z")


def _references(expr: object, out: list[tuple[str, ast.Range]]) -> None:
    if isinstance(expr, ast.ScopeTraversal):
        out.append((expr.root, expr.range))
    for item in ast.children(expr):
        _references(item, out)


def render_template_file(
    text: str, path: str, variables: Value, functions: Mapping[str, Function]
) -> Value:
    from kiln.template.hcl2.parser import parse_template

    if variables.is_null or variables.type.kind not in ("map", "object"):
        raise ArgError(1, "vars must be an object or a map")
    names = variables.attrs()
    for key in names:
        if not _IDENT.match(key):
            raise ArgError(
                1,
                f'invalid template variable name "{key}": must start with a '
                "letter, followed by zero or more letters, digits, and underscores",
            )
    try:
        expr = parse_template(text, path)
    except HCLError as err:
        raise FunctionError(f"failed to parse template: {_first(err)}") from None
    refs: list[tuple[str, ast.Range]] = []
    _references(expr, refs)
    for name, rng in refs:
        if name not in names and not _is_iterator(expr, name):
            raise ArgError(1, f'vars map does not contain key "{name}", referenced at {rng}')
    funcs = dict(functions)
    funcs.pop("templatefile", None)
    ctx = EvalContext(dict(names), funcs)
    try:
        value = evaluate(expr, ctx)
    except EvalError as err:
        d = err.diagnostics[0]
        where = f"{d.subject}: " if d.subject else ""
        raise FunctionError(f"{where}{d.summary}; {d.detail}") from None
    try:
        return convert(value, STRING)
    except ConversionError as err:
        raise FunctionError(f"the template must produce a string: {err.text}") from None


def _is_iterator(expr: object, name: str) -> bool:
    """Is `name` bound by a `for` inside the template (then it is not a var)?"""
    if isinstance(expr, ast.TemplateFor | ast.ForExpr) and name in (
        expr.key_var,
        expr.value_var,
    ):
        return True
    return any(_is_iterator(item, name) for item in ast.children(expr))


def _first(err: HCLError) -> str:
    d = err.diagnostics[0]
    return f"{d.subject}: {d.summary}; {d.detail}" if d.subject else f"{d.summary}; {d.detail}"

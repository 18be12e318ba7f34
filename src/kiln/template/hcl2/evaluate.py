"""Evaluate HCL2 expressions with cty semantics.

`evaluate(expr, ctx)` returns a `Value` or raises `EvalError` holding HCL-style
diagnostics that point at the part of the expression at fault. The scope (`EvalContext`)
holds the root variables (`var`, `local`, `path`, …) and the function table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kiln.suggest import closest
from kiln.template.hcl2 import ast
from kiln.template.hcl2.convert import ConversionError, convert, unify
from kiln.template.hcl2.diagnostics import Diagnostic
from kiln.template.hcl2.equality import equals
from kiln.template.hcl2.function import ArgError, Function, FunctionError
from kiln.template.hcl2.function_hints import unknown_function_hint
from kiln.template.hcl2.numbers import NaNError, Number
from kiln.template.hcl2.types import (
    BOOL,
    DYNAMIC,
    EMPTY_TUPLE,
    NUMBER,
    STRING,
    friendly_name,
    list_of,
)
from kiln.template.hcl2.values import (
    FALSE,
    NULL,
    TRUE,
    Value,
    bool_val,
    int_val,
    object_val,
    string_val,
    tuple_val,
)

MAX_DEPTH = 200


class EvalError(Exception):
    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(f"{d.summary}: {d.detail}" for d in self.diagnostics))


class EvalContext:
    """Root variables and functions; child scopes (for-expressions) add variables."""

    def __init__(
        self,
        variables: Mapping[str, Value] | None = None,
        functions: Mapping[str, Function] | None = None,
        parent: EvalContext | None = None,
        *,
        unknown_function_hint: Callable[[str], str] | None = None,
    ) -> None:
        self.variables = dict(variables or {})
        self.functions: Mapping[str, Function] = (
            functions if functions is not None else (parent.functions if parent else {})
        )
        self.parent = parent
        self.unknown_function_hint: Callable[[str], str] | None = unknown_function_hint or (
            parent.unknown_function_hint if parent else None
        )

    def child(self, variables: Mapping[str, Value]) -> EvalContext:
        return EvalContext(variables, self.functions, self)

    def lookup(self, name: str) -> Value | None:
        scope: EvalContext | None = self
        while scope is not None:
            if name in scope.variables:
                return scope.variables[name]
            scope = scope.parent
        return None

    def all_names(self) -> list[str]:
        names: list[str] = []
        scope: EvalContext | None = self
        while scope is not None:
            names.extend(scope.variables)
            scope = scope.parent
        return names


def fail(summary: str, detail: str, rng: ast.Range | None) -> EvalError:
    return EvalError([Diagnostic(summary, detail, rng)])


def evaluate(expr: ast.Expr, ctx: EvalContext) -> Value:
    return _Evaluator(ctx).eval(expr, 0)


class _Evaluator:
    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.splat_items: list[Value] = []

    def eval(self, expr: ast.Expr, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise fail("Expression too deep", "The expression is nested too deeply.", expr.range)
        method = getattr(self, _METHODS[type(expr)])
        result: Value = method(expr, depth + 1)
        return result

    # literals and templates
    def e_literal(self, e: ast.Literal, d: int) -> Value:
        assert isinstance(e.value, Value)
        return e.value

    def e_parens(self, e: ast.Parens, d: int) -> Value:
        return self.eval(e.inner, d)

    def e_template_wrap(self, e: ast.TemplateWrap, d: int) -> Value:
        return self.eval(e.wrapped, d)

    def e_template_expr(self, e: ast.TemplateExpr, d: int) -> Value:
        return string_val("".join(self.template_part(p, d) for p in e.parts))

    def template_part(self, part: ast.Expr, d: int) -> str:
        if (
            isinstance(part, ast.Literal)
            and isinstance(part.value, Value)
            and part.value.type == STRING
        ):
            return part.value.as_str()
        value = self.eval(part, d)
        if value.is_null:
            raise fail(
                "Invalid template interpolation value",
                "The expression result is null. Cannot include a null value in a string template.",
                part.range,
            )
        try:
            return convert(value, STRING).as_str()
        except ConversionError as err:
            raise fail(
                "Invalid template interpolation value",
                f"Cannot include the given value in a string template: {err.text}.",
                part.range,
            ) from None

    def e_template_if(self, e: ast.TemplateIf, d: int) -> Value:
        cond = self.condition(e.cond, d, "Invalid template if directive")
        if cond:
            return self.eval(e.true, d)
        if e.false is None:
            return string_val("")
        return self.eval(e.false, d)

    def e_template_for(self, e: ast.TemplateFor, d: int) -> Value:
        coll = self.eval(e.collection, d)
        out = []
        for key, value in self.iterate(coll, e.collection.range, "template for directive"):
            scope = {e.value_var: value}
            if e.key_var is not None:
                scope[e.key_var] = key
            inner = _Evaluator(self.ctx.child(scope))
            out.append(inner.eval(e.body, d).as_str())
        return string_val("".join(out))

    # references
    def e_scope_traversal(self, e: ast.ScopeTraversal, d: int) -> Value:
        root = self.ctx.lookup(e.root)
        if root is None:
            root_range = ast.Range(
                e.range.filename,
                e.range.start,
                ast.Pos(e.range.start.line, e.range.start.column + len(e.root)),
            )
            raise fail(
                "Unknown variable",
                f'There is no variable named "{e.root}".' + _suggest(e.root, self.ctx.all_names()),
                root_range,
            )
        value = root
        for i, step in enumerate(e.steps):
            value = self.step(value, step, d, root_name=e.root if i == 0 else "")
        return value

    def e_relative_traversal(self, e: ast.RelativeTraversal, d: int) -> Value:
        value = self.eval(e.source, d)
        for step in e.steps:
            value = self.step(value, step, d)
        return value

    def step(self, value: Value, step: ast.Step, d: int, root_name: str = "") -> Value:
        if isinstance(step, ast.GetAttr):
            return get_attr(value, step.name, step.range, root_name)
        key = self.eval(step.key, d)
        return index(value, key, step.range)

    def e_splat_item(self, e: ast.SplatItem, d: int) -> Value:
        return self.splat_items[-1]

    def e_splat(self, e: ast.Splat, d: int) -> Value:
        source = self.eval(e.source, d)
        if source.is_null:
            return tuple_val(())
        kind = source.type.kind
        if kind not in ("list", "set", "tuple"):
            items: tuple[Value, ...] = (source,)
        else:
            items = source.items()
        results = []
        for item in items:
            self.splat_items.append(item)
            try:
                results.append(self.eval(e.each, d))
            finally:
                self.splat_items.pop()
        if kind == "list":
            types = {r.type for r in results}
            if len(types) <= 1:
                elem = types.pop() if types else DYNAMIC
                return Value(list_of(elem), tuple(results))
        return tuple_val(results)

    # calls
    def e_function_call(self, e: ast.FunctionCall, d: int) -> Value:
        if e.name in ("try", "can"):
            return self.try_or_can(e, d)
        if e.name == "convert":
            return self.convert_call(e, d)
        func = self.ctx.functions.get(e.name)
        if func is None:
            if self.ctx.unknown_function_hint is not None:
                hint = self.ctx.unknown_function_hint(e.name)
            else:
                hint = unknown_function_hint(e.name)
            raise fail(
                "Call to unknown function",
                f'There is no function named "{e.name}".'
                + (hint or _suggest(e.name, list(self.ctx.functions))),
                e.name_range,
            )
        args = [self.eval(a, d) for a in e.args]
        arg_ranges = [a.range for a in e.args]
        if e.expand_final and args:
            last = args.pop()
            last_range = arg_ranges.pop()
            if last.is_null or last.type.kind not in ("list", "set", "tuple"):
                raise fail(
                    "Invalid expanding argument value",
                    "The expanding argument (indicated by ...) must be of a tuple, list, or "
                    "set type.",
                    last_range,
                )
            args.extend(last.items())
            arg_ranges.extend([last_range] * len(last.items()))
        return call_function(e.name, func, args, arg_ranges, e.range)

    def convert_call(self, e: ast.FunctionCall, d: int) -> Value:
        """Packer's `convert(value, type)`: the second argument is a type expression."""
        from kiln.template.hcl2.typeexpr import TypeExprError, type_from_expr

        if len(e.args) != 2:
            raise fail(
                "Invalid number of arguments",
                f'Function "convert" expects 2 arguments (a value and a type), got {len(e.args)}.',
                e.range,
            )
        value = self.eval(e.args[0], d)
        try:
            want = type_from_expr(e.args[1])
        except TypeExprError as err:
            raise EvalError([err.diagnostic]) from None
        try:
            return convert(value, want)
        except ConversionError as err:
            raise fail(
                "Invalid function argument",
                f'Invalid value for "value" parameter: {err.text}.',
                e.args[0].range,
            ) from None

    def try_or_can(self, e: ast.FunctionCall, d: int) -> Value:
        if e.name == "can":
            if len(e.args) != 1:
                raise fail(
                    "Invalid number of arguments",
                    f'Function "can" expects 1 argument, got {len(e.args)}.',
                    e.range,
                )
            try:
                self.eval(e.args[0], d)
            except EvalError:
                return FALSE
            return TRUE
        if not e.args:
            raise fail(
                "Not enough function arguments",
                'Function "try" expects at least one argument.',
                e.range,
            )
        errors: list[Diagnostic] = []
        for arg in e.args:
            try:
                return self.eval(arg, d)
            except EvalError as err:
                errors.extend(err.diagnostics)
        detail = "\n".join(f"- {diag.detail}" for diag in errors)
        raise fail(
            "Error in function call",
            'Call to function "try" failed: no expression succeeded:\n' + detail
            + "\n\nAt least one expression must produce a successful result.",
            e.range,
        )  # fmt: skip

    # operators
    def e_unary_op(self, e: ast.UnaryOp, d: int) -> Value:
        operand = self.eval(e.operand, d)
        if e.op == "!":
            b = self.operand(operand, BOOL, e.operand.range, "")
            return bool_val(not b.v)
        n = self.operand(operand, NUMBER, e.operand.range, "")
        return Value(NUMBER, n.as_number().neg_())

    def operand(self, v: Value, want: Any, rng: ast.Range, side: str) -> Value:
        label = f"Unsuitable value for {side} operand" if side else "Unsuitable value for operand"
        if v.is_null:
            raise fail(
                "Invalid operand", f"{label}: a {friendly_name(want)} is required, not null.", rng
            )
        try:
            return convert(v, want)
        except ConversionError as err:
            msg = err.text
            if msg.endswith(" required") and not msg.startswith("a "):
                msg = f"a {friendly_name(want)} is required"
            raise fail("Invalid operand", f"{label}: {msg}.", rng) from None

    def e_binary_op(self, e: ast.BinaryOp, d: int) -> Value:
        left = self.eval(e.left, d)
        right = self.eval(e.right, d)
        op = e.op
        if op in ("==", "!="):
            same = equals(left, right)
            return bool_val(same if op == "==" else not same)
        if op in ("&&", "||"):
            lb = self.operand(left, BOOL, e.left.range, "left").v
            rb = self.operand(right, BOOL, e.right.range, "right").v
            return bool_val((lb and rb) if op == "&&" else (lb or rb))
        a = self.operand(left, NUMBER, e.left.range, "left").as_number()
        b = self.operand(right, NUMBER, e.right.range, "right").as_number()
        if op in ("<", ">", "<=", ">="):
            c = a.compare(b)
            return bool_val({"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[op])
        try:
            result = _ARITH[op](a, b)
        except NaNError:
            raise fail(
                "Operation failed", f"Error during operation: {_NAN_MESSAGES[op]}.", e.range
            ) from None
        return Value(NUMBER, result)

    def condition(self, expr: ast.Expr, d: int, summary: str) -> bool:
        value = self.eval(expr, d)
        if value.is_null:
            raise fail(
                "Null condition",
                "The condition value is null. Conditions must either be true or false.",
                expr.range,
            )
        try:
            return bool(convert(value, BOOL).v)
        except ConversionError as err:
            raise fail(
                "Incorrect condition type",
                f"The condition expression must be of type bool: {err.text}.",
                expr.range,
            ) from None

    def e_conditional(self, e: ast.Conditional, d: int) -> Value:
        # As HCL 2.6: both results are evaluated (their types decide the result type),
        # but only the chosen one's errors count.
        results: list[Value | EvalError] = []
        for branch in (e.true, e.false):
            try:
                results.append(self.eval(branch, d))
            except EvalError as err:
                results.append(err)
        chosen = 0 if self.condition(e.cond, d, "Incorrect condition type") else 1
        picked = results[chosen]
        if isinstance(picked, EvalError):
            raise picked
        other = results[1 - chosen]
        if isinstance(other, EvalError):
            return picked
        t_true = results[0].type if isinstance(results[0], Value) else DYNAMIC
        t_false = results[1].type if isinstance(results[1], Value) else DYNAMIC
        if _is_dynamic_null(results[0]):
            rtype = t_false
        elif _is_dynamic_null(results[1]):
            rtype = t_true
        else:
            unified = unify([t_true, t_false])
            if unified is None:
                raise fail(
                    "Inconsistent conditional result types",
                    "The true and false result expressions must have consistent types. The "
                    f"given expressions are {friendly_name(t_true)} and "
                    f"{friendly_name(t_false)}, respectively.",
                    e.range,
                )
            rtype = unified
        try:
            return convert(picked, rtype)
        except ConversionError as err:  # pragma: no cover - unify checked the types
            raise fail("Inconsistent conditional result types", err.text, e.range) from None

    # constructors
    def e_tuple_cons(self, e: ast.TupleCons, d: int) -> Value:
        return tuple_val(self.eval(item, d) for item in e.items)

    def e_object_cons(self, e: ast.ObjectCons, d: int) -> Value:
        out: dict[str, Value] = {}
        for item in e.items:
            key = self.eval(item.key, d)
            if key.is_null:
                raise fail(
                    "Invalid object key",
                    "Can't use a null value as a key.",
                    item.key.range,
                )
            try:
                name = convert(key, STRING).as_str()
            except ConversionError as err:
                raise fail(
                    "Invalid object key",
                    f"Can't use this value as a key: {err.text}.",
                    item.key.range,
                ) from None
            out[name] = self.eval(item.value, d)
        return object_val(out)

    def e_for_expr(self, e: ast.ForExpr, d: int) -> Value:
        coll = self.eval(e.collection, d)
        items = self.iterate(coll, e.collection.range, "'for' expression")
        values: list[Value] = []
        grouped: dict[str, list[Value]] = {}
        plain: dict[str, Value] = {}
        for key, value in items:
            scope = {e.value_var: value}
            if e.key_var is not None:
                scope[e.key_var] = key
            inner = _Evaluator(self.ctx.child(scope))
            inner.splat_items = self.splat_items
            if e.cond is not None and not inner.condition(e.cond, d, "Invalid 'for' condition"):
                continue
            if e.key_expr is None:
                values.append(inner.eval(e.value_expr, d))
                continue
            k = inner.eval(e.key_expr, d)
            if k.is_null:
                raise fail(
                    "Invalid object key",
                    "Key expression in 'for' expression must not produce a null value.",
                    e.key_expr.range,
                )
            try:
                name = convert(k, STRING).as_str()
            except ConversionError as err:
                raise fail(
                    "Invalid object key",
                    f"The key expression produced an invalid result: {err.text}.",
                    e.key_expr.range,
                ) from None
            v = inner.eval(e.value_expr, d)
            if e.group:
                grouped.setdefault(name, []).append(v)
            elif name in plain:
                raise fail(
                    "Duplicate object key",
                    f"Two different items produced the key \"{name}\" in this 'for' "
                    "expression. If duplicates are expected, use the ellipsis (...) after "
                    "the value expression to enable grouping by key.",
                    e.key_expr.range,
                )
            else:
                plain[name] = v
        if e.key_expr is None:
            return tuple_val(values)
        if e.group:
            return object_val({k: tuple_val(vs) for k, vs in grouped.items()})
        return object_val(plain)

    def iterate(self, coll: Value, rng: ast.Range, what: str) -> list[tuple[Value, Value]]:
        if coll.is_null:
            raise fail(
                "Iteration over null value",
                f"A null value cannot be used as the collection in a {what}.",
                rng,
            )
        kind = coll.type.kind
        if kind in ("list", "tuple"):
            return [(int_val(i), v) for i, v in enumerate(coll.items())]
        if kind == "set":
            return [(v, v) for v in coll.items()]
        if kind in ("map", "object"):
            return [(string_val(k), v) for k, v in coll.attrs().items()]
        raise fail(
            "Iteration over non-iterable value",
            f"A value of type {friendly_name(coll.type)} cannot be used as the collection in "
            f"a {what}.",
            rng,
        )


_METHODS = {
    cls: "e_" + re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    for cls in (
        ast.Literal, ast.Parens, ast.TemplateWrap, ast.TemplateExpr, ast.TemplateIf,
        ast.TemplateFor, ast.ScopeTraversal, ast.RelativeTraversal, ast.SplatItem, ast.Splat,
        ast.FunctionCall, ast.UnaryOp, ast.BinaryOp, ast.Conditional, ast.TupleCons,
        ast.ObjectCons, ast.ForExpr,
    )
}  # fmt: skip


def _is_dynamic_null(v: Value | EvalError) -> bool:
    return isinstance(v, Value) and v.is_null and v.type == DYNAMIC


_ARITH: dict[str, Callable[[Number, Number], Number]] = {
    "+": Number.add,
    "-": Number.sub,
    "*": Number.mul,
    "/": Number.quo,
    "%": Number.mod,
}
_NAN_MESSAGES = {
    "+": "can't compute sum of opposing infinities",
    "-": "can't subtract infinity from itself",
    "*": "can't multiply zero by infinity",
    "/": "can't divide zero by zero or infinity by infinity",
    "%": "can't use modulo with zero and infinity",
}


def _suggest(name: str, candidates: Sequence[str]) -> str:
    best = closest(name, list(dict.fromkeys(candidates)))
    return f' Did you mean "{best}"?' if best else ""


def get_attr(value: Value, name: str, rng: ast.Range, root_name: str = "") -> Value:
    if value.is_null:
        raise fail(
            "Attempt to get attribute from null value",
            "This value is null, so it does not have any attributes.",
            rng,
        )
    kind = value.type.kind
    if kind == "object":
        attrs = value.attrs()
        if name not in attrs:
            what = {"var": "input variable", "local": "local value"}.get(root_name)
            if what:
                detail = f'There is no {what} named "{name}".'
            else:
                detail = f'This object does not have an attribute named "{name}".'
            raise fail("Unsupported attribute", detail + _suggest(name, list(attrs)), rng)
        return attrs[name]
    if kind == "map":
        attrs = value.attrs()
        if name not in attrs:
            raise fail(
                "Missing map element",
                f'This map does not have an element with the key "{name}".'
                + _suggest(name, list(attrs)),
                rng,
            )
        return attrs[name]
    if kind in ("list", "tuple", "set"):
        raise fail(
            "Unsupported attribute",
            f"Can't access attributes on a {friendly_name(value.type)}. Did you mean to access "
            "an attribute for a specific element of the list, or across all elements of the "
            "list?",
            rng,
        )
    raise fail(
        "Unsupported attribute",
        f"Can't access attributes on a primitive-typed value ({friendly_name(value.type)}).",
        rng,
    )


def index(value: Value, key: Value, rng: ast.Range) -> Value:
    if value.is_null:
        raise fail("Attempt to index null value", "This value is null, so it does not have "
                   "any indices.", rng)  # fmt: skip
    if key.is_null:
        raise fail("Invalid index", "Can't use a null value as an indexing key.", rng)
    kind = value.type.kind
    if kind in ("list", "tuple"):
        try:
            num = convert(key, NUMBER).as_number()
        except ConversionError:
            raise fail(
                "Invalid index",
                f"The given key does not identify an element in this collection value: a "
                f"number is required, not {friendly_name(key.type)}.",
                rng,
            ) from None
        if not num.is_int():
            raise fail("Invalid index", "The given key does not identify an element in this "
                       "collection value: indexes must be whole numbers.", rng)  # fmt: skip
        i = num.to_int()
        items = value.items()
        if i < 0 or i >= len(items):
            detail = (
                "The given key does not identify an element in this collection value: the "
                "given index is greater than or equal to the length of the collection."
                if i >= 0
                else "The given key does not identify an element in this collection value: "
                "a negative number is not a valid index for a sequence."
            )
            raise fail("Invalid index", detail, rng)
        return items[i]
    if kind in ("map", "object"):
        try:
            name = convert(key, STRING).as_str()
        except ConversionError:
            raise fail(
                "Invalid index",
                "The given key does not identify an element in this collection value: "
                "a string is required.",
                rng,
            ) from None
        attrs = value.attrs()
        if name not in attrs:
            if kind == "object":
                raise fail(
                    "Invalid index",
                    f"The given key does not identify an element in this collection value: "
                    f'this object has no attribute "{name}".' + _suggest(name, list(attrs)),
                    rng,
                )
            raise fail(
                "Invalid index",
                "The given key does not identify an element in this collection value."
                + _suggest(name, list(attrs)),
                rng,
            )
        return attrs[name]
    if kind == "set":
        raise fail(
            "Invalid index",
            "Elements of a set are identified only by their value and don't have any separate "
            "index or key to select with, so it's only possible to perform operations across "
            "all elements of the set.",
            rng,
        )
    raise fail("Invalid index", "This value does not have any indices.", rng)


def call_function(
    name: str,
    func: Function,
    args: Sequence[Value],
    arg_ranges: Sequence[ast.Range],
    rng: ast.Range,
) -> Value:
    params = func.params
    if len(args) < len(params):
        missing = params[len(args)]
        raise fail(
            "Not enough function arguments",
            f'Function "{name}" expects {len(params)} argument(s). Missing value for '
            f'"{missing.name}".',
            rng,
        )
    if len(args) > len(params) and func.variadic is None:
        where = arg_ranges[len(params)] if len(arg_ranges) > len(params) else rng
        raise fail(
            "Too many function arguments",
            f'Function "{name}" expects only {len(params)} argument(s).',
            where,
        )
    converted = []
    for i, arg in enumerate(args):
        param = params[i] if i < len(params) else func.variadic
        assert param is not None
        arg_rng = arg_ranges[i] if i < len(arg_ranges) else rng
        if arg.is_null:
            if not param.allow_null:
                raise fail(
                    "Invalid function argument",
                    f'Invalid value for "{param.name}" parameter: argument must not be null.',
                    arg_rng,
                )
            converted.append(arg)
            continue
        try:
            converted.append(convert(arg, param.type))
        except ConversionError as err:
            raise fail(
                "Invalid function argument",
                f'Invalid value for "{param.name}" parameter: {err.text}.',
                arg_rng,
            ) from None
    try:
        return func.impl(converted)
    except ArgError as err:
        arg_rng = arg_ranges[err.index] if err.index < len(arg_ranges) else rng
        param = params[err.index] if err.index < len(params) else func.variadic
        pname = param.name if param is not None else "argument"
        raise fail(
            "Invalid function argument",
            f'Invalid value for "{pname}" parameter: {err}.',
            arg_rng,
        ) from None
    except FunctionError as err:
        raise fail(
            "Error in function call", f'Call to function "{name}" failed: {err}.', rng
        ) from None
    except ConversionError as err:
        raise fail(
            "Error in function call", f'Call to function "{name}" failed: {err.text}.', rng
        ) from None
    except (NaNError, OverflowError, RecursionError, MemoryError) as err:
        raise fail(
            "Error in function call", f'Call to function "{name}" failed: {err}.', rng
        ) from None


__all__ = [
    "EMPTY_TUPLE",
    "NULL",
    "EvalContext",
    "EvalError",
    "call_function",
    "equals",
    "evaluate",
    "get_attr",
    "index",
]

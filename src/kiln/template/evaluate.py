"""Executes a parsed template against data and functions (Go's `text/template/exec.go`).

Function arguments are checked against the function's Python annotations, which play
the part of Go's parameter types: `str`, `int`, `float`, `bool`, or anything else
(`object`) for "any value". So `{{ split "a-b" "-" "1" }}` fails the way Packer does
(`expected integer; found "1"`), and arity errors read `wrong number of args for split:
want 3 got 2`. A callable without usable annotations accepts any arguments.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from kiln.errors import KilnError, TemplateError
from kiln.golang.fmt import format_value, go_type, is_list, sorted_keys
from kiln.golang.strconv import quote
from kiln.suggest import GO_CUTOFF, did_you_mean
from kiln.template.gobuiltins import BUILTINS, truth
from kiln.template.limits import MAX_RENDERED, too_long
from kiln.template.nodes import (
    ActionNode,
    BoolNode,
    BreakNode,
    ChainNode,
    CommandNode,
    ContinueNode,
    DotNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    NilNode,
    Node,
    NumberNode,
    Operand,
    PipeNode,
    RangeNode,
    StringNode,
    TextNode,
    VariableNode,
    WithNode,
)
from kiln.template.parser import line_col


class _Missing:
    """No value piped in (distinct from nil)."""


MISSING: Final = _Missing()

# ------------------------------------------------------------------ signatures

ANY = "any"
_KIND_OF: dict[object, str] = {str: "string", int: "int", float: "float64", bool: "bool"}


@dataclass(frozen=True, slots=True)
class Signature:
    params: tuple[str, ...]  # kind of each positional parameter
    required: int  # how many of them have no default
    variadic: str | None  # kind of *args, if any

    def kind_at(self, i: int) -> str:
        if i < len(self.params):
            return self.params[i]
        return self.variadic or ANY


def _signature_uncached(fn: Callable[..., object]) -> Signature | None:
    try:
        sig = inspect.signature(fn, eval_str=True)
    except Exception:  # builtins without metadata, unresolvable annotations
        return None
    params: list[str] = []
    required = 0
    variadic: str | None = None
    for p in sig.parameters.values():
        kind = _KIND_OF.get(p.annotation, ANY)
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            params.append(kind)
            if p.default is p.empty:
                required = len(params)
        elif p.kind is p.VAR_POSITIONAL:
            variadic = kind
        elif p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            return None
    return Signature(tuple(params), required, variadic)


@functools.lru_cache(maxsize=4096)
def _signature_cached(fn: Callable[..., object]) -> Signature | None:
    return _signature_uncached(fn)


def signature_of(fn: Callable[..., object]) -> Signature | None:
    """The parameter kinds of `fn`, or None when they cannot be known (any arguments)."""
    try:
        return _signature_cached(fn)
    except TypeError:  # unhashable callable
        return _signature_uncached(fn)


# ------------------------------------------------------------------ control flow


class _BreakSignal(Exception):
    """{{break}} unwinding to its {{range}}."""


class _ContinueSignal(Exception):
    """{{continue}} unwinding to its {{range}}."""


def go_did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """kiln.suggest's hint as template errors give it: a looser match, Go's quoting."""
    return did_you_mean(name, candidates, cutoff=GO_CUTOFF, fold_case=False, quote=quote)


def relocate(err: TemplateError, where: str, line: int, col: int) -> TemplateError:
    """A copy of `err` (same class) attributed to key `where` at line:col."""
    new = type(err).__new__(type(err))
    new.__dict__.update(err.__dict__)
    new.where, new.line, new.col = where, line, col
    new.args = (str(TemplateError(err.problem, where=where, line=line, col=col)),)
    new.__cause__ = err.__cause__
    return new


class Evaluator:
    def __init__(
        self,
        source: str,
        where: str,
        data: Mapping[str, object],
        funcs: Mapping[str, Callable[..., object]],
    ) -> None:
        self.source = source
        self.where = where
        self.data = data
        self.funcs = funcs
        self.vars: list[tuple[str, object]] = [("$", data)]
        self.size = 0  # characters of output so far

    # -------------------------------------------------------------- errors

    def error(self, problem: str, node: Node | int) -> TemplateError:
        pos = node if isinstance(node, int) else node.pos
        line, col = line_col(self.source, pos)
        return TemplateError(problem, where=self.where, line=line, col=col)

    def text(self, node: Node) -> str:
        return self.source[node.pos : node.end]

    def lookup(self, name: str) -> Callable[..., object] | None:
        fn = self.funcs.get(name)
        return fn if fn is not None else BUILTINS.get(name)

    def check_functions(self, idents: Sequence[IdentifierNode]) -> None:
        """Go checks function names when parsing; we know the functions only now."""
        for ident in idents:
            if self.lookup(ident.name) is None:
                names = sorted({*self.funcs, *BUILTINS})
                hint = go_did_you_mean(ident.name, names)
                raise self.error(f"function {quote(ident.name)} not defined{hint}", ident)

    # -------------------------------------------------------------- statements

    def run(self, root: ListNode) -> str:
        out: list[str] = []
        self.walk(self.data, root, out)
        return "".join(out)

    def emit(self, out: list[str], text: str, node: Node) -> None:
        """Add `text` to the output, which may not grow past `MAX_RENDERED` characters."""
        self.size += len(text)
        if self.size > MAX_RENDERED:
            raise self.error(too_long(self.size), node)
        out.append(text)

    def walk(self, dot: object, node: ListNode, out: list[str]) -> None:
        for item in node.items:
            if isinstance(item, TextNode):
                self.emit(out, item.text, item)
            elif isinstance(item, ActionNode):
                value = self.eval_pipeline(dot, item.pipe)
                if not item.pipe.decl:
                    text = "<no value>" if value is None else format_value(value)
                    self.emit(out, text, item)
            elif isinstance(item, IfNode):
                self.walk_if(dot, item, out)
            elif isinstance(item, WithNode):
                self.walk_with(dot, item, out)
            elif isinstance(item, RangeNode):
                self.walk_range(dot, item, out)
            elif isinstance(item, BreakNode):
                raise _BreakSignal
            elif isinstance(item, ContinueNode):
                raise _ContinueSignal

    def walk_if(self, dot: object, node: IfNode, out: list[str]) -> None:
        mark = len(self.vars)
        try:
            for cond, body in node.branches:
                if truth(self.eval_pipeline(dot, cond)):
                    self.walk(dot, body, out)
                    return
            if node.else_list is not None:
                self.walk(dot, node.else_list, out)
        finally:
            del self.vars[mark:]

    def walk_with(self, dot: object, node: WithNode, out: list[str]) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if truth(value):
                self.walk(value, node.body, out)
            elif node.else_list is not None:
                self.walk(dot, node.else_list, out)
        finally:
            del self.vars[mark:]

    def _range_items(self, node: RangeNode, value: object) -> list[tuple[object, object]]:
        if is_list(value):
            assert isinstance(value, Sequence)
            return list(enumerate(value))
        if isinstance(value, Mapping):
            return [(k, value[k]) for k in sorted_keys(value)]
        if value is None:
            return []
        raise self.error(f"range can't iterate over {format_value(value)}", node.pipe)

    def walk_range(self, dot: object, node: RangeNode, out: list[str]) -> None:
        outer = len(self.vars)
        try:
            items = self._range_items(node, self.eval_pipeline(dot, node.pipe))
            if not items:
                if node.else_list is not None:
                    self.walk(dot, node.else_list, out)
                return
            mark = len(self.vars)
            decl = node.pipe.decl
            for index, elem in items:
                # `$e :=` / `$i, $e :=` (or `=`): the innermost variables of these names
                if len(decl) == 1:
                    self.set_var(decl[0], elem, node)
                elif len(decl) == 2:
                    self.set_var(decl[0], index, node)
                    self.set_var(decl[1], elem, node)
                try:
                    self.walk(elem, node.body, out)
                except _ContinueSignal:
                    pass
                except _BreakSignal:
                    break
                finally:
                    del self.vars[mark:]
        finally:
            del self.vars[outer:]

    # -------------------------------------------------------------- pipelines

    def var_value(self, name: str, node: Node) -> object:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise self.error(f"undefined variable: {name}", node)

    def set_var(self, name: str, value: object, node: Node) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.error(f"undefined variable: {name}", node)

    def eval_pipeline(self, dot: object, pipe: PipeNode) -> object:
        value: object = MISSING
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value, pipe)
            else:
                self.vars.append((name, value))
        return value

    def not_a_function(self, args: Sequence[Operand], final: object) -> None:
        if len(args) > 1 or final is not MISSING:
            first = self.text(args[0])
            raise self.error(f"can't give argument to non-function {first}", args[0])

    def eval_command(self, dot: object, cmd: CommandNode, final: object) -> object:
        first = cmd.args[0]
        if isinstance(first, FieldNode):
            return self.eval_field_chain(dot, first, first.names, cmd.args, final)
        if isinstance(first, ChainNode):
            receiver = self.eval_arg(dot, ANY, first.node)
            return self.eval_field_chain(receiver, first, first.fields, cmd.args, final)
        if isinstance(first, IdentifierNode):
            return self.eval_function(dot, first, cmd.args, final)
        if isinstance(first, VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.not_a_function(cmd.args, final)
        if isinstance(first, PipeNode):
            return self.eval_pipeline(dot, first)
        if isinstance(first, NilNode):
            raise self.error("nil is not a command", first)
        return self.eval_arg(dot, ANY, first)

    def eval_variable(
        self, dot: object, node: VariableNode, args: Sequence[Operand], final: object
    ) -> object:
        value = self.var_value(node.name, node)
        if not node.fields:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(value, node, node.fields, args, final)

    def eval_field_chain(
        self,
        receiver: object,
        node: Node,
        names: Sequence[str],
        args: Sequence[Operand],
        final: object,
    ) -> object:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            receiver = self.eval_field(
                name, node, receiver, args if last else (), final if last else MISSING
            )
        return receiver

    def eval_field(
        self, name: str, node: Node, receiver: object, args: Sequence[Operand], final: object
    ) -> object:
        if isinstance(receiver, Mapping):
            if name in receiver:
                if len(args) > 1 or final is not MISSING:
                    raise self.error(f"{name} is not a method but has arguments", node)
                return receiver[name]
            keys = [str(k) for k in sorted_keys(receiver)]
            hint = go_did_you_mean(name, keys)
            if keys:
                shown = ", ".join(keys[:40]) + (", ..." if len(keys) > 40 else "")
                available = f"available: {shown}"
            else:
                available = "no fields are available here"
            raise self.error(f"field {quote(name)} is not defined{hint} ({available})", node)
        if receiver is None:
            raise self.error(f"can't evaluate field {name}: the value is nil (<no value>)", node)
        raise self.error(f"can't evaluate field {name} in type {go_type(receiver)}", node)

    # -------------------------------------------------------------- calls

    def eval_function(
        self, dot: object, ident: IdentifierNode, args: Sequence[Operand], final: object
    ) -> object:
        name = ident.name
        fn = self.lookup(name)
        if fn is None:
            raise self.error(f"function {quote(name)} not defined", ident)
        return self.eval_call(dot, fn, ident, args[1:], final)

    def eval_call(
        self,
        dot: object,
        fn: Callable[..., object],
        ident: IdentifierNode,
        args: Sequence[Operand],
        final: object,
    ) -> object:
        name = ident.name
        sig = signature_of(fn)
        num_in = len(args) + (final is not MISSING)
        if sig is not None:
            fixed = len(sig.params)
            if sig.variadic is not None:
                if num_in < sig.required:
                    want = f"want at least {sig.required} got {num_in}"
                    raise self.error(f"wrong number of args for {name}: {want}", ident)
            elif not sig.required <= num_in <= fixed:
                want = str(fixed) if sig.required == fixed else f"{sig.required} to {fixed}"
                raise self.error(
                    f"wrong number of args for {name}: want {want} got {num_in}", ident
                )
        if fn is BUILTINS.get(name) and name in ("and", "or"):
            return self.eval_and_or(dot, name, args, final)
        values: list[object] = []
        for i, arg in enumerate(args):
            values.append(self.eval_arg(dot, sig.kind_at(i) if sig else ANY, arg))
        if final is not MISSING:
            kind = sig.kind_at(num_in - 1) if sig else ANY
            values.append(self.validate(final, kind, ident))
        try:
            return fn(*values)
        except TemplateError as err:
            if err.line or err.where:
                raise
            line, col = line_col(self.source, ident.pos)
            raise relocate(err, self.where, line, col) from err.__cause__
        except (_BreakSignal, _ContinueSignal):
            raise
        except KilnError as err:
            raise self.error(f"error calling {name}: {err}", ident) from err
        except Exception as err:
            detail = str(err) or type(err).__name__
            raise self.error(f"error calling {name}: {detail}", ident) from err

    def eval_and_or(self, dot: object, name: str, args: Sequence[Operand], final: object) -> object:
        """`and`/`or` stop at the first operand that decides, and return that operand."""
        value: object = MISSING
        for arg in args:
            value = self.eval_arg(dot, ANY, arg)
            if truth(value) == (name == "or"):
                return value
        if final is not MISSING:
            value = final
        return value

    def eval_arg(self, dot: object, kind: str, node: Operand) -> object:
        """One argument, checked against the parameter `kind` (Go's evalArg)."""
        if isinstance(node, DotNode):
            return self.validate(dot, kind, node)
        if isinstance(node, NilNode):
            if kind == ANY:
                return None
            raise self.error(f"cannot assign nil to {kind}", node)
        if isinstance(node, FieldNode):
            value = self.eval_field_chain(dot, node, node.names, (node,), MISSING)
            return self.validate(value, kind, node)
        if isinstance(node, VariableNode):
            return self.validate(self.eval_variable(dot, node, (node,), MISSING), kind, node)
        if isinstance(node, PipeNode):
            return self.validate(self.eval_pipeline(dot, node), kind, node)
        if isinstance(node, IdentifierNode):
            return self.validate(self.eval_function(dot, node, (node,), MISSING), kind, node)
        if isinstance(node, ChainNode):
            receiver = self.eval_arg(dot, ANY, node.node)
            value = self.eval_field_chain(receiver, node, node.fields, (node,), MISSING)
            return self.validate(value, kind, node)
        return self.literal(kind, node)

    def literal(self, kind: str, node: BoolNode | NumberNode | StringNode) -> object:
        """A constant in the source, given where a value of `kind` is wanted."""
        found = self.text(node)
        if kind == ANY:
            return node.value
        if kind == "string":
            if isinstance(node, StringNode):
                return node.value
            raise self.error(f"expected string; found {found}", node)
        if kind == "int":
            if isinstance(node, NumberNode) and node.int_value is not None:
                return node.int_value
            raise self.error(f"expected integer; found {found}", node)
        if kind == "float64":
            if isinstance(node, NumberNode) and node.float_value is not None:
                return node.float_value
            raise self.error(f"expected float; found {found}", node)
        if isinstance(node, BoolNode):
            return node.value
        raise self.error(f"expected bool; found {found}", node)

    def validate(self, value: object, kind: str, node: Node) -> object:
        """A computed value passed where a `kind` is wanted (Go's validateType)."""
        if kind == ANY:
            return value
        if value is None:
            raise self.error(f"invalid value; expected {kind}", node)
        ok = {
            "string": isinstance(value, str),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float64": isinstance(value, float),
            "bool": isinstance(value, bool),
        }[kind]
        if not ok:
            got = f"{go_type(value)} ({format_value(value)})"
            raise self.error(f"wrong type for value; expected {kind}; got {got}", node)
        return value

"""The Go text/template subset Packer templates use: parse a string once, render it often.

`parse` builds a `Template` (lexer.py → parser.py → nodes.py); `Template.render` runs it
(evaluate.py) with the data (`.HTTPIP`, …) and functions (`user`, `timestamp`, … from
functions.py; Go's builtins such as `printf` and `eq` are always there). A string
without "{{" is never parsed: it renders to itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from kiln.errors import TemplateError
from kiln.template.evaluate import Evaluator, relocate
from kiln.template.nodes import (
    ActionNode,
    ChainNode,
    CommandNode,
    FieldNode,
    IdentifierNode,
    IfNode,
    ListNode,
    Node,
    PipeNode,
    RangeNode,
    TextNode,
    VariableNode,
    WithNode,
)
from kiln.template.parser import parse_tree

Funcs = Mapping[str, Callable[..., object]]


def _walk(root: ListNode) -> list[Node]:
    """Every node of the tree, in source order (iteratively: no recursion limit)."""
    out: list[Node] = []
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        children: list[Node | None] = []
        if isinstance(node, ListNode):
            children.extend(node.items)
        elif isinstance(node, ActionNode):
            children.append(node.pipe)
        elif isinstance(node, IfNode):
            for cond, body in node.branches:
                children += [cond, body]
            children.append(node.else_list)
        elif isinstance(node, (RangeNode, WithNode)):
            children += [node.pipe, node.body, node.else_list]
        elif isinstance(node, PipeNode):
            children.extend(node.cmds)
        elif isinstance(node, CommandNode):
            children.extend(node.args)
        elif isinstance(node, ChainNode):
            children.append(node.node)
        stack.extend(reversed([c for c in children if c is not None]))
    return out


class Template:
    """A parsed template string. Immutable; `render` may be called any number of times."""

    __slots__ = ("_fields", "_functions", "_root", "source", "where")

    def __init__(self, source: str, root: ListNode, where: str = "") -> None:
        self.source = source
        self.where = where
        self._root = root
        nodes = _walk(root)
        self._functions = [n for n in nodes if isinstance(n, IdentifierNode)]
        names: set[str] = set()
        for n in nodes:
            if isinstance(n, FieldNode):
                names.add(n.names[0])
            elif isinstance(n, VariableNode) and n.name == "$" and n.fields:
                names.add(n.fields[0])
        self._fields = frozenset(names)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    @property
    def is_plain(self) -> bool:
        """True when the string has no "{{": it renders to itself."""
        return "{{" not in self.source

    def render(self, data: Mapping[str, object], funcs: Funcs) -> str:
        """The output for `data` (`.X` reads data["X"]) and `funcs` (beside Go's builtins).

        Raises TemplateError naming `where`, the line:column and the problem."""
        if self.is_plain:
            return self.source
        evaluator = Evaluator(self.source, self.where, data, funcs)
        evaluator.check_functions(self._functions)
        try:
            return evaluator.run(self._root)
        except RecursionError:  # parsing caps template nesting; data can still be too deep
            problem = "a value nests too deeply to evaluate or print"
            raise TemplateError(problem, where=self.where) from None

    def fields(self) -> set[str]:
        """Names X of the `.X` (and `$.X`) fields referenced; for `.X.Y`, just X.

        Fields read inside `with`/`range` (where dot is another value) are included too."""
        return set(self._fields)

    def functions(self) -> set[str]:
        """Names of all functions called, builtins (`printf`, `eq`, …) included."""
        return {n.name for n in self._functions}


def parse(text: str, *, where: str = "") -> Template:
    """Parse `text`; raises TemplateError (naming `where` and line:column) on bad syntax."""
    if "{{" not in text:
        return Template(text, ListNode(0, len(text), (TextNode(0, len(text), text),)), where)
    return Template(text, parse_tree(text, where), where)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Template:
    return parse(text)


def render(text: str, data: Mapping[str, object], funcs: Funcs, *, where: str = "") -> str:
    """Parse (cached by text) and render `text`; a string without "{{" is returned as is."""
    if "{{" not in text:
        return text
    try:
        return _parse_cached(text).render(data, funcs)
    except TemplateError as err:
        if not where or err.where:
            raise
        raise relocate(err, where, err.line, err.col) from err.__cause__

"""HCL's JSON syntax (`*.pkr.json`): a JSON document read with Packer's block schema into
the same `ast.Body` as native syntax, positions included (lark parses the JSON).

As in HCL's JSON spec: a block type's value is an object keyed by its labels (one level per
label) ending in the block's body (or an array of bodies); strings are templates (`${}`);
`"//"` keys are comments; a variable's `type` string is a type expression.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from kiln.template.hcl2 import ast
from kiln.template.hcl2.ast import Pos, Range
from kiln.template.hcl2.diagnostics import Diagnostic, HCLError, Sources
from kiln.template.hcl2.larkimport import Lark, Token, Tree, UnexpectedInput
from kiln.template.hcl2.values import FALSE, NULL, TRUE, number_literal, string_val

_JSON = r"""
?value: object | array | STRING -> string | NUMBER -> number | "true" -> true
      | "false" -> false | "null" -> null
object: "{" [pair ("," pair)*] "}"
pair: STRING ":" value
array: "[" [value ("," value)*] "]"
STRING: /"(?:[^"\\\x00-\x1f]|\\["\\\/bfnrtu])*"/
NUMBER: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/
%ignore /[ \t\r\n]+/
"""

# block type → number of labels, per enclosing block ("" is the file's top level)
_BLOCKS: dict[str, dict[str, int]] = {
    "": {"variable": 1, "variables": 0, "locals": 0, "local": 1, "source": 2, "build": 0,
         "packer": 0, "data": 2},
    "build": {"source": 1, "provisioner": 1, "post-processor": 1, "post-processors": 0,
              "error-cleanup-provisioner": 1, "dynamic": 1},
    "packer": {"required_plugins": 0},
    "variable": {"validation": 0},
    "post-processors": {"post-processor": 1},
    "dynamic": {"content": 0},
}  # fmt: skip


@cache
def _lark() -> Lark:
    return Lark(_JSON, parser="lalr", start="value", propagate_positions=True)


def parse_json_config(text: str, filename: str, sources: Sources | None = None) -> ast.Body:
    if sources is not None:
        sources.add(filename, text)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as err:
        line, col = max(err.line, 1), max(err.column, 1)
        rng = Range(filename, Pos(line, col), Pos(line, col + 1))
        raise HCLError([Diagnostic("Invalid JSON", "The file is not valid JSON here.", rng)],
                       sources) from None  # fmt: skip
    conv = _Converter(filename)
    if not (isinstance(tree, Tree) and tree.data == "object"):
        rng = Range(filename, Pos(1, 1), Pos(1, 2))
        raise HCLError([Diagnostic("Invalid JSON configuration",
                                   "The root of a .pkr.json file must be an object.", rng)],
                       sources)  # fmt: skip
    body = conv.body(tree, "")
    if conv.diags:
        raise HCLError(conv.diags, sources)
    if sources is not None:
        sources.bodies[filename] = body
    return body


class _Converter:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.diags: list[Diagnostic] = []

    def rng(self, node: Tree[Token] | Token) -> Range:
        if isinstance(node, Token):
            return Range(self.filename, Pos(node.line or 1, node.column or 1),
                         Pos(node.end_line or 1, node.end_column or 1))  # fmt: skip
        m = node.meta
        if getattr(m, "empty", True):
            return Range(self.filename, Pos(1, 1), Pos(1, 1))
        return Range(self.filename, Pos(m.line, m.column), Pos(m.end_line, m.end_column))

    def pairs(self, obj: Tree[Token]) -> list[tuple[str, Token, Any]]:
        out = []
        for pair in obj.children:
            if not isinstance(pair, Tree):
                continue
            key_tok, value = pair.children
            assert isinstance(key_tok, Token)
            out.append((json.loads(str(key_tok)), key_tok, value))
        return out

    def body(self, obj: Tree[Token], parent: str) -> ast.Body:
        attrs: list[ast.Attribute] = []
        blocks: list[ast.Block] = []
        schema = _BLOCKS.get(parent, {})
        for key, key_tok, value in self.pairs(obj):
            if key == "//":
                continue
            if key in schema:
                blocks.extend(self.blocks(key, key_tok, value, schema[key], ()))
                continue
            expr = self.expr(value, type_expr=(parent == "variable" and key == "type"))
            key_rng = self.rng(key_tok)
            attrs.append(ast.Attribute(key, expr, Range(self.filename, key_rng.start,
                                                        self.rng(value).end), key_rng))  # fmt: skip
        return ast.Body(tuple(attrs), tuple(blocks), self.rng(obj),
                        tuple([*attrs, *blocks]))  # fmt: skip

    def blocks(
        self, btype: str, key_tok: Token, value: Any, nlabels: int, labels: tuple[str, ...]
    ) -> list[ast.Block]:
        if len(labels) < nlabels:
            if isinstance(value, Tree) and value.data == "array":
                return [b for item in value.children if isinstance(item, Tree)
                        for b in self.blocks(btype, key_tok, item, nlabels, labels)]  # fmt: skip
            if not (isinstance(value, Tree) and value.data == "object"):
                self.diags.append(Diagnostic(
                    "Invalid block", f'"{btype}" needs an object keyed by its label(s).',
                    self.rng(value) if isinstance(value, Tree) else self.rng(key_tok),
                ))  # fmt: skip
                return []
            out = []
            for label, _tok, inner in self.pairs(value):
                out.extend(self.blocks(btype, key_tok, inner, nlabels, (*labels, label)))
            return out
        items = value.children if isinstance(value, Tree) and value.data == "array" else [value]
        out = []
        for item in items:
            if not (isinstance(item, Tree) and item.data == "object"):
                self.diags.append(Diagnostic(
                    "Invalid block", f'The body of a "{btype}" block must be an object.',
                    self.rng(item) if isinstance(item, Tree | Token) else self.rng(key_tok),
                ))  # fmt: skip
                continue
            header = self.rng(key_tok)
            out.append(ast.Block(btype, labels, self.body(item, btype), header, header,
                                 tuple(header for _ in labels)))  # fmt: skip
        return out

    def expr(self, node: Any, type_expr: bool = False) -> ast.Expr:
        rng = self.rng(node)
        if isinstance(node, Tree):
            kind = node.data
            if kind == "string":
                return self.string(node, type_expr)
            if kind == "number":
                return ast.Literal(number_literal(str(node.children[0])), rng)
            if kind in ("true", "false", "null"):
                return ast.Literal({"true": TRUE, "false": FALSE, "null": NULL}[kind], rng)
            if kind == "array":
                return ast.TupleCons(tuple(self.expr(c) for c in node.children
                                           if isinstance(c, Tree | Token)), rng)  # fmt: skip
            if kind == "object":
                items = []
                for key, key_tok, value in self.pairs(node):
                    key_expr = self.template(key, self.rng(key_tok))
                    items.append(ast.ObjectItem(key_expr, self.expr(value), None))
                return ast.ObjectCons(tuple(items), rng)
        raise AssertionError(f"unexpected JSON node {node!r}")  # pragma: no cover

    def string(self, node: Tree[Token], type_expr: bool) -> ast.Expr:
        tok = node.children[0]
        assert isinstance(tok, Token)
        text = json.loads(str(tok))
        rng = self.rng(node)
        if type_expr:
            from kiln.template.hcl2.parser import parse_expression

            try:
                return parse_expression(text, self.filename)
            except HCLError as err:
                self.diags.extend(d._replace(subject=rng) for d in err.diagnostics)
                return ast.Literal(string_val(text), rng)
        return self.template(text, rng)

    def template(self, text: str, rng: Range) -> ast.Expr:
        if "${" not in text and "%{" not in text:
            return ast.Literal(string_val(text), rng)
        from kiln.template.hcl2.parser import parse_template

        try:
            expr = parse_template(text, self.filename)
        except HCLError as err:
            self.diags.extend(d._replace(subject=rng) for d in err.diagnostics)
            return ast.Literal(string_val(text), rng)
        relocated: ast.Expr = _relocate(expr, rng)
        return relocated


def _relocate(expr: Any, rng: Range) -> Any:
    """Give every node of a template parsed from a JSON string the string's range."""
    if isinstance(expr, Range):
        return rng
    items = [_relocate(x, rng) for x in ast.children(expr)]
    if isinstance(expr, tuple):
        return tuple(items) if items else expr
    return type(expr)(*items) if items else expr

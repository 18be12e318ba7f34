"""Parse HCL2 native syntax into the `ast` tree, with positions on every node.

`fastparse` reads well-formed text; lark reads the rest (grammar in `grammar.py`, LALR with its
contextual lexer) and is the reference for the grammar. Both give the same tree (`syntree`);
this module adds what a context-free grammar cannot say: where newlines matter
(`newlines.NewlineFilter`), template strip markers (`~`), heredoc bodies and `<<-`
indentation, escape sequences, and HCL-like messages for syntax errors.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kiln.template.hcl2 import ast, fastparse
from kiln.template.hcl2.ast import Pos, Range
from kiln.template.hcl2.diagnostics import Diagnostic, HCLError, Sources
from kiln.template.hcl2.syntree import Node, Tok
from kiln.template.hcl2.values import FALSE, NULL, TRUE, Value, number_literal, string_val

if TYPE_CHECKING:
    from kiln.template.hcl2.larkimport import Lark, Token, UnexpectedInput


def _cache_path() -> str | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    folder = os.path.join(base, "kiln")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return os.path.join(folder, "hcl2-parser.lark-cache") if os.access(folder, os.W_OK) else None


@cache
def _lark() -> Lark:
    from kiln.template.hcl2.grammar import GRAMMAR
    from kiln.template.hcl2.larkimport import Lark, LarkError
    from kiln.template.hcl2.newlines import NewlineFilter

    options: dict[str, Any] = dict(
        parser="lalr",
        start=["config", "heredoc_body", "expr_only"],
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=NewlineFilter(),
    )
    path = _cache_path()
    if path is not None:
        try:
            return Lark(GRAMMAR, cache=path, **options)
        except (OSError, EOFError, ValueError, LarkError):
            pass  # an unreadable or unwritable cache: build the tables in memory
    return Lark(GRAMMAR, **options)


# --- public API ----------------------------------------------------------------------------


def parse_config(text: str, filename: str, sources: Sources | None = None) -> ast.Body:
    """Parse a whole `.pkr.hcl`/`.pkrvars.hcl` file; raise `HCLError` on syntax errors."""
    if sources is not None:
        sources.add(filename, text)
    text = _check_text(text, filename, sources)
    tree = _parse(text, "config", filename, sources)
    builder = _Builder(filename, 0)
    body = builder.body(tree, _whole_file_range(filename, text))
    if builder.diags:
        raise HCLError(builder.diags, sources)
    if sources is not None:
        sources.bodies[filename] = body
    return body


def parse_expression(
    text: str, filename: str = "<value>", sources: Sources | None = None
) -> ast.Expr:
    """Parse one expression (a `-var` value, a test case)."""
    if sources is not None:
        sources.add(filename, text)
    text = _check_text(text, filename, sources)
    tree = _parse(text, "expr_only", filename, sources)
    builder = _Builder(filename, 0)
    expr = builder.expr(tree.children[0])
    if builder.diags:
        raise HCLError(builder.diags, sources)
    return expr


def _check_text(text: str, filename: str, sources: Sources | None) -> str:
    if text.startswith("\ufeff"):
        rng = Range(filename, Pos(1, 1), Pos(1, 2))
        raise HCLError(
            [Diagnostic("Invalid character", "A byte order mark is not allowed in HCL.", rng)],
            sources,
        )
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        rng = Range(filename, Pos(line, 1), Pos(line, 1))
        raise HCLError([Diagnostic("Invalid character", "The file holds a NUL byte.", rng)])
    return text if text.endswith("\n") else text + "\n"


def _whole_file_range(filename: str, text: str) -> Range:
    lines = text.split("\n")
    return Range(filename, Pos(1, 1), Pos(len(lines), len(lines[-1]) + 1))


def _parse(text: str, start: str, filename: str, sources: Sources | None) -> Node:
    """The tree of `text`: fastparse's, or lark's when fastparse gives up (lark then also
    words the syntax error)."""
    try:
        return fastparse.parse(text, start)
    except fastparse.GiveUp:
        pass
    from kiln.template.hcl2.larkimport import UnexpectedInput

    try:
        return cast(Node, _lark().parse(text, start=start))
    except UnexpectedInput as err:
        raise HCLError([_syntax_diagnostic(err, text, filename)], sources) from None
    except RecursionError:
        rng = Range(filename, Pos(1, 1), Pos(1, 1))
        raise HCLError(
            [Diagnostic("Nesting too deep", "The expressions are nested too deeply.", rng)],
            sources,
        ) from None


# --- syntax errors -------------------------------------------------------------------------

_TOKEN_NAMES = {
    "_NL": "a newline", "$END": "the end of the file", "IDENT": "a name", "NUMBER": "a number",
    "QUOTE": 'a quote (")', "EQ": '"="', "LBRACE": '"{"', "RBRACE": '"}"', "LSQB": '"["',
    "RSQB": '"]"', "LPAR": '"("', "RPAR": '")"', "COMMA": '","', "COLON": '":"', "DOT": '"."',
    "QMARK": '"?"', "FATARROW": '"=>"', "ELLIPSIS": '"..."', "IN": '"in"', "FOR": '"for"',
    "IF": '"if"', "DIR_ELSE": "%{ else }", "DIR_ENDIF": "%{ endif }",
    "DIR_ENDFOR": "%{ endfor }", "STRIP_RBRACE": '"~}"', "HEREDOC": "a heredoc",
    "INTERP_OPEN": '"${"', "DIR_IF": "%{ if", "DIR_FOR": "%{ for",
}  # fmt: skip
_PUNCTUATION = set('+-*/%&|!=<>?:.,()[]{}"~$#')


def _guess_type(ch: str) -> str:
    if ch.isdigit():
        return "NUMBER"
    if ch.isalpha() or ch == "_":
        return "IDENT"
    return {"=": "EQ", "{": "LBRACE", "}": "RBRACE", "[": "LSQB", "(": "LPAR",
            '"': "QUOTE"}.get(ch, "OP")  # fmt: skip


_EXPR_START = {"NUMBER", "IDENT", "QUOTE", "HEREDOC", "LSQB", "LBRACE", "LPAR", "MINUS", "NOT"}


def _describe_token(tok: Token) -> str:
    if tok.type == "_NL":
        return (
            "the end of the line"
            if not tok.value.lstrip().startswith(("#", "//"))
            else ("a comment")
        )
    if tok.type == "$END":
        return "the end of the file"
    text = tok.value.split("\n")[0]
    return f'"{text}"' if len(text) < 30 else f'"{text[:27]}..."'


def _syntax_diagnostic(err: UnexpectedInput, text: str, filename: str) -> Diagnostic:
    from kiln.template.hcl2.larkimport import Token, UnexpectedCharacters, UnexpectedToken

    line = err.line if isinstance(err.line, int) and err.line > 0 else text.count("\n") + 1
    col = err.column if isinstance(err.column, int) and err.column > 0 else 1
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream if err.pos_in_stream is not None else len(text)
        ch = text[pos] if pos < len(text) else ""
        rng = Range(filename, Pos(line, col), Pos(line, col + 1))
        if ch == "\\":
            return Diagnostic(
                "Invalid escape sequence",
                'A backslash must be followed by n, r, t, ", \\, uNNNN or UNNNNNNNN.',
                rng,
            )
        if ch == "<" and text[pos : pos + 2] == "<<":
            return Diagnostic(
                "Unterminated template string",
                "A heredoc (<<MARKER) must end with its marker alone on a line.",
                rng,
            )
        if ch in {"%", "$"}:
            return Diagnostic(
                "Invalid template directive",
                'A template directive keyword ("if", "for", etc) is expected at the '
                "beginning of a %{ sequence.",
                rng,
            )
        return Diagnostic(
            "Invalid character",
            f"This character is not used within the language: {ch!r}.",
            rng,
        )
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    width = max(len(tok.value.split("\n")[0]), 1) if tok.type not in ("_NL", "$END") else 1
    rng = Range(filename, Pos(line, col), Pos(line, col + width))
    expected = set(err.expected) - {"WS", "INLINE_COMMENT"}
    if "QUOTE" in expected and tok.type == "_NL" and expected <= {
        "QUOTE", "QLIT", "INTERP_OPEN", "DIR_IF", "DIR_FOR", "DIR_ELSE", "DIR_ENDIF",
        "DIR_ENDFOR",
    }:  # fmt: skip
        return Diagnostic(
            "Unterminated template string",
            "No closing marker was found for the string. A quoted string must end on the "
            "line it starts; write \\n for a newline or use a heredoc (<<EOF).",
            rng,
        )
    if tok.type in ("QLIT", "HLIT") and tok.type not in expected:
        # lark's fallback lexer read free text where no string can be: a heredoc whose
        # closing marker never comes, a stray character, or an ordinary token out of place.
        if tok.value.startswith("<<"):
            return Diagnostic(
                "Unterminated template string",
                "A heredoc (<<MARKER) must end with its marker alone on a line.",
                Range(filename, Pos(line, col), Pos(line, col + 2)),
            )
        first = tok.value[0]
        if not (first.isalnum() or first == "_" or first in _PUNCTUATION):
            return Diagnostic(
                "Invalid character",
                f"This character is not used within the language: {first!r}.",
                Range(filename, Pos(line, col), Pos(line, col + 1)),
            )
        word = re.match(r"[\w-]+|\S", tok.value)
        tok = Token(_guess_type(first), word.group(0) if word else first)
        rng = Range(filename, Pos(line, col), Pos(line, col + len(tok.value)))
    if expected & _EXPR_START and len(expected & _EXPR_START) >= 5:
        return Diagnostic(
            "Invalid expression",
            f"Expected the start of an expression, but found {_describe_token(tok)}.",
            rng,
        )
    if tok.type in ("DIR_ELSE", "DIR_ENDIF", "DIR_ENDFOR"):
        word = tok.type[4:].lower()
        return Diagnostic(
            f"Unexpected {word} directive",
            f"The %{{ {word} }} has no matching %{{ if }} or %{{ for }} before it.",
            rng,
        )
    if tok.type == "$END":
        return Diagnostic(
            "Unclosed configuration block",
            "The file ends before a block, bracket or string that was opened is closed; "
            'look for a missing "}", "]", ")" or quote.',
            rng,
        )
    if "IDENT" in expected and expected <= {"IDENT", "_NL", "$END", "RBRACE"}:
        return Diagnostic(
            "Argument or block definition required",
            f"An argument (name = value) or a block (name {{ ... }}) is expected here, "
            f"but found {_describe_token(tok)}.",
            rng,
        )
    if "_NL" in expected and tok.type not in ("_NL", "$END") and "IDENT" not in expected:
        return Diagnostic(
            "Missing newline after argument",
            f"An argument definition must end with a newline, but found {_describe_token(tok)}.",
            rng,
        )
    if "EQ" in expected and "LBRACE" in expected:
        return Diagnostic(
            "Argument or block definition required",
            f"An argument (name = value) or a block (name {{ ... }}) is expected here, "
            f"but found {_describe_token(tok)}.",
            rng,
        )
    if expected == {"_NL"} or (tok.type != "_NL" and "_NL" in expected and len(expected) <= 3):
        return Diagnostic(
            "Missing newline after argument",
            f"An argument definition must end with a newline, but found {_describe_token(tok)}.",
            rng,
        )
    if expected & {"RBRACE"} and tok.type == "_NL" and "EQ" not in expected:
        return Diagnostic(
            "Invalid single-argument block definition",
            "An argument definition on the same line as its containing block creates a "
            "single-line block definition, which must also be closed on the same line.",
            rng,
        )
    names = sorted({_TOKEN_NAMES.get(e, e.lower()) for e in expected})
    return Diagnostic(
        "Invalid syntax",
        f"Unexpected {_describe_token(tok)}; expected "
        + (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0])
        + ".",
        rng,
    )


# --- syntax tree (fastparse's or lark's) → ast -----------------------------------------------

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{", re.S)
_HEREDOC_RE = re.compile(r"<<(-?)([^\W\d][\w-]*)[ \t]*\r?\n(.*)", re.S)


class _Cell:
    """A template literal whose text strip markers and `<<-` may still shorten."""

    __slots__ = ("range", "text")

    def __init__(self, text: str, rng: Range) -> None:
        self.text = text
        self.range = rng


class _Builder:
    def __init__(self, filename: str, line_offset: int) -> None:
        self.filename = filename
        self.line_offset = line_offset
        self.diags: list[Diagnostic] = []
        self.cells: dict[int, list[_Cell]] = {}  # id(lit token) → its (per-line) cells

    # ranges
    def rng(self, node: Node | Tok) -> Range:
        off = self.line_offset
        if isinstance(node, str):
            return Range(
                self.filename,
                Pos((node.line or 1) + off, node.column or 1),
                Pos((node.end_line or node.line or 1) + off, node.end_column or 1),
            )
        meta = node.meta
        if getattr(meta, "empty", True):
            return Range(self.filename, Pos(1 + off, 1), Pos(1 + off, 1))
        return Range(
            self.filename,
            Pos(meta.line + off, meta.column),
            Pos(meta.end_line + off, meta.end_column),
        )

    def span(self, first: Node | Tok, last: Node | Tok) -> Range:
        return Range(self.filename, self.rng(first).start, self.rng(last).end)

    def error(self, summary: str, detail: str, rng: Range) -> None:
        self.diags.append(Diagnostic(summary, detail, rng))

    # structure
    def body(self, tree: Node, rng: Range) -> ast.Body:
        attrs: list[ast.Attribute] = []
        blocks: list[ast.Block] = []
        items: list[ast.Attribute | ast.Block] = []
        seen: dict[str, ast.Attribute] = {}
        for child in tree.children:
            if isinstance(child, str):
                continue
            if child.data == "attribute":
                attr = self.attribute(child)
                if attr.name in seen:
                    self.error(
                        "Attribute redefined",
                        f'The argument "{attr.name}" was already set at '
                        f"{seen[attr.name].name_range}. Each argument may be set only once.",
                        attr.name_range,
                    )
                    continue
                seen[attr.name] = attr
                attrs.append(attr)
                items.append(attr)
            elif child.data == "block":
                block = self.block(child)
                blocks.append(block)
                items.append(block)
        return ast.Body(tuple(attrs), tuple(blocks), rng, tuple(items))

    def attribute(self, tree: Node) -> ast.Attribute:
        name, _eq, value = tree.children
        assert isinstance(name, str)
        return ast.Attribute(str(name), self.expr(value), self.rng(tree), self.rng(name))

    def block(self, tree: Node) -> ast.Block:
        children = tree.children
        type_tok = children[0]
        assert isinstance(type_tok, str)
        brace = next(i for i, c in enumerate(children) if isinstance(c, str) and c.type == "LBRACE")
        labels: list[str] = []
        label_ranges: list[Range] = []
        for label in children[1:brace]:
            label_ranges.append(self.rng(label))
            if isinstance(label, str):
                labels.append(str(label))
            else:
                labels.append(self.string_literal(label, "block labels"))
        inner = Node("body", list(children[brace + 1 : -1]))
        body_rng = self.span(children[brace], children[-1])
        body = self.body(inner, body_rng)
        header = self.span(type_tok, children[brace])
        return ast.Block(
            str(type_tok),
            tuple(labels),
            body,
            header,
            self.rng(type_tok),
            tuple(label_ranges),
        )

    def string_literal(self, tree: Node, where: str) -> str:
        expr = self.template(tree)
        if isinstance(expr, ast.TemplateExpr) and all(
            isinstance(p, ast.Literal) for p in expr.parts
        ):
            return "".join(
                str(p.value.v)
                for p in expr.parts
                if isinstance(p, ast.Literal) and isinstance(p.value, Value)
            )
        self.error(
            "Invalid string literal",
            f"Template sequences (${{...}}, %{{...}}) are not allowed in {where}.",
            self.rng(tree),
        )
        return ""

    # expressions
    def expr(self, node: Node | Tok) -> ast.Expr:
        if isinstance(node, str):  # pragma: no cover - the grammar wraps every token
            raise AssertionError(f"unexpected token {node!r}")
        handler = getattr(self, "x_" + node.data, None)
        if handler is None:
            return self.postfix(node)
        result: ast.Expr = handler(node)
        return result

    def x_number(self, tree: Node) -> ast.Expr:
        tok = tree.children[0]
        return ast.Literal(number_literal(str(tok)), self.rng(tree))

    def x_variable(self, tree: Node) -> ast.Expr:
        name = str(tree.children[0])
        rng = self.rng(tree)
        if name == "true":
            return ast.Literal(TRUE, rng)
        if name == "false":
            return ast.Literal(FALSE, rng)
        if name == "null":
            return ast.Literal(NULL, rng)
        return ast.ScopeTraversal(name, (), rng)

    def x_parens(self, tree: Node) -> ast.Expr:
        return ast.Parens(self.expr(tree.children[1]), self.rng(tree))

    def x_conditional(self, tree: Node) -> ast.Expr:
        cond, _q, yes, _c, no = tree.children
        return ast.Conditional(self.expr(cond), self.expr(yes), self.expr(no), self.rng(tree))

    def x_binary(self, tree: Node) -> ast.Expr:
        left, op, right = tree.children
        return ast.BinaryOp(str(op), self.expr(left), self.expr(right), self.rng(tree))

    def x_unary(self, tree: Node) -> ast.Expr:
        op, operand = tree.children
        return ast.UnaryOp(str(op), self.expr(operand), self.rng(tree))

    def x_function_call(self, tree: Node) -> ast.Expr:
        name = tree.children[0]
        args = [self.expr(c) for c in tree.children[2:-1] if not isinstance(c, str)]
        expand = any(isinstance(c, str) and c.type == "ELLIPSIS" for c in tree.children)
        return ast.FunctionCall(str(name), tuple(args), expand, self.rng(tree), self.rng(name))

    def x_tuple(self, tree: Node) -> ast.Expr:
        items = [self.expr(c) for c in tree.children if not isinstance(c, str)]
        return ast.TupleCons(tuple(items), self.rng(tree))

    def x_object(self, tree: Node) -> ast.Expr:
        items = []
        for child in tree.children:
            if not isinstance(child, str) and child.data == "object_item":
                key_tree, _sep, value = child.children
                key = self.expr(key_tree)
                bare = None
                if isinstance(key, ast.ScopeTraversal) and not key.steps:
                    bare = key.root
                    key = ast.Literal(string_val(key.root), key.range)
                elif (
                    isinstance(key, ast.Literal)
                    and not isinstance(key_tree, str)
                    and key_tree.data == "variable"
                ):
                    bare = str(key_tree.children[0])  # `{true = 1}`, `{null = 2}`
                    key = ast.Literal(string_val(bare), key.range)
                items.append(ast.ObjectItem(key, self.expr(value), bare))
        return ast.ObjectCons(tuple(items), self.rng(tree))

    def _for(self, tree: Node, is_object: bool) -> ast.Expr:
        kids = [c for c in tree.children]
        # [FOR ident (COMMA ident)? IN coll COLON ...]
        i = 2
        first = str(kids[i])
        key_var: str | None = None
        value_var = first
        after = kids[i + 1]
        if isinstance(after, str) and after.type == "COMMA":
            key_var, value_var = first, str(kids[i + 2])
            i += 2
        coll = self.expr(kids[i + 2])
        rest = kids[i + 4 : -1]
        key_expr: ast.Expr | None = None
        if is_object:
            key_expr = self.expr(rest[0])
            rest = rest[2:]
        value_expr = self.expr(rest[0])
        rest = rest[1:]
        group = False
        if rest and isinstance(rest[0], str) and rest[0].type == "ELLIPSIS":
            group = True
            rest = rest[1:]
        cond = self.expr(rest[1]) if rest else None
        if key_var is not None and key_var == value_var:
            self.error(
                "Duplicate for-expression variable",
                f'The same variable name "{key_var}" is used for both the key and the value.',
                self.rng(tree),
            )
        return ast.ForExpr(
            key_var, value_var, coll, key_expr, value_expr, cond, group, self.rng(tree)
        )

    def x_for_tuple(self, tree: Node) -> ast.Expr:
        return self._for(tree, is_object=False)

    def x_for_object(self, tree: Node) -> ast.Expr:
        return self._for(tree, is_object=True)

    # postfix: traversals and splats
    def postfix(self, tree: Node) -> ast.Expr:
        # `?postfix` keeps a node named "postfix" only when operators follow the primary.
        assert tree.data == "postfix", tree.data
        source = self.expr(tree.children[0])
        ops = [c for c in tree.children[1:] if not isinstance(c, str)]
        return self.apply_ops(source, ops, self.rng(tree).start)

    def apply_ops(self, source: ast.Expr, ops: list[Node], start: Pos) -> ast.Expr:
        expr = source
        i = 0
        while i < len(ops):
            op = ops[i]
            end = self.rng(op).end
            rng = Range(self.filename, start, end)
            if op.data in ("attr_splat", "full_splat"):
                allowed: tuple[str, ...] = ("get_attr", "legacy_index")
                if op.data == "full_splat":
                    allowed = ("get_attr", "legacy_index", "index", "attr_splat", "full_splat")
                j = i + 1
                while j < len(ops) and ops[j].data in allowed:
                    j += 1
                item = ast.SplatItem(self.rng(op))
                each = self.apply_ops(item, ops[i + 1 : j], self.rng(op).start)
                last = ops[j - 1]
                expr = ast.Splat(expr, each, Range(self.filename, start, self.rng(last).end))
                i = j
                continue
            step = self.step(op)
            if isinstance(expr, ast.ScopeTraversal):
                expr = ast.ScopeTraversal(expr.root, (*expr.steps, step), rng)
            elif isinstance(expr, ast.RelativeTraversal):
                expr = ast.RelativeTraversal(expr.source, (*expr.steps, step), rng)
            else:
                expr = ast.RelativeTraversal(expr, (step,), rng)
            i += 1
        return expr

    def step(self, op: Node) -> ast.Step:
        rng = self.rng(op)
        if op.data == "get_attr":
            return ast.GetAttr(str(op.children[1]), rng)
        if op.data == "legacy_index":
            return ast.Index(ast.Literal(number_literal(str(op.children[1])), rng), rng)
        return ast.Index(self.expr(op.children[1]), rng)

    # templates
    def x_template(self, tree: Node) -> ast.Expr:
        return self.template(tree)

    def template(self, tree: Node) -> ast.Expr:
        parts = tree.children[1:-1]
        events = self.flatten(parts, heredoc=False)
        _apply_strip(events)
        built = self.parts(parts)
        rng = self.rng(tree)
        if len(parts) == 1 and not isinstance(parts[0], str) and parts[0].data == "q_interp":
            return ast.TemplateWrap(built[0], rng)
        return ast.TemplateExpr(tuple(built), rng)

    def x_heredoc(self, tree: Node) -> ast.Expr:
        tok = tree.children[0]
        assert isinstance(tok, str)
        rng = self.rng(tree)
        m = _HEREDOC_RE.match(str(tok))
        assert m is not None
        flush, rest = m.group(1) == "-", m.group(3)
        body_text = rest[: rest.rfind("\n") + 1]
        start_line = (tok.line or 1) + self.line_offset  # the body starts on the next line
        try:
            sub_tree = fastparse.parse(body_text, "heredoc_body")
        except fastparse.GiveUp:
            from kiln.template.hcl2.larkimport import UnexpectedInput

            try:
                sub_tree = cast(Node, _lark().parse(body_text, start="heredoc_body"))
            except UnexpectedInput as err:
                diag = _syntax_diagnostic(err, body_text, self.filename)
                if diag.subject is not None:
                    s = diag.subject
                    diag = diag._replace(
                        subject=Range(
                            s.filename,
                            Pos(s.start.line + start_line, s.start.column),
                            Pos(s.end.line + start_line, s.end.column),
                        )
                    )
                self.diags.append(diag)
                return ast.TemplateExpr((), rng)
        sub = _Builder(self.filename, start_line)
        parts = sub_tree.children
        events = sub.flatten(parts, heredoc=True)
        _apply_strip(events)
        if flush:
            _flush_heredoc(events)
        built = sub.parts(parts)
        self.diags.extend(sub.diags)
        return ast.TemplateExpr(tuple(built), rng)

    def flatten(self, parts: list[Node | Tok], heredoc: bool) -> list[tuple[str, Any]]:
        """The template's tokens in order: ("lit", cell), ("open", strip), ("close", strip)."""
        events: list[tuple[str, Any]] = []
        for part in parts:
            if isinstance(part, str):
                if part.type in ("QLIT", "HLIT"):
                    cells = self.literal_cells(part, heredoc)
                    self.cells[id(part)] = cells
                    events.extend(("lit", c) for c in cells)
                elif part.type in ("DIR_ELSE", "DIR_ENDIF", "DIR_ENDFOR"):
                    events.append(("open", part.value.startswith("%{~")))
                    events.append(("close", part.value.endswith("~}")))
                elif part.type in ("INTERP_OPEN", "DIR_IF", "DIR_FOR"):
                    events.append(("open", part.value.endswith("~") or part.value[2:3] == "~"))
                elif part.type in ("RBRACE", "STRIP_RBRACE"):
                    events.append(("close", part.type == "STRIP_RBRACE"))
                continue
            if part.data in ("q_interp", "h_interp"):
                opener, closer = part.children[0], part.children[-1]
                assert isinstance(opener, str) and isinstance(closer, str)
                events.append(("open", opener.value.endswith("~")))
                events.append(("expr", None))
                events.append(("close", closer.type == "STRIP_RBRACE"))
            elif part.data in ("q_body", "h_body"):
                events.extend(self.flatten(part.children, heredoc))
            elif part.data in ("q_if", "h_if", "q_for", "h_for"):
                inner = [
                    c
                    for c in part.children
                    if (not isinstance(c, str)
                    and c.data.endswith("body"))
                    or (isinstance(c, str)
                    and c.type in ("DIR_IF", "DIR_FOR", "RBRACE", "STRIP_RBRACE", "DIR_ELSE",
                                   "DIR_ENDIF", "DIR_ENDFOR", "QLIT", "HLIT"))
                ]  # fmt: skip
                events.extend(self.flatten(inner, heredoc))
        return events

    def literal_cells(self, tok: Tok, heredoc: bool) -> list[_Cell]:
        raw = str(tok)
        line = (tok.line or 1) + self.line_offset
        col = tok.column or 1
        if not heredoc:
            text = self.unescape(raw, tok)
            rng = self.rng(tok)
            return [_Cell(text, rng)]
        cells = []
        for piece in raw.splitlines(keepends=True):
            text = piece.replace("$${", "${").replace("%%{", "%{")
            rng = Range(self.filename, Pos(line, col), Pos(line, col + len(piece.rstrip("\n"))))
            cells.append(_Cell(text, rng))
            line, col = line + 1, 1
        return cells

    def unescape(self, raw: str, tok: Tok) -> str:
        def repl(m: re.Match[str]) -> str:
            whole = m.group(0)
            if whole == "$${":
                return "${"
            if whole == "%%{":
                return "%{"
            sel = m.group(1)
            if sel in _ESCAPES:
                return _ESCAPES[sel]
            if sel[0] in "uU" and len(sel) > 1:
                code = int(sel[1:], 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    self.error(
                        "Invalid escape sequence",
                        f"\\{sel} is not a valid Unicode character.",
                        self.rng(tok),
                    )
                    return ""
                return chr(code)
            col = (tok.column or 1) + m.start()
            line = (tok.line or 1) + self.line_offset
            self.error(
                "Invalid escape sequence",
                f'The symbol "{sel}" is not a valid escape sequence selector; use one of '
                '\\n, \\r, \\t, \\", \\\\, \\uNNNN or \\UNNNNNNNN.',
                Range(self.filename, Pos(line, col), Pos(line, col + 2)),
            )
            return ""

        return _ESCAPE_RE.sub(repl, raw)

    def parts(self, parts: list[Node | Tok]) -> list[ast.Expr]:
        out: list[ast.Expr] = []
        for part in parts:
            if isinstance(part, str):
                for cell in self.cells.get(id(part), []):
                    out.append(ast.Literal(string_val(cell.text), cell.range))
                continue
            kind = part.data[2:]
            if kind == "interp":
                out.append(self.expr(part.children[1]))
            elif kind == "if":
                cond = self.expr(part.children[1])
                bodies = [
                    c for c in part.children if not isinstance(c, str) and c.data.endswith("body")
                ]
                yes = ast.TemplateExpr(tuple(self.parts(bodies[0].children)), self.rng(part))
                no = None
                if len(bodies) > 1:
                    no = ast.TemplateExpr(tuple(self.parts(bodies[1].children)), self.rng(part))
                out.append(ast.TemplateIf(cond, yes, no, self.rng(part)))
            elif kind == "for":
                kids = part.children
                names = [str(c) for c in kids if isinstance(c, str) and c.type == "IDENT"]
                coll_tree = next(
                    c for c in kids[1:] if not isinstance(c, str) and not c.data.endswith("body")
                )
                body = next(c for c in kids if not isinstance(c, str) and c.data.endswith("body"))
                key_var = names[0] if len(names) == 2 else None
                inner = ast.TemplateExpr(tuple(self.parts(body.children)), self.rng(part))
                out.append(
                    ast.TemplateFor(key_var, names[-1], self.expr(coll_tree), inner, self.rng(part))
                )
        return out


def _apply_strip(events: list[tuple[str, Any]]) -> None:
    """HCL's strip markers: `${~`/`%{~` trim the literal before, `~}` the one after."""
    for i, (kind, arg) in enumerate(events):
        if kind == "open" and arg and i > 0 and events[i - 1][0] == "lit":
            cell = events[i - 1][1]
            cell.text = cell.text.rstrip()
        elif kind == "close" and arg and i + 1 < len(events) and events[i + 1][0] == "lit":
            cell = events[i + 1][1]
            cell.text = cell.text.lstrip()


def _flush_heredoc(events: list[tuple[str, Any]]) -> None:
    """`<<-`: remove the smallest indentation of the lines from every line (as HCL does)."""
    min_spaces: int | None = None
    adjust: list[_Cell] = []
    newline = True
    for kind, arg in events:
        if kind in ("open", "expr", "close") and not newline:
            continue
        if newline:
            newline = False
            if kind == "lit":
                text = arg.text
                trimmed = text.lstrip()
                if not trimmed and text.endswith("\n"):
                    spaces = None  # a blank line does not count
                else:
                    spaces = len(text) - len(trimmed)
                    adjust.append(arg)
            else:
                spaces = 0
            if spaces is not None and (min_spaces is None or spaces < min_spaces):
                min_spaces = spaces
        if kind == "lit" and arg.text.endswith("\n"):
            newline = True
    if not min_spaces:
        return
    for cell in adjust:
        cell.text = cell.text[min_spaces:]
        s = cell.range
        cell.range = Range(s.filename, Pos(s.start.line, s.start.column + min_spaces), s.end)


def parse_template(text: str, filename: str, sources: Sources | None = None) -> ast.Expr:
    """A whole file read as a template (as `templatefile` reads it): literal text with
    `${...}` and `%{...}` sequences, no escapes but `$${` and `%%{`."""
    if sources is not None:
        sources.add(filename, text)
    try:
        tree = fastparse.parse(text, "heredoc_body")
    except fastparse.GiveUp:
        tree = _lark_template(text, filename, sources)
    builder = _Builder(filename, 0)
    parts = tree.children
    events = builder.flatten(parts, heredoc=True)
    _apply_strip(events)
    built = builder.parts(parts)
    if builder.diags:
        raise HCLError(builder.diags, sources)
    rng = _whole_file_range(filename, text)
    if len(parts) == 1 and not isinstance(parts[0], str) and parts[0].data == "h_interp":
        return ast.TemplateWrap(built[0], rng)
    return ast.TemplateExpr(tuple(built), rng)


def _lark_template(text: str, filename: str, sources: Sources | None) -> Node:
    from kiln.template.hcl2.larkimport import UnexpectedInput

    try:
        return cast(Node, _lark().parse(text, start="heredoc_body"))
    except UnexpectedInput as err:
        raise HCLError([_syntax_diagnostic(err, text, filename)], sources) from None
    except RecursionError:
        rng = Range(filename, Pos(1, 1), Pos(1, 1))
        raise HCLError([Diagnostic("Nesting too deep", "The template is nested too deeply.",
                                   rng)], sources) from None  # fmt: skip

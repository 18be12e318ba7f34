"""A fast path for well-formed HCL: a hand-written scanner and recursive-descent parser.

It builds exactly the tree lark builds from `grammar.py` (same rule names, tokens and
positions), so `parser.py` turns either into the same syntax tree. It exists for speed:
importing lark, loading its tables and compiling its lexer's patterns cost ~50 ms of a
`kiln validate`; this parses the example template in ~3 ms. It gives up (`GiveUp`) at the first
thing it does not expect, and `parser.py` then parses the text again with lark, which stays
the reference for the grammar and writes every syntax error message. The unit tests parse
each test template and generated ones with both and require the same syntax tree whenever
this one does not give up, and that it gives up whenever lark rejects the text.

Where lark's lexer depends on the parser's state (its contextual lexer), the scanner decides
from the text alone: `for` is a keyword right after `[` or `{`, digits after `.` are an
index, and `in`/`if` are read as keywords by the parser where the grammar has them.
"""

from __future__ import annotations

import re

from kiln.template.hcl2.newlines import NewlineFilter
from kiln.template.hcl2.syntree import EMPTY_META, Meta, Node, Tok


class GiveUp(Exception):
    """The fast parser does not handle this text; parse it with lark."""


_IDENT = re.compile(r"[^\W\d][\w-]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
_NEWLINE = re.compile(r"(?:(?:#|//)[^\n]*)?\r?\n")
_SPACE = re.compile(r"[ \t]+")
_BLOCK_COMMENT = re.compile(r"/\*(?:.|\n)*?\*/")
_HEREDOC = re.compile(
    r"<<-?(?P<hdmark>[^\W\d][\w-]*)[ \t]*\r?\n(?:.*?\n)??[ \t]*(?P=hdmark)(?=\r?\n)", re.S
)
_QLIT = re.compile(r'(?:[^"\\$%\r\n]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))+')
_HLIT = re.compile(r"(?:[^$%]|\$\$\{|%%\{|\$(?!\{)|%(?!\{))+")
_SEQUENCE = re.compile(r"\$\{~?|%\{~?[ \t]*(?:(if|for)(?![\w-])|(else|endif|endfor)[ \t]*~?\})")

_PUNCTUATION = {
    "...": "ELLIPSIS",
    "==": "EQEQ", "!=": "NEQ", "<=": "LE", ">=": "GE", "&&": "AND", "||": "OR",
    "=>": "FATARROW", "~}": "STRIP_RBRACE",
    "=": "EQ", "<": "LT", ">": "GT", "!": "NOT", "+": "PLUS", "-": "MINUS", "*": "STAR",
    "/": "SLASH", "%": "PERCENT", "?": "QMARK", ":": "COLON", ",": "COMMA", ".": "DOT",
    "(": "LPAR", ")": "RPAR", "[": "LSQB", "]": "RSQB", "{": "LBRACE", "}": "RBRACE",
}  # fmt: skip

# Scanner modes: expressions and bodies, `${...}`/`%{...}` inside a template, a quoted
# string, a heredoc's (or a template file's) text.
_CODE, _SEQ, _STRING, _TEXT = range(4)


def scan(text: str, start: str) -> list[Tok]:
    """The tokens lark's lexer would give the parser for `start`, newlines filtered."""
    toks: list[Tok] = []
    pos, line, col, size = 0, 1, 1, len(text)
    modes = [_TEXT if start == "heredoc_body" else _CODE]
    depths = [0]  # open `{` per mode, to find the `}` that closes a `${`
    last = ""  # the last token's type in code (newlines aside): `for` after `[` or `{`

    def emit(kind: str, value: str) -> None:
        nonlocal pos, line, col
        newlines = value.count("\n")
        if newlines:
            end_line, end_col = line + newlines, len(value) - value.rfind("\n")
        else:
            end_line, end_col = line, col + len(value)
        toks.append(Tok(kind, value, line, col, end_line, end_col))
        pos += len(value)
        line, col = end_line, end_col

    while pos < size:
        mode = modes[-1]
        ch = text[pos]
        if mode >= _STRING:
            if ch == '"' and mode == _STRING:
                emit("QUOTE", ch)
                modes.pop()
                depths.pop()
                continue
            if ch in "$%":
                m = _SEQUENCE.match(text, pos)
                if m is not None:
                    value = m.group()
                    if value[0] == "$" or m.group(1):
                        emit("INTERP_OPEN" if value[0] == "$" else "DIR_" + m.group(1).upper(),
                             value)  # fmt: skip
                        modes.append(_SEQ)
                        depths.append(0)
                        last = ""
                    else:
                        emit("DIR_" + m.group(2).upper(), value)
                    continue
            m = (_QLIT if mode == _STRING else _HLIT).match(text, pos)
            if m is None:
                raise GiveUp
            emit("QLIT" if mode == _STRING else "HLIT", m.group())
            continue
        if ch in " \t":
            m = _SPACE.match(text, pos)
            assert m is not None
            col += m.end() - pos
            pos = m.end()
            continue
        if ch in "\n\r#" or text.startswith("//", pos):
            m = _NEWLINE.match(text, pos)
            if m is None:
                raise GiveUp
            emit("_NL", m.group())
            continue
        if text.startswith("/*", pos):
            m = _BLOCK_COMMENT.match(text, pos)
            if m is None:
                raise GiveUp
            value = m.group()
            newlines = value.count("\n")
            if newlines:
                line, col = line + newlines, len(value) - value.rfind("\n")
            else:
                col += len(value)
            pos = m.end()
            continue
        if "0" <= ch <= "9":
            m = (_DIGITS if last == "DOT" else _NUMBER).match(text, pos)
            assert m is not None
            last = "INDEX_INT" if last == "DOT" else "NUMBER"
            emit(last, m.group())
            continue
        m = _IDENT.match(text, pos)
        if m is not None:
            value = m.group()
            last = "FOR" if value == "for" and last in ("LSQB", "LBRACE") else "IDENT"
            emit(last, value)
            continue
        if ch == '"':
            emit("QUOTE", ch)
            modes.append(_STRING)
            depths.append(0)
            last = "QUOTE"
            continue
        if ch == "<" and text.startswith("<<", pos):
            m = _HEREDOC.match(text, pos)
            if m is not None:
                emit("HEREDOC", m.group())
                last = "HEREDOC"
                continue
        for width in (3, 2, 1):
            kind = _PUNCTUATION.get(text[pos : pos + width])
            if kind is not None:
                break
        else:
            raise GiveUp
        if kind == "LBRACE":
            depths[-1] += 1
        elif kind in ("RBRACE", "STRIP_RBRACE"):
            if depths[-1] == 0:
                if mode != _SEQ:
                    raise GiveUp
                modes.pop()
                depths.pop()
            elif kind == "STRIP_RBRACE":
                raise GiveUp
            else:
                depths[-1] -= 1
        emit(kind, text[pos : pos + width])
        last = kind
    if len(modes) != 1:
        raise GiveUp
    kept = list(NewlineFilter().process(iter(toks)))
    kept.append(Tok("$END", "", line, col, line, col))
    return kept


def _meta(children: list[Node | Tok]) -> Meta:
    """The span of the children's tokens, as lark's `propagate_positions` gives it."""
    line = column = 0
    for child in children:
        if isinstance(child, str):
            line, column = child.line, child.column
            break
        if not child.meta.empty:
            line, column = child.meta.line, child.meta.column
            break
    else:
        return EMPTY_META
    for child in reversed(children):
        if isinstance(child, str):
            return Meta(line, column, child.end_line, child.end_column)
        if not child.meta.empty:
            return Meta(line, column, child.meta.end_line, child.meta.end_column)
    return EMPTY_META  # pragma: no cover - the first loop found a token or a tree


def _node(data: str, children: list[Node | Tok]) -> Node:
    return Node(data, children, _meta(children))


_BINARY_LEVELS = (
    ("OR",), ("AND",), ("EQEQ", "NEQ"), ("LT", "GT", "LE", "GE"), ("PLUS", "MINUS"),
    ("STAR", "SLASH", "PERCENT"),
)  # fmt: skip
_CLOSE_SEQUENCE = ("RBRACE", "STRIP_RBRACE")


class _Parser:
    """Recursive descent over `grammar.py`'s rules; each method names the rule it reads."""

    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    # tokens
    def peek(self) -> str:
        return self.toks[self.i].type

    def take(self, kind: str) -> Tok:
        tok = self.toks[self.i]
        if tok.type != kind:
            raise GiveUp
        self.i += 1
        return tok

    def take_any(self, kinds: tuple[str, ...]) -> Tok:
        tok = self.toks[self.i]
        if tok.type not in kinds:
            raise GiveUp
        self.i += 1
        return tok

    def take_keyword(self, word: str) -> Tok:
        """`in` and `if`, which the scanner reads as names."""
        tok = self.toks[self.i]
        if tok.type != "IDENT" or tok.value != word:
            raise GiveUp
        self.i += 1
        return tok.retyped(word.upper())

    def at_keyword(self, word: str) -> bool:
        tok = self.toks[self.i]
        return tok.type == "IDENT" and tok.value == word

    def newlines(self, at_least: int) -> None:
        start = self.i
        while self.toks[self.i].type == "_NL":
            self.i += 1
        if self.i - start < at_least:
            raise GiveUp

    # start symbols
    def config(self) -> Node:
        items: list[Node | Tok] = []
        self.newlines(0)
        while self.peek() != "$END":
            items.append(self.item())
            self.newlines(1)
        return _node("config", items)

    def expr_only(self) -> Node:
        self.newlines(0)
        expr = self.expression()
        self.newlines(0)
        return _node("expr_only", [expr])

    def heredoc_body(self) -> Node:
        parts: list[Node | Tok] = []
        self.template_parts(parts, "h", ("$END",))
        return _node("heredoc_body", parts)

    # bodies
    def item(self) -> Node:
        name = self.take("IDENT")
        if self.peek() == "EQ":
            return self.attribute(name)
        children: list[Node | Tok] = [name]
        while True:
            kind = self.peek()
            if kind == "IDENT":
                children.append(self.take("IDENT"))
            elif kind == "QUOTE":
                children.append(self.template())
            else:
                break
        children.append(self.take("LBRACE"))
        kind = self.peek()
        if kind == "_NL":
            self.newlines(1)
            while self.peek() != "RBRACE":
                children.append(self.item())
                self.newlines(1)
        elif kind == "IDENT":
            children.append(self.attribute(self.take("IDENT")))
        children.append(self.take("RBRACE"))
        return _node("block", children)

    def attribute(self, name: Tok) -> Node:
        eq = self.take("EQ")
        return _node("attribute", [name, eq, self.expression()])

    # expressions
    def expression(self) -> Node | Tok:
        cond = self.binary(0)
        if self.peek() != "QMARK":
            return cond
        qmark = self.take("QMARK")
        yes = self.expression()
        colon = self.take("COLON")
        return _node("conditional", [cond, qmark, yes, colon, self.expression()])

    def binary(self, level: int) -> Node | Tok:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        ops = _BINARY_LEVELS[level]
        left = self.binary(level + 1)
        while self.peek() in ops:
            op = self.take(self.peek())
            left = _node("binary", [left, op, self.binary(level + 1)])
        return left

    def unary(self) -> Node | Tok:
        kind = self.peek()
        if kind in ("MINUS", "NOT"):
            op = self.take(kind)
            return _node("unary", [op, self.unary()])
        return self.postfix()

    def postfix(self) -> Node | Tok:
        primary = self.primary()
        children: list[Node | Tok] = [primary]
        while True:
            kind = self.peek()
            if kind == "DOT":
                dot = self.take("DOT")
                after = self.peek()
                if after == "IDENT":
                    children.append(_node("get_attr", [dot, self.take("IDENT")]))
                elif after == "INDEX_INT":
                    children.append(_node("legacy_index", [dot, self.take("INDEX_INT")]))
                else:
                    children.append(_node("attr_splat", [dot, self.take("STAR")]))
            elif kind == "LSQB":
                open_ = self.take("LSQB")
                if self.peek() == "STAR":
                    star = self.take("STAR")
                    children.append(_node("full_splat", [open_, star, self.take("RSQB")]))
                else:
                    index = self.expression()
                    children.append(_node("index", [open_, index, self.take("RSQB")]))
            else:
                break
        return primary if len(children) == 1 else _node("postfix", children)

    def primary(self) -> Node | Tok:
        tok = self.toks[self.i]
        kind = tok.type
        if kind == "NUMBER":
            self.i += 1
            return _node("number", [tok])
        if kind == "IDENT":
            self.i += 1
            if self.peek() == "LPAR":
                return self.function_call(tok)
            return _node("variable", [tok])
        if kind == "QUOTE":
            return self.template()
        if kind == "HEREDOC":
            self.i += 1
            return _node("heredoc", [tok])
        if kind == "LSQB":
            if self.toks[self.i + 1].type == "FOR":
                return self.for_expr("for_tuple", "RSQB")
            return self.sequence("tuple", "LSQB", "RSQB")
        if kind == "LBRACE":
            if self.toks[self.i + 1].type == "FOR":
                return self.for_expr("for_object", "RBRACE")
            return self.object()
        if kind == "LPAR":
            open_ = self.take("LPAR")
            inner = self.expression()
            return _node("parens", [open_, inner, self.take("RPAR")])
        raise GiveUp

    def function_call(self, name: Tok) -> Node:
        children: list[Node | Tok] = [name, self.take("LPAR")]
        if self.peek() != "RPAR":
            children.append(self.expression())
            while self.peek() == "COMMA":
                children.append(self.take("COMMA"))
                if self.peek() == "RPAR":
                    break
                children.append(self.expression())
            if self.peek() == "ELLIPSIS":  # (after a comma, `expression` gave up)
                children.append(self.take("ELLIPSIS"))
        children.append(self.take("RPAR"))
        return _node("function_call", children)

    def sequence(self, data: str, open_kind: str, close_kind: str) -> Node:
        children: list[Node | Tok] = [self.take(open_kind)]
        if self.peek() != close_kind:
            children.append(self.expression())
            while self.peek() == "COMMA":
                children.append(self.take("COMMA"))
                if self.peek() == close_kind:
                    break
                children.append(self.expression())
        children.append(self.take(close_kind))
        return _node(data, children)

    def object(self) -> Node:
        children: list[Node | Tok] = [self.take("LBRACE")]
        self.newlines(0)
        while self.peek() != "RBRACE":
            key = self.expression()
            sep = self.take_any(("EQ", "COLON"))
            children.append(_node("object_item", [key, sep, self.expression()]))
            kind = self.peek()
            if kind == "COMMA":
                children.append(self.take("COMMA"))
                self.newlines(0)
            elif kind == "_NL":
                self.newlines(1)
            elif kind != "RBRACE":
                raise GiveUp
        children.append(self.take("RBRACE"))
        return _node("object", children)

    def for_expr(self, data: str, close_kind: str) -> Node:
        open_kind = "LSQB" if close_kind == "RSQB" else "LBRACE"
        children: list[Node | Tok] = [self.take(open_kind), self.take("FOR")]
        children.append(self.take("IDENT"))
        if self.peek() == "COMMA":
            children.append(self.take("COMMA"))
            children.append(self.take("IDENT"))
        children.append(self.take_keyword("in"))
        children.append(self.expression())
        children.append(self.take("COLON"))
        children.append(self.expression())
        if data == "for_object":
            children.append(self.take("FATARROW"))
            children.append(self.expression())
            if self.peek() == "ELLIPSIS":
                children.append(self.take("ELLIPSIS"))
        if self.at_keyword("if"):
            children.append(self.take_keyword("if"))
            children.append(self.expression())
        children.append(self.take(close_kind))
        return _node(data, children)

    # templates
    def template(self) -> Node:
        children: list[Node | Tok] = [self.take("QUOTE")]
        self.template_parts(children, "q", ("QUOTE",))
        children.append(self.take("QUOTE"))
        return _node("template", children)

    def template_parts(self, out: list[Node | Tok], prefix: str, stops: tuple[str, ...]) -> None:
        literal = "QLIT" if prefix == "q" else "HLIT"
        while True:
            kind = self.peek()
            if kind in stops:
                return
            if kind == literal:
                out.append(self.take(literal))
            elif kind == "INTERP_OPEN":
                open_ = self.take("INTERP_OPEN")
                expr = self.expression()
                out.append(_node(prefix + "_interp", [open_, expr, self.take_any(_CLOSE_SEQUENCE)]))
            elif kind == "DIR_IF":
                out.append(self.template_if(prefix))
            elif kind == "DIR_FOR":
                out.append(self.template_for(prefix))
            else:
                raise GiveUp

    def template_body(self, prefix: str, stops: tuple[str, ...]) -> Node:
        parts: list[Node | Tok] = []
        self.template_parts(parts, prefix, stops)
        return _node(prefix + "_body", parts)

    def template_if(self, prefix: str) -> Node:
        children: list[Node | Tok] = [self.take("DIR_IF"), self.expression()]
        children.append(self.take_any(_CLOSE_SEQUENCE))
        children.append(self.template_body(prefix, ("DIR_ELSE", "DIR_ENDIF")))
        if self.peek() == "DIR_ELSE":
            children.append(self.take("DIR_ELSE"))
            children.append(self.template_body(prefix, ("DIR_ENDIF",)))
        children.append(self.take("DIR_ENDIF"))
        return _node(prefix + "_if", children)

    def template_for(self, prefix: str) -> Node:
        children: list[Node | Tok] = [self.take("DIR_FOR"), self.take("IDENT")]
        if self.peek() == "COMMA":
            children.append(self.take("COMMA"))
            children.append(self.take("IDENT"))
        children.append(self.take_keyword("in"))
        children.append(self.expression())
        children.append(self.take_any(_CLOSE_SEQUENCE))
        children.append(self.template_body(prefix, ("DIR_ENDFOR",)))
        children.append(self.take("DIR_ENDFOR"))
        return _node(prefix + "_for", children)


def parse(text: str, start: str) -> Node:
    """The tree lark's `parse(text, start=start)` gives, or `GiveUp`."""
    try:
        parser = _Parser(scan(text, start))
        if start == "config":
            tree = parser.config()
        elif start == "expr_only":
            tree = parser.expr_only()
        else:
            tree = parser.heredoc_body()
        if parser.peek() != "$END":
            raise GiveUp
        return tree
    except RecursionError:
        raise GiveUp from None

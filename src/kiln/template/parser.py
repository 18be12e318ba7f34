"""Recursive-descent parser from tokens to the syntax tree (Go's `text/template/parse`).

Recursion happens only where the template nests (parentheses, `if`/`range`/`with`), and
that nesting is capped at `MAX_DEPTH`, so no input can exhaust Python's stack.
"""

from __future__ import annotations

from collections.abc import Iterator

from kiln.errors import TemplateError
from kiln.golang.strconv import quote
from kiln.template.lexer import Kind, Token, lex
from kiln.template.literals import LiteralError, parse_number, unquote_char, unquote_string
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
    Item,
    ListNode,
    NilNode,
    NumberNode,
    Operand,
    PipeNode,
    RangeNode,
    StringNode,
    TextNode,
    VariableNode,
    WithNode,
)

MAX_DEPTH = 100  # nested parentheses + if/range/with blocks

_OPERAND_START = frozenset(
    {
        Kind.BOOL,
        Kind.CHAR_CONST,
        Kind.DOT,
        Kind.FIELD,
        Kind.IDENT,
        Kind.NUMBER,
        Kind.NIL,
        Kind.RAW_STRING,
        Kind.STRING,
        Kind.VARIABLE,
        Kind.LPAREN,
    }
)


def line_col(source: str, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of offset `pos`."""
    pos = max(0, min(pos, len(source)))
    line = source.count("\n", 0, pos) + 1
    col = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return line, col


def describe(tok: Token) -> str:
    """How Go names a token in "unexpected X in Y" messages."""
    if tok.kind is Kind.EOF:
        return "EOF"
    if tok.kind is Kind.KEYWORD:
        return f"<{tok.value}>"
    if tok.kind is Kind.SPACE:
        return "space"
    if len(tok.value) > 10:
        return quote(tok.value[:10]) + "..."
    return quote(tok.value)


class _End:
    """`{{end}}` seen while reading a list."""

    def __init__(self, pos: int) -> None:
        self.pos = pos


class _Else:
    """`{{else}}` (or `{{else if`, which leaves the condition to be read) seen in a list."""

    def __init__(self, pos: int, *, is_else_if: bool) -> None:
        self.pos = pos
        self.is_else_if = is_else_if


class Parser:
    def __init__(self, source: str, where: str = "") -> None:
        self.source = source
        self.where = where
        self._tokens: Iterator[Token] = lex(source)
        self._pushed: list[Token] = []
        self._eof: Token | None = None
        self._vars: list[str] = ["$"]
        self._depth = 0
        self._range_depth = 0

    # -------------------------------------------------------------- errors

    def error(self, problem: str, pos: int) -> TemplateError:
        line, col = line_col(self.source, pos)
        return TemplateError(problem, where=self.where, line=line, col=col)

    def unexpected(self, tok: Token, context: str) -> TemplateError:
        return self.error(f"unexpected {describe(tok)} in {context}", tok.pos)

    # -------------------------------------------------------------- token stream

    def next(self) -> Token:
        if self._pushed:
            return self._pushed.pop()
        if self._eof is not None:
            return self._eof
        tok = next(self._tokens)
        if tok.kind is Kind.ERROR:
            raise self.error(tok.value, tok.pos)
        if tok.kind is Kind.EOF:
            self._eof = tok
        return tok

    def backup(self, tok: Token) -> None:
        self._pushed.append(tok)

    def peek(self) -> Token:
        tok = self.next()
        self.backup(tok)
        return tok

    def next_non_space(self) -> Token:
        tok = self.next()
        while tok.kind is Kind.SPACE:
            tok = self.next()
        return tok

    def peek_non_space(self) -> Token:
        tok = self.next_non_space()
        self.backup(tok)
        return tok

    def expect(self, kind: Kind, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind is not kind:
            raise self.unexpected(tok, context)
        return tok

    # -------------------------------------------------------------- structure

    def parse(self) -> ListNode:
        items: list[Item] = []
        while self.peek().kind is not Kind.EOF:
            node = self._text_or_action()
            if isinstance(node, _End):
                raise self.error(
                    "unexpected {{end}}: there is no {{if}}, {{range}} or {{with}} to end", node.pos
                )
            if isinstance(node, _Else):
                raise self.error(
                    "unexpected {{else}}: there is no {{if}}, {{range}} or {{with}}", node.pos
                )
            items.append(node)
        return ListNode(0, len(self.source), tuple(items))

    def _item_list(self, opener: Token) -> tuple[ListNode, _End | _Else]:
        start = self.peek().pos
        items: list[Item] = []
        while self.peek().kind is not Kind.EOF:
            node = self._text_or_action()
            if isinstance(node, (_End, _Else)):
                return ListNode(start, node.pos, tuple(items)), node
            items.append(node)
        raise self.error(
            f"unexpected EOF: {{{{{opener.value}}}}} has no matching {{{{end}}}}", opener.pos
        )

    def _text_or_action(self) -> Item | _End | _Else:
        tok = self.next_non_space()
        if tok.kind is Kind.TEXT:
            return TextNode(tok.pos, tok.end, tok.value)
        if tok.kind is Kind.LEFT_DELIM:
            return self._action()
        raise self.unexpected(tok, "input")

    def _action(self) -> Item | _End | _Else:
        tok = self.next_non_space()
        if tok.kind is Kind.KEYWORD:
            word = tok.value
            if word in ("if", "range", "with"):
                return self._control(tok)
            if word == "else":
                return self._else_control(tok)
            if word == "end":
                self.expect(Kind.RIGHT_DELIM, "end")
                return _End(tok.pos)
            if word in ("break", "continue"):
                self.expect(Kind.RIGHT_DELIM, f"{{{{{word}}}}}")
                if self._range_depth == 0:
                    raise self.error(f"{{{{{word}}}}} outside {{{{range}}}}", tok.pos)
                return (
                    BreakNode(tok.pos, tok.end)
                    if word == "break"
                    else ContinueNode(tok.pos, tok.end)
                )
            raise self.error(
                f"{{{{{word}}}}} is not supported by kiln: a Packer template value is one "
                "string, with no named templates",
                tok.pos,
            )
        self.backup(tok)
        pipe = self._pipeline("command", Kind.RIGHT_DELIM)
        return ActionNode(pipe.pos, pipe.end, pipe)

    def _else_control(self, tok: Token) -> _Else:
        nxt = self.peek_non_space()
        if nxt.kind is Kind.KEYWORD and nxt.value == "if":
            self.next_non_space()
            return _Else(tok.pos, is_else_if=True)
        self.expect(Kind.RIGHT_DELIM, "else")
        return _Else(tok.pos, is_else_if=False)

    def _enter(self, pos: int) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self.error(
                f"template nests too deeply (more than {MAX_DEPTH} levels of parentheses "
                "and {{if}}/{{range}}/{{with}})",
                pos,
            )

    def _control(self, opener: Token) -> IfNode | RangeNode | WithNode:
        kind = opener.value
        self._enter(opener.pos)
        mark = len(self._vars)
        pipe = self._pipeline(kind, Kind.RIGHT_DELIM)
        if kind == "range":
            self._range_depth += 1
        body, nxt = self._item_list(opener)
        if kind == "range":
            self._range_depth -= 1
        branches = [(pipe, body)]
        else_list: ListNode | None = None
        while isinstance(nxt, _Else):
            if nxt.is_else_if:
                if kind != "if":
                    raise self.error(
                        f"{{{{else if}}}} is only allowed in {{{{if}}}}, not in {{{{{kind}}}}}",
                        nxt.pos,
                    )
                cond = self._pipeline("if", Kind.RIGHT_DELIM)
                body, nxt = self._item_list(opener)
                branches.append((cond, body))
                continue
            else_list, nxt = self._item_list(opener)
            if isinstance(nxt, _Else):
                raise self.error("expected end; found {{else}}", nxt.pos)
        del self._vars[mark:]
        self._depth -= 1
        end = self.source.find("}}", nxt.pos) + 2
        if kind == "if":
            return IfNode(opener.pos, end, tuple(branches), else_list)
        if kind == "range":
            return RangeNode(opener.pos, end, pipe, branches[0][1], else_list)
        return WithNode(opener.pos, end, pipe, branches[0][1], else_list)

    # -------------------------------------------------------------- pipelines

    def _declarations(self, context: str) -> tuple[list[str], bool]:
        """`$x :=`, `$x =` or (in range) `$i, $e :=` at the start of a pipeline."""
        decl: list[str] = []
        is_assign = False
        while True:
            v = self.peek_non_space()
            if v.kind is not Kind.VARIABLE:
                return decl, is_assign
            self.next()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.kind in (Kind.ASSIGN, Kind.DECLARE):
                self.next_non_space()
                is_assign = nxt.kind is Kind.ASSIGN
                if is_assign:
                    self._use_var(v)
                else:
                    self._vars.append(v.value)
                decl.append(v.value)
                return decl, is_assign
            if nxt.kind is Kind.CHAR and nxt.value == ",":
                self.next_non_space()
                decl.append(v.value)
                self._vars.append(v.value)
                if context == "range" and len(decl) < 2:
                    if self.peek_non_space().kind in (Kind.VARIABLE, Kind.RIGHT_DELIM, Kind.RPAREN):
                        continue
                    raise self.error("range can only initialize variables", nxt.pos)
                raise self.error(f"too many declarations in {context}", nxt.pos)
            # Not a declaration: put the variable (and the space after it) back.
            if after.kind is Kind.SPACE:
                self.backup(after)
            self.backup(v)
            return decl, is_assign

    def _pipeline(self, context: str, end: Kind) -> PipeNode:
        start = self.peek_non_space().pos
        decl, is_assign = self._declarations(context)
        cmds: list[CommandNode] = []
        while True:
            tok = self.next_non_space()
            if tok.kind is end:
                if not cmds:
                    raise self.error(f"missing value for {context}", tok.pos)
                for i, cmd in enumerate(cmds[1:], start=2):
                    if isinstance(
                        cmd.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)
                    ):
                        raise self.error(
                            f"non executable command in pipeline stage {i}: "
                            "only a function can receive the piped value",
                            cmd.pos,
                        )
                return PipeNode(start, tok.end, tuple(decl), is_assign, tuple(cmds))
            if tok.kind in _OPERAND_START:
                self.backup(tok)
                cmds.append(self._command())
            else:
                raise self.unexpected(tok, context)

    def _command(self) -> CommandNode:
        start = self.peek_non_space().pos
        args: list[Operand] = []
        while True:
            self.peek_non_space()
            operand = self._operand()
            if operand is not None:
                args.append(operand)
            tok = self.next()
            if tok.kind is Kind.SPACE:
                continue
            if tok.kind in (Kind.RIGHT_DELIM, Kind.RPAREN):
                self.backup(tok)
            elif tok.kind is not Kind.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not args:
            raise self.error("empty command", start)
        return CommandNode(start, args[-1].end, tuple(args))

    def _operand(self) -> Operand | None:
        node = self._term()
        if node is None or self.peek().kind is not Kind.FIELD:
            return node
        fields: list[str] = []
        end = node.end
        while self.peek().kind is Kind.FIELD:
            tok = self.next()
            fields.append(tok.value[1:])
            end = tok.end
        if isinstance(node, FieldNode):
            return FieldNode(node.pos, end, node.names + tuple(fields))
        if isinstance(node, VariableNode):
            return VariableNode(node.pos, end, node.name, node.fields + tuple(fields))
        if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
            text = self.source[node.pos : node.end]
            raise self.error(f"unexpected . after term {quote(text)}", node.end)
        return ChainNode(node.pos, end, node, tuple(fields))

    def _term(self) -> Operand | None:
        tok = self.next_non_space()
        kind = tok.kind
        if kind is Kind.IDENT:
            return IdentifierNode(tok.pos, tok.end, tok.value)
        if kind is Kind.DOT:
            return DotNode(tok.pos, tok.end)
        if kind is Kind.NIL:
            return NilNode(tok.pos, tok.end)
        if kind is Kind.VARIABLE:
            self._use_var(tok)
            return VariableNode(tok.pos, tok.end, tok.value, ())
        if kind is Kind.FIELD:
            return FieldNode(tok.pos, tok.end, (tok.value[1:],))
        if kind is Kind.BOOL:
            return BoolNode(tok.pos, tok.end, tok.value == "true")
        if kind in (Kind.NUMBER, Kind.CHAR_CONST):
            return self._number(tok)
        if kind in (Kind.STRING, Kind.RAW_STRING):
            try:
                return StringNode(tok.pos, tok.end, unquote_string(tok.value))
            except LiteralError as err:
                raise self.error(str(err), tok.pos) from None
        if kind is Kind.LPAREN:
            self._enter(tok.pos)
            pipe = self._pipeline("parenthesized pipeline", Kind.RPAREN)
            self._depth -= 1
            return PipeNode(tok.pos, pipe.end, pipe.decl, pipe.is_assign, pipe.cmds)
        self.backup(tok)
        return None

    def _number(self, tok: Token) -> NumberNode:
        try:
            if tok.kind is Kind.CHAR_CONST:
                code = unquote_char(tok.value)
                return NumberNode(tok.pos, tok.end, code, float(code), False)
            int_value, float_value, is_float = parse_number(tok.value)
        except LiteralError as err:
            raise self.error(str(err), tok.pos) from None
        return NumberNode(tok.pos, tok.end, int_value, float_value, is_float)

    def _use_var(self, tok: Token) -> None:
        name = tok.value
        if name not in self._vars:
            raise self.error(f"undefined variable {quote(name)}", tok.pos)


def parse_tree(source: str, where: str = "") -> ListNode:
    """The syntax tree of `source`; raises TemplateError for a syntax error."""
    return Parser(source, where).parse()

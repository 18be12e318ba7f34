"""The HCL2 native syntax as a lark LALR grammar.

Written from HCL's specification (hclsyntax/spec.md at hcl v2.6.0, the version Packer 1.6.6
uses). Context-dependent newlines are handled by `newlines.NewlineFilter`: inside `()`, `[]`,
`${}`, `%{}` and `{for ...}` newlines are whitespace; in bodies and objects they separate
items. Quoted templates and heredoc bodies have their own copies of the template rules so
that lark's contextual lexer never confuses their literal text (see `q_*` and `h_*`).
"""

GRAMMAR = r"""
config: _NL* _item*
_item: (attribute | block) _NL+

attribute: IDENT EQ expression
block: IDENT _label* LBRACE (_NL+ _item* | attribute)? RBRACE
_label: IDENT | template

// A heredoc's body is parsed on its own, from this start symbol.
heredoc_body: _h_part*
// A lone expression (`-var` values, tests), and a file of attributes (var files).
expr_only: _NL* expression _NL*

?expression: or_expr QMARK expression COLON expression -> conditional
           | or_expr
?or_expr: or_expr OR and_expr -> binary | and_expr
?and_expr: and_expr AND eq_expr -> binary | eq_expr
?eq_expr: eq_expr (EQEQ | NEQ) rel_expr -> binary | rel_expr
?rel_expr: rel_expr (LT | GT | LE | GE) add_expr -> binary | add_expr
?add_expr: add_expr (PLUS | MINUS) mul_expr -> binary | mul_expr
?mul_expr: mul_expr (STAR | SLASH | PERCENT) unary -> binary | unary
?unary: (MINUS | NOT) unary -> unary | postfix
?postfix: primary _postfix_op*

_postfix_op: get_attr | legacy_index | attr_splat | index | full_splat
get_attr: DOT IDENT
legacy_index: DOT INDEX_INT
attr_splat: DOT STAR
index: LSQB expression RSQB
full_splat: LSQB STAR RSQB

?primary: NUMBER -> number
        | IDENT -> variable
        | function_call
        | template
        | HEREDOC -> heredoc
        | tuple
        | object
        | for_tuple
        | for_object
        | LPAR expression RPAR -> parens

function_call: IDENT LPAR (expression (COMMA expression)* (COMMA | ELLIPSIS)?)? RPAR

tuple: LSQB (expression (COMMA expression)* COMMA?)? RSQB
object: LBRACE _NL* (object_item (_osep object_item)* _osep?)? RBRACE
_osep: COMMA _NL* | _NL+
object_item: expression (EQ | COLON) expression

for_tuple: LSQB FOR _for_intro expression (IF expression)? RSQB
for_object: LBRACE FOR _for_intro expression FATARROW expression ELLIPSIS? (IF expression)? RBRACE
_for_intro: IDENT (COMMA IDENT)? IN expression COLON

template: QUOTE _q_part* QUOTE
_q_part: QLIT | q_interp | q_if | q_for
q_interp: INTERP_OPEN expression (RBRACE | STRIP_RBRACE)
q_if: DIR_IF expression (RBRACE | STRIP_RBRACE) q_body (DIR_ELSE q_body)? DIR_ENDIF
q_for: DIR_FOR IDENT (COMMA IDENT)? IN expression (RBRACE | STRIP_RBRACE) q_body DIR_ENDFOR
q_body: _q_part*

_h_part: HLIT | h_interp | h_if | h_for
h_interp: INTERP_OPEN expression (RBRACE | STRIP_RBRACE)
h_if: DIR_IF expression (RBRACE | STRIP_RBRACE) h_body (DIR_ELSE h_body)? DIR_ENDIF
h_for: DIR_FOR IDENT (COMMA IDENT)? IN expression (RBRACE | STRIP_RBRACE) h_body DIR_ENDFOR
h_body: _h_part*

FOR: "for"
IN: "in"
IF: "if"
IDENT: /[^\W\d][\w-]*/
NUMBER: /[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/
INDEX_INT: /[0-9]+/

QLIT.2: /(?:[^"\\$%\r\n]|\\.|\$\$\{|%%\{|\$(?!\{)|%(?!\{))+/
HLIT.2: /(?:[^$%]|\$\$\{|%%\{|\$(?!\{)|%(?!\{))+/
HEREDOC: /<<-?(?P<hdmark>[^\W\d][\w-]*)[ \t]*\r?\n(?:.*?\n)??[ \t]*(?P=hdmark)(?=\r?\n)/s
QUOTE: "\""
INTERP_OPEN: /\$\{~?/
DIR_IF: /%\{~?[ \t]*if(?![\w-])/
DIR_FOR: /%\{~?[ \t]*for(?![\w-])/
DIR_ELSE: /%\{~?[ \t]*else[ \t]*~?\}/
DIR_ENDIF: /%\{~?[ \t]*endif[ \t]*~?\}/
DIR_ENDFOR: /%\{~?[ \t]*endfor[ \t]*~?\}/
STRIP_RBRACE: "~}"

EQ: "="
EQEQ: "=="
NEQ: "!="
LT: "<"
GT: ">"
LE: "<="
GE: ">="
AND: "&&"
OR: "||"
NOT: "!"
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"
QMARK: "?"
COLON: ":"
COMMA: ","
DOT: "."
ELLIPSIS: "..."
FATARROW: "=>"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
LBRACE: "{"
RBRACE: "}"

_NL: /(?:(?:#|\/\/)[^\n]*)?\r?\n/
WS: /[ \t]+/
INLINE_COMMENT: /\/\*(?:.|\n)*?\*\//
%ignore WS
%ignore INLINE_COMMENT
"""

"""Go text/template, as Packer templates use it: `{{ user `x` }}`, `{{ .HTTPIP }}`, pipes.

`engine.py` (parse, render), `functions.py` (Packer's functions), `loader.py` (template
files), `variables.py`; the lexer, parser, evaluator and Go builtins beside them.
"""

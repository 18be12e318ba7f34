"""Go text/template, as Packer templates use it: `{{ user `x` }}`, `{{ .HTTPIP }}`, pipes."""

from kiln.template.engine import Template, parse, render
from kiln.template.functions import FuncContext, packer_functions

__all__ = ["FuncContext", "Template", "packer_functions", "parse", "render"]

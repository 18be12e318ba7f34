"""Packer's HCL2 configuration: the blocks of one or more files, decoded and checked.

This follows Packer 1.6.6's hcl2template package (`PackerConfig`): `variable`/`variables`,
`locals`/`local`, `source`, `build` (with `sources`, nested `source` overrides,
`provisioner`, `post-processor(s)`, `error-cleanup-provisioner`), `packer`, and `dynamic`
blocks. The result keeps expressions unevaluated where they need a build's scope; `loader.py`
evaluates them into the template model the JSON loader makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kiln.template.hcl2 import ast
from kiln.template.hcl2.diagnostics import Diagnostic, def_range, did_you_mean

if TYPE_CHECKING:
    from kiln.template.hcl2.values import Value

TOP_LEVEL_BLOCKS = ("variable", "variables", "locals", "local", "source", "build", "packer", "data")
BUILD_BLOCKS = ("source", "provisioner", "post-processor", "post-processors",
                "error-cleanup-provisioner", "dynamic")  # fmt: skip
BUILD_ATTRIBUTES = ("name", "description", "sources")


def _suggest(name: str, names: Sequence[str]) -> str:
    return did_you_mean(name, names)


@dataclass
class SourceRef:
    type: str
    name: str
    range: ast.Range
    override: ast.Block | None = None  # nested `source "qemu.x" { ... }` in a build
    rename: str = ""  # its `name = ...`
    scope: dict[str, Value] = field(default_factory=dict)  # a dynamic block's iterator

    @property
    def ref(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass
class BuildBlock:
    block: ast.Block
    name: str = ""
    description: str = ""
    sources: list[SourceRef] = field(default_factory=list)
    provisioners: list[ast.Block] = field(default_factory=list)
    post_processors: list[list[ast.Block]] = field(default_factory=list)
    error_cleanup: ast.Block | None = None


@dataclass
class PackerConfig:
    variables: dict[str, ast.Block] = field(default_factory=dict)
    variable_attrs: dict[str, ast.Attribute] = field(default_factory=dict)  # `variables {}`
    locals: dict[str, ast.Attribute] = field(default_factory=dict)
    local_blocks: dict[str, ast.Block] = field(default_factory=dict)
    sources: dict[str, ast.Block] = field(default_factory=dict)  # "qemu.name" → block
    builds: list[BuildBlock] = field(default_factory=list)
    packer_blocks: list[ast.Block] = field(default_factory=list)


def decode(bodies: Sequence[ast.Body], diags: list[Diagnostic]) -> PackerConfig:
    """Sort the top-level blocks of every file into a `PackerConfig`."""
    cfg = PackerConfig()
    for body in bodies:
        for attr in body.attributes:
            diags.append(
                Diagnostic(
                    "Unsupported argument",
                    f'An argument named "{attr.name}" is not expected here: the top level of '
                    "a template holds only blocks (variable, locals, source, build, packer).",
                    attr.name_range,
                )
            )
        for block in body.blocks:
            _top_block(block, cfg, diags)
    return cfg


# The names of each block's labels, as Packer 1.6.6's schemas give them (hcl2template).
LABEL_NAMES = {
    "variable": ("name",), "variables": (), "locals": (), "local": ("name",),
    "source": ("type", "name"), "build": (), "packer": (), "data": ("type", "name"),
}  # fmt: skip


def _check_labels(
    block: ast.Block, names: Sequence[str], diags: list[Diagnostic], hint: str = ""
) -> bool:
    """HCL's label checks, in its words (hclsyntax's `Missing name for source`), plus a
    hint of kiln's."""
    want = len(names)
    if len(block.labels) == want:
        return True
    listed = ", ".join(names)
    if len(block.labels) < want:
        diags.append(
            Diagnostic(
                f"Missing {names[len(block.labels)]} for {block.type}",
                f"All {block.type} blocks must have {want} labels ({listed}).{hint}",
                def_range(block),
            )
        )
    else:
        rng = block.label_ranges[want] if len(block.label_ranges) > want else block.range
        detail = (f"Only {want} labels ({listed}) are expected for {block.type} blocks."
                  if want else f"No labels are expected for {block.type} blocks.")  # fmt: skip
        diags.append(Diagnostic("Extraneous label for " + block.type, detail + hint, rng))
    return False


def _top_block(block: ast.Block, cfg: PackerConfig, diags: list[Diagnostic]) -> None:
    t = block.type
    if t not in TOP_LEVEL_BLOCKS:
        diags.append(
            Diagnostic(
                "Unsupported block type",
                f'Blocks of type "{t}" are not expected here.'
                + _suggest(t, [b for b in TOP_LEVEL_BLOCKS if b != "data"]),
                block.type_range,
            )
        )
        return
    if not _check_labels(block, LABEL_NAMES[t], diags):
        return
    if t == "variable":
        name = block.labels[0]
        if name in cfg.variables or name in cfg.variable_attrs:
            diags.append(_duplicate("variable", name, block.range, _where(cfg, name)))
        else:
            cfg.variables[name] = block
    elif t == "variables":
        for attr in block.body.attributes:
            if attr.name in cfg.variables or attr.name in cfg.variable_attrs:
                diags.append(_duplicate("variable", attr.name, attr.name_range, None))
            else:
                cfg.variable_attrs[attr.name] = attr
    elif t == "locals":
        for attr in block.body.attributes:
            if attr.name in cfg.locals or attr.name in cfg.local_blocks:
                diags.append(_duplicate("local", attr.name, attr.name_range, None))
            else:
                cfg.locals[attr.name] = attr
        for inner in block.body.blocks:
            diags.append(Diagnostic(
                f'Unexpected "{inner.type}" block',
                "Blocks are not allowed here. A local is name = expression.",
                inner.type_range,
            ))  # fmt: skip
    elif t == "local":
        name = block.labels[0]
        if name in cfg.locals or name in cfg.local_blocks:
            diags.append(_duplicate("local", name, block.range, None))
        else:
            cfg.local_blocks[name] = block
    elif t == "source":
        key = f"{block.labels[0]}.{block.labels[1]}"
        if key in cfg.sources:
            prev = cfg.sources[key]
            diags.append(
                Diagnostic(
                    "Duplicate source block",
                    f"This source block has the same builder type and name as a previous "
                    f"block declared at {prev.range}. Each source must have a unique name per "
                    "builder type.",
                    def_range(block),
                )
            )
        else:
            cfg.sources[key] = block
    elif t == "build":
        cfg.builds.append(_build(block, diags))
    elif t == "packer":
        cfg.packer_blocks.append(block)
    elif t == "data":
        diags.append(
            Diagnostic(
                "Unsupported block type",
                'Blocks of type "data" are not expected here: kiln has no data sources, so '
                f'data "{block.labels[0]}" "{block.labels[1]}" cannot be read. Pass the value '
                "in a variable instead (-var, -var-file or PKR_VAR_…).",
                block.type_range,
            )
        )


def _where(cfg: PackerConfig, name: str) -> ast.Range | None:
    block = cfg.variables.get(name)
    return block.range if block else None


def _duplicate(kind: str, name: str, rng: ast.Range, prev: ast.Range | None) -> Diagnostic:
    where = f" at {prev}" if prev else ""
    return Diagnostic(
        f"Duplicate {kind}",
        f'The {kind} "{name}" was already declared{where}. Names must be unique.',
        rng,
    )


def _build(block: ast.Block, diags: list[Diagnostic]) -> BuildBlock:
    from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate
    from kiln.template.hcl2.values import to_python

    build = BuildBlock(block)
    for attr in block.body.attributes:
        if attr.name not in BUILD_ATTRIBUTES:
            diags.append(
                Diagnostic(
                    "Unsupported argument",
                    f'An argument named "{attr.name}" is not expected here.'
                    + _suggest(attr.name, BUILD_ATTRIBUTES),
                    attr.name_range,
                )
            )
            continue
        try:
            value = to_python(evaluate(attr.expr, EvalContext({}, {})))
        except EvalError:
            value = None
        if attr.name == "sources":
            refs = _source_refs(attr, diags)
            build.sources.extend(refs)
        elif not isinstance(value, str):
            diags.append(
                Diagnostic(
                    "Invalid value",
                    f'The build "{attr.name}" must be a literal string.',
                    attr.expr.range,
                )
            )
        elif attr.name == "name":
            build.name = value
        else:
            build.description = value
    for inner in block.body.blocks:
        _build_inner(inner, build, diags)
    dynamic_sources = [
        b for b in build.provisioners if b.type == "dynamic" and b.labels[:1] == ("source",)
    ]
    unreadable = any(  # already reported by _source_refs
        a.name == "sources" and not isinstance(a.expr, ast.TupleCons) for a in block.body.attributes
    )
    if not build.sources and not dynamic_sources and not unreadable:
        diags.append(
            Diagnostic(
                "Missing sources",
                'A build block needs at least one source: sources = ["source.qemu.NAME"] or a '
                'nested source "source.qemu.NAME" { } block.',
                def_range(block),
            )
        )
    return build


def parse_ref(text: str) -> tuple[str, str] | None:
    """(TYPE, NAME) of a source reference, read as Packer 1.6.6's `sourceRefFromString`
    reads it: `source.TYPE.NAME`, or `TYPE.NAME` (from three parts on, the first is
    dropped)."""
    parts = text.split(".")
    if len(parts) > 2:
        parts = parts[1:]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def _source_refs(attr: ast.Attribute, diags: list[Diagnostic]) -> list[SourceRef]:
    expr = attr.expr
    if not isinstance(expr, ast.TupleCons):
        from kiln.template.hcl2.refs import traversals

        if any(t.root in ("var", "local") for t in traversals(expr)):
            diags.append(
                Diagnostic(
                    "Variables not allowed",
                    "Variables may not be used here: a build's sources are read before "
                    "variables and locals (as in Packer 1.6.6). List them literally, as in "
                    'sources = ["source.qemu.NAME"].',
                    expr.range,
                )
            )
        else:
            diags.append(
                Diagnostic(
                    "Invalid sources",
                    'sources must be a list of source references: ["source.qemu.NAME", ...].',
                    expr.range,
                )
            )
        return []
    refs = []
    for item in expr.items:
        text = None
        if isinstance(item, ast.TemplateExpr) and all(
            isinstance(p, ast.Literal) for p in item.parts
        ):
            text = "".join(
                str(getattr(p.value, "v", "")) for p in item.parts if isinstance(p, ast.Literal)
            )
        elif isinstance(item, ast.Literal) and isinstance(getattr(item.value, "v", None), str):
            text = str(getattr(item.value, "v", ""))
        elif isinstance(item, ast.ScopeTraversal) and item.root == "source":
            text = ".".join(["source", *(s.name for s in item.steps if isinstance(s, ast.GetAttr))])
        parsed = parse_ref(text) if text is not None else None
        if parsed is None:
            diags.append(
                Diagnostic(
                    "Invalid source reference",
                    'A source is referred to as "source.TYPE.NAME", as in "source.qemu.debian".',
                    item.range,
                )
            )
            continue
        refs.append(SourceRef(parsed[0], parsed[1], item.range))
    return refs


def _build_inner(inner: ast.Block, build: BuildBlock, diags: list[Diagnostic]) -> None:
    t = inner.type
    if t not in BUILD_BLOCKS:
        diags.append(
            Diagnostic(
                "Unsupported block type",
                f'Blocks of type "{t}" are not expected here.' + _suggest(t, BUILD_BLOCKS),
                inner.type_range,
            )
        )
        return
    if t == "source":
        if not _check_labels(inner, ("reference",), diags, ' Write source "source.qemu.NAME".'):
            return
        parsed = parse_ref(inner.labels[0])
        if parsed is None:
            diags.append(
                Diagnostic(
                    "Invalid source reference",
                    'A source is referred to as "source.TYPE.NAME", as in "source.qemu.debian".',
                    inner.label_ranges[0],
                )
            )
            return
        ref = SourceRef(parsed[0], parsed[1], inner.range, override=inner)
        for attr in inner.body.attributes:
            if attr.name == "name":
                from kiln.template.hcl2.evaluate import EvalContext, EvalError, evaluate

                try:
                    v = evaluate(attr.expr, EvalContext({}, {}))
                    ref.rename = str(v.v)
                except EvalError as err:
                    diags.extend(err.diagnostics)
        build.sources.append(ref)
    elif t in ("provisioner", "error-cleanup-provisioner"):
        if not _check_labels(inner, ("type",), diags, f' Write {t} "shell".'):
            return
        if t == "provisioner":
            build.provisioners.append(inner)
        else:
            build.error_cleanup = inner
    elif t == "post-processor":
        if _check_labels(inner, ("type",), diags, ' Write post-processor "checksum".'):
            build.post_processors.append([inner])
    elif t == "post-processors":
        chain = []
        for member in inner.body.blocks:
            if member.type != "post-processor":
                diags.append(
                    Diagnostic(
                        "Unsupported block type",
                        f'Blocks of type "{member.type}" are not expected here: '
                        'post-processors { } holds post-processor "TYPE" { ... } blocks.',
                        member.type_range,
                    )
                )
            elif _check_labels(member, ("type",), diags):
                chain.append(member)
        if chain:
            build.post_processors.append(chain)
    elif t == "dynamic":
        # Expanded by the loader, which has the scope its for_each needs.
        build.provisioners.append(inner)

"""Parsed `.pkr.hcl` files, cached by content: an unchanged template is not parsed again.

Like Python's `.pyc` files: the syntax tree of each file that parsed cleanly is pickled in
`~/.cache/kiln/hcl2-ast/` (or `$XDG_CACHE_HOME/kiln/…`), keyed by the file's name and text
and by the parser's own sources, so a new kiln never reads an old tree. A hit skips importing
lark and parsing (about a third of `kiln validate`'s time on a small template). Any problem
with the cache (unwritable, corrupt, foreign) is a miss; errors are never cached.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import cache
from pathlib import Path

from kiln.template.hcl2 import ast
from kiln.template.hcl2.diagnostics import Sources

KEEP = 256  # files kept; the oldest go first
# What the pickled tree depends on: the grammar, the tree builder, the node and value types.
_PARSER_SOURCES = ("grammar.py", "parser.py", "fastparse.py", "syntree.py", "newlines.py",
                   "ast.py", "values.py", "numbers.py", "gobig.py", "types.py",
                   "parsecache.py")  # fmt: skip


@cache
def _parser_key() -> bytes:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _PARSER_SOURCES:
        try:
            st = (here / name).stat()
        except OSError:
            continue
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.digest()


def _folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "kiln" / "hcl2-ast"


def parse_config_cached(text: str, filename: str, sources: Sources) -> ast.Body:
    """`parser.parse_config`, from the cache when this text was parsed before."""
    key = hashlib.sha256(_parser_key() + filename.encode() + b"\0" + text.encode()).hexdigest()
    path = _folder() / f"{key}.pickle"
    try:
        body = pickle.loads(path.read_bytes())
    except Exception:  # a miss: absent, unreadable, truncated or from another kiln
        body = None
    if isinstance(body, ast.Body):
        sources.add(filename, text)
        sources.bodies[filename] = body
        return body
    from kiln.template.hcl2.parser import parse_config

    body = parse_config(text, filename, sources)
    _store(path, body)
    return body


def _store(path: Path, body: ast.Body) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
        entries = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # no cache this time

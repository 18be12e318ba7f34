"""Re-record what Packer 1.6.6 answers for each expression of expressions.txt.

Needs `packer` (1.6.6) on PATH; the test suite never does. For each expression it writes
`locals { x = EXPR }` into a scratch template beside this file (so file functions see this
folder) and asks `packer console` for `jsonencode(local.x)`. Output: expressions.expected,
one JSON object per line: {"expr": ..., "packer": <jsonencode text> | "ERR <message>"}.
    python tests/data/hcl2/regenerate.py
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read_expressions(path: Path) -> list[str]:
    exprs: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.startswith("#"):
            continue
        if line.lstrip().startswith("<<"):
            marker = line.strip().lstrip("<-")
            body = [line]
            while i < len(lines):
                body.append(lines[i])
                i += 1
                if lines[i - 1].strip() == marker:
                    break
            exprs.append("\n".join(body))
            continue
        exprs.append(line)
    return exprs


def packer_value(expr: str) -> str:
    scratch = HERE / "_scratch.pkr.hcl"
    scratch.write_text(f"locals {{\n  x = {expr}\n}}\n", encoding="utf-8")
    try:
        proc = subprocess.run(
            ["packer", "console", str(scratch)],
            input="jsonencode(local.x)\n",
            check=False,
            capture_output=True,
            text=True,
            cwd=HERE,
            timeout=60,
        )
    finally:
        scratch.unlink()
    out = proc.stdout.strip()
    if proc.returncode != 0 or out.startswith("Error") or "Error:" in out:
        lines = [
            ln.strip()
            for ln in (out + "\n" + proc.stderr).splitlines()
            if ln.strip() and not ln.strip().startswith(("on ", "(source"))
        ]
        return "ERR " + " ".join(lines)[:400]
    return out


def main() -> None:
    exprs = read_expressions(HERE / "expressions.txt")
    with (HERE / "expressions.expected").open("w", encoding="utf-8") as f:
        for expr in exprs:
            f.write(json.dumps({"expr": expr, "packer": packer_value(expr)}) + "\n")
    print(f"{len(exprs)} expressions recorded")


if __name__ == "__main__":
    main()

"""The environment Packer's shell, shell-local provisioners give scripts, as `{{.Vars}}`.

Packer (provisioner/shell/provisioner.go `escapeEnvVars`, SDK shell-local/run.go):
PACKER_BUILD_NAME and PACKER_BUILDER_TYPE always; PACKER_HTTP_ADDR, PACKER_HTTP_IP and
PACKER_HTTP_PORT when the build serves HTTP; then `environment_vars` (`KEY=value`, split
at the first `=`), then the `env` map, which wins. Every value has its single quotes
replaced by `'"'"'`, so inside the default format `%s='%s' ` any value is one literal
shell word. The pairs are sorted by name and each is formatted with `env_var_format`
(Go's Sprintf).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kiln.golang.fmt import sprintf

SINGLE_QUOTE_ESCAPE = "'\"'\"'"
_HTTP = (("PackerHTTPAddr", "PACKER_HTTP_ADDR"), ("PackerHTTPIP", "PACKER_HTTP_IP"),
         ("PackerHTTPPort", "PACKER_HTTP_PORT"))  # fmt: skip


def packer_env(
    build_name: str,
    builder_type: str,
    build_values: Mapping[str, str],
    environment_vars: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Name → raw value, in Packer's precedence (later sources win)."""
    out = {"PACKER_BUILD_NAME": build_name, "PACKER_BUILDER_TYPE": builder_type}
    for key, name in _HTTP:
        if build_values.get(key):
            out[name] = build_values[key]
    for pair in environment_vars:
        key, _, value = pair.partition("=")
        out[key] = value
    out.update(env or {})
    return out


def flatten_env(env: Mapping[str, str], fmt: str = "%s='%s' ") -> str:
    """Packer's `{{.Vars}}`: sorted by name, single quotes escaped, each through `fmt`."""
    return "".join(
        sprintf(fmt, [key, env[key].replace("'", SINGLE_QUOTE_ESCAPE)]) for key in sorted(env)
    )

"""Load a legacy-JSON Packer template into plain, checked structures.

This step only checks the template's shape (top-level keys, builders/provisioners/
post-processors forms); option values are decoded per build (`kiln.plan`).
All problems are collected and raised together as one `MultiError`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from kiln.errors import KilnError, MultiError
from kiln.jsonkind import json_kind
from kiln.options.weak import to_str
from kiln.suggest import did_you_mean
from kiln.template.jsondup import duplicate_fields
from kiln.template.jsonfile import JsonLimitError, loads, read_bounded, read_bounded_stream
from kiln.template.model import BuilderDef, PostProcessorDef, ProvisionerDef, TemplateFile

ROOT_KEYS = (
    "description",
    "min_packer_version",
    "variables",
    "sensitive-variables",
    "builders",
    "provisioners",
    "post-processors",
    "error-cleanup-provisioner",
)
PROVISIONER_COMMON_KEYS = (
    "type",
    "only",
    "except",
    "override",
    "pause_before",
    "max_retries",
    "timeout",
)
POST_PROCESSOR_COMMON_KEYS = ("type", "only", "except", "keep_input_artifact", "name")


def load_template(path: str | Path) -> TemplateFile:
    """Read and shape-check a JSON template; raise `KilnError`/`MultiError` on problems.

    An HCL2 template (`.pkr.hcl`, `.pkr.json`, a folder) goes to the HCL2 loader, with the
    variables of the environment only (the CLI passes -var and -var-file to it itself)."""
    p = Path(path)
    if str(path) == "-":  # Packer reads the template from stdin too (template.ParseFile)
        return parse_template(_read_stdin(), p)
    if p.is_dir() or p.name.endswith((".pkr.hcl", ".pkr.json")) or p.suffix == ".hcl":
        from kiln.template.hcl2.loader import load_hcl2

        return load_hcl2(p)
    try:
        text = read_bounded(p)
    except JsonLimitError as err:
        raise KilnError(f"Failed to parse template: {p} is {err}") from None
    except FileNotFoundError:
        raise KilnError(f"Failed to parse template: open {p}: no such file or directory") from None
    except IsADirectoryError:
        raise KilnError(f"Failed to parse template: {p} is a directory, not a template") from None
    except (OSError, UnicodeDecodeError) as err:
        raise KilnError(f"Failed to parse template: cannot read {p}: {err}") from None
    return parse_template(text, p)


def _read_stdin() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise KilnError(
            "Failed to parse template: '-' reads the template from stdin, which is closed"
        )
    try:
        return read_bounded_stream(sys.stdin.buffer)
    except JsonLimitError as err:
        raise KilnError(f"Failed to parse template: stdin is {err}") from None
    except UnicodeDecodeError as err:
        raise KilnError(f"Failed to parse template: stdin is not UTF-8 text: {err}") from None


def parse_template(text: str, path: Path) -> TemplateFile:
    raw = _parse_json(text)
    if not isinstance(raw, dict):
        raise KilnError(
            f"Failed to parse template: the top level of {path} must be a JSON object "
            f'(with a "builders" list), not {json_kind(raw)}'
        )
    errors: list[str] = []
    tpl = TemplateFile(path=path)
    for key in raw:
        if key in ROOT_KEYS or key.startswith("_"):
            continue
        if key == "push":
            errors.append("'push' is no longer supported by Packer, nor by kiln: remove it")
        else:
            errors.append(
                f"Unknown root level key in template: '{key}'{did_you_mean(key, ROOT_KEYS)}"
            )
    tpl.description = _string(raw, "description", errors)
    tpl.min_packer_version = _string(raw, "min_packer_version", errors)
    tpl.variables = _variables(raw.get("variables"), errors)
    tpl.sensitive_variables = _string_list(
        raw.get("sensitive-variables"), "sensitive-variables", errors
    )
    tpl.builders = _builders(raw.get("builders"), errors)
    tpl.provisioners = _provisioners(raw.get("provisioners"), errors)
    tpl.post_processors = _post_processors(raw.get("post-processors"), errors)
    if "error-cleanup-provisioner" in raw:
        ecp = raw["error-cleanup-provisioner"]
        if isinstance(ecp, dict):
            tpl.error_cleanup_provisioner = _provisioner(
                0, ecp, errors, "error-cleanup-provisioner"
            )
        else:
            errors.append('error-cleanup-provisioner must be an object with a "type"')
    for name in tpl.sensitive_variables:
        if name not in tpl.variables:
            errors.append(
                f"sensitive-variables: '{name}' is not declared in \"variables\""
                f"{did_you_mean(name, tpl.variables)}"
            )
    if errors:
        raise KilnError("Failed to parse template: " + MultiError(errors).format())
    return tpl


def _parse_json(text: str) -> object:
    repeated = False

    def keep_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
        nonlocal repeated
        obj = dict(pairs)
        repeated = repeated or len(obj) != len(pairs)
        return obj

    try:
        data = loads(text, object_pairs_hook=keep_pairs)
    except json.JSONDecodeError as err:
        raise KilnError(_json_error(text, err)) from None
    except ValueError as err:  # JsonLimitError, or a conversion Python refuses
        raise KilnError(f"Failed to parse template: Error parsing JSON: {err}") from None
    if repeated:  # Packer refuses them: the first value would be lost without a word
        raise KilnError("Failed to parse template: " + MultiError(duplicate_fields(text)).format())
    return data


def _json_error(text: str, err: json.JSONDecodeError) -> str:
    lines = text.splitlines() or [""]
    context = [
        f"    {n + 1}: {lines[n]}"
        for n in range(max(err.lineno - 3, 0), min(err.lineno, len(lines)))
    ]
    pointer = " " * (len(f"    {err.lineno}: ") + err.colno - 1) + "^"
    return (
        f"Failed to parse template: Error parsing JSON: {err.msg}\n"
        f"At line {err.lineno}, column {err.colno} (offset {err.pos}):\n"
        + "\n".join(context)
        + f"\n{pointer}"
    )


def _string(raw: Mapping[str, object], key: str, errors: list[str]) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(f"'{key}' must be a string, got {json_kind(value)}")
        return ""
    return value


def _string_list(value: object, key: str, errors: list[str], where: str = "") -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        prefix = f"{where}: " if where else ""
        errors.append(f"{prefix}'{key}' must be a list of strings, got {_describe(value)}")
        return []
    return list(value)


def _describe(value: object) -> str:
    if isinstance(value, list):
        bad = next(v for v in value if not isinstance(v, str))
        return f"a list holding {json_kind(bad)}"
    return json_kind(value)


def _variables(value: object, errors: list[str]) -> dict[str, str | None]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(
            f"'variables' must be an object of name → default value, got {json_kind(value)}"
        )
        return {}
    out: dict[str, str | None] = {}
    for name, default in value.items():
        if default is None or isinstance(default, str):
            out[name] = default
        elif isinstance(default, bool):
            out[name] = "true" if default else "false"
        elif isinstance(default, int | float):
            out[name] = to_str(name, default)  # as Go prints it: 1.0 → "1"
        else:
            errors.append(
                f"variables: '{name}' must have a string default (or null for a required "
                f"variable), got {json_kind(default)}"
            )
    return out


def _builders(value: object, errors: list[str]) -> list[BuilderDef]:
    if value is None or value == []:
        errors.append("at least one builder must be defined")
        return []
    if not isinstance(value, list):
        errors.append(f"'builders' must be a list of objects, got {json_kind(value)}")
        return []
    builders: list[BuilderDef] = []
    seen: set[str] = set()
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            errors.append(f"builder {i}: must be an object, got {json_kind(item)}")
            continue
        typ = item.get("type")
        if not isinstance(typ, str) or not typ:
            errors.append(f"builder {i}: missing 'type'")
            continue
        name = item.get("name", typ)
        if not isinstance(name, str) or not name:
            errors.append(f"builder {i}: 'name' must be a non-empty string")
            continue
        if name in seen:
            errors.append(f"builder {i}: builder with name '{name}' already exists")
            continue
        seen.add(name)
        config = {k: v for k, v in item.items() if k not in ("type", "name")}
        builders.append(BuilderDef(index=i, type=typ, name=name, config=config))
    return builders


def _provisioners(value: object, errors: list[str]) -> list[ProvisionerDef]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(f"'provisioners' must be a list of objects, got {json_kind(value)}")
        return []
    out = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            errors.append(f"provisioner {i}: must be an object, got {json_kind(item)}")
            continue
        prov = _provisioner(i, item, errors, f"provisioner {i}")
        if prov is not None:
            out.append(prov)
    return out


def _provisioner(
    index: int, item: dict[str, object], errors: list[str], where: str
) -> ProvisionerDef | None:
    typ = item.get("type")
    if not isinstance(typ, str) or not typ:
        errors.append(f"{where}: Provisioner missing 'type'")
        return None
    prov = ProvisionerDef(
        index=index,
        type=typ,
        config={k: v for k, v in item.items() if k not in PROVISIONER_COMMON_KEYS},
        only=_string_list(item.get("only"), "only", errors, where),
        except_=_string_list(item.get("except"), "except", errors, where),
        pause_before=item.get("pause_before"),
        max_retries=item.get("max_retries"),
        timeout=item.get("timeout"),
    )
    if prov.only and prov.except_:
        errors.append(f"{where}: only one of 'only' or 'except' may be specified")
    override = item.get("override")
    if override is not None:
        if not isinstance(override, dict) or not all(
            isinstance(v, dict) for v in override.values()
        ):
            errors.append(
                f"{where}: 'override' must map builder names to objects of options, "
                f"got {json_kind(override)}"
            )
        else:
            prov.override = {str(k): dict(v) for k, v in override.items()}
    return prov


def _post_processors(value: object, errors: list[str]) -> list[list[PostProcessorDef]]:
    if value is None:
        return []
    if isinstance(value, dict | str):
        value = [value]
    if not isinstance(value, list):
        errors.append(f"'post-processors' must be a list, got {json_kind(value)}")
        return []
    chains: list[list[PostProcessorDef]] = []
    for i, item in enumerate(value, 1):
        members = item if isinstance(item, list) else [item]
        chain: list[PostProcessorDef] = []
        for j, member in enumerate(members, 1):
            where = f"post-processor {i}" + (f".{j}" if isinstance(item, list) else "")
            pp = _post_processor(i, member, errors, where)
            if pp is not None:
                chain.append(pp)
        if chain:
            chains.append(chain)
    return chains


def _post_processor(
    index: int, item: object, errors: list[str], where: str
) -> PostProcessorDef | None:
    if isinstance(item, str):
        if not item:
            errors.append(f"{where}: missing 'type'")
            return None
        return PostProcessorDef(index=index, type=item, config={}, where=where)
    if not isinstance(item, dict):
        errors.append(f"{where}: must be a type name or an object, got {json_kind(item)}")
        return None
    typ = item.get("type")
    if not isinstance(typ, str) or not typ:
        errors.append(f"{where}: missing 'type'")
        return None
    pp = PostProcessorDef(
        index=index,
        type=typ,
        config={k: v for k, v in item.items() if k not in POST_PROCESSOR_COMMON_KEYS},
        only=_string_list(item.get("only"), "only", errors, where),
        except_=_string_list(item.get("except"), "except", errors, where),
        keep_input_artifact=item.get("keep_input_artifact"),
        where=where,
    )
    name = item.get("name")
    if isinstance(name, str):
        pp.name = name
    if pp.only and pp.except_:
        errors.append(f"{where}: only one of 'only' or 'except' may be specified")
    return pp

"""Allowed values, checked once from the option table (`option(..., choices=...)`).

A value outside an option's `choices` (or, for a list option, an item outside its
`item_choices`) gets one message: the row's `choice_message` template (`{name}`, `{value}`,
`{allowed}`) when it has one, else its `choice_error` head (Packer's words) or "name is
invalid", before `(name = value; allowed: …)`; then a "did you mean".
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.options.spec import OptionRow, option_specs
from kiln.suggest import did_you_mean


def choice_problem(row: OptionRow, value: object) -> str | None:
    """The message for the value `value` of option `row`, or None when it is allowed."""
    if not row.spec.choices or value in row.spec.choices:
        return None
    return _message(row, value, row.spec.choices)


def choice_errors(config: object) -> list[str]:
    """Every value of `config` (an option-table instance) outside its option's choices."""
    errors = []
    for row in option_specs(type(config)):
        value = getattr(config, row.name)
        if isinstance(value, list):
            allowed = row.spec.item_choices
            errors += [_message(row, v, allowed) for v in value if allowed and v not in allowed]
        else:
            problem = choice_problem(row, value)
            if problem is not None:
                errors.append(problem)
    return errors


def _message(row: OptionRow, value: object, choices: Sequence[str]) -> str:
    allowed = ", ".join(choices)
    if row.spec.choice_message:
        text = row.spec.choice_message.format(name=row.name, value=value, allowed=allowed)
    else:
        head = row.spec.choice_error or f"{row.name} is invalid"
        text = f"{head} ({row.name} = {value!r}; allowed: {allowed})"
    return text + did_you_mean(str(value), choices)

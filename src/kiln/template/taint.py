"""Which rendered strings carry a secret, and which the user wrote in the clear.

The plan renders every option with the user variables. `SecretTracker` watches those
renders (through the variables mapping the `user` function reads) and knows, for each
rendered string, which variables it read. A variable carries a secret when it is listed in
`sensitive-variables`, when a secret option (`ssh_password`, …) reads it, or when its own
value reads such a variable. From that it builds a `kiln.ui.redact.Redactor`:

- secrets: the sensitive variables' values, the variables secret options read, and the
  values of the secret options themselves (passed in by the plan);
- tainted: every rendered string that read a secret-carrying variable, and those
  variables' values (every secret inside them is redacted, wherever they are printed);
- clean: the other rendered values that look like identifiers, paths or names (no space,
  no `=`), and which no tainted string overlaps — a secret inside one of them is the
  user's own word and stays (`packer-centos-7` with the password `centos`);
- names: build names and component types, kept whole in kiln's own messages.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from kiln.template.functions import FuncContext
from kiln.ui.redact import Redactor

# An identifier, a path, a URL, a name: no whitespace and no `KEY=value`. Free text (a
# command, an environment assignment, a file's content) never exempts a secret.
_SHAPED = re.compile(r"[^\s=]+")
_TOP_KEY = re.compile(r"[^.\[]*")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One string the plan rendered: where, the result, the variables it read."""

    where: str
    text: str
    reads: frozenset[str]
    secret: bool  # the option it belongs to is a secret one


class _ReadLog(Mapping[str, str]):
    """The user variables, noting every name `user` looks up."""

    def __init__(self, variables: Mapping[str, str], tracker: SecretTracker) -> None:
        self._variables = variables
        self._tracker = tracker

    def __getitem__(self, key: str) -> str:
        self._tracker.reading.add(key)
        return self._variables[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self._tracker.reading.add(key)
        return self._variables.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._variables

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)


@dataclass
class SecretTracker:
    """Watches the plan's renders; see the module docstring."""

    variables: Mapping[str, str]
    dependencies: Mapping[str, set[str]]  # variable → the variables its value read
    sensitive: Collection[str]
    rendered: list[Rendered] = field(default_factory=list)
    reading: set[str] = field(default_factory=set)

    def context(self, ctx: FuncContext) -> FuncContext:
        """`ctx` whose `user` function reports what it reads to this tracker."""
        return replace(ctx, user_variables=_ReadLog(self.variables, self))

    def start(self) -> None:
        """Forget reads not attributed to a string yet (a render outside `observer`)."""
        self.reading = set()

    def note(self, where: str, text: str, *, secret: bool = False) -> None:
        """The string at `where` has just been rendered to `text`."""
        self.rendered.append(Rendered(where, text, frozenset(self.reading), secret))
        self.reading = set()

    def observer(self, secret_keys: Collection[str]) -> _Observer:
        """A `render_tree` callback for one option tree whose secret keys are `secret_keys`."""
        self.start()
        return _Observer(self, frozenset(secret_keys))

    # --- what was learned -------------------------------------------------------------
    def secret_variables(self) -> set[str]:
        """Variables that carry a secret (see the module docstring)."""
        read_by_secrets = {name for r in self.rendered if r.secret for name in r.reads}
        carrying = set(self.sensitive) | read_by_secrets
        changed = True
        while changed:  # a variable whose value read a secret one carries it too
            changed = False
            for name, reads in self.dependencies.items():
                if name not in carrying and reads & carrying:
                    carrying.add(name)
                    changed = True
        return carrying

    def redactor(
        self, *, secrets: Iterable[str], shown: Iterable[str], names: Iterable[str]
    ) -> Redactor:
        """The redactor for this plan: `secrets` (the secret options' values), `shown`
        (every other option value the plan holds, after Prepare), `names` (build names,
        component types)."""
        carrying = self.secret_variables()
        direct = set(self.sensitive) | {n for r in self.rendered if r.secret for n in r.reads}
        redactor = Redactor([*secrets, *(self.variables[n] for n in direct
                                        if n in self.variables)])  # fmt: skip
        tainted = [r.text for r in self.rendered if r.reads & carrying]
        tainted += [self.variables[n] for n in carrying if n in self.variables]
        # A tainted string that is just a secret says nothing about where it came from.
        tainted = [t for t in tainted if t not in redactor.secrets]
        redactor.add_tainted(*tainted)
        redactor.add_names(*names)  # a tainted one is redacted anyway: tainted wins
        known = redactor.secrets
        candidates = {*shown, *(v for n, v in self.variables.items() if n not in carrying)}
        redactor.add_clean(*(
            c for c in candidates
            if _SHAPED.fullmatch(c) and any(s in c for s in known) and not _overlaps(c, tainted)
        ))  # fmt: skip
        return redactor


class _Observer:
    def __init__(self, tracker: SecretTracker, secret_keys: frozenset[str]) -> None:
        self.tracker = tracker
        self.secret_keys = secret_keys

    def __call__(self, where: str, text: str) -> None:
        top = _TOP_KEY.match(where)
        key = top.group(0) if top else where
        self.tracker.note(where, text, secret=key in self.secret_keys)


def _overlaps(text: str, tainted: Iterable[str]) -> bool:
    """`text` is part of a tainted string, or holds one."""
    return any(t and (t in text or text in t) for t in tainted)


def strings_in(value: object) -> Iterator[str]:
    """Every string inside an option value (lists, tuples, maps' keys and values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif hasattr(value, "__dataclass_fields__") and not isinstance(value, type):
        for name in value.__dataclass_fields__:
            yield from strings_in(getattr(value, name))

"""The function table is lazy: `FAMILIES` names each function's module, imported only when
a template calls one of its functions. These tests keep `FAMILIES` equal to what the
modules define (so the two cannot drift) and check the laziness itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kiln.template.hcl2.function import Function, LazyFunction
from kiln.template.hcl2.functions import FAMILIES, load_family, standard_functions
from kiln.template.hcl2.functions import strings as strings_module
from kiln.template.hcl2.values import string_val

HERE = Path(__file__).resolve().parent


def test_families_list_exactly_what_each_module_defines_in_table_order() -> None:
    for module, names in FAMILIES.items():
        defined = load_family(module, Path("/"), None, dict)
        assert tuple(defined) == names, module
        assert all(type(f) is Function for f in defined.values()), module


def test_no_function_is_in_two_families() -> None:
    every = [name for names in FAMILIES.values() for name in names]
    assert len(every) == len(set(every))


def test_the_table_resolves_each_entry_to_its_modules_function() -> None:
    table = standard_functions("/")
    assert list(table) == [name for names in FAMILIES.values() for name in names]
    upper = table["upper"]
    assert isinstance(upper, LazyFunction)
    real = strings_module.FUNCTIONS["upper"]
    assert upper.impl is real.impl
    assert upper.params == real.params and upper.variadic is real.variadic
    assert upper.impl([string_val("abc")]) == string_val("ABC")


def test_files_functions_see_the_whole_table(tmp_path: Path) -> None:
    (tmp_path / "t.tpl").write_text("${upper(x)}")
    table = standard_functions(tmp_path)
    from kiln.template.hcl2.values import object_val

    out = table["templatefile"].impl([string_val("t.tpl"), object_val({"x": string_val("a")})])
    assert out == string_val("A")


PROBE = """
import sys
from kiln.template.hcl2.functions import standard_functions
table = standard_functions("/")
before = sorted(m for m in sys.modules if m.startswith("kiln.template.hcl2.functions."))
table["sha256"].impl
after = sorted(m for m in sys.modules if m.startswith("kiln.template.hcl2.functions."))
print(" ".join(before), "|", " ".join(after))
"""


def test_a_family_is_imported_on_its_first_use_only() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = done.stdout.split("|")
    assert before.split() == []
    # crypto and the helpers it imports; no other family.
    assert after.split() == [
        "kiln.template.hcl2.functions._util",
        "kiln.template.hcl2.functions.crypto",
    ]

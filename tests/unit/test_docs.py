"""The generated option reference (docs/options/*.md) is committed and up to date."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from kiln.cli.docs import main as docs_main
from kiln.cli.docs import option_sets, pages
from kiln.options.spec import option_specs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "options"
PAGES = pages()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_is_current(name: str) -> None:
    path = DOCS / name
    assert path.is_file(), f"{path} is missing: run ./dev docs"
    assert path.read_text(encoding="utf-8") == PAGES[name], (
        f"{path} is stale: run ./dev docs (python -m kiln.cli.docs docs/options) and commit"
    )


def test_no_stray_pages() -> None:
    assert {p.name for p in DOCS.glob("*.md")} == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_option_has_a_row(name: str) -> None:
    for cls in option_sets()[name]:
        for row in option_specs(cls):
            assert f"| `{row.name}` |" in PAGES[name]


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_raw_html_outside_code(name: str) -> None:
    """`<build name>` outside backticks would vanish as an HTML tag when rendered."""
    prose = re.sub(r"`[^`]*`", "", PAGES[name].split("-->", 1)[1])
    assert not re.findall(r"<[A-Za-z_][^>]*>", prose)


def test_table_rows_have_five_cells() -> None:
    for text in PAGES.values():
        for line in text.splitlines():
            if line.startswith("| `"):
                cells = re.split(r"(?<!\\)\|", line)
                assert len(cells) == 7, line


def test_main_writes_the_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs_main([str(tmp_path / "out")]) == 0
    for name, content in PAGES.items():
        assert (tmp_path / "out" / name).read_text(encoding="utf-8") == content
    assert capsys.readouterr().out.count("wrote ") == len(PAGES)


def test_documented_details() -> None:
    qemu = PAGES["qemu.md"]
    assert "| `ssh_timeout` | duration | `5m` |" in qemu
    assert "Deprecated alias: `ssh_wait_timeout`." in qemu
    assert "| `format` | string | `qcow2` | 1.6.6 |" in qemu
    assert "Allowed: `qcow2`, `raw`." in qemu
    assert "| `output_directory` | string | `output-<build name>` | 1.6.6 |" in qemu
    assert "Not supported by kiln yet: setting it is an error." in qemu
    assert "Accepted for compatibility; no effect in kiln" in qemu
    assert "Secret: never printed." in qemu
    assert "Rendered at build time." in qemu
    assert "| `qemuargs` | array of arrays |" in qemu
    assert "| `http_content` | object of strings |" in qemu
    assert "| `qemu_img_args` | object | none |" in qemu
    assert "| `iso_skip_cache` | boolean | `false` |" in qemu
    provisioners = PAGES["provisioners.md"]
    assert "| `valid_exit_codes` | array of integer | `0` |" in provisioners
    assert "## `shell`" in provisioners


def test_no_sentence_is_said_twice_in_a_row() -> None:
    """A note the generator adds (rendered at build time, accepted for compatibility) must
    not repeat what the option's help already says."""
    for text in PAGES.values():
        for line in text.splitlines():
            if not line.startswith("| `"):
                continue
            sentences = [x.strip() for x in re.split(r"(?<=\.) ", line.split(" | ")[-1])]
            for a, b in itertools.pairwise(sentences):
                assert a != b, line
            assert line.count("Rendered at build time") <= 1, line
            assert line.count("Accepted") <= 1, line


def test_pages_speak_to_users() -> None:
    """No internal words: every `since` is a Packer version, a plugin version, `before
    1.6` or `kiln` (kiln's own key, such as `efi_secure_boot`); `disk_size`'s default is
    Packer 1.6.6's and says so."""
    for text in PAGES.values():
        assert "seed" not in text.lower()
        for line in text.splitlines():
            if line.startswith("| `"):
                since = line.split(" | ")[3]
                known = since in ("1.6.6", "before 1.6", "kiln") or since.startswith("plugin v")
                assert known, line
    qemu = PAGES["qemu.md"]
    assert "| `disk_size` | string | `40960M` | 1.6.6 |" in qemu
    assert "its older documentation says 40000" in qemu


def test_compress_formats_are_listed_as_they_work() -> None:
    page = PAGES["post-processors.md"]
    compress = page[page.index("## `compress`") :]
    row = next(x for x in compress.splitlines() if x.startswith("| `output`"))
    assert ".tar.lz4" in row
    assert "not supported" not in row
    assert ".bz2, .zst and other compressions neither writes are an error" in row


def test_the_boot_command_page_lists_every_special_key() -> None:
    from kiln.boot.keys import KEY_NAMES, SPECIAL_KEYS

    page = (Path(__file__).resolve().parents[2] / "docs" / "boot-command.md").read_text()
    table = page[page.index("## Special keys") : page.index("## Waits")]
    assert {n.lower() for n in KEY_NAMES} == set(SPECIAL_KEYS)
    for name in KEY_NAMES:
        assert f"`<{name}>`" in table, name

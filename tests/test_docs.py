"""Docs that cannot drift: every hook is documented with an example that runs, and the
public API is exactly what ``__all__`` says."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

import pytest

import amp_destinations
from amp_destinations import _hookspecs

sys.path.insert(0, str(Path(__file__).parent))
from doc_support import blocks, sections

ROOT = Path(__file__).resolve().parents[1]
HOOKS_DOC = ROOT / "docs" / "hooks.md"


def hook_names():
    return sorted(
        name
        for name, obj in vars(_hookspecs).items()
        if inspect.isfunction(obj) and hasattr(obj, f"{_hookspecs.PROJECT}_spec")
    )


def test_there_are_hooks_to_document():
    assert {"register_credential_types", "register_destinations"} <= set(hook_names())


def run_example(block):
    exec(compile(block.at_its_lines(), str(HOOKS_DOC), "exec"), {"__name__": "docs_example"})


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_documented_section_with_a_runnable_example(hook):
    text = HOOKS_DOC.read_text()
    section = sections(text).get(hook)
    assert section is not None, f"docs/hooks.md has no '## {hook}' section"
    assert f"{hook}(" in section, "the section should show the hook's signature"
    examples = blocks(text, section=hook)
    assert examples, f"the {hook} section has no python example"
    for block in examples:
        run_example(block)


def test_the_examples_outside_the_hook_sections_run_too():
    text = HOOKS_DOC.read_text()
    inside = {block for name in hook_names() for block in blocks(text, section=name)}
    outside = [block for block in blocks(text) if block not in inside]
    assert outside, "docs/hooks.md has examples beyond the hooks' own"
    for block in outside:
        run_example(block)


def test_public_api_is_curated():
    exported = set(amp_destinations.__all__)
    assert len(exported) == len(amp_destinations.__all__), "duplicates in __all__"
    for name in exported:
        assert hasattr(amp_destinations, name), f"__all__ names {name} but it is missing"
    public = {
        name
        for name in dir(amp_destinations)
        if not name.startswith("_") and not inspect.ismodule(getattr(amp_destinations, name))
    }
    assert public == exported - {"__version__"}, "public names and __all__ differ"


def test_the_lazy_exports_the_type_checkers_see_and_all_agree():
    """The package imports its names on first use (``_LAZY``) and tells type checkers
    where they live in an ``if typing.TYPE_CHECKING:`` block: the two must say the same,
    or mypy would accept a name that fails at run time."""
    tree = ast.parse(Path(amp_destinations.__file__).read_text())
    (block,) = [node for node in tree.body if isinstance(node, ast.If)]
    for_checkers = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert for_checkers == {name: module for name, module in amp_destinations._LAZY.items()}
    assert set(amp_destinations._LAZY) == set(amp_destinations.__all__) - {"__version__"}


# What a reader copies from a document must run against the public API only.
READ_ME_FIRST = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "plugins").glob("*/*.md")),
]
_PRIVATE = re.compile(r"\bamp_destinations\._(?!_)\w*|\bfrom amp_destinations import _(?!_)\w*")


@pytest.mark.parametrize("doc", READ_ME_FIRST, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_document_imports_a_private_module(doc):
    found = _PRIVATE.findall(doc.read_text())
    assert not found, f"{doc.name} uses private {found}: make what it needs public"


def test_the_private_module_check_sees_the_forms_a_document_would_use():
    assert _PRIVATE.findall("from amp_destinations._cli import build_cli") == [
        "amp_destinations._cli"
    ]
    assert _PRIVATE.findall("from amp_destinations import _schemas") == [
        "from amp_destinations import _schemas"
    ]
    assert not _PRIVATE.findall("the names in amp_destinations.__all__ are public")


def test_the_public_cli_module_is_the_amp_dest_group():
    from amp_destinations import _cli, cli

    assert (cli.build_cli, cli.main) == (_cli.build_cli, _cli.main)
    assert cli.__all__ == ["build_cli", "main"]


def test_every_public_host_method_says_what_it_returns_and_raises():
    undocumented = [
        name
        for name, member in vars(amp_destinations.Host).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or isinstance(member, property))
        and not (member.__doc__ or "").strip()
    ]
    assert undocumented == []

"""The code blocks of the project's documents, for the tests that run them
(test_docs.py, test_plugins_doc.py, test_readme.py).

A block keeps the line of the document it starts at, so that code compiled under the
document's name points a traceback at the document's own line. The tests folder is not
a package (pytest runs with ``--import-mode=importlib``): test modules put this folder
on ``sys.path`` and import this module by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
_SECTION = re.compile(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", re.M | re.S)


@dataclass(frozen=True)
class Block:
    code: str
    line: int  # the document's line of the block's first line of code

    def at_its_lines(self) -> str:
        """The code after blank lines in place of the document's lines before it."""
        return "\n" * (self.line - 1) + self.code


def sections(text: str) -> dict[str, str]:
    """Each ``## heading``'s text, up to the next one, by heading."""
    return {match.group(1): match.group(2) for match in _SECTION.finditer(text)}


def blocks(text: str, language: str = "python", section: str | None = None) -> list[Block]:
    """The ``language`` code blocks of a document, in order; with ``section``, only
    those under the ``## section`` heading."""
    if section is None:
        spans = [(0, len(text))]
    else:
        spans = [m.span(2) for m in _SECTION.finditer(text) if m.group(1) == section]
    return [
        Block(match.group(2), text.count("\n", 0, match.start(2)) + 1)
        for match in _FENCE.finditer(text)
        if match.group(1) == language and any(start <= match.start() < end for start, end in spans)
    ]

"""What the CLI prints reaches a terminal, which obeys control characters.

Names, settings, file paths, input headers and remote answers can carry an escape
sequence (clear the screen, rewrite the title, fake a line) or a bidi override that
shows text other than what is there. Every line the CLI prints goes through
``printable``: C0 controls, DEL, C1 controls (U+009B is a one-byte CSI for some
terminals), the Unicode line separators and the bidi controls are shown escaped, as
Python's ``repr`` would (``\\x1b``, ``\\n``, ``\\u202e``). JSON escapes C0 itself but
not the rest, so ``printable_json`` escapes those as ``\\uXXXX``, which keeps the
JSON's meaning.
"""

from __future__ import annotations

import click

__all__ = ["echo", "printable", "printable_json"]

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_C0 = range(0x00, 0x20)
_DEL_AND_C1 = range(0x7F, 0xA0)
_SEPARATORS_AND_BIDI = (
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)


def _escaped(code: int) -> str:
    return _NAMED.get(chr(code)) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


_TEXT_TABLE = {code: _escaped(code) for code in (*_C0, *_DEL_AND_C1, *_SEPARATORS_AND_BIDI)}
# Only inside JSON strings can these occur, and \uXXXX there means the same character.
_JSON_TABLE = {code: f"\\u{code:04x}" for code in (*_DEL_AND_C1, *_SEPARATORS_AND_BIDI)}


def printable(text: object) -> str:
    return str(text).translate(_TEXT_TABLE)


def printable_json(text: str) -> str:
    return text.translate(_JSON_TABLE)


def echo(text: object = "", err: bool = False) -> None:
    """``click.echo`` of one line, its control characters escaped."""
    click.echo(printable(text), err=err)

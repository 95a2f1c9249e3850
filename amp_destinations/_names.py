"""The rule for credential and destination names.

A name is typed in commands, printed in tables and messages, and becomes part of a
keyring entry (``NAME/field``) and of an environment variable, so it is short, ASCII,
and free of separators, spaces and control characters. Records stored before the rule
keep working: only new names are checked, so odd ones can still be listed and removed.
"""

from __future__ import annotations

import re

from ._errors import InvalidFieldsError

__all__ = ["NAME_RULE", "check_name"]

NAME_RULE = (
    "must be 1 to 64 characters of letters, digits, '.', '_' and '-', starting "
    "with a letter or digit."
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_name(name: object, what: str) -> None:
    """Raise InvalidFieldsError naming the rule (never the name: it may hold escapes)."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise InvalidFieldsError(what, {"name": [NAME_RULE]})

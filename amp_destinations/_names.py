"""The rule for credential and destination names.

A name is typed in commands, printed in tables and messages, and becomes part of a
keyring entry (``NAME/field``) and of an environment variable, so it is short, ASCII,
and free of separators, spaces and control characters. Records stored before the rule
keep working: only new names are checked, so odd ones can still be listed and removed.
"""

from __future__ import annotations

import re

from ._errors import InvalidFieldsError

__all__ = ["NAME_RULE", "check_name", "env_var_name"]

NAME_RULE = (
    "must be 1 to 64 characters of letters, digits, '.', '_' and '-', starting "
    "with a letter or digit."
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def check_name(name: object, what: str) -> None:
    """Raise InvalidFieldsError naming the rule (never the name: it may hold escapes)."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise InvalidFieldsError(what, {"name": [NAME_RULE]})


def env_var_name(credential: str, field: str) -> str:
    """The environment variable that can hold a secret field of a credential (for CI
    and containers, where no keyring runs)."""
    return "AMP_DEST_SECRET_" + _NOT_ALNUM.sub("_", f"{credential}_{field}".upper())
